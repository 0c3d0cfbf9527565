"""The re-encryption sweep (issue 15 item 3): every registered `xf1.` column
(privacy/registry.py) moved to the current data key, in batches.

Each batch is one transaction that reads up to `batch` values not yet under the current key
(clear text written before encryption included), opens them and seals them again; a value
changed since it was read (the node wrote it meanwhile) is left for the next batch. Nothing
remembers where the sweep stopped: what still needs it is found by its key prefix, so a sweep
killed halfway resumes by running again. Old keys stay in the ring until `retire` finds no
value under them (ops/datakeys.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, and_, column, func, select, table, update
from sqlalchemy.sql.expression import ColumnClause, ColumnElement

from ..privacy.columns import ColumnCipher, place
from ..privacy.fields import PREFIX, FieldCipher
from ..privacy.registry import PROTECTED_COLUMNS

log = logging.getLogger(__name__)

Progress = Callable[["SweepStep"], None]


@dataclass(frozen=True)
class SweepStep:
    """After each batch: the column, how many values it moved so far, how many remain."""

    column: str
    done: int
    remaining: int

    def line(self) -> str:
        return (
            f"{self.column}: 已重新加密 {self.done}，剩余 {self.remaining} / "
            f"re-encrypted {self.done}, {self.remaining} left"
        )


def _stale(value: ColumnClause[str], current: str) -> ColumnElement[bool]:
    return and_(value.is_not(None), ~value.like(f"{PREFIX}{current}.%"))


def remaining(engine: Engine, current: str) -> dict[str, int]:
    """Per "table.column": values not under key `current` (clear text included)."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name, col, _ in PROTECTED_COLUMNS:
            value: ColumnClause[str] = column(col)
            stmt = select(func.count()).select_from(table(name, value))
            stmt = stmt.where(_stale(value, current))
            counts[f"{name}.{col}"] = int(conn.execute(stmt).scalar_one())
    return counts


def reseal(
    engine: Engine,
    columns: ColumnCipher,
    *,
    batch: int = 200,
    progress: Progress | None = None,
) -> int:
    """Move every registered value to the current key; returns how many were moved.
    DecryptionFailed if a value does not open (altered, or its key is gone)."""
    keys = columns.keys  # one ring for the whole sweep
    cipher, current = FieldCipher(keys), keys.current
    moved = 0
    for name, col, row_key in PROTECTED_COLUMNS:
        value: ColumnClause[str] = column(col)
        ids: list[ColumnClause[str]] = [column(k) for k in row_key]
        t = table(name, value, *ids)
        label, done = f"{name}.{col}", 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(
                    select(value, *ids).select_from(t).where(_stale(value, current))
                    .limit(batch)
                ).all()  # fmt: skip
                changed = 0
                for row in rows:
                    old, keyvals = row[0], row[1:]
                    where = place(name, col, "|".join(str(v) for v in keyvals))
                    new = cipher.seal(cipher.open(old, where), where)
                    match = and_(value == old, *(c == v for c, v in zip(ids, keyvals, strict=True)))
                    changed += conn.execute(update(t).where(match).values({col: new})).rowcount
                left = conn.execute(
                    select(func.count()).select_from(t).where(_stale(value, current))
                ).scalar_one()
            done += changed
            moved += changed
            step = SweepStep(label, done, int(left))
            if rows:
                log.info("%s", step.line())
                if progress is not None:
                    progress(step)
            if not rows or left == 0 or changed == 0:
                break
    return moved

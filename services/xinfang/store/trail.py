"""The operator audit trail in the node database (table operator_trail, decision 027).

Append-only: an entry and its outbox row (topic `xinfang.<division>.trail`) commit in one
transaction; there is no method that changes or removes an entry, and the database refuses
UPDATE and DELETE on the table (triggers of migration 0008). Each entry's bytes are built by the
caller from the head it is given (identity/trail.py), so the store knows nothing of the format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select

from .records import Headers
from .sql import headers_to_json, now, utc
from .tables import operator_trail, outbox

_HEAD = (
    select(operator_trail.c.seq, operator_trail.c.hash)
    .order_by(operator_trail.c.seq.desc())
    .limit(1)
)


@dataclass(frozen=True, slots=True)
class TrailRow:
    """One entry as stored: the query columns and the exact `record` bytes (`hash` = their
    SHA-256 hex), published to `topic` with `key` and `headers`."""

    seq: int
    at: datetime
    person: str
    action: str
    case_id: str
    status: int
    record: bytes
    hash: str
    topic: str
    key: str
    headers: Headers


@dataclass(frozen=True, slots=True)
class TrailQuery:
    """Filters of a trail read; None: any. Times are aware datetimes; `after_seq` pages."""

    person: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    case_id: str | None = None
    after_seq: int = 0
    limit: int = 1000


class SqlOperatorTrail:
    """`protocols.OperatorTrailStore`: each call its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last entry; (0, "") for an empty trail."""
        with self.engine.connect() as conn:
            row = conn.execute(_HEAD).first()
            return (int(row.seq), str(row.hash)) if row else (0, "")

    def append(self, make: Callable[[int, str], TrailRow]) -> TrailRow:
        """Write the row `make(seq, prev_hash)` builds after the current head, with its outbox
        row, in one transaction (a seq taken twice fails the commit)."""
        with self.engine.begin() as conn:
            head = conn.execute(_HEAD).first()
            seq, prev = (int(head.seq), str(head.hash)) if head else (0, "")
            row = make(seq + 1, prev)
            conn.execute(
                insert(operator_trail).values(
                    seq=row.seq, at=utc(row.at), person=row.person, action=row.action,
                    case_id=row.case_id, status=row.status, record=row.record, hash=row.hash,
                )
            )  # fmt: skip
            conn.execute(
                insert(outbox).values(
                    topic=row.topic, key=row.key, value=row.record,
                    headers=headers_to_json(row.headers), created_at=now(),
                )
            )  # fmt: skip
        return row

    def read(self, query: TrailQuery) -> list[bytes]:
        """The records of the entries the query selects, in seq order, at most `limit`."""
        t = operator_trail.c
        stmt = select(t.record).where(t.seq > query.after_seq)
        if query.person is not None:
            stmt = stmt.where(t.person == query.person)
        if query.action is not None:
            stmt = stmt.where(t.action == query.action)
        if query.case_id is not None:
            stmt = stmt.where(t.case_id == query.case_id)
        if query.since is not None:
            stmt = stmt.where(t.at >= utc(query.since))
        if query.until is not None:
            stmt = stmt.where(t.at < utc(query.until))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(t.seq).limit(query.limit))
            return [bytes(r.record) for r in rows]

"""The aggregate store in SQL: case events, case summaries (with next check), case numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from ..domain.case import Case
from ..domain.events import Event
from ..privacy.columns import ColumnCipher
from .records import CaseRow, StoredEvent
from .sql import now, upsert, utc
from .tables import case_events, cases, counters

# Statements on the inbound path are built once and executed with parameters: building a
# Core statement per call cost more CPU than running it (docs/benchmarks.md, F1).
_INSERT_CASE_EVENT = insert(case_events)
_CASE_PAYLOADS = (
    select(case_events.c.payload)
    .where(case_events.c.case_id == bindparam("b_case_id"))
    .order_by(case_events.c.id)
)
_CASE_VERSION = select(cases.c.version).where(cases.c.case_id == bindparam("b_case_id"))
_CASE_VERSIONS = select(cases.c.case_id, cases.c.version).where(
    cases.c.case_id.in_(bindparam("b_case_ids", expanding=True))
)


class SqlCaseEvents:
    """`protocols.CaseEvents` on one connection. Summaries and case events are kept until
    `flush()` (one executemany per table, F1); the reads here see them. The title and the
    query code are stored sealed (privacy/columns.py), the matter key as a keyed hash."""

    def __init__(
        self, conn: Connection, flush_all: Callable[[], None], columns: ColumnCipher
    ) -> None:
        self.conn = conn
        self.columns = columns
        self._flush_all = flush_all  # reads that query write the unit's pending rows first
        self._cases: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._versions_known: dict[str, int | None] = {}

    def flush(self) -> None:
        if self._cases:
            self.conn.execute(upsert(self.conn.dialect.name, cases), list(self._cases.values()))
            for case_id, row in self._cases.items():
                self._versions_known[case_id] = int(row["version"])
            self._cases.clear()
        if self._events:
            self.conn.execute(_INSERT_CASE_EVENT, self._events)
            self._events = []

    def next_serial(self, name: str) -> int:
        # Increment in the database (not read-then-write): the UPDATE takes the row lock
        # (PostgreSQL) or the write lock (SQLite), so two writers never get the same value.
        bumped = self.conn.execute(
            update(counters).where(counters.c.name == name).values(value=counters.c.value + 1)
        )
        if bumped.rowcount == 0:
            self.conn.execute(insert(counters).values(name=name, value=1))
            return 1
        return int(
            self.conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar_one()
        )

    def payloads(self, case_id: str) -> list[bytes]:
        self._flush_all()
        rows = self.conn.execute(_CASE_PAYLOADS, {"b_case_id": case_id})
        return [bytes(r.payload) for r in rows]

    def version(self, case_id: str) -> int | None:
        pending = self._cases.get(case_id)
        if pending is not None:
            return int(pending["version"])
        if case_id in self._versions_known:
            return self._versions_known[case_id]
        value = self.conn.execute(_CASE_VERSION, {"b_case_id": case_id}).scalar()
        return int(value) if value is not None else None

    def prefetch_versions(self, case_ids: Iterable[str]) -> None:
        wanted = [i for i in set(case_ids) if i not in self._versions_known]
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
            rows = self.conn.execute(_CASE_VERSIONS, {"b_case_ids": chunk})
            found = {str(r.case_id): int(r.version) for r in rows}
            for case_id in chunk:
                self._versions_known[case_id] = found.get(case_id)

    def append(self, event: Event, payload: bytes) -> None:
        h = event.header
        self._events.append(
            {
                "event_id": h.event_id,
                "case_id": h.case_id,
                "source": h.source,
                "seq": h.seq,
                "type": event.type,
                "actor": h.actor,
                "occurred_at": utc(h.occurred_at),
                "payload": payload,
            }
        )

    def has_event_from(self, source: str, seq: int) -> bool:
        self._flush_all()
        found = self.conn.execute(
            select(case_events.c.id)
            .where(case_events.c.source == source, case_events.c.seq == seq)
            .limit(1)
        ).first()
        return found is not None

    def matter_index(self, parts: Sequence[str]) -> str:
        """The stored matter key of `parts` (domain.matter.matter_parts): HMAC-SHA256 under
        the node's index key, hex."""
        return self.columns.matter_index(parts)

    def ids_with_matter_key(self, key: str) -> list[str]:
        self._flush_all()
        rows = self.conn.execute(
            select(cases.c.case_id).where(cases.c.matter_key == key).order_by(cases.c.case_id)
        )
        return [str(r.case_id) for r in rows]

    def save(
        self, case: Case, matter_key: str | None = None, next_check: datetime | None = None
    ) -> None:
        seal, case_id = self.columns.seal, case.case_id
        self._cases[case_id] = {
            "case_id": case_id,
            "matter_key": matter_key,
            "query_code": seal("cases", "query_code", case_id, case.query_code),
            "title": seal("cases", "title", case_id, case.file.title),
            "category": case.file.category.value,
            "status": case.status.value,
            "origin": case.origin,
            "holder": case.holder,
            "outcome": case.outcome.value if case.outcome else None,
            "version": case.version,
            "updated_at": now(),
            "next_check_at": utc(next_check) if next_check is not None else None,
        }


class SqlCaseReads:
    """`protocols.CaseReads`: each call in its own short transaction."""

    def __init__(self, engine: Engine, columns: ColumnCipher) -> None:
        self.engine = engine
        self.columns = columns

    def open_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(cases.c.case_id).where(cases.c.status != "CLOSED").order_by(cases.c.case_id)
            )
            return [str(r.case_id) for r in rows]

    def ids_to_check(self, now: datetime) -> list[str]:
        """Open cases whose next check is due (or unknown: rows from before migration 0004)."""
        column = cases.c.next_check_at
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(cases.c.case_id)
                .where(cases.c.status != "CLOSED")
                .where(column.is_(None) | (column <= utc(now)))
                .order_by(cases.c.case_id)
            )
            return [str(r.case_id) for r in rows]

    def list_cases(self) -> list[CaseRow]:
        """Every summary, the sealed columns opened (DecryptionFailed if one does not open)."""
        open_ = self.columns.open
        with self.engine.connect() as conn:
            rows = conn.execute(select(cases).order_by(cases.c.case_id))
            return [
                {
                    **r._mapping,
                    "title": open_("cases", "title", r.case_id, r.title),
                    "query_code": open_("cases", "query_code", r.case_id, r.query_code),
                    "updated_at": utc(r.updated_at),
                    "next_check_at": utc(r.next_check_at) if r.next_check_at else None,
                }
                for r in rows
            ]

    def ids_to_rekey(self) -> list[str]:
        """Cases whose matter key is not a keyed index (64 hex digits): stored before issue 15
        item 3 (migration 0006's unkeyed 32-digit keys); re-saved at start-up."""
        column = cases.c.matter_key
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(cases.c.case_id)
                .where(column.is_not(None), func.length(column) != 64)
                .order_by(cases.c.case_id)
            )
            return [str(r.case_id) for r in rows]

    def history(self, case_id: str) -> list[StoredEvent]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(case_events)
                .where(case_events.c.case_id == case_id)
                .order_by(case_events.c.id)
            )
            return [
                StoredEvent(
                    str(r.event_id),
                    str(r.case_id),
                    str(r.source),
                    int(r.seq),
                    str(r.type),
                    str(r.actor),
                    utc(r.occurred_at),
                    bytes(r.payload),
                )
                for r in rows
            ]

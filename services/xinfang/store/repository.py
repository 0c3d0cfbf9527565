"""Unit of work over the node database: everything one decision changes, in one transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.case import Case
from ..domain.events import Event
from ..topics import RESENT_HEADER
from .database import make_engine
from .tables import (
    case_events,
    cases,
    chain_sources,
    counters,
    inbox,
    log_events,
    outbox,
    parked,
)

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: str
    value: bytes
    headers: Headers


@dataclass(frozen=True)
class SetAsideRow:
    """An outbox row the broker refused for good (see node/publish_errors.py)."""

    id: int
    topic: str
    key: str  # the case id
    size: int  # bytes of the record's value
    event_type: str  # from the ce_type header ("" if absent)
    reason: str
    set_aside_at: datetime


@dataclass(frozen=True)
class Resent:
    """Row ids put back in the relay's queue, and those closed as superseded (not re-sent)."""

    requeued: list[int]
    superseded: list[int]


@dataclass(frozen=True)
class RelayBacklog:
    """What /health reports of the outbox: rows waiting, set aside (by reason), oldest wait."""

    pending: int
    oldest_pending_at: datetime | None
    set_aside: dict[str, int]


@dataclass(frozen=True)
class ChainSource:
    """What this node received directly from one neighbour's log (docs/decisions/006)."""

    source: str
    last_seq: int
    last_hash: str
    public_key: str | None = None  # hex of the key its signed records must carry
    checkpoint_seq: int | None = None


@dataclass(frozen=True)
class StoredEvent:
    event_id: str
    case_id: str
    source: str
    seq: int
    type: str
    actor: str
    occurred_at: datetime
    payload: bytes


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    # Times are written as UTC. SQLite keeps no offset (a naive value read back is UTC);
    # PostgreSQL answers in the session's TimeZone. Callers get aware UTC from both.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _headers_to_json(headers: Headers) -> list[list[str]]:
    # Hex keeps arbitrary header bytes from the wire intact in a JSON column.
    return [[k, v.hex()] for k, v in headers]


def _headers_from_json(raw: Any) -> Headers:
    return [(str(k), bytes.fromhex(str(v))) for k, v in raw]


# Statements on the inbound path are built once and executed with parameters: building a
# Core statement per call cost more CPU than running it (docs/benchmarks.md, F1).
_LOG_HEAD = select(log_events.c.seq, log_events.c.hash).order_by(log_events.c.seq.desc()).limit(1)
_INSERT_LOG = insert(log_events)
_INSERT_CASE_EVENT = insert(case_events)
_INSERT_OUTBOX = insert(outbox)
_INSERT_PARKED = insert(parked)
_CASE_PAYLOADS = (
    select(case_events.c.payload)
    .where(case_events.c.case_id == bindparam("b_case_id"))
    .order_by(case_events.c.id)
)
_CASE_VERSION = select(cases.c.version).where(cases.c.case_id == bindparam("b_case_id"))
_INBOX_ENTRY = select(inbox.c.content_hash, inbox.c.status).where(
    inbox.c.event_id == bindparam("b_event_id")
)
_CASE_VERSIONS = select(cases.c.case_id, cases.c.version).where(
    cases.c.case_id.in_(bindparam("b_case_ids", expanding=True))
)
_INBOX_ENTRIES = select(inbox.c.event_id, inbox.c.content_hash, inbox.c.status).where(
    inbox.c.event_id.in_(bindparam("b_event_ids", expanding=True))
)
_INBOX_KEPT = ("content_hash", "source", "received_at")  # an entry's first sighting stays
_CHAIN_SOURCE = select(chain_sources).where(chain_sources.c.source == bindparam("b_source"))
_PARKED_FOR = (
    select(parked.c.event_id, parked.c.payload, parked.c.headers)
    .where(parked.c.case_id == bindparam("b_case_id"))
    .order_by(parked.c.parked_at, parked.c.event_id)
)
_PARKED_CASES = select(parked.c.case_id).distinct()
_PENDING_OUTBOX = (
    select(outbox)
    .where(outbox.c.sent_at.is_(None), outbox.c.set_aside_at.is_(None))
    .order_by(outbox.c.id)
    .limit(bindparam("b_limit"))
)
_MARK_SENT = update(outbox).where(outbox.c.id == bindparam("b_id"))
_UNPARK = parked.delete().where(parked.c.event_id == bindparam("b_event_id"))


@functools.cache
def _upsert(dialect: str, table: Table, *keep: str) -> Insert:
    """INSERT … ON CONFLICT (primary key) DO UPDATE: one statement instead of update-then-insert.

    Columns named in `keep` are written on insert only (e.g. when an inbox entry was first seen).
    """
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    key = [c.name for c in table.primary_key.columns]
    fixed = set(key) | set(keep)
    changing = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in fixed}
    upsert: Insert = stmt.on_conflict_do_update(index_elements=key, set_=changing)
    return upsert


class Transaction:
    """Operations valid inside one database transaction.

    Appends that nothing reads back in the same transaction — case events, case summaries,
    inbox entries, neighbours' chain heads and outbox rows — are kept here and written with
    one executemany per table by `flush()`, which the store calls just before COMMIT. A batch
    of inbound records then costs a handful of statements instead of ~8 per record (F1). The
    reads below see those pending writes, so callers cannot tell the difference.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Cases as folded in this transaction (the service caches them once it commits).
        self.folded: dict[str, Case] = {}
        self._cases: dict[str, dict[str, Any]] = {}
        self._case_events: list[dict[str, Any]] = []
        self._inbox: dict[str, dict[str, Any]] = {}
        self._inbox_known: dict[str, tuple[str, str] | None] = {}
        self._versions_known: dict[str, int | None] = {}
        self._parked_cases: set[str] | None = None
        self._chains: dict[str, ChainSource | None] = {}
        self._chains_changed: set[str] = set()
        self._outbox: list[dict[str, Any]] = []

    def flush(self) -> None:
        """Write the pending appends, in the order the outbox rows were enqueued."""
        dialect = self.conn.dialect.name
        if self._cases:
            self.conn.execute(_upsert(dialect, cases), list(self._cases.values()))
            for case_id, row in self._cases.items():
                self._versions_known[case_id] = int(row["version"])
            self._cases.clear()
        if self._case_events:
            self.conn.execute(_INSERT_CASE_EVENT, self._case_events)
            self._case_events = []
        if self._inbox:
            self.conn.execute(_upsert(dialect, inbox, *_INBOX_KEPT), list(self._inbox.values()))
            self._inbox.clear()
        if self._chains_changed:
            rows = [self._chain_row(self._chains[s]) for s in sorted(self._chains_changed)]
            self.conn.execute(_upsert(dialect, chain_sources), rows)
            self._chains_changed.clear()
        if self._outbox:
            self.conn.execute(_INSERT_OUTBOX, self._outbox)
            self._outbox = []

    # -- own log ----------------------------------------------------------------
    def log_head(self) -> tuple[int, str]:
        row = self.conn.execute(_LOG_HEAD).first()
        return (int(row.seq), str(row.hash)) if row else (0, "")

    def append_log(self, event: Event, payload: bytes, digest: str) -> None:
        self.conn.execute(
            _INSERT_LOG,
            {
                "seq": event.header.seq,
                "event_id": event.header.event_id,
                "case_id": event.case_id,
                "type": event.type,
                "occurred_at": _utc(event.header.occurred_at),
                "payload": payload,
                "hash": digest,
            },
        )

    def log_entry_type(self, seq: int) -> str | None:
        """The event type at position `seq` of the own log, or None."""
        row = self.conn.execute(select(log_events.c.type).where(log_events.c.seq == seq)).first()
        return str(row.type) if row else None

    # -- neighbours' chains (audit) -----------------------------------------------
    def chain_source(self, source: str) -> ChainSource | None:
        if source in self._chains:
            return self._chains[source]
        row = self.conn.execute(_CHAIN_SOURCE, {"b_source": source}).first()
        state = (
            ChainSource(
                str(row.source),
                int(row.last_seq),
                str(row.last_hash),
                str(row.public_key) if row.public_key is not None else None,
                int(row.checkpoint_seq) if row.checkpoint_seq is not None else None,
            )
            if row is not None
            else None
        )
        self._chains[source] = state
        return state

    def save_chain_source(self, state: ChainSource) -> None:
        self._chains[state.source] = state
        self._chains_changed.add(state.source)

    @staticmethod
    def _chain_row(state: ChainSource | None) -> dict[str, Any]:
        assert state is not None  # only saved states are marked changed
        return {
            "source": state.source,
            "last_seq": state.last_seq,
            "last_hash": state.last_hash,
            "public_key": state.public_key,
            "checkpoint_seq": state.checkpoint_seq,
            "updated_at": _now(),
        }

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

    # -- case events and summaries ---------------------------------------------
    def case_payloads(self, case_id: str) -> list[bytes]:
        self.flush()
        rows = self.conn.execute(_CASE_PAYLOADS, {"b_case_id": case_id})
        return [bytes(r.payload) for r in rows]

    def case_version(self, case_id: str) -> int | None:
        """The version of the stored summary (how many events it folds), or None."""
        pending = self._cases.get(case_id)
        if pending is not None:
            return int(pending["version"])
        if case_id in self._versions_known:
            return self._versions_known[case_id]
        value = self.conn.execute(_CASE_VERSION, {"b_case_id": case_id}).scalar()
        return int(value) if value is not None else None

    def prefetch_case_versions(self, case_ids: Iterable[str]) -> None:
        """Look up many summaries' versions in one query (a hint, like `prefetch_inbox`)."""
        wanted = [i for i in set(case_ids) if i not in self._versions_known]
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
            rows = self.conn.execute(_CASE_VERSIONS, {"b_case_ids": chunk})
            found = {str(r.case_id): int(r.version) for r in rows}
            for case_id in chunk:
                self._versions_known[case_id] = found.get(case_id)

    def record_case_event(self, event: Event, payload: bytes) -> None:
        h = event.header
        self._case_events.append(
            {
                "event_id": h.event_id,
                "case_id": h.case_id,
                "source": h.source,
                "seq": h.seq,
                "type": event.type,
                "actor": h.actor,
                "occurred_at": _utc(h.occurred_at),
                "payload": payload,
            }
        )

    def has_case_event_from(self, source: str, seq: int) -> bool:
        """Whether a case event with this source and source sequence number is recorded."""
        self.flush()
        found = self.conn.execute(
            select(case_events.c.id)
            .where(case_events.c.source == source, case_events.c.seq == seq)
            .limit(1)
        ).first()
        return found is not None

    def case_ids_with_matter_key(self, key: str) -> list[str]:
        self.flush()
        rows = self.conn.execute(
            select(cases.c.case_id).where(cases.c.matter_key == key).order_by(cases.c.case_id)
        )
        return [str(r.case_id) for r in rows]

    def save_case(
        self, case: Case, matter_key: str | None = None, next_check: datetime | None = None
    ) -> None:
        self._cases[case.case_id] = {
            "case_id": case.case_id,
            "matter_key": matter_key,
            "query_code": case.query_code,
            "title": case.file.title,
            "category": case.file.category.value,
            "status": case.status.value,
            "origin": case.origin,
            "holder": case.holder,
            "outcome": case.outcome.value if case.outcome else None,
            "version": case.version,
            "updated_at": _now(),
            "next_check_at": _utc(next_check) if next_check is not None else None,
        }

    # -- outbox -----------------------------------------------------------------
    def enqueue(self, topic: str, key: str, value: bytes, headers: Headers) -> None:
        self._outbox.append(
            {
                "topic": topic,
                "key": key,
                "value": value,
                "headers": _headers_to_json(headers),
                "created_at": _now(),
            }
        )

    # -- inbox ------------------------------------------------------------------
    def prefetch_inbox(self, event_ids: Iterable[str]) -> None:
        """Look up many inbox entries in one query (a hint: ids not looked up here are
        looked up one by one by `inbox_entry`)."""
        wanted = [i for i in set(event_ids) if i not in self._inbox_known]
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
            rows = self.conn.execute(_INBOX_ENTRIES, {"b_event_ids": chunk})
            found = {str(r.event_id): (str(r.content_hash), str(r.status)) for r in rows}
            for event_id in chunk:
                self._inbox_known[event_id] = found.get(event_id)

    def inbox_entry(self, event_id: str) -> tuple[str, str] | None:
        pending = self._inbox.get(event_id)
        if pending is not None:
            return str(pending["content_hash"]), str(pending["status"])
        if event_id in self._inbox_known:
            return self._inbox_known[event_id]
        row = self.conn.execute(_INBOX_ENTRY, {"b_event_id": event_id}).first()
        entry = (str(row.content_hash), str(row.status)) if row else None
        self._inbox_known[event_id] = entry
        return entry

    def mark_received(self, event_id: str, digest: str, source: str, status: str) -> None:
        # A parked event that becomes applied changes only its status (see _INBOX_KEPT).
        known = self.inbox_entry(event_id)
        self._inbox[event_id] = {
            "event_id": event_id,
            "content_hash": known[0] if known else digest,
            "source": source,
            "status": status,
            "received_at": _now(),
        }

    def park(self, event_id: str, case_id: str, payload: bytes, headers: Headers) -> None:
        if self._parked_cases is not None:
            self._parked_cases.add(case_id)
        self.conn.execute(
            _INSERT_PARKED,
            {
                "event_id": event_id,
                "case_id": case_id,
                "payload": payload,
                "headers": _headers_to_json(headers),
                "parked_at": _now(),
            },
        )

    def parked_for(self, case_id: str) -> list[tuple[str, bytes, Headers]]:
        rows = self.conn.execute(_PARKED_FOR, {"b_case_id": case_id})
        return [(str(r.event_id), bytes(r.payload), _headers_from_json(r.headers)) for r in rows]

    def has_parked(self, case_id: str) -> bool:
        """Whether events of the case wait in `parked`: one query per transaction, not per
        applied event (parks of this transaction are counted too)."""
        if self._parked_cases is None:
            self._parked_cases = {str(r.case_id) for r in self.conn.execute(_PARKED_CASES)}
        return case_id in self._parked_cases

    def unpark(self, event_id: str) -> None:
        self.conn.execute(_UNPARK, {"b_event_id": event_id})


class NodeStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.engine.begin() as conn:
            tx = Transaction(conn)
            yield tx
            tx.flush()

    def close(self) -> None:
        self.engine.dispose()

    # -- reads (each in its own short transaction) ---------------------------------
    def pending_outbox(self, limit: int = 500) -> list[OutboxRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(_PENDING_OUTBOX, {"b_limit": limit})
            return [
                OutboxRow(
                    int(r.id),
                    str(r.topic),
                    str(r.key),
                    bytes(r.value),
                    _headers_from_json(r.headers),
                )
                for r in rows
            ]

    def mark_sent(self, ids: list[int]) -> None:
        if not ids:
            return
        sent_at = _now()
        with self.engine.begin() as conn:
            conn.execute(_MARK_SENT, [{"b_id": i, "sent_at": sent_at} for i in ids])

    def set_aside(self, row_id: int, reason: str) -> None:
        """Take one unsent row out of the relay's queue, with the reason (it stays stored)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id, outbox.c.sent_at.is_(None))
                .values(set_aside_at=_now(), set_aside_reason=reason)
            )

    def set_aside_rows(self) -> list[SetAsideRow]:
        """Rows set aside and not re-sent, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.set_aside_at.is_not(None), outbox.c.sent_at.is_(None))
                .order_by(outbox.c.id)
            )
            found = []
            for r in rows:
                headers = dict(_headers_from_json(r.headers))
                found.append(
                    SetAsideRow(
                        int(r.id),
                        str(r.topic),
                        str(r.key),
                        len(r.value),
                        headers.get("ce_type", b"").decode("utf-8", "replace"),
                        str(r.set_aside_reason or ""),
                        _utc(r.set_aside_at),
                    )
                )
            return found

    def resend(
        self,
        ids: Iterable[int] | None = None,
        latest_per_key: Callable[[str], bool] = lambda _topic: False,
    ) -> Resent:
        """Put set-aside rows (all when `ids` is None) back in the relay's queue, where their
        low ids place them first, marked with RESENT_HEADER.

        On a topic where only the latest record per key counts (`latest_per_key(topic)`: the
        compacted public status feed), a row with a newer row of the same key is not re-sent —
        it would overwrite the newer value — but closed as superseded."""
        chosen = [r.id for r in self.set_aside_rows()]
        if ids is not None:
            wanted = set(ids)
            chosen = [i for i in chosen if i in wanted]
        if not chosen:
            return Resent([], [])
        newer = outbox.alias("newer")
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(outbox.c.id, outbox.c.topic, outbox.c.headers, newer.c.id.label("newer"))
                .outerjoin(
                    newer,
                    (newer.c.topic == outbox.c.topic)
                    & (newer.c.key == outbox.c.key)
                    & (newer.c.id > outbox.c.id),
                )
                .where(outbox.c.id.in_(chosen))
            )
            requeue: dict[int, dict[str, Any]] = {}
            superseded: set[int] = set()
            for row in rows:
                if row.newer is not None and latest_per_key(str(row.topic)):
                    superseded.add(int(row.id))
                    continue
                headers = _headers_from_json(row.headers)
                if all(k != RESENT_HEADER for k, _ in headers):
                    headers.append((RESENT_HEADER, b"1"))
                requeue[int(row.id)] = {"b_id": row.id, "headers": _headers_to_json(headers)}
            requeue = {i: v for i, v in requeue.items() if i not in superseded}
            if requeue:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == bindparam("b_id"), outbox.c.sent_at.is_(None))
                    .values(set_aside_at=None, set_aside_reason=None),
                    list(requeue.values()),
                )
            if superseded:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(superseded))
                    .values(sent_at=_now(), set_aside_reason="superseded")
                )
        return Resent(sorted(requeue), sorted(superseded))

    def relay_backlog(self) -> RelayBacklog:
        with self.engine.connect() as conn:
            waiting = conn.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.sent_at.is_(None), outbox.c.set_aside_at.is_(None)
                )
            ).one()
            reasons = conn.execute(
                select(outbox.c.set_aside_reason, func.count())
                .where(outbox.c.set_aside_at.is_not(None), outbox.c.sent_at.is_(None))
                .group_by(outbox.c.set_aside_reason)
            )
            return RelayBacklog(
                int(waiting[0]),
                _utc(waiting[1]) if waiting[1] is not None else None,
                {str(reason): int(n) for reason, n in reasons},
            )

    def stats(self) -> dict[str, int]:
        with self.engine.connect() as conn:

            def count(stmt: Any) -> int:
                return int(conn.execute(stmt).scalar_one())

            return {
                "cases": count(select(func.count()).select_from(cases)),
                "log_events": count(select(func.count()).select_from(log_events)),
                "case_events": count(select(func.count()).select_from(case_events)),
                "outbox_pending": count(  # waiting for the relay; set-aside rows are not
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.sent_at.is_(None), outbox.c.set_aside_at.is_(None))
                ),
                "outbox_set_aside": count(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.sent_at.is_(None), outbox.c.set_aside_at.is_not(None))
                ),
                "inbox": count(select(func.count()).select_from(inbox)),
                "parked": count(select(func.count()).select_from(parked)),
            }

    def open_case_ids(self) -> list[str]:
        """Cases not closed: the ones the deadline watcher looks at."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(cases.c.case_id).where(cases.c.status != "CLOSED").order_by(cases.c.case_id)
            )
            return [str(r.case_id) for r in rows]

    def case_ids_to_check(self, now: datetime) -> list[str]:
        """Open cases whose next check is due (or unknown: rows from before migration 0004)."""
        column = cases.c.next_check_at
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(cases.c.case_id)
                .where(cases.c.status != "CLOSED")
                .where(column.is_(None) | (column <= _utc(now)))
                .order_by(cases.c.case_id)
            )
            return [str(r.case_id) for r in rows]

    def list_cases(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(cases).order_by(cases.c.case_id))
            return [
                {
                    **r._mapping,
                    "updated_at": _utc(r.updated_at),
                    "next_check_at": _utc(r.next_check_at) if r.next_check_at else None,
                }
                for r in rows
            ]

    def case_history(self, case_id: str) -> list[StoredEvent]:
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
                    _utc(r.occurred_at),
                    bytes(r.payload),
                )
                for r in rows
            ]

"""Unit of work over the node database: everything one decision changes, in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from ..domain.case import Case
from ..domain.events import Event
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


class Transaction:
    """Operations valid inside one database transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- own log ----------------------------------------------------------------
    def log_head(self) -> tuple[int, str]:
        row = self.conn.execute(
            select(log_events.c.seq, log_events.c.hash).order_by(log_events.c.seq.desc()).limit(1)
        ).first()
        return (int(row.seq), str(row.hash)) if row else (0, "")

    def append_log(self, event: Event, payload: bytes, digest: str) -> None:
        self.conn.execute(
            insert(log_events).values(
                seq=event.header.seq,
                event_id=event.header.event_id,
                case_id=event.case_id,
                type=event.type,
                occurred_at=_utc(event.header.occurred_at),
                payload=payload,
                hash=digest,
            )
        )

    def log_entry_type(self, seq: int) -> str | None:
        """The event type at position `seq` of the own log, or None."""
        row = self.conn.execute(select(log_events.c.type).where(log_events.c.seq == seq)).first()
        return str(row.type) if row else None

    # -- neighbours' chains (audit) -----------------------------------------------
    def chain_source(self, source: str) -> ChainSource | None:
        row = self.conn.execute(
            select(chain_sources).where(chain_sources.c.source == source)
        ).first()
        if row is None:
            return None
        return ChainSource(
            str(row.source),
            int(row.last_seq),
            str(row.last_hash),
            str(row.public_key) if row.public_key is not None else None,
            int(row.checkpoint_seq) if row.checkpoint_seq is not None else None,
        )

    def save_chain_source(self, state: ChainSource) -> None:
        values = {
            "last_seq": state.last_seq,
            "last_hash": state.last_hash,
            "public_key": state.public_key,
            "checkpoint_seq": state.checkpoint_seq,
            "updated_at": _now(),
        }
        done = self.conn.execute(
            update(chain_sources).where(chain_sources.c.source == state.source).values(**values)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(chain_sources).values(source=state.source, **values))

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
        rows = self.conn.execute(
            select(case_events.c.payload)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        )
        return [bytes(r.payload) for r in rows]

    def record_case_event(self, event: Event, payload: bytes) -> None:
        h = event.header
        self.conn.execute(
            insert(case_events).values(
                event_id=h.event_id,
                case_id=h.case_id,
                source=h.source,
                seq=h.seq,
                type=event.type,
                actor=h.actor,
                occurred_at=_utc(h.occurred_at),
                payload=payload,
            )
        )

    def case_ids_with_matter_key(self, key: str) -> list[str]:
        rows = self.conn.execute(
            select(cases.c.case_id).where(cases.c.matter_key == key).order_by(cases.c.case_id)
        )
        return [str(r.case_id) for r in rows]

    def save_case(self, case: Case, matter_key: str | None = None) -> None:
        values = {
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
        }
        done = self.conn.execute(
            update(cases).where(cases.c.case_id == case.case_id).values(**values)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(cases).values(case_id=case.case_id, **values))

    # -- outbox -----------------------------------------------------------------
    def enqueue(self, topic: str, key: str, value: bytes, headers: Headers) -> None:
        self.conn.execute(
            insert(outbox).values(
                topic=topic,
                key=key,
                value=value,
                headers=_headers_to_json(headers),
                created_at=_now(),
            )
        )

    # -- inbox ------------------------------------------------------------------
    def inbox_entry(self, event_id: str) -> tuple[str, str] | None:
        row = self.conn.execute(
            select(inbox.c.content_hash, inbox.c.status).where(inbox.c.event_id == event_id)
        ).first()
        return (str(row.content_hash), str(row.status)) if row else None

    def mark_received(self, event_id: str, digest: str, source: str, status: str) -> None:
        done = self.conn.execute(
            update(inbox).where(inbox.c.event_id == event_id).values(status=status)
        )
        if done.rowcount == 0:
            self.conn.execute(
                insert(inbox).values(
                    event_id=event_id,
                    content_hash=digest,
                    source=source,
                    status=status,
                    received_at=_now(),
                )
            )

    def park(self, event_id: str, case_id: str, payload: bytes, headers: Headers) -> None:
        self.conn.execute(
            insert(parked).values(
                event_id=event_id,
                case_id=case_id,
                payload=payload,
                headers=_headers_to_json(headers),
                parked_at=_now(),
            )
        )

    def parked_for(self, case_id: str) -> list[tuple[str, bytes, Headers]]:
        rows = self.conn.execute(
            select(parked.c.event_id, parked.c.payload, parked.c.headers)
            .where(parked.c.case_id == case_id)
            .order_by(parked.c.parked_at, parked.c.event_id)
        )
        return [(str(r.event_id), bytes(r.payload), _headers_from_json(r.headers)) for r in rows]

    def unpark(self, event_id: str) -> None:
        self.conn.execute(parked.delete().where(parked.c.event_id == event_id))


class NodeStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.engine.begin() as conn:
            yield Transaction(conn)

    def close(self) -> None:
        self.engine.dispose()

    # -- reads (each in its own short transaction) ---------------------------------
    def pending_outbox(self, limit: int = 500) -> list[OutboxRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(limit)
            )
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
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(sent_at=_now()))

    def stats(self) -> dict[str, int]:
        with self.engine.connect() as conn:

            def count(stmt: Any) -> int:
                return int(conn.execute(stmt).scalar_one())

            return {
                "cases": count(select(func.count()).select_from(cases)),
                "log_events": count(select(func.count()).select_from(log_events)),
                "case_events": count(select(func.count()).select_from(case_events)),
                "outbox_pending": count(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
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

    def list_cases(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(cases).order_by(cases.c.case_id))
            return [{**r._mapping, "updated_at": _utc(r.updated_at)} for r in rows]

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

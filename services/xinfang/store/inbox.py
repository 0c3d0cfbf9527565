"""What the node consumed, in SQL: inbox entries (idempotent apply), parked events (waiting
for their predecessor) and neighbours' chain heads (decision 006)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select

from .records import ChainSource, Headers, ParkedRecord
from .sql import headers_from_json, headers_to_json, now, upsert, utc
from .tables import chain_parked, chain_sources, inbox, parked

_INSERT_PARKED = insert(parked)
_INBOX_ENTRY = select(inbox.c.content_hash, inbox.c.status).where(
    inbox.c.event_id == bindparam("b_event_id")
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
_UNPARK = parked.delete().where(parked.c.event_id == bindparam("b_event_id"))


class SqlInbox:
    """`protocols.Inbox` on one connection. Inbox entries and chain heads are kept until
    `flush()` (one executemany per table, F1); the reads here see them. Parks are written at
    once (a drain in the same unit reads them back)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._inbox: dict[str, dict[str, Any]] = {}
        self._inbox_known: dict[str, tuple[str, str] | None] = {}
        self._parked_cases: set[str] | None = None
        self._chains: dict[str, ChainSource | None] = {}
        self._chains_changed: set[str] = set()
        self._chain_parked_sources: set[str] | None = None

    def flush(self) -> None:
        dialect = self.conn.dialect.name
        if self._inbox:
            self.conn.execute(upsert(dialect, inbox, *_INBOX_KEPT), list(self._inbox.values()))
            self._inbox.clear()
        if self._chains_changed:
            rows = [_chain_row(self._chains[s]) for s in sorted(self._chains_changed)]
            self.conn.execute(upsert(dialect, chain_sources), rows)
            self._chains_changed.clear()

    # -- inbox entries ----------------------------------------------------------------
    def prefetch(self, event_ids: Iterable[str]) -> None:
        wanted = [i for i in set(event_ids) if i not in self._inbox_known]
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
            rows = self.conn.execute(_INBOX_ENTRIES, {"b_event_ids": chunk})
            found = {str(r.event_id): (str(r.content_hash), str(r.status)) for r in rows}
            for event_id in chunk:
                self._inbox_known[event_id] = found.get(event_id)

    def entry(self, event_id: str) -> tuple[str, str] | None:
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
        known = self.entry(event_id)
        self._inbox[event_id] = {
            "event_id": event_id,
            "content_hash": known[0] if known else digest,
            "source": source,
            "status": status,
            "received_at": now(),
        }

    # -- parked events ----------------------------------------------------------------
    def park(self, event_id: str, case_id: str, payload: bytes, headers: Headers) -> None:
        if self._parked_cases is not None:
            self._parked_cases.add(case_id)
        self.conn.execute(
            _INSERT_PARKED,
            {
                "event_id": event_id,
                "case_id": case_id,
                "payload": payload,
                "headers": headers_to_json(headers),
                "parked_at": now(),
            },
        )

    def parked_for(self, case_id: str) -> list[tuple[str, bytes, Headers]]:
        rows = self.conn.execute(_PARKED_FOR, {"b_case_id": case_id})
        return [(str(r.event_id), bytes(r.payload), headers_from_json(r.headers)) for r in rows]

    def has_parked(self, case_id: str) -> bool:
        """Whether events of the case wait in `parked`: one query per unit of work, not per
        applied event (parks of this unit are counted too)."""
        if self._parked_cases is None:
            self._parked_cases = {str(r.case_id) for r in self.conn.execute(_PARKED_CASES)}
        return case_id in self._parked_cases

    def unpark(self, event_id: str) -> None:
        self.conn.execute(_UNPARK, {"b_event_id": event_id})

    # -- neighbours' chains -------------------------------------------------------------
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
                (int(row.refused_before_seq), str(row.refused_before_hash))
                if row.refused_before_seq is not None
                else None,
            )
            if row is not None
            else None
        )
        self._chains[source] = state
        return state

    def save_chain_source(self, state: ChainSource) -> None:
        self._chains[state.source] = state
        self._chains_changed.add(state.source)

    # -- records waiting on a chain gap (decision 022) ------------------------------------
    def park_chain(self, record: ParkedRecord) -> None:
        if self._chain_parked_sources is not None:
            self._chain_parked_sources.add(record.source)
        self.conn.execute(
            upsert(self.conn.dialect.name, chain_parked),  # a redelivery parks it once
            {
                "source": record.source,
                "seq": record.seq,
                "prev_seq": record.prev_seq,
                "payload": record.payload,
                "headers": headers_to_json(record.headers),
                "origin": record.origin,
                "parked_at": utc(record.parked_at) if record.parked_at is not None else now(),
            },
        )

    def chain_parked_after(self, source: str, prev_seq: int) -> ParkedRecord | None:
        if self._chain_parked_sources is None:  # one query per unit, not one per record
            rows = self.conn.execute(select(chain_parked.c.source).distinct())
            self._chain_parked_sources = {str(r.source) for r in rows}
        if source not in self._chain_parked_sources:
            return None
        row = self.conn.execute(
            select(chain_parked)
            .where(chain_parked.c.source == source, chain_parked.c.prev_seq == prev_seq)
            .order_by(chain_parked.c.seq)
            .limit(1)
        ).first()
        return _parked(row) if row is not None else None

    def unpark_chain(self, source: str, seq: int) -> None:
        self.conn.execute(
            delete(chain_parked).where(chain_parked.c.source == source, chain_parked.c.seq == seq)
        )

    def chain_parked_count(self, source: str) -> int:
        stmt = select(func.count()).select_from(chain_parked)
        return int(self.conn.execute(stmt.where(chain_parked.c.source == source)).scalar_one())


def _parked(row: Any) -> ParkedRecord:
    return ParkedRecord(
        str(row.source),
        int(row.seq),
        int(row.prev_seq),
        bytes(row.payload),
        headers_from_json(row.headers),
        str(row.origin),
        utc(row.parked_at),
    )


def _chain_row(state: ChainSource | None) -> dict[str, Any]:
    assert state is not None  # only saved states are marked changed
    return {
        "source": state.source,
        "last_seq": state.last_seq,
        "last_hash": state.last_hash,
        "public_key": state.public_key,
        "checkpoint_seq": state.checkpoint_seq,
        "refused_before_seq": state.refused_before[0] if state.refused_before else None,
        "refused_before_hash": state.refused_before[1] if state.refused_before else None,
        "updated_at": now(),
    }

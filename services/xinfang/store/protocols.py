"""The node store by role, as Protocols the service and the chain keeper depend on
(docs/decisions/015-store-by-role.md; the SQLAlchemy implementations are beside this file).

Inside one unit of work (one database transaction: one decision, or one inbox batch):
- `CaseEvents` — the aggregate store: case events, case summaries (and their next check time),
  case numbers.
- `NodeLog` — what the node publishes: its own hash-chained log and the outbox.
- `Inbox` — what it consumed: inbox entries, parked events, neighbours' chain heads.
Outside one (each call its own short transaction):
- `CaseReads` — case lists and histories, the deadline watcher's due cases.
- `Outbox` — the relay's and operators' side of the outbox (pending, sent, set aside, re-sent).
- `IdempotencyKeys` — the HTTP API's Idempotency-Key records.

Writes inside a unit of work may be buffered until commit; every read sees them. The Protocols
are runtime-checkable so the contract tests can show each implementation has every member.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ..domain.case import Case
from ..domain.events import Event
from .case_keys import SqlCaseKeys
from .records import (
    CaseRow,
    ChainGap,
    ChainSource,
    Headers,
    KeyRecord,
    OutboxRow,
    ParkedRecord,
    RelayBacklog,
    Resent,
    SetAsideRow,
    StoredEvent,
)
from .trail import TrailQuery, TrailRow


@runtime_checkable
class CaseEvents(Protocol):
    """Case events and summaries within one unit of work."""

    def next_serial(self, name: str) -> int:
        """1, 2, … per `name` (e.g. "case:2026"); a rolled-back number is given again."""
        ...

    def payloads(self, case_id: str) -> list[bytes]:
        """The case's encoded events in the order recorded ([] for an unknown case)."""
        ...

    def version(self, case_id: str) -> int | None:
        """How many events the stored summary folds, or None without a summary."""
        ...

    def prefetch_versions(self, case_ids: Iterable[str]) -> None:
        """A hint: look many versions up at once (ids not named are looked up singly)."""
        ...

    def append(self, event: Event, payload: bytes) -> None:
        """Record a case event (its event id is unique: a duplicate fails the commit)."""
        ...

    def has_event_from(self, source: str, seq: int) -> bool:
        """Whether a case event with this source and source sequence number is recorded."""
        ...

    def matter_index(self, parts: Sequence[str]) -> str:
        """The matter key to store and look up for `parts` (domain.matter.matter_parts): a
        keyed hash under the node's index key, never the parts themselves (issue 15 item 3)."""
        ...

    def ids_with_matter_key(self, key: str) -> list[str]:
        """Case ids whose summary has this matter key (R11, R12), in case id order."""
        ...

    def save(
        self, case: Case, matter_key: str | None = None, next_check: datetime | None = None
    ) -> None:
        """Insert or replace the case's summary (with when the watcher should look again)."""
        ...


@runtime_checkable
class NodeLog(Protocol):
    """The node's own log and the outbox, within one unit of work."""

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last log entry; (0, "") for an empty log."""
        ...

    def append(self, event: Event, payload: bytes, digest: str) -> None:
        """Write the event at `event.header.seq` (a position taken twice fails)."""
        ...

    def entry_type(self, seq: int) -> str | None:
        """The event type at position `seq`, or None."""
        ...

    def enqueue(
        self, topic: str, key: str, value: bytes, headers: Headers, set_aside: str | None = None
    ) -> None:
        """Queue a record for the relay (published in enqueue order after commit); with
        `set_aside`, written set aside with that reason (held, node/key_wait.py)."""
        ...

    def last_sent_to(self, destination: str) -> int:
        """`seq` of the last own record addressed to `destination`'s inbox (0: none yet)."""
        ...

    def sent_to(self, destination: str, seq: int) -> None:
        """Remember that the own record `seq` was addressed to `destination` (decision 022)."""
        ...


@runtime_checkable
class Inbox(Protocol):
    """What the node consumed, within one unit of work."""

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """A hint: look many entries up at once."""
        ...

    def entry(self, event_id: str) -> tuple[str, str] | None:
        """(content hash, status) of a received event, or None."""
        ...

    def mark_received(self, event_id: str, digest: str, source: str, status: str) -> None:
        """Record (or move the status of) an entry; the first content hash stays."""
        ...

    def park(self, event_id: str, case_id: str, payload: bytes, headers: Headers) -> None: ...

    def parked_for(self, case_id: str) -> list[tuple[str, bytes, Headers]]:
        """(event id, payload, headers) waiting for the case, oldest first."""
        ...

    def has_parked(self, case_id: str) -> bool: ...

    def unpark(self, event_id: str) -> None: ...

    def chain_source(self, source: str) -> ChainSource | None:
        """What was last received directly from `source`'s log, or None."""
        ...

    def save_chain_source(self, state: ChainSource) -> None: ...

    def park_chain(self, record: ParkedRecord) -> None:
        """Keep a direct source's record until the one it names as previous is applied."""
        ...

    def chain_parked_after(self, source: str, prev_seq: int) -> ParkedRecord | None:
        """The parked record of `source` that names `prev_seq` as previous (lowest seq); cheap
        when nothing of `source` is parked (the usual case: asked after every applied record)."""
        ...

    def unpark_chain(self, source: str, seq: int) -> None: ...

    def chain_parked_count(self, source: str) -> int: ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One database transaction over every role: all of it commits, or none of it."""

    folded: dict[str, Case]  # cases as folded in this unit (the service caches them on commit)

    @property
    def cases(self) -> CaseEvents: ...

    @property
    def log(self) -> NodeLog: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def case_keys(self) -> SqlCaseKeys: ...


@runtime_checkable
class CaseReads(Protocol):
    def list_cases(self) -> list[CaseRow]:
        """Every case summary, in case id order."""
        ...

    def history(self, case_id: str) -> list[StoredEvent]:
        """The case's events in the order recorded ([] for an unknown case)."""
        ...

    def open_ids(self) -> list[str]:
        """Cases not closed."""
        ...

    def ids_to_check(self, now: datetime) -> list[str]:
        """Open cases whose next check is due (or unknown)."""
        ...


@runtime_checkable
class Outbox(Protocol):
    def pending(self, limit: int = 500) -> list[OutboxRow]:
        """Unsent rows not set aside, in enqueue order."""
        ...

    def mark_sent(self, ids: list[int]) -> None: ...

    def set_aside(self, row_id: int, reason: str) -> None: ...

    def set_aside_rows(self) -> list[SetAsideRow]: ...

    def resend(
        self,
        ids: Iterable[int] | None = None,
        latest_per_key: Callable[[str], bool] = ...,
    ) -> Resent: ...

    def held_by_topic(self, reason: str) -> dict[str, int]:
        """Unsent rows set aside with `reason`, counted per topic."""
        ...

    def held_rows(self, reason: str, topic: str, limit: int) -> list[OutboxRow]:
        """The oldest `limit` unsent rows of `topic` set aside with `reason`."""
        ...

    def requeue(self, rows: Sequence[tuple[int, Headers]]) -> None:
        """Unsent rows given new headers and put back in the relay's queue, atomically."""
        ...

    def backlog(self) -> RelayBacklog: ...


@runtime_checkable
class IdempotencyKeys(Protocol):
    def reserve(self, key: str, fingerprint: str, now: datetime | None = None) -> KeyRecord | None:
        """None if reserved now; else what the key already holds."""
        ...

    def complete(self, key: str, status: int, response: Any) -> None: ...


@runtime_checkable
class OperatorTrailStore(Protocol):
    """The operator audit trail (store/trail.py, decision 027): append and read, nothing else."""

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last entry; (0, "") for an empty trail."""
        ...

    def append(self, make: Callable[[int, str], TrailRow]) -> TrailRow:
        """Write `make(seq, prev_hash)` after the head, with its outbox row, in one transaction."""
        ...

    def read(self, query: TrailQuery) -> list[bytes]:
        """The records the query selects, in seq order."""
        ...


@runtime_checkable
class Store(Protocol):
    """The node database by role (store/unit_of_work.py `NodeStore`)."""

    @property
    def cases(self) -> CaseReads: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def idempotency(self) -> IdempotencyKeys: ...

    @property
    def trail(self) -> OperatorTrailStore: ...

    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...

    def stats(self) -> dict[str, int]:
        """Row counts for /health: cases, log_events, case_events, outbox_pending (the node's
        records waiting for the relay), trail_pending (operator trail entries waiting),
        outbox_set_aside, inbox, parked, chain_parked."""
        ...

    def chain_gaps(self) -> list[ChainGap]:
        """Direct sources with records parked on a chain gap (decision 022), by source."""
        ...

    def close(self) -> None: ...

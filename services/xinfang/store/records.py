"""What the store's roles hand back: plain frozen values, no SQLAlchemy (see protocols.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

Headers = list[tuple[str, bytes]]
CaseRow = dict[str, Any]  # a row of `cases` (tables.py); times aware UTC


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
    # (seq, hash) of the head before the last record, when the rules refused that record
    # (`unauthorised-act`): a record of the source at the same seq linking to this head may
    # take its place — a stolen key's act must not block the source's genuine record (022).
    refused_before: tuple[int, str] | None = None


@dataclass(frozen=True)
class ParkedRecord:
    """A direct source's record waiting for the one it names as previously sent to this node
    (`prev_seq`, decision 022); `origin` is where it was read ("topic:partition:offset")."""

    source: str
    seq: int
    prev_seq: int
    payload: bytes
    headers: Headers
    origin: str = ""
    parked_at: datetime | None = None


@dataclass(frozen=True)
class ChainGap:
    """A gap in a direct source's chain for /health: the `seq` this node waits for (the one the
    earliest parked record names as previous), how many records wait and since when."""

    source: str
    waiting_for: int
    parked: int
    since: datetime


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


@dataclass(frozen=True)
class KeyRecord:
    """What an idempotency key holds (store/idempotency.py)."""

    fingerprint: str
    status: int | None  # None: reserved, the answer not recorded (in progress or interrupted)
    response: Any

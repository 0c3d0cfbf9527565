"""Domain events: immutable facts a node decided. Each has an Avro schema in schemas/.

The header carries what every event needs for delivery and audit: a globally
unique id, the case it belongs to, the emitting node (division code) and body,
the event time, and the node's log position (sequence number and hash of the
previous event), which the store fills in when it commits the event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from .vocabulary import Category, Channel, NoticeKind, Outcome, Receipt, ServiceMethod


@dataclass(frozen=True)
class EventHeader:
    event_id: str
    case_id: str
    source: str  # division code of the emitting node
    actor: str  # body id that took the decision, e.g. 150400.xfj
    occurred_at: datetime  # event time (tz-aware, UTC)
    seq: int = 0  # position in the source node's log; 0 until committed
    prev_hash: str = ""  # SHA-256 (hex) of the previous event of the same log
    causation_id: str = ""  # the case event this one follows ("" for a case's first event)


@dataclass(frozen=True)
class Petitioner:
    """信访人. Personal data: travels only to the bodies that handle the case."""

    name: str | None
    address: str | None
    contact: str | None
    anonymous: bool = False


@dataclass(frozen=True)
class CaseFile:
    """What was registered (Art. 19): the material a handling body needs."""

    title: str
    channel: Channel
    category: Category
    petitioner: Petitioner
    request: str  # 诉求
    facts: str  # 事实
    reasons: str  # 理由
    place: str  # division code where the problem arose (问题属地)
    received_at: datetime
    accused: str | None = None  # 被反映人/单位 (free text)
    accused_body: str | None = None  # body id if the accused is a body in the topology
    collective_size: int = 1
    urgent: bool = False
    litigation_related: bool = False
    repeat_of: str | None = None


@dataclass(frozen=True, kw_only=True)
class Event:
    TYPE: ClassVar[str] = "Event"
    header: EventHeader

    @property
    def type(self) -> str:
        return self.TYPE

    @property
    def case_id(self) -> str:
        return self.header.case_id

    def positioned(self, seq: int, prev_hash: str, causation_id: str) -> Event:
        """The same event placed in its node's log and after its predecessor in the case."""
        return replace(
            self,
            header=replace(self.header, seq=seq, prev_hash=prev_hash, causation_id=causation_id),
        )


@dataclass(frozen=True, kw_only=True)
class PetitionRegistered(Event):
    """登记 (Arts. 17–21): a petition office registered an item."""

    TYPE: ClassVar[str] = "PetitionRegistered"
    query_code: str
    file: CaseFile


@dataclass(frozen=True, kw_only=True)
class CaseTransferred(Event):
    """转送 (Art. 22): routed to the competent body, which must decide on acceptance."""

    TYPE: ClassVar[str] = "CaseTransferred"
    to_body: str
    to_division: str
    query_code: str
    file: CaseFile
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseAccepted(Event):
    """受理 (Art. 23): the competent body accepted the item; handling clock starts (R5)."""

    TYPE: ClassVar[str] = "CaseAccepted"
    body: str
    handling_due: datetime


@dataclass(frozen=True, kw_only=True)
class NoticeServed(Event):
    """A written document served on the petitioner (送达): starts review clocks."""

    TYPE: ClassVar[str] = "NoticeServed"
    kind: NoticeKind
    served_at: datetime
    method: ServiceMethod
    receipt: Receipt


@dataclass(frozen=True, kw_only=True)
class HandlingOpinionIssued(Event):
    """信访处理意见书 (Arts. 32–33)."""

    TYPE: ClassVar[str] = "HandlingOpinionIssued"
    body: str
    outcome: Outcome
    opinion: str
    legal_basis: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        PetitionRegistered,
        CaseTransferred,
        CaseAccepted,
        NoticeServed,
        HandlingOpinionIssued,
    )
}

"""Domain events: immutable facts a node decided. Each has an Avro schema in schemas/.

The header carries what every event needs for delivery and audit: a globally
unique id, the case it belongs to, the emitting node (division code) and body,
the event time, and the node's log position (sequence number and hash of the
previous event), which the store fills in when it commits the event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar, TypeAlias, TypeGuard, get_args

from .deadlines import Obligation
from .vocabulary import (
    Category,
    Channel,
    CloseReason,
    DiversionRoute,
    NoticeKind,
    Outcome,
    Rating,
    Receipt,
    ReviewResult,
    ServiceMethod,
    SupervisionLevel,
)


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
    person: str = ""  # the signed-in person who decided ("" for the node's own reactions)


@dataclass(frozen=True)
class Petitioner:
    """信访人. Personal data: travels only to the bodies that handle the case."""

    name: str | None
    address: str | None
    contact: str | None  # a phone number normalised (13912345678, 0476-8123456) or other text
    anonymous: bool = False
    id_number: str | None = None  # 公民身份号码, GB 11643, normalised (upper-case X)


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
    representatives: int = 0  # 走访代表人数 (R14); 0 when not a collective visit
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
    route_due: datetime  # R1
    backdate_reason: str | None = None  # why file.received_at lies well before the event


@dataclass(frozen=True, kw_only=True)
class CaseTransferred(Event):
    """转送 (Art. 22): routed to the competent body, which must decide on acceptance."""

    TYPE: ClassVar[str] = "CaseTransferred"
    to_body: str
    to_division: str
    query_code: str
    file: CaseFile
    acceptance_due: datetime  # R3
    objection_due: datetime  # R4
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
    backdate_reason: str | None = None  # why served_at lies well before the event


@dataclass(frozen=True, kw_only=True)
class HandlingOpinionIssued(Event):
    """信访处理意见书 (Arts. 32–33)."""

    TYPE: ClassVar[str] = "HandlingOpinionIssued"
    body: str
    outcome: Outcome
    opinion: str
    legal_basis: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseAssigned(Event):
    """交办 (Art. 22): like a transfer, but the receiver reports the result by `report_due` (R6)."""

    TYPE: ClassVar[str] = "CaseAssigned"
    to_body: str
    to_division: str
    query_code: str
    file: CaseFile
    acceptance_due: datetime  # R3
    objection_due: datetime  # R4
    report_due: datetime  # R6
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseDiverted(Event):
    """诉访分离 (Arts. 22 ¶2, 28, 31): sent to a political-legal or discipline organ, or out of
    the petition procedure to another statutory procedure, with the petitioner told where to go."""

    TYPE: ClassVar[str] = "CaseDiverted"
    route: DiversionRoute
    to_body: str | None  # body in the topology that takes it over, if any
    to_division: str | None
    guidance: str


@dataclass(frozen=True, kw_only=True)
class UrgentReported(Event):
    """Art. 25: a major or urgent matter reported to the same-level Party committee and
    government and, by a petition office, to the next level up and the national bureau."""

    TYPE: ClassVar[str] = "UrgentReported"
    reported_to: list[str]
    summary: str


@dataclass(frozen=True, kw_only=True)
class TransferObjected(Event):
    """Art. 23: the receiving body says the item is outside its remit (within 5 working days)."""

    TYPE: ClassVar[str] = "TransferObjected"
    body: str
    reasons: str


@dataclass(frozen=True, kw_only=True)
class TransferReturned(Event):
    """Art. 23: the sender checked the objection and agreed; the item is back with the sender."""

    TYPE: ClassVar[str] = "TransferReturned"
    body: str  # the sender's petition office, which takes the item back
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseNotAccepted(Event):
    """不予受理 (Arts. 23, 44(3)), with reasons."""

    TYPE: ClassVar[str] = "CaseNotAccepted"
    body: str
    reasons: str


@dataclass(frozen=True, kw_only=True)
class HandlingExtended(Event):
    """Art. 34: handling extended by at most 30 days, approved by the head of the body."""

    TYPE: ClassVar[str] = "HandlingExtended"
    body: str
    days: int
    approved_by: str
    reasons: str
    handling_due: datetime  # the new deadline


@dataclass(frozen=True, kw_only=True)
class CompletionReported(Event):
    """办结报告 (Art. 22): result of an assigned item reported to the assigning office."""

    TYPE: ClassVar[str] = "CompletionReported"
    body: str
    to_body: str
    summary: str


@dataclass(frozen=True, kw_only=True)
class ReviewRequested(Event):
    """复查 request (Art. 35), received by the body one level above the handling body."""

    TYPE: ClassVar[str] = "ReviewRequested"
    reviewer: str
    reasons: str
    decision_due: datetime
    backdate_reason: str | None = None  # why the request was received well before the event


@dataclass(frozen=True, kw_only=True)
class ReviewDecided(Event):
    """复查意见 (Art. 35): uphold, revoke (original body re-handles) or vary."""

    TYPE: ClassVar[str] = "ReviewDecided"
    reviewer: str
    result: ReviewResult
    opinion: str
    rehandle_due: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ReReviewRequested(Event):
    """复核 request (Art. 36), received by the body one level above the reviewer."""

    TYPE: ClassVar[str] = "ReReviewRequested"
    reviewer: str
    reasons: str
    decision_due: datetime
    backdate_reason: str | None = None  # why the request was received well before the event


@dataclass(frozen=True, kw_only=True)
class ReReviewDecided(Event):
    """复核意见 (Art. 36): final; the same facts and reasons are not accepted again."""

    TYPE: ClassVar[str] = "ReReviewDecided"
    reviewer: str
    result: ReviewResult
    opinion: str


@dataclass(frozen=True, kw_only=True)
class CaseClosed(Event):
    """终结."""

    TYPE: ClassVar[str] = "CaseClosed"
    reason: CloseReason
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class DeadlineMissed(Event):
    """An obligation's deadline passed without the act that discharges it."""

    TYPE: ClassVar[str] = "DeadlineMissed"
    obligation: Obligation  # an Avro string on the wire; an unknown symbol is refused on decoding
    rule_id: str  # R1–R19, the obligation's rule
    body: str  # the body that owed the act
    due: datetime


@dataclass(frozen=True, kw_only=True)
class SupervisionIssued(Event):
    """督办 (Arts. 39–40) by a petition office, at a level of the ladder."""

    TYPE: ClassVar[str] = "SupervisionIssued"
    supervision_id: str
    to_body: str
    level: SupervisionLevel
    obligation: Obligation  # an Avro string on the wire, like DeadlineMissed.obligation
    reasons: str
    answer_due: datetime


@dataclass(frozen=True, kw_only=True)
class SupervisionAnswered(Event):
    """The supervised body's written answer (R16)."""

    TYPE: ClassVar[str] = "SupervisionAnswered"
    supervision_id: str
    body: str
    answer: str
    adopted: bool


@dataclass(frozen=True, kw_only=True)
class SatisfactionEvaluated(Event):
    """满意度评价 (Art. 21), given separately for the handling body and the petition office."""

    TYPE: ClassVar[str] = "SatisfactionEvaluated"
    handling_body: str
    handling_rating: Rating
    office: str
    office_rating: Rating
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class PersonalDataErased(Event):
    """个人信息删除 (个人信息保护法 Art. 47): the retention period after the case ended passed;
    this node deleted the case's data key, so the personal fields of its records can no longer
    be opened here (crypto-shredding, decision 028). Recorded in the node's own log only."""

    TYPE: ClassVar[str] = "PersonalDataErased"
    retention_days: int  # the period that passed since the case ended
    ended_at: datetime  # when the case ended (its closing event)


# -- the audit chain (docs/decisions/006): not case events --------------------------------------
CHAIN_CASE_ID = "_chain"  # case id (and record key) of chain events; no case ever has it


@dataclass(frozen=True, kw_only=True)
class ChainCheckpointed(Event):
    """A node's signed checkpoint of its own log head (Ed25519). Not a case event: it goes to
    the node's log and its parent's inbox only, and the case fold never sees it."""

    TYPE: ClassVar[str] = "ChainCheckpointed"
    head_seq: int  # the last log position covered (= header.seq - 1)
    head_hash: str  # SHA-256 hex of that record (= header.prev_hash)
    key_id: str  # first 16 hex digits of SHA-256 of public_key
    public_key: bytes  # raw 32-byte Ed25519 public key of the node
    signature: bytes  # Ed25519 signature of xinfang.chain.signing.checkpoint_message


@dataclass(frozen=True, kw_only=True)
class CheckpointCountersigned(Event):
    """The parent node's countersignature of a child's checkpoint, in the parent's own log."""

    TYPE: ClassVar[str] = "CheckpointCountersigned"
    division: str  # the child whose checkpoint is countersigned
    checkpoint_event_id: str
    checkpoint_seq: int  # position of the ChainCheckpointed record in the child's log
    checkpoint_hash: str  # SHA-256 hex of that record's bytes
    head_seq: int  # copied from the child's checkpoint
    head_hash: str
    key_id: str  # the countersigning (parent) node's key
    public_key: bytes
    signature: bytes  # Ed25519 signature of xinfang.chain.signing.countersign_message


ChainEvent: TypeAlias = ChainCheckpointed | CheckpointCountersigned

# Every case event type. Dispatch over case events narrows an `Event` with `is_case_event` and
# ends in `assert_never`, so mypy names the branch a new event type lacks.
CaseEvent: TypeAlias = (
    PetitionRegistered
    | CaseTransferred
    | CaseAssigned
    | CaseDiverted
    | UrgentReported
    | TransferObjected
    | TransferReturned
    | CaseAccepted
    | CaseNotAccepted
    | NoticeServed
    | HandlingExtended
    | HandlingOpinionIssued
    | CompletionReported
    | ReviewRequested
    | ReviewDecided
    | ReReviewRequested
    | ReReviewDecided
    | CaseClosed
    | DeadlineMissed
    | SupervisionIssued
    | SupervisionAnswered
    | SatisfactionEvaluated
    | PersonalDataErased
)
AnyEvent: TypeAlias = CaseEvent | ChainEvent

CHAIN_EVENT_TYPES: tuple[type[ChainEvent], ...] = get_args(ChainEvent)
CASE_EVENT_TYPES: tuple[type[CaseEvent], ...] = get_args(CaseEvent)


def is_chain_event(event: Event) -> TypeGuard[ChainEvent]:
    """True for the audit chain's own events, which are not part of any case."""
    return isinstance(event, CHAIN_EVENT_TYPES)


def is_case_event(event: Event) -> TypeGuard[CaseEvent]:
    """True for the events of a case (every type with a schema but the chain's own)."""
    return isinstance(event, CASE_EVENT_TYPES)


EVENT_TYPES: dict[str, type[AnyEvent]] = {
    cls.TYPE: cls for cls in (*CASE_EVENT_TYPES, *CHAIN_EVENT_TYPES)
}

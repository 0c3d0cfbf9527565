"""Commands: what a person asks a node to decide, as frozen dataclasses.

One class per case command; the deciders (deciders/, by phase) check a command against the
rules and the case and return events. The command registry (xinfang/commands.py) pairs
each with its input parser and decider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .deadlines import Obligation
from .events import CaseFile
from .vocabulary import (
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
class NoticeService:
    """Service of a written document (送达) recorded together with a decision."""

    method: ServiceMethod = ServiceMethod.ELECTRONIC
    receipt: Receipt = Receipt.SIGNED
    served_at: datetime | None = None  # defaults to the decision time
    backdate_reason: str | None = None  # required when served_at is well in the past


@dataclass(frozen=True)
class RegisterPetition:
    actor: str  # the registering petition office
    case_id: str
    query_code: str
    file: CaseFile
    backdate_reason: str | None = None  # required when file.received_at is well in the past


@dataclass(frozen=True)
class TransferCase:
    actor: str
    to_body: str
    note: str = ""


@dataclass(frozen=True)
class AssignCase:
    actor: str
    to_body: str
    report_within_days: int
    note: str = ""


@dataclass(frozen=True)
class DivertCase:
    actor: str
    route: DiversionRoute
    guidance: str
    to_body: str | None = None


@dataclass(frozen=True)
class ObjectTransfer:
    actor: str
    reasons: str


@dataclass(frozen=True)
class ReturnTransfer:
    actor: str  # the sender's petition office agreeing to the objection
    note: str = ""


@dataclass(frozen=True)
class AcceptCase:
    actor: str
    notice: NoticeService | None = NoticeService()
    simplified: bool = False  # 简易办理 (R18): opinion within 10 working days


@dataclass(frozen=True)
class RejectCase:
    actor: str
    reasons: str
    notice: NoticeService | None = NoticeService()


@dataclass(frozen=True)
class ExtendHandling:
    actor: str
    days: int
    approved_by: str
    reasons: str
    notice: NoticeService | None = NoticeService()


@dataclass(frozen=True)
class IssueOpinion:
    actor: str
    outcome: Outcome
    opinion: str
    legal_basis: str = ""
    notice: NoticeService | None = NoticeService()


@dataclass(frozen=True)
class ServeNotice:
    actor: str
    kind: NoticeKind
    service: NoticeService = NoticeService()


@dataclass(frozen=True)
class ReportCompletion:
    actor: str
    summary: str


@dataclass(frozen=True)
class RequestReview:
    actor: str  # the body that receives the request (must be the level above)
    reasons: str
    requested_at: datetime | None = None  # when the request was received; defaults to now
    backdate_reason: str | None = None  # required when requested_at is well in the past


@dataclass(frozen=True)
class DecideReview:
    actor: str
    result: ReviewResult
    opinion: str
    rehandle_within_days: int = 30
    notice: NoticeService | None = NoticeService()


@dataclass(frozen=True)
class CloseCase:
    actor: str
    reason: CloseReason
    note: str = ""


@dataclass(frozen=True)
class Supervise:
    actor: str  # the supervising petition office
    to_body: str
    obligation: Obligation
    reasons: str
    level: SupervisionLevel | None = None  # next ladder level when None


@dataclass(frozen=True)
class AnswerSupervision:
    actor: str
    supervision_id: str
    answer: str
    adopted: bool


@dataclass(frozen=True)
class Evaluate:
    actor: str  # the petition office or handling body recording the evaluation
    handling_rating: Rating
    office_rating: Rating
    comment: str = ""

"""The case (信访事项) as a node sees it: a pure fold over the case's events.

Every node that learns of a case — the registering office, the handling body's
node, the levels above it — folds the same events with `evolve`, so the same
history gives the same state everywhere. Deadlines live in the state; they only
move later, and only through the events that may move them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never

from .deadlines import Obligation
from .errors import DependencyMissing
from .events import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseDiverted,
    CaseEvent,
    CaseFile,
    CaseNotAccepted,
    CaseTransferred,
    CompletionReported,
    DeadlineMissed,
    Event,
    HandlingExtended,
    HandlingOpinionIssued,
    NoticeServed,
    PersonalDataErased,
    PetitionRegistered,
    ReReviewDecided,
    ReReviewRequested,
    ReviewDecided,
    ReviewRequested,
    SatisfactionEvaluated,
    SupervisionAnswered,
    SupervisionIssued,
    TransferObjected,
    TransferReturned,
    UrgentReported,
    is_case_event,
)
from .vocabulary import (
    CaseStatus,
    CloseReason,
    DiversionRoute,
    NoticeKind,
    Outcome,
    Rating,
    ReviewResult,
    SupervisionLevel,
)


@dataclass(frozen=True)
class Supervision:
    supervision_id: str
    by: str  # supervising petition office
    to_body: str
    level: SupervisionLevel
    obligation: Obligation
    answer_due: datetime
    answered: bool = False
    issued_at: datetime | None = None  # start of R16 (for re-derivation, restate.py)


@dataclass(frozen=True)
class Document:
    """A written document a body issued in the case: only that body records its service
    (送达), and not before `issued_at` (DOMAIN.md §11)."""

    kind: NoticeKind
    body: str
    issued_at: datetime


@dataclass(frozen=True)
class Evaluation:
    handling_body: str
    handling_rating: Rating
    office: str
    office_rating: Rating


@dataclass(frozen=True)
class Case:
    case_id: str
    query_code: str
    file: CaseFile
    status: CaseStatus
    origin: str  # division that registered it
    holder: str  # body responsible for the next step
    registered_at: datetime
    routed_from: str | None = None  # division that transferred/assigned it to the holder
    routed_by: str | None = None  # petition office that routed it (and supervises)
    assigned: bool = False  # 交办 rather than 转送
    route_due: datetime | None = None  # R1, while REGISTERED
    acceptance_due: datetime | None = None  # R3
    transfer_received_at: datetime | None = None
    objection_due: datetime | None = None  # R4
    report_due: datetime | None = None  # R6
    completion_reported: bool = False
    accepted_at: datetime | None = None
    handling_due: datetime | None = None  # R5
    extension_days: int = 0
    handling_body: str | None = None  # body that issued the handling opinion
    outcome: Outcome | None = None
    revoked_outcomes: tuple[Outcome, ...] = ()  # opinions revoked on review (not to be repeated)
    opinion_served_at: datetime | None = None  # starts R7
    reviewer: str | None = None
    review_due: datetime | None = None  # R8
    review_requested_at: datetime | None = None  # when the 复查 request was recorded
    review_result: ReviewResult | None = None
    review_served_at: datetime | None = None  # starts R9
    re_reviewer: str | None = None
    re_review_due: datetime | None = None  # R10
    re_review_requested_at: datetime | None = None  # when the 复核 request was recorded
    re_review_result: ReviewResult | None = None
    final: bool = False  # 复核 decided: same facts and reasons not accepted again (R11)
    closed_reason: CloseReason | None = None
    diverted_to: DiversionRoute | None = None
    urgent_reported: bool = False
    objection: str | None = None
    notices: tuple[NoticeKind, ...] = ()
    missed: tuple[str, ...] = ()  # obligation keys already reported as missed
    supervisions: tuple[Supervision, ...] = ()
    evaluations: tuple[Evaluation, ...] = ()
    participants: tuple[str, ...] = ()  # divisions that took part (sources and addressees)
    documents: tuple[Document, ...] = ()  # written documents issued, oldest first
    history: tuple[str, ...] = ()  # ids of the events folded in, in order

    @property
    def version(self) -> int:
        return len(self.history)

    @property
    def last_event_id(self) -> str:
        return self.history[-1] if self.history else ""

    @property
    def holder_division(self) -> str:
        return self.holder.split(".", 1)[0]

    @property
    def closed(self) -> bool:
        return self.status is CaseStatus.CLOSED

    @property
    def in_progress(self) -> bool:
        """Accepted or being routed and not yet concluded (R12)."""
        return self.status in {
            CaseStatus.REGISTERED,
            CaseStatus.TRANSFERRED,
            CaseStatus.ASSIGNED,
            CaseStatus.OBJECTED,
            CaseStatus.ACCEPTED,
            CaseStatus.REVIEW_REQUESTED,
            CaseStatus.RE_REVIEW_REQUESTED,
            CaseStatus.DIVERTED,
        }

    def knows(self, event_id: str) -> bool:
        return event_id in self.history

    def document(self, kind: NoticeKind) -> Document | None:
        """The latest document of `kind` issued in the case, if any."""
        for doc in reversed(self.documents):
            if doc.kind is kind:
                return doc
        return None

    def open_supervision(self, supervision_id: str) -> Supervision | None:
        for s in self.supervisions:
            if s.supervision_id == supervision_id and not s.answered:
                return s
        return None


def evolve(case: Case | None, event: Event) -> Case:
    """Apply one case event. Raises DependencyMissing if the case is not known yet, TypeError
    for an event that is not a case event (the audit chain's own)."""
    if not is_case_event(event):
        raise TypeError(f"not a case event: {event.type}")
    after = _transition(case, event)
    participants = list(after.participants)
    for division in (event.header.source, _addressee_division(event)):
        if division and division not in participants:
            participants.append(division)
    issued = _issued(event)
    return replace(
        after,
        participants=tuple(participants),
        history=(*after.history, event.header.event_id),
        documents=(*after.documents, issued) if issued else after.documents,
    )


def _issued(event: Event) -> Document | None:
    """The written document a decision issues (the notice a NoticeServed event serves)."""
    at = event.header.occurred_at
    if isinstance(event, CaseAccepted):
        return Document(NoticeKind.ACCEPTANCE, event.body, at)
    if isinstance(event, CaseNotAccepted):
        return Document(NoticeKind.NON_ACCEPTANCE, event.body, at)
    if isinstance(event, HandlingExtended):
        return Document(NoticeKind.EXTENSION, event.body, at)
    if isinstance(event, HandlingOpinionIssued):
        return Document(NoticeKind.HANDLING_OPINION, event.body, at)
    if isinstance(event, ReviewDecided):
        return Document(NoticeKind.REVIEW_OPINION, event.reviewer, at)
    if isinstance(event, ReReviewDecided):
        return Document(NoticeKind.RE_REVIEW_OPINION, event.reviewer, at)
    if isinstance(event, CaseDiverted):
        return Document(NoticeKind.DIVERSION, event.header.actor, at)
    return None


def require_predecessor(case: Case | None, event: Event) -> None:
    """Raise DependencyMissing unless the event's predecessor has been applied."""
    after = event.header.causation_id
    if after and (case is None or not case.knows(after)):
        raise DependencyMissing(
            f"{event.type} 接续的事件 {after} 尚未到达", case=event.case_id, after=after
        )


def _addressee_division(event: Event) -> str | None:
    if isinstance(event, CaseTransferred | CaseAssigned):
        return event.to_division
    if isinstance(event, CaseDiverted):
        return event.to_division
    if isinstance(event, SupervisionIssued | CompletionReported):
        return event.to_body.split(".", 1)[0]
    return None


def learned_by_routing(event: CaseTransferred | CaseAssigned) -> Case:
    """A receiving node learns of a case by its transfer or assignment: the case as the routing
    office held it just before (registered, held by the event's actor)."""
    return Case(
        case_id=event.case_id,
        query_code=event.query_code,
        file=event.file,
        status=CaseStatus.REGISTERED,
        origin=event.case_id.split("-", 1)[0],
        holder=event.header.actor,
        registered_at=event.file.received_at,
    )


def _transition(case: Case | None, event: CaseEvent) -> Case:
    h = event.header
    if isinstance(event, PetitionRegistered):
        return Case(
            case_id=event.case_id,
            query_code=event.query_code,
            file=event.file,
            status=CaseStatus.REGISTERED,
            origin=h.source,
            holder=h.actor,
            registered_at=event.file.received_at,
            route_due=event.route_due,
        )
    if isinstance(event, CaseTransferred | CaseAssigned):
        base = case or learned_by_routing(event)
        assigned = isinstance(event, CaseAssigned)
        return replace(
            base,
            status=CaseStatus.ASSIGNED if assigned else CaseStatus.TRANSFERRED,
            holder=event.to_body,
            routed_from=h.source,
            routed_by=h.actor,
            assigned=assigned,
            report_due=event.report_due if isinstance(event, CaseAssigned) else None,
            transfer_received_at=h.occurred_at,
            acceptance_due=event.acceptance_due,
            objection_due=event.objection_due,
            objection=None,
            route_due=None,
        )
    if case is None:
        raise DependencyMissing(
            f"{event.type} 所属事项 {event.case_id} 尚未到达", case=event.case_id
        )
    if isinstance(event, CaseDiverted):
        return replace(
            case,
            status=CaseStatus.CLOSED if event.to_body is None else CaseStatus.DIVERTED,
            holder=event.to_body or case.holder,
            diverted_to=event.route,
            closed_reason=CloseReason.DIVERTED if event.to_body is None else None,
            routed_from=h.source if event.to_body else case.routed_from,
            routed_by=h.actor if event.to_body else case.routed_by,
        )
    if isinstance(event, UrgentReported):
        return replace(case, urgent_reported=True)
    if isinstance(event, TransferObjected):
        return replace(case, status=CaseStatus.OBJECTED, objection=event.reasons)
    if isinstance(event, TransferReturned):
        return replace(
            case,
            status=CaseStatus.REGISTERED,
            holder=event.body,
            objection=None,
            assigned=False,
            report_due=None,
            transfer_received_at=None,
        )
    if isinstance(event, CaseAccepted):
        return replace(
            case,
            status=CaseStatus.ACCEPTED,
            accepted_at=h.occurred_at,
            handling_due=event.handling_due,
        )
    if isinstance(event, CaseNotAccepted):
        return replace(case, status=CaseStatus.CLOSED, closed_reason=CloseReason.NOT_ACCEPTED)
    if isinstance(event, NoticeServed):
        served = replace(case, notices=(*case.notices, event.kind))
        if event.kind is NoticeKind.HANDLING_OPINION:
            return replace(served, opinion_served_at=event.served_at)
        if event.kind is NoticeKind.REVIEW_OPINION:
            return replace(served, review_served_at=event.served_at)
        return served
    if isinstance(event, HandlingExtended):
        return replace(
            case,
            handling_due=event.handling_due,
            extension_days=case.extension_days + event.days,
        )
    if isinstance(event, HandlingOpinionIssued):
        return replace(
            case,
            status=CaseStatus.OPINION_ISSUED,
            outcome=event.outcome,
            handling_body=event.body,
            opinion_served_at=None,
        )
    if isinstance(event, CompletionReported):
        return replace(case, completion_reported=True)
    if isinstance(event, ReviewRequested):
        return replace(
            case,
            status=CaseStatus.REVIEW_REQUESTED,
            holder=event.reviewer,
            reviewer=event.reviewer,
            review_due=event.decision_due,
            review_requested_at=h.occurred_at,
        )
    if isinstance(event, ReviewDecided):
        if event.result is ReviewResult.REVOKE:
            revoked = (
                (*case.revoked_outcomes, case.outcome) if case.outcome else case.revoked_outcomes
            )
            return replace(
                case,
                status=CaseStatus.ACCEPTED,
                holder=case.handling_body or case.holder,
                review_result=event.result,
                revoked_outcomes=revoked,
                outcome=None,
                handling_due=event.rehandle_due or case.handling_due,
                opinion_served_at=None,
                review_served_at=None,
            )
        return replace(
            case,
            status=CaseStatus.REVIEW_DECIDED,
            review_result=event.result,
            review_served_at=None,
        )
    if isinstance(event, ReReviewRequested):
        return replace(
            case,
            status=CaseStatus.RE_REVIEW_REQUESTED,
            holder=event.reviewer,
            re_reviewer=event.reviewer,
            re_review_due=event.decision_due,
            re_review_requested_at=h.occurred_at,
        )
    if isinstance(event, ReReviewDecided):
        return replace(case, re_review_result=event.result, final=True)
    if isinstance(event, CaseClosed):
        return replace(case, status=CaseStatus.CLOSED, closed_reason=event.reason)
    if isinstance(event, DeadlineMissed):
        return replace(
            case, missed=(*case.missed, obligation_key(event.obligation, event.body, event.due))
        )
    if isinstance(event, SupervisionIssued):
        supervision = Supervision(
            event.supervision_id,
            h.actor,
            event.to_body,
            event.level,
            event.obligation,
            event.answer_due,
            issued_at=h.occurred_at,
        )
        return replace(case, supervisions=(*case.supervisions, supervision))
    if isinstance(event, SupervisionAnswered):
        return replace(
            case,
            supervisions=tuple(
                replace(s, answered=True) if s.supervision_id == event.supervision_id else s
                for s in case.supervisions
            ),
        )
    if isinstance(event, SatisfactionEvaluated):
        evaluation = Evaluation(
            event.handling_body, event.handling_rating, event.office, event.office_rating
        )
        return replace(case, evaluations=(*case.evaluations, evaluation))
    if isinstance(event, PersonalDataErased):
        return case  # the fields read ERASED from now on; the case itself does not change
    assert_never(event)  # mypy names a case event type without a branch


def obligation_key(obligation: Obligation, body: str, due: datetime) -> str:
    return f"{obligation.value}|{body}|{due.isoformat()}"


def fold(events: list[Event]) -> Case | None:
    case: Case | None = None
    for event in events:
        case = evolve(case, event)
    return case

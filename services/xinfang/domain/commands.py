"""Commands: validate against the rules and the case state, return new events.

Each `decide_*` function is pure: it takes the node's context and the current
case (folded from events) and either returns the events to record or raises a
DomainError naming the rule it enforces. It never does I/O; the application
service commits the events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .acts import DEFAULT_BACKDATE_TOLERANCE, DEFAULT_FUTURE_TOLERANCE, act_time
from .calendar import HolidayCalendar
from .case import Case, obligation_key
from .deadlines import Obligation, due, extended, not_earlier
from .errors import (
    IllegalTransition,
    InvalidInput,
    NotHolder,
    NotPetitionOffice,
    NotThisNode,
    RoutingNotAllowed,
)
from .events import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseDiverted,
    CaseFile,
    CaseNotAccepted,
    CaseTransferred,
    CompletionReported,
    DeadlineMissed,
    Event,
    EventHeader,
    HandlingExtended,
    HandlingOpinionIssued,
    NoticeServed,
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
)
from .hierarchy import ReviewHierarchy
from .lifecycle_errors import (
    AccusedUnitExcluded,
    AccusedUnitUnknown,
    AlreadyDone,
    DuplicateInProgress,
    FinalAfterReReview,
    NotIssuer,
    NotSimpleCase,
    ObjectionTooLate,
    SameOpinionAfterRevocation,
    TooManyRepresentatives,
    VisitSkipsLevels,
    WindowClosed,
    WrongReviewer,
)
from .matter import matter_key as matter_key  # re-exported for the service and auditor
from .matter import same_matter
from .notices import notice_owed
from .rules import LimitName, RuleSet
from .topology import Body, BodyKind, Level, Topology
from .vocabulary import (
    CaseStatus,
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

LEVEL_RANK = {Level.PROVINCE: 0, Level.CITY: 1, Level.COUNTY: 2}
NATIONAL_BUREAU = "国家信访局"


@dataclass(frozen=True)
class Context:
    """What a node knows when it decides: who it is, the map, the rules and the time."""

    division: str
    topology: Topology
    now: datetime
    new_id: Callable[[], str]
    rules: RuleSet = field(default_factory=RuleSet.national)
    calendar: HolidayCalendar | None = None
    hierarchy: ReviewHierarchy | None = None
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE  # client clocks run a little ahead
    backdate_tolerance: timedelta = DEFAULT_BACKDATE_TOLERANCE  # earlier than this: say why

    def header(self, case_id: str, actor: str) -> EventHeader:
        return EventHeader(
            event_id=self.new_id(),
            case_id=case_id,
            source=self.division,
            actor=actor,
            occurred_at=self.now,
        )

    def due(self, limit_name: LimitName, start: datetime | None = None) -> datetime:
        limit = getattr(self.rules, limit_name)
        if self.calendar is None:
            raise InvalidInput("节点未配置工作日历 / the node has no calendar configured")
        return due(limit, start or self.now, self.calendar)

    def reviewers(self) -> ReviewHierarchy:
        return self.hierarchy or ReviewHierarchy(self.topology)

    def act_time(
        self,
        moment: datetime,
        what: str,
        *,
        after: datetime | None = None,
        after_what: str = "",
        reason: str | None = None,
    ) -> tuple[datetime, str | None]:
        """DOMAIN.md §11: a client-given time of an act is not in the future, not before the
        act it follows, and back-dated only with a reason. Returns (time, reason) to record."""
        return act_time(
            self.now, moment, what=what, after=after, after_what=after_what, reason=reason,
            future_tolerance=self.future_tolerance, backdate_tolerance=self.backdate_tolerance,
        )  # fmt: skip


# -- commands ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
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
    notice: Service | None = Service()
    simplified: bool = False  # 简易办理 (R18): opinion within 10 working days


@dataclass(frozen=True)
class RejectCase:
    actor: str
    reasons: str
    notice: Service | None = Service()


@dataclass(frozen=True)
class ExtendHandling:
    actor: str
    days: int
    approved_by: str
    reasons: str
    notice: Service | None = Service()


@dataclass(frozen=True)
class IssueOpinion:
    actor: str
    outcome: Outcome
    opinion: str
    legal_basis: str = ""
    notice: Service | None = Service()


@dataclass(frozen=True)
class ServeNotice:
    actor: str
    kind: NoticeKind
    service: Service = Service()


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
    notice: Service | None = Service()


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


# -- guards ------------------------------------------------------------------------------------
def _own_body(ctx: Context, actor: str) -> Body:
    body = ctx.topology.body(actor)
    if body.division != ctx.division:
        raise NotThisNode(f"{body.name} 不属于 {ctx.division}", body=actor)
    return body


def _office(ctx: Context, actor: str) -> Body:
    body = _own_body(ctx, actor)
    if body.kind is not BodyKind.PETITION_OFFICE:
        raise NotPetitionOffice(body=actor)
    return body


def _holder(ctx: Context, case: Case, actor: str) -> Body:
    body = _own_body(ctx, actor)
    if case.holder != actor:
        raise NotHolder(f"当前承办单位为 {case.holder}", case=case.case_id, body=actor)
    return body


def _require(case: Case, *allowed: CaseStatus) -> None:
    if case.status not in allowed:
        raise IllegalTransition(
            f"事项状态为 {case.status.value}", case=case.case_id, status=case.status.value
        )


def _text(value: str, what: str) -> str:
    if not value.strip():
        raise InvalidInput(f"{what}不能为空 / {what} is required")
    return value


def accused_division(file: CaseFile) -> str | None:
    """R17: the division of the accused unit, for accusations against a body we know."""
    if file.category is Category.ACCUSATION and file.accused_body:
        return file.accused_body.split(".", 1)[0]
    return None


def is_accused(file: CaseFile, body: Body) -> bool:
    """R17: `body` is the accused unit of an accusation or a body of its division."""
    accused = accused_division(file)
    return accused is not None and (body.id == file.accused_body or body.division == accused)


def _unnamed_accusation(file: CaseFile) -> bool:
    return file.category is Category.ACCUSATION and not file.accused_body


def _not_to_accused(ctx: Context, case: Case, target: Body) -> None:
    """R17 for routing: never to the accused unit or its division; an accusation whose
    accused unit is not named goes only to a discipline organ of this level or above
    (it may be about any body below, DOMAIN.md §11)."""
    if is_accused(case.file, target):
        raise AccusedUnitExcluded(
            f"{target.name} 为被检举控告单位或其所在地", to_body=target.id, case=case.case_id
        )
    if _unnamed_accusation(case.file) and not (
        target.kind is BodyKind.DISCIPLINE and ctx.topology.is_within(ctx.division, target.division)
    ):
        raise AccusedUnitUnknown(f"{target.name} 不是本级或上级纪检监察机关", to_body=target.id)


def may_supervise_over(file: CaseFile, body: Body) -> bool:
    """R17 for 督办 (DOMAIN.md §11): a supervision over an accusation is never addressed to
    the accused unit or its division; when the accused unit is not named, only to a
    discipline organ or a petition office (the only bodies such an accusation reaches)."""
    if is_accused(file, body):
        return False
    return not _unnamed_accusation(file) or body.kind in (
        BodyKind.DISCIPLINE,
        BodyKind.PETITION_OFFICE,
    )


def _served(
    ctx: Context,
    case: Case,
    actor: str,
    kind: NoticeKind,
    s: Service,
    issued_at: datetime | None = None,
) -> NoticeServed:
    """送达 of a document issued at `issued_at` (default: in this same decision, now)."""
    served_at, reason = ctx.act_time(
        s.served_at or ctx.now, "送达时间 served_at", after=issued_at or ctx.now,
        after_what="文书出具时间 / the document's issue", reason=s.backdate_reason,
    )  # fmt: skip
    return NoticeServed(
        header=ctx.header(case.case_id, actor),
        kind=kind,
        served_at=served_at,
        method=s.method,
        receipt=s.receipt,
        backdate_reason=reason,
    )


# -- intake and routing (R1, R11–R15, R17) --------------------------------------------------------
def decide_register(
    ctx: Context, existing: Case | None, cmd: RegisterPetition, related: Sequence[Case] = ()
) -> list[Event]:
    """登记. `related` are the cases this node knows with the same matter key."""
    office = _office(ctx, cmd.actor)
    if existing is not None:
        raise IllegalTransition("事项编号已被使用", case=cmd.case_id)
    f = cmd.file
    _text(f.title, "标题 / title")
    _text(f.request, "诉求 / request")
    _, backdate_reason = ctx.act_time(
        f.received_at, "收到时间 received_at", reason=cmd.backdate_reason
    )
    if not f.petitioner.anonymous and not (f.petitioner.name or "").strip():
        raise InvalidInput("非匿名信访须填写信访人姓名 / a named petition needs the name")
    if not ctx.topology.has_division(f.place):
        raise InvalidInput(f"问题属地 {f.place} 不在拓扑中", place=f.place)
    if f.collective_size < 1 or f.representatives < 0:
        raise InvalidInput("人数至少为 1，代表人数不能为负", collective_size=f.collective_size)
    if f.accused_body is not None:
        ctx.topology.body(f.accused_body)
    for earlier in related:
        if not same_matter(earlier.file, f):  # same key, but two people's known contacts
            continue
        if earlier.final:  # R11
            raise FinalAfterReReview(f"原事项 {earlier.case_id} 已复核终结", case=earlier.case_id)
        if earlier.in_progress:  # R12
            raise DuplicateInProgress(
                f"原事项 {earlier.case_id} 由 {earlier.holder} 办理中", case=earlier.case_id
            )
    if f.channel is Channel.VISIT:
        place = ctx.topology.division(f.place)
        own = ctx.topology.division(office.division)
        if not ctx.topology.is_within(place.code, own.code):
            raise RoutingNotAllowed(f"问题属地 {place.name} 不在本行政区域内", place=f.place)
        if LEVEL_RANK[place.level] - LEVEL_RANK[own.level] > 1:  # R13
            raise VisitSkipsLevels(f"{place.name}的问题应向{place.name}或其上一级提出")
        allowed = ctx.rules.max_representatives(f.collective_size)
        if f.collective_size > 1 and f.representatives > allowed:  # R14
            raise TooManyRepresentatives(
                f"{f.collective_size} 人最多推选 {allowed} 名代表，实际 {f.representatives} 名",
                allowed=allowed,
            )
    events: list[Event] = [
        PetitionRegistered(
            header=ctx.header(cmd.case_id, cmd.actor),
            query_code=cmd.query_code,
            file=f,
            route_due=ctx.due("route", f.received_at),
            backdate_reason=backdate_reason,
        )
    ]
    if f.urgent:  # R15: report at once to the same-level committee, the level above, the bureau
        parent = ctx.topology.parent(office.division)
        reported = [
            f"中共{ctx.topology.division(office.division).name}委员会",
            f"{ctx.topology.division(office.division).name}人民政府",
        ]
        if parent is not None:
            reported.append(ctx.topology.division(parent).petition_office().name)
        reported.append(NATIONAL_BUREAU)
        events.append(
            UrgentReported(
                header=ctx.header(cmd.case_id, cmd.actor), reported_to=reported, summary=f.title
            )
        )
    return events


def _route_target(ctx: Context, case: Case, actor: str, to_body: str) -> Body:
    _holder(ctx, case, actor)
    _office(ctx, actor)
    _require(case, CaseStatus.REGISTERED)
    target = ctx.topology.body(to_body)
    if not ctx.topology.is_within(target.division, ctx.division):
        raise RoutingNotAllowed(f"{target.name} 不在本级或下级", to_body=to_body)
    if to_body == actor:
        raise RoutingNotAllowed("不能转送给自己", to_body=to_body)
    _not_to_accused(ctx, case, target)
    return target


def decide_transfer(ctx: Context, case: Case, cmd: TransferCase) -> list[Event]:
    """转送 (R1)."""
    target = _route_target(ctx, case, cmd.actor, cmd.to_body)
    return [
        CaseTransferred(
            header=ctx.header(case.case_id, cmd.actor),
            to_body=target.id,
            to_division=target.division,
            query_code=case.query_code,
            file=case.file,
            acceptance_due=ctx.due("acceptance_notice"),
            objection_due=ctx.due("objection"),
            note=cmd.note,
        )
    ]


def decide_assign(ctx: Context, case: Case, cmd: AssignCase) -> list[Event]:
    """交办 with the deadline the assigning office sets (R1, R6)."""
    target = _route_target(ctx, case, cmd.actor, cmd.to_body)
    if not 1 <= cmd.report_within_days <= 365:
        raise InvalidInput("办结报告期限须为 1–365 日", days=cmd.report_within_days)
    assert True
    report_due = (
        ctx.calendar.add_calendar_days(ctx.now, cmd.report_within_days) if ctx.calendar else ctx.now
    )
    return [
        CaseAssigned(
            header=ctx.header(case.case_id, cmd.actor),
            to_body=target.id,
            to_division=target.division,
            query_code=case.query_code,
            file=case.file,
            acceptance_due=ctx.due("acceptance_notice"),
            objection_due=ctx.due("objection"),
            report_due=report_due,
            note=cmd.note,
        )
    ]


DIVERSION_BODY_KINDS = {
    DiversionRoute.POLITICAL_LEGAL: BodyKind.POLITICAL_LEGAL,
    DiversionRoute.DISCIPLINE: BodyKind.DISCIPLINE,
}


def decide_divert(ctx: Context, case: Case, cmd: DivertCase) -> list[Event]:
    """诉访分离: to the 政法/纪检监察 organ (which takes it over) or out to another procedure."""
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.REGISTERED, CaseStatus.TRANSFERRED, CaseStatus.ASSIGNED)
    _text(cmd.guidance, "告知内容 / guidance")
    to_body: Body | None = None
    kind = DIVERSION_BODY_KINDS.get(cmd.route)
    if kind is not None:
        if cmd.to_body is None:
            raise InvalidInput("转政法、纪检监察机关须指定接办机关 / to_body is required")
        to_body = ctx.topology.body(cmd.to_body)
        if to_body.kind is not kind:
            raise RoutingNotAllowed(
                f"{to_body.name} 不是{cmd.route.value}机关", to_body=cmd.to_body
            )
        # the organ of the same level, or of a level above when the matter concerns this level
        if not (
            ctx.topology.is_within(ctx.division, to_body.division)
            or ctx.topology.is_within(to_body.division, ctx.division)
        ):
            raise RoutingNotAllowed(f"{to_body.name} 不在本级、上级或下级", to_body=cmd.to_body)
        _not_to_accused(ctx, case, to_body)
    elif cmd.to_body is not None:
        raise InvalidInput("导入其他法定程序时不指定系统内机关 / no to_body for other procedures")
    events: list[Event] = [
        CaseDiverted(
            header=ctx.header(case.case_id, cmd.actor),
            route=cmd.route,
            to_body=to_body.id if to_body else None,
            to_division=to_body.division if to_body else None,
            guidance=cmd.guidance,
        )
    ]
    if notice_owed(case.file):
        events.append(_served(ctx, case, cmd.actor, NoticeKind.DIVERSION, Service()))
    return events


# -- the receiving body (R3, R4)
def decide_object(ctx: Context, case: Case, cmd: ObjectTransfer) -> list[Event]:
    """异议: outside the receiver's remit, within 5 working days of receipt (R4)."""
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.TRANSFERRED, CaseStatus.ASSIGNED)
    _text(cmd.reasons, "异议理由 / reasons")
    if case.objection_due is not None and ctx.now > case.objection_due:
        raise ObjectionTooLate(f"异议期限至 {case.objection_due:%Y-%m-%d}", case=case.case_id)
    return [
        TransferObjected(
            header=ctx.header(case.case_id, cmd.actor), body=cmd.actor, reasons=cmd.reasons
        )
    ]


def decide_return(ctx: Context, case: Case, cmd: ReturnTransfer) -> list[Event]:
    """The sender checked the objection and agrees: the item comes back to it (Art. 23)."""
    _office(ctx, cmd.actor)
    _require(case, CaseStatus.OBJECTED)
    if case.routed_by != cmd.actor:
        raise NotHolder(f"应由转送机关 {case.routed_by} 审核异议", case=case.case_id)
    return [
        TransferReturned(header=ctx.header(case.case_id, cmd.actor), body=cmd.actor, note=cmd.note)
    ]


def decide_accept(ctx: Context, case: Case, cmd: AcceptCase) -> list[Event]:
    """受理 and the written notice (R3); the handling clock starts (R5)."""
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.TRANSFERRED, CaseStatus.ASSIGNED)
    handling_due = ctx.due("handling")
    if cmd.simplified:  # R18: first-time simple items, accepted within 3 working days
        received = case.transfer_received_at or case.registered_at
        if case.file.repeat_of or case.file.collective_size > 1:
            raise NotSimpleCase("重复件、集体访不适用简易办理", case=case.case_id)
        if ctx.now > ctx.due("simplified_accept", received):
            raise NotSimpleCase("已超过 3 个工作日", case=case.case_id)
        handling_due = ctx.due("simplified_opinion")
    events: list[Event] = [
        CaseAccepted(
            header=ctx.header(case.case_id, cmd.actor),
            body=cmd.actor,
            handling_due=handling_due,
        )
    ]
    if cmd.notice is not None and notice_owed(case.file):
        events.append(_served(ctx, case, cmd.actor, NoticeKind.ACCEPTANCE, cmd.notice))
    return events


def decide_reject(ctx: Context, case: Case, cmd: RejectCase) -> list[Event]:
    """不予受理 with reasons and notice (R3)."""
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.TRANSFERRED, CaseStatus.ASSIGNED)
    _text(cmd.reasons, "不予受理理由 / reasons")
    events: list[Event] = [
        CaseNotAccepted(
            header=ctx.header(case.case_id, cmd.actor), body=cmd.actor, reasons=cmd.reasons
        )
    ]
    if cmd.notice is not None and notice_owed(case.file):
        events.append(_served(ctx, case, cmd.actor, NoticeKind.NON_ACCEPTANCE, cmd.notice))
    return events


# -- handling (R5, R6)
def decide_extend(ctx: Context, case: Case, cmd: ExtendHandling) -> list[Event]:
    """延期: at most 30 days in all, approved by the head, petitioner told (R5)."""
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.ACCEPTED)
    _text(cmd.approved_by, "批准人 / approved_by")
    _text(cmd.reasons, "延期理由 / reasons")
    assert case.handling_due is not None
    new_due = extended(
        case.handling_due, cmd.days, ctx.rules, already=case.extension_days, calendar=ctx.calendar
    )
    events: list[Event] = [
        HandlingExtended(
            header=ctx.header(case.case_id, cmd.actor),
            body=cmd.actor,
            days=cmd.days,
            approved_by=cmd.approved_by,
            reasons=cmd.reasons,
            handling_due=not_earlier(case.handling_due, new_due),
        )
    ]
    if cmd.notice is not None and notice_owed(case.file):
        events.append(_served(ctx, case, cmd.actor, NoticeKind.EXTENSION, cmd.notice))
    return events


def decide_opinion(ctx: Context, case: Case, cmd: IssueOpinion) -> list[Event]:
    """信访处理意见书 (Arts. 32–33)."""
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.ACCEPTED)
    _text(cmd.opinion, "处理意见 / opinion")
    if cmd.outcome in case.revoked_outcomes:
        raise SameOpinionAfterRevocation(
            f"原意见「{cmd.outcome.value}」已被撤销", case=case.case_id
        )
    events: list[Event] = [
        HandlingOpinionIssued(
            header=ctx.header(case.case_id, cmd.actor),
            body=cmd.actor,
            outcome=cmd.outcome,
            opinion=cmd.opinion,
            legal_basis=cmd.legal_basis,
        )
    ]
    if cmd.notice is not None:
        events.append(_served(ctx, case, cmd.actor, NoticeKind.HANDLING_OPINION, cmd.notice))
    return events


def decide_serve(ctx: Context, case: Case, cmd: ServeNotice) -> list[Event]:
    """Record the service of a document issued earlier (e.g. served by post days later).

    Only the body that issued the document records its service, and not before it was
    issued (DOMAIN.md §11); an OTHER document is the holder's. Raises NotIssuer (403),
    IllegalTransition when no such document was issued, or a time refusal (acts.py).
    """
    body = _own_body(ctx, cmd.actor)
    if cmd.kind is NoticeKind.OTHER:
        if case.holder != body.id:
            raise NotIssuer(f"其他文书由当前承办单位 {case.holder} 记录送达", case=case.case_id)
        issued_at = case.registered_at
    else:
        document = case.document(cmd.kind)
        if document is None:
            raise IllegalTransition(f"该事项尚未出具 {cmd.kind.value}", case=case.case_id)
        if document.body != body.id:
            raise NotIssuer(f"该文书由 {document.body} 出具", case=case.case_id, body=body.id)
        issued_at = document.issued_at
    return [_served(ctx, case, cmd.actor, cmd.kind, cmd.service, issued_at)]


def decide_completion(ctx: Context, case: Case, cmd: ReportCompletion) -> list[Event]:
    """办结报告 of an assigned item to the assigning office (R6)."""
    _own_body(ctx, cmd.actor)
    if not case.assigned or case.routed_by is None:
        raise IllegalTransition("只有交办事项需要办结报告", case=case.case_id)
    if case.handling_body != cmd.actor:
        raise NotHolder("办结报告由出具处理意见的机关提交", case=case.case_id)
    if case.completion_reported:
        raise AlreadyDone("已提交办结报告", case=case.case_id)
    _require(case, CaseStatus.OPINION_ISSUED, CaseStatus.REVIEW_DECIDED, CaseStatus.CLOSED)
    _text(cmd.summary, "办理结果 / summary")
    return [
        CompletionReported(
            header=ctx.header(case.case_id, cmd.actor),
            body=cmd.actor,
            to_body=case.routed_by,
            summary=cmd.summary,
        )
    ]


# -- review and re-review (R7–R11)
def _request_level_above(
    ctx: Context,
    case: Case,
    cmd: RequestReview,
    *,
    status: CaseStatus,
    decided_by: str | None,
    served_at: datetime | None,
    document: NoticeKind,
    window: LimitName,
    decision: LimitName,
    what: str,
    rule: str,
) -> tuple[str, datetime, datetime, str | None]:
    """Shared checks of 复查 (R7) and 复核 (R9) requests: the right body one level above,
    received not before the opinion (`document`) was served (or issued, if never served),
    within the window from service, not after finality.
    Returns (reviewer, received, due, back-dating reason)."""
    body = _own_body(ctx, cmd.actor)
    if case.final:
        raise FinalAfterReReview(case=case.case_id)
    _require(case, status)
    assert decided_by is not None
    expected = ctx.reviewers().reviewer(decided_by)
    if body.id != expected.id:
        raise WrongReviewer(f"应向 {expected.name} 请求{what}", expected=expected.id)
    issued = case.document(document)
    requested_at, reason = ctx.act_time(
        cmd.requested_at or ctx.now, "请求时间 requested_at",
        after=served_at or (issued.issued_at if issued else None),
        after_what="意见送达时间 / the opinion's service", reason=cmd.backdate_reason,
    )  # fmt: skip
    if served_at is not None:
        closes = ctx.due(window, served_at)
        if requested_at > closes:
            raise WindowClosed(f"{what}请求期限至 {closes:%Y-%m-%d} ({rule})", case=case.case_id)
    _text(cmd.reasons, "请求理由 / reasons")
    return body.id, requested_at, ctx.due(decision, requested_at), reason


def decide_request_review(ctx: Context, case: Case, cmd: RequestReview) -> list[Event]:
    """复查 request, received by the body one level above the handling body (R7)."""
    reviewer, received, decision_due, backdated = _request_level_above(
        ctx, case, cmd, status=CaseStatus.OPINION_ISSUED, decided_by=case.handling_body,
        served_at=case.opinion_served_at, document=NoticeKind.HANDLING_OPINION,
        window="review_request_window", decision="review_decision", what="复查", rule="R7",
    )  # fmt: skip
    requested = ReviewRequested(
        header=ctx.header(case.case_id, cmd.actor),
        reviewer=reviewer,
        reasons=cmd.reasons,
        decision_due=decision_due,
        backdate_reason=backdated,
    )
    return [requested, *_late_take_up(ctx, case, Obligation.REVIEW_TAKE_UP, reviewer, received)]


def _late_take_up(
    ctx: Context, case: Case, obligation: Obligation, reviewer: str, requested_at: datetime
) -> list[Event]:
    """R19 (山东): a 复查/复核 request is taken up within 3 working days of receipt; recording
    it (the take-up) later is allowed but reported at once as a missed deadline of
    `obligation` (REVIEW_TAKE_UP or RE_REVIEW_TAKE_UP), and so supervised. The take-up is
    discharged by the recording itself, so the deadline watcher never sees it open."""
    limit = obligation.limit(ctx.rules)
    take_up_due = due(limit, requested_at, ctx.calendar) if limit and ctx.calendar else None
    if take_up_due is None or ctx.now <= take_up_due:
        return []
    return decide_missed(ctx, case, obligation, reviewer, take_up_due)


def decide_review(ctx: Context, case: Case, cmd: DecideReview) -> list[Event]:
    """复查意见 within 30 days (R8): uphold, revoke (re-handling) or vary."""
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.REVIEW_REQUESTED)
    _text(cmd.opinion, "复查意见 / opinion")
    rehandle = (
        ctx.calendar.add_calendar_days(ctx.now, cmd.rehandle_within_days)
        if cmd.result is ReviewResult.REVOKE and ctx.calendar
        else None
    )
    events: list[Event] = [
        ReviewDecided(
            header=ctx.header(case.case_id, cmd.actor),
            reviewer=cmd.actor,
            result=cmd.result,
            opinion=cmd.opinion,
            rehandle_due=rehandle,
        )
    ]
    if cmd.notice is not None and cmd.result is not ReviewResult.REVOKE:
        events.append(_served(ctx, case, cmd.actor, NoticeKind.REVIEW_OPINION, cmd.notice))
    return events


def decide_request_re_review(ctx: Context, case: Case, cmd: RequestReview) -> list[Event]:
    """复核 request, received by the body one level above the reviewer (R9)."""
    reviewer, received, decision_due, backdated = _request_level_above(
        ctx, case, cmd, status=CaseStatus.REVIEW_DECIDED, decided_by=case.reviewer,
        served_at=case.review_served_at, document=NoticeKind.REVIEW_OPINION,
        window="re_review_request_window", decision="re_review_decision", what="复核",
        rule="R9",
    )  # fmt: skip
    requested = ReReviewRequested(
        header=ctx.header(case.case_id, cmd.actor),
        reviewer=reviewer,
        reasons=cmd.reasons,
        decision_due=decision_due,
        backdate_reason=backdated,
    )
    late = _late_take_up(ctx, case, Obligation.RE_REVIEW_TAKE_UP, reviewer, received)
    return [requested, *late]


def decide_re_review(ctx: Context, case: Case, cmd: DecideReview) -> list[Event]:
    """复核意见 (R10); once served the case ends and is final (R11)."""
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.RE_REVIEW_REQUESTED)
    _text(cmd.opinion, "复核意见 / opinion")
    header = ctx.header(case.case_id, cmd.actor)
    events: list[Event] = [
        ReReviewDecided(header=header, reviewer=cmd.actor, result=cmd.result, opinion=cmd.opinion)
    ]
    service = cmd.notice or Service()
    events.append(_served(ctx, case, cmd.actor, NoticeKind.RE_REVIEW_OPINION, service))
    events.append(
        CaseClosed(
            header=ctx.header(case.case_id, cmd.actor),
            reason=CloseReason.RE_REVIEW_SERVED,
            note="复核意见送达，信访事项终结",
        )
    )
    return events


def decide_close(ctx: Context, case: Case, cmd: CloseCase) -> list[Event]:
    """终结 for the reasons a person records (mediation fulfilled, petitioner deceased, …)."""
    _holder(ctx, case, cmd.actor)
    if case.closed:
        raise AlreadyDone("事项已终结", case=case.case_id)
    if cmd.reason is CloseReason.MEDIATION_FULFILLED and case.outcome is not Outcome.MEDIATED:
        raise IllegalTransition("未达成调解协议", case=case.case_id)
    if cmd.reason in {CloseReason.RE_REVIEW_SERVED, CloseReason.DIVERTED, CloseReason.NOT_ACCEPTED}:
        raise InvalidInput("该终结原因由相应流程自动产生", reason=cmd.reason.value)
    return [
        CaseClosed(header=ctx.header(case.case_id, cmd.actor), reason=cmd.reason, note=cmd.note)
    ]


# -- supervision (R16) and evaluation
LADDER = (SupervisionLevel.REMINDER, SupervisionLevel.SUPERVISION, SupervisionLevel.LISTED)


def next_level(case: Case, to_body: str) -> SupervisionLevel:
    issued = [s.level for s in case.supervisions if s.to_body == to_body]
    if not issued:
        return LADDER[0]
    index = LADDER.index(issued[-1])
    return LADDER[min(index + 1, len(LADDER) - 1)]


def decide_supervise(ctx: Context, case: Case, cmd: Supervise) -> list[Event]:
    """督办 by a petition office over a body in its territory (Arts. 39–40); for an
    accusation never over the accused unit (R17, `may_supervise_over`)."""
    _office(ctx, cmd.actor)
    target = ctx.topology.body(cmd.to_body)
    if not ctx.topology.is_within(target.division, ctx.division):
        raise RoutingNotAllowed(f"{target.name} 不在本行政区域内", to_body=cmd.to_body)
    if not may_supervise_over(case.file, target):
        error = AccusedUnitExcluded if is_accused(case.file, target) else AccusedUnitUnknown
        raise error(f"{target.name} 不能作为该检举控告事项的督办对象", to_body=target.id)
    _text(cmd.reasons, "督办事由 / reasons")
    level = cmd.level or next_level(case, cmd.to_body)
    return [
        SupervisionIssued(
            header=ctx.header(case.case_id, cmd.actor),
            supervision_id=f"{case.case_id}/S{len(case.supervisions) + 1}",
            to_body=cmd.to_body,
            level=level,
            obligation=cmd.obligation,
            reasons=cmd.reasons,
            answer_due=ctx.due("supervision_answer"),
        )
    ]


def decide_answer(ctx: Context, case: Case, cmd: AnswerSupervision) -> list[Event]:
    """The supervised body answers in writing (R16)."""
    _own_body(ctx, cmd.actor)
    supervision = case.open_supervision(cmd.supervision_id)
    if supervision is None:
        raise IllegalTransition("没有待反馈的该督办", supervision=cmd.supervision_id)
    if supervision.to_body != cmd.actor:
        raise NotHolder(f"督办对象为 {supervision.to_body}", supervision=cmd.supervision_id)
    _text(cmd.answer, "反馈内容 / answer")
    return [
        SupervisionAnswered(
            header=ctx.header(case.case_id, cmd.actor),
            supervision_id=cmd.supervision_id,
            body=cmd.actor,
            answer=cmd.answer,
            adopted=cmd.adopted,
        )
    ]


def decide_evaluate(ctx: Context, case: Case, cmd: Evaluate) -> list[Event]:
    """满意度评价 of the handling body and the petition office (Art. 21), recorded by one of
    them or by a petition office — not by another body of the division (NotHolder, 403)."""
    body = _own_body(ctx, cmd.actor)
    if case.handling_body is None or case.routed_by is None:
        raise IllegalTransition("尚未出具处理意见，不能评价", case=case.case_id)
    if body.kind is not BodyKind.PETITION_OFFICE and body.id != case.handling_body:
        raise NotHolder("满意度评价由办理机关或信访部门记录", case=case.case_id, body=body.id)
    if case.evaluations:
        raise AlreadyDone("该事项已评价", case=case.case_id)
    return [
        SatisfactionEvaluated(
            header=ctx.header(case.case_id, cmd.actor),
            handling_body=case.handling_body,
            handling_rating=cmd.handling_rating,
            office=case.routed_by,
            office_rating=cmd.office_rating,
            comment=cmd.comment,
        )
    ]


def decide_missed(
    ctx: Context, case: Case, obligation: Obligation, body: str, due_at: datetime
) -> list[Event]:
    """The record that `body` let the deadline `due_at` of `obligation` pass (once per
    obligation, body and deadline), under the obligation's rule (R1–R19)."""
    if obligation_key(obligation, body, due_at) in case.missed:
        return []
    actor = ctx.topology.division(ctx.division).petition_office().id
    if ctx.topology.body(body).division == ctx.division:
        actor = body
    return [
        DeadlineMissed(
            header=ctx.header(case.case_id, actor),
            obligation=obligation,
            rule_id=obligation.rule_id,
            body=body,
            due=due_at,
        )
    ]

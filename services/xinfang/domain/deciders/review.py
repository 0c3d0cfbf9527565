"""复查 and 复核: requests to the body one level above within the window (R7, R9), taken
up in time (R19), decided in time (R8, R10); a served re-review ends the case (R11)."""

from __future__ import annotations

from datetime import datetime

from ..case import Case
from ..commands import DecideReview, NoticeService, RequestReview
from ..context import Context
from ..deadlines import Obligation, due
from ..errors import IllegalTransition
from ..events import (
    CaseClosed,
    Event,
    ReReviewDecided,
    ReReviewRequested,
    ReviewDecided,
    ReviewRequested,
)
from ..lifecycle_errors import FinalAfterReReview, WindowClosed, WrongReviewer
from ..rules import LimitName
from ..topology import Body
from ..vocabulary import CaseStatus, CloseReason, NoticeKind, ReviewResult
from .guards import holder, own_body, require, served, text
from .supervision import decide_missed

_REQUESTED = {CaseStatus.OPINION_ISSUED: "复查", CaseStatus.REVIEW_DECIDED: "复核"}


def may_take_request(
    ctx: Context, case: Case, actor: str, status: CaseStatus, decided_by: str | None
) -> Body:
    """Who may record a 复查 (R7) or 复核 (R9) request: the body one level above the body that
    decided (`decided_by`), while the case is in `status` and not final. Raises NotThisNode,
    FinalAfterReReview, IllegalTransition or WrongReviewer."""
    body = own_body(ctx, actor)
    if case.final:
        raise FinalAfterReReview(case=case.case_id)
    require(case, status)
    if decided_by is None:  # the fold sets it with the status; a DomainError, never an assert
        raise IllegalTransition("尚无可请求复查或复核的意见", case=case.case_id)
    expected = ctx.reviewers().reviewer(decided_by)
    if body.id != expected.id:
        raise WrongReviewer(f"应向 {expected.name} 请求{_REQUESTED[status]}", expected=expected.id)
    return body


def may_decide_review(ctx: Context, case: Case, actor: str, status: CaseStatus) -> Body:
    """Who may decide a requested 复查 (status REVIEW_REQUESTED, R8) or 复核
    (RE_REVIEW_REQUESTED, R10): the reviewer that holds it. Raises NotThisNode, NotHolder or
    IllegalTransition."""
    body = holder(ctx, case, actor)
    require(case, status)
    return body


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
    body = may_take_request(ctx, case, cmd.actor, status, decided_by)
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
    text(cmd.reasons, "请求理由 / reasons")
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
    take_up_due = due(limit, requested_at, ctx.working_calendar()) if limit else None
    if take_up_due is None or ctx.now <= take_up_due:
        return []
    return decide_missed(ctx, case, obligation, reviewer, take_up_due)


def decide_review(ctx: Context, case: Case, cmd: DecideReview) -> list[Event]:
    """复查意见 within 30 days (R8): uphold, revoke (re-handling) or vary."""
    may_decide_review(ctx, case, cmd.actor, CaseStatus.REVIEW_REQUESTED)
    text(cmd.opinion, "复查意见 / opinion")
    rehandle = (
        ctx.working_calendar().add_calendar_days(ctx.now, cmd.rehandle_within_days)
        if cmd.result is ReviewResult.REVOKE
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
        events.append(served(ctx, case, cmd.actor, NoticeKind.REVIEW_OPINION, cmd.notice))
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
    may_decide_review(ctx, case, cmd.actor, CaseStatus.RE_REVIEW_REQUESTED)
    text(cmd.opinion, "复核意见 / opinion")
    header = ctx.header(case.case_id, cmd.actor)
    events: list[Event] = [
        ReReviewDecided(header=header, reviewer=cmd.actor, result=cmd.result, opinion=cmd.opinion)
    ]
    service = cmd.notice or NoticeService()
    events.append(served(ctx, case, cmd.actor, NoticeKind.RE_REVIEW_OPINION, service))
    events.append(
        CaseClosed(
            header=ctx.header(case.case_id, cmd.actor),
            reason=CloseReason.RE_REVIEW_SERVED,
            note="复核意见送达，信访事项终结",
        )
    )
    return events

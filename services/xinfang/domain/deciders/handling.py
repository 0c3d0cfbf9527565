"""Handling: 延期 (R5), the 处理意见书 (Arts. 32–33), 送达 recorded later, the 办结报告 of an
assigned item (R6), and 终结 for the reasons a person records (Arts. 33–36)."""

from __future__ import annotations

from ..case import Case
from ..commands import CloseCase, ExtendHandling, IssueOpinion, ReportCompletion, ServeNotice
from ..context import Context
from ..deadlines import extended, not_earlier
from ..errors import IllegalTransition, InvalidInput, NotHolder
from ..events import (
    CaseClosed,
    CompletionReported,
    Event,
    HandlingExtended,
    HandlingOpinionIssued,
)
from ..lifecycle_errors import AlreadyDone, NotIssuer, SameOpinionAfterRevocation
from ..notices import notice_owed
from ..vocabulary import CaseStatus, CloseReason, NoticeKind, Outcome
from .guards import holder, own_body, require, served, text


def decide_extend(ctx: Context, case: Case, cmd: ExtendHandling) -> list[Event]:
    """延期: at most 30 days in all, approved by the head, petitioner told (R5)."""
    holder(ctx, case, cmd.actor)
    require(case, CaseStatus.ACCEPTED)
    text(cmd.approved_by, "批准人 / approved_by")
    text(cmd.reasons, "延期理由 / reasons")
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
        events.append(served(ctx, case, cmd.actor, NoticeKind.EXTENSION, cmd.notice))
    return events


def decide_opinion(ctx: Context, case: Case, cmd: IssueOpinion) -> list[Event]:
    """信访处理意见书 (Arts. 32–33)."""
    holder(ctx, case, cmd.actor)
    require(case, CaseStatus.ACCEPTED)
    text(cmd.opinion, "处理意见 / opinion")
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
        events.append(served(ctx, case, cmd.actor, NoticeKind.HANDLING_OPINION, cmd.notice))
    return events


def decide_serve(ctx: Context, case: Case, cmd: ServeNotice) -> list[Event]:
    """Record the service of a document issued earlier (e.g. served by post days later).

    Only the body that issued the document records its service, and not before it was
    issued (DOMAIN.md §11); an OTHER document is the holder's. Raises NotIssuer (403),
    IllegalTransition when no such document was issued, or a time refusal (acts.py).
    """
    body = own_body(ctx, cmd.actor)
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
    return [served(ctx, case, cmd.actor, cmd.kind, cmd.service, issued_at)]


def decide_completion(ctx: Context, case: Case, cmd: ReportCompletion) -> list[Event]:
    """办结报告 of an assigned item to the assigning office (R6)."""
    own_body(ctx, cmd.actor)
    if not case.assigned or case.routed_by is None:
        raise IllegalTransition("只有交办事项需要办结报告", case=case.case_id)
    if case.handling_body != cmd.actor:
        raise NotHolder("办结报告由出具处理意见的机关提交", case=case.case_id)
    if case.completion_reported:
        raise AlreadyDone("已提交办结报告", case=case.case_id)
    require(case, CaseStatus.OPINION_ISSUED, CaseStatus.REVIEW_DECIDED, CaseStatus.CLOSED)
    text(cmd.summary, "办理结果 / summary")
    return [
        CompletionReported(
            header=ctx.header(case.case_id, cmd.actor),
            body=cmd.actor,
            to_body=case.routed_by,
            summary=cmd.summary,
        )
    ]


def decide_close(ctx: Context, case: Case, cmd: CloseCase) -> list[Event]:
    """终结 for the reasons a person records (mediation fulfilled, petitioner deceased, …)."""
    holder(ctx, case, cmd.actor)
    if case.closed:
        raise AlreadyDone("事项已终结", case=case.case_id)
    if cmd.reason is CloseReason.MEDIATION_FULFILLED and case.outcome is not Outcome.MEDIATED:
        raise IllegalTransition("未达成调解协议", case=case.case_id)
    if cmd.reason in {CloseReason.RE_REVIEW_SERVED, CloseReason.DIVERTED, CloseReason.NOT_ACCEPTED}:
        raise InvalidInput("该终结原因由相应流程自动产生", reason=cmd.reason.value)
    return [
        CaseClosed(header=ctx.header(case.case_id, cmd.actor), reason=cmd.reason, note=cmd.note)
    ]

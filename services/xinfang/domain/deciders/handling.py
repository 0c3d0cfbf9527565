"""Handling: 延期 (R5), the 处理意见书 (Arts. 32–33), 送达 recorded later, the 办结报告 of an
assigned item (R6), and 终结 for the reasons a person records (Arts. 33–36)."""

from __future__ import annotations

from datetime import datetime

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
from ..topology import Body
from ..vocabulary import CaseStatus, CloseReason, NoticeKind, Outcome
from .guards import holder, own_body, require, served, text


def may_handle(ctx: Context, case: Case, actor: str) -> Body:
    """Who may extend (延期) or decide (处理意见) an accepted item: the body that holds it.
    Raises NotThisNode, NotHolder or IllegalTransition."""
    body = holder(ctx, case, actor)
    require(case, CaseStatus.ACCEPTED)
    return body


def may_issue_opinion(ctx: Context, case: Case, actor: str, outcome: Outcome) -> Body:
    """may_handle, and not the outcome a review revoked (SameOpinionAfterRevocation)."""
    body = may_handle(ctx, case, actor)
    if outcome in case.revoked_outcomes:
        raise SameOpinionAfterRevocation(f"原意见「{outcome.value}」已被撤销", case=case.case_id)
    return body


def may_serve(ctx: Context, case: Case, actor: str, kind: NoticeKind) -> datetime:
    """Who may record the service (送达) of a document: the body that issued it (DOMAIN.md §11);
    an OTHER document is the holder's. Returns when the document was issued. Raises
    NotThisNode, NotIssuer, or IllegalTransition when no such document was issued."""
    body = own_body(ctx, actor)
    if kind is NoticeKind.OTHER:
        if case.holder != body.id:
            raise NotIssuer(f"其他文书由当前承办单位 {case.holder} 记录送达", case=case.case_id)
        return case.registered_at
    document = case.document(kind)
    if document is None:
        raise IllegalTransition(f"该事项尚未出具 {kind.value}", case=case.case_id)
    if document.body != body.id:
        raise NotIssuer(f"该文书由 {document.body} 出具", case=case.case_id, body=body.id)
    return document.issued_at


def may_report_completion(ctx: Context, case: Case, actor: str) -> str:
    """Who may report an assigned item's completion (办结报告, R6): the body that issued the
    handling opinion, once. Returns the assigning office it reports to. Raises NotThisNode,
    IllegalTransition, NotHolder or AlreadyDone."""
    own_body(ctx, actor)
    if not case.assigned or case.routed_by is None:
        raise IllegalTransition("只有交办事项需要办结报告", case=case.case_id)
    if case.handling_body != actor:
        raise NotHolder("办结报告由出具处理意见的机关提交", case=case.case_id)
    if case.completion_reported:
        raise AlreadyDone("已提交办结报告", case=case.case_id)
    require(case, CaseStatus.OPINION_ISSUED, CaseStatus.REVIEW_DECIDED, CaseStatus.CLOSED)
    return case.routed_by


def may_close(ctx: Context, case: Case, actor: str, reason: CloseReason) -> Body:
    """Who may end (终结) a case: the body that holds it, once; mediation-fulfilled only after a
    mediated outcome. Raises NotThisNode, NotHolder, AlreadyDone or IllegalTransition."""
    body = holder(ctx, case, actor)
    if case.closed:
        raise AlreadyDone("事项已终结", case=case.case_id)
    if reason is CloseReason.MEDIATION_FULFILLED and case.outcome is not Outcome.MEDIATED:
        raise IllegalTransition("未达成调解协议", case=case.case_id)
    return body


def decide_extend(ctx: Context, case: Case, cmd: ExtendHandling) -> list[Event]:
    """延期: at most 30 days in all, approved by the head, petitioner told (R5)."""
    may_handle(ctx, case, cmd.actor)
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
    may_issue_opinion(ctx, case, cmd.actor, cmd.outcome)
    text(cmd.opinion, "处理意见 / opinion")
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
    issued_at = may_serve(ctx, case, cmd.actor, cmd.kind)
    return [served(ctx, case, cmd.actor, cmd.kind, cmd.service, issued_at)]


def decide_completion(ctx: Context, case: Case, cmd: ReportCompletion) -> list[Event]:
    """办结报告 of an assigned item to the assigning office (R6)."""
    to_body = may_report_completion(ctx, case, cmd.actor)
    text(cmd.summary, "办理结果 / summary")
    return [
        CompletionReported(
            header=ctx.header(case.case_id, cmd.actor),
            body=cmd.actor,
            to_body=to_body,
            summary=cmd.summary,
        )
    ]


def decide_close(ctx: Context, case: Case, cmd: CloseCase) -> list[Event]:
    """终结 for the reasons a person records (mediation fulfilled, petitioner deceased, …)."""
    may_close(ctx, case, cmd.actor, cmd.reason)
    if cmd.reason in {CloseReason.RE_REVIEW_SERVED, CloseReason.DIVERTED, CloseReason.NOT_ACCEPTED}:
        raise InvalidInput("该终结原因由相应流程自动产生", reason=cmd.reason.value)
    return [
        CaseClosed(header=ctx.header(case.case_id, cmd.actor), reason=cmd.reason, note=cmd.note)
    ]

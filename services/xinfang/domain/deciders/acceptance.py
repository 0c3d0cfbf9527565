"""Acceptance by the receiving body: 异议 and its return (R4, Art. 23), 受理 and 不予受理
with the written notice (R3), simplified handling (R18)."""

from __future__ import annotations

from ..case import Case
from ..commands import AcceptCase, ObjectTransfer, RejectCase, ReturnTransfer
from ..context import Context
from ..errors import NotHolder
from ..events import CaseAccepted, CaseNotAccepted, Event, TransferObjected, TransferReturned
from ..lifecycle_errors import NotSimpleCase, ObjectionTooLate
from ..notices import notice_owed
from ..topology import Body
from ..vocabulary import CaseStatus, NoticeKind
from .guards import holder, office, require, served, text


def may_answer_transfer(ctx: Context, case: Case, actor: str) -> Body:
    """Who may object (异议), accept (受理) or not accept (不予受理) a routed item: the body it
    was routed to, while it waits for that answer (R3, R4). Raises NotThisNode, NotHolder or
    IllegalTransition. The deciders and the inbound check (inbound.py) both call it."""
    body = holder(ctx, case, actor)
    require(case, CaseStatus.TRANSFERRED, CaseStatus.ASSIGNED)
    return body


def may_return(ctx: Context, case: Case, actor: str) -> Body:
    """Who may take an objected item back (Art. 23): the petition office that routed it.
    Raises NotThisNode, NotPetitionOffice, IllegalTransition or NotHolder."""
    body = office(ctx, actor)
    require(case, CaseStatus.OBJECTED)
    if case.routed_by != actor:
        raise NotHolder(f"应由转送机关 {case.routed_by} 审核异议", case=case.case_id)
    return body


def decide_object(ctx: Context, case: Case, cmd: ObjectTransfer) -> list[Event]:
    """异议: outside the receiver's remit, within 5 working days of receipt (R4)."""
    may_answer_transfer(ctx, case, cmd.actor)
    text(cmd.reasons, "异议理由 / reasons")
    if case.objection_due is not None and ctx.now > case.objection_due:
        raise ObjectionTooLate(f"异议期限至 {case.objection_due:%Y-%m-%d}", case=case.case_id)
    return [
        TransferObjected(
            header=ctx.header(case.case_id, cmd.actor), body=cmd.actor, reasons=cmd.reasons
        )
    ]


def decide_return(ctx: Context, case: Case, cmd: ReturnTransfer) -> list[Event]:
    """The sender checked the objection and agrees: the item comes back to it (Art. 23)."""
    may_return(ctx, case, cmd.actor)
    return [
        TransferReturned(header=ctx.header(case.case_id, cmd.actor), body=cmd.actor, note=cmd.note)
    ]


def decide_accept(ctx: Context, case: Case, cmd: AcceptCase) -> list[Event]:
    """受理 and the written notice (R3); the handling clock starts (R5)."""
    may_answer_transfer(ctx, case, cmd.actor)
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
        events.append(served(ctx, case, cmd.actor, NoticeKind.ACCEPTANCE, cmd.notice))
    return events


def decide_reject(ctx: Context, case: Case, cmd: RejectCase) -> list[Event]:
    """不予受理 with reasons and notice (R3)."""
    may_answer_transfer(ctx, case, cmd.actor)
    text(cmd.reasons, "不予受理理由 / reasons")
    events: list[Event] = [
        CaseNotAccepted(
            header=ctx.header(case.case_id, cmd.actor), body=cmd.actor, reasons=cmd.reasons
        )
    ]
    if cmd.notice is not None and notice_owed(case.file):
        events.append(served(ctx, case, cmd.actor, NoticeKind.NON_ACCEPTANCE, cmd.notice))
    return events

"""督办 (R16, Arts. 39–40) and its written answer, the 满意度评价 (Art. 21), and the record
of a missed deadline (R1–R19) that the deadline watcher and late take-ups produce."""

from __future__ import annotations

from datetime import datetime

from ..accusations import is_accused, may_supervise_over
from ..case import Case, obligation_key
from ..commands import AnswerSupervision, Evaluate, Supervise
from ..context import Context
from ..deadlines import Obligation
from ..errors import IllegalTransition, NotHolder, RoutingNotAllowed
from ..events import (
    DeadlineMissed,
    Event,
    SatisfactionEvaluated,
    SupervisionAnswered,
    SupervisionIssued,
)
from ..lifecycle_errors import AccusedUnitExcluded, AccusedUnitUnknown, AlreadyDone
from ..topology import Body, BodyKind
from ..vocabulary import SupervisionLevel
from .guards import office, own_body, text

LADDER = (SupervisionLevel.REMINDER, SupervisionLevel.SUPERVISION, SupervisionLevel.LISTED)


def next_level(case: Case, to_body: str) -> SupervisionLevel:
    issued = [s.level for s in case.supervisions if s.to_body == to_body]
    if not issued:
        return LADDER[0]
    index = LADDER.index(issued[-1])
    return LADDER[min(index + 1, len(LADDER) - 1)]


def may_supervise(ctx: Context, case: Case, actor: str, to_body: str) -> Body:
    """Who may supervise (督办) whom: a petition office, a body in its territory; for an
    accusation never the accused unit (R17, `may_supervise_over`). Returns the target. Raises
    NotThisNode, NotPetitionOffice, UnknownBody, RoutingNotAllowed or an R17 refusal."""
    office(ctx, actor)
    target = ctx.topology.body(to_body)
    if not ctx.topology.is_within(target.division, ctx.division):
        raise RoutingNotAllowed(f"{target.name} 不在本行政区域内", to_body=to_body)
    if not may_supervise_over(case.file, target):
        error = AccusedUnitExcluded if is_accused(case.file, target) else AccusedUnitUnknown
        raise error(f"{target.name} 不能作为该检举控告事项的督办对象", to_body=target.id)
    return target


def may_answer(ctx: Context, case: Case, actor: str, supervision_id: str) -> Body:
    """Who may answer a supervision (R16): the supervised body, while it is open. Raises
    NotThisNode, IllegalTransition or NotHolder."""
    body = own_body(ctx, actor)
    supervision = case.open_supervision(supervision_id)
    if supervision is None:
        raise IllegalTransition("没有待反馈的该督办", supervision=supervision_id)
    if supervision.to_body != actor:
        raise NotHolder(f"督办对象为 {supervision.to_body}", supervision=supervision_id)
    return body


def may_evaluate(ctx: Context, case: Case, actor: str) -> tuple[str, str]:
    """Who may record the 满意度评价 (Art. 21): the handling body or a petition office, once,
    after the handling opinion. Returns (handling body, routing office), the two rated. Raises
    NotThisNode, IllegalTransition, NotHolder (403) or AlreadyDone."""
    body = own_body(ctx, actor)
    if case.handling_body is None or case.routed_by is None:
        raise IllegalTransition("尚未出具处理意见，不能评价", case=case.case_id)
    if body.kind is not BodyKind.PETITION_OFFICE and body.id != case.handling_body:
        raise NotHolder("满意度评价由办理机关或信访部门记录", case=case.case_id, body=body.id)
    if case.evaluations:
        raise AlreadyDone("该事项已评价", case=case.case_id)
    return case.handling_body, case.routed_by


def missed_recorder(ctx: Context, body: str) -> str:
    """The body that records `body`'s missed deadline: itself when it is of `ctx.division`,
    else that division's petition office."""
    if ctx.topology.body(body).division == ctx.division:
        return body
    return ctx.topology.division(ctx.division).petition_office().id


def decide_supervise(ctx: Context, case: Case, cmd: Supervise) -> list[Event]:
    """督办 by a petition office over a body in its territory (Arts. 39–40); for an
    accusation never over the accused unit (R17, `may_supervise_over`)."""
    may_supervise(ctx, case, cmd.actor, cmd.to_body)
    text(cmd.reasons, "督办事由 / reasons")
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
    may_answer(ctx, case, cmd.actor, cmd.supervision_id)
    text(cmd.answer, "反馈内容 / answer")
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
    handling_body, office = may_evaluate(ctx, case, cmd.actor)
    return [
        SatisfactionEvaluated(
            header=ctx.header(case.case_id, cmd.actor),
            handling_body=handling_body,
            handling_rating=cmd.handling_rating,
            office=office,
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
    actor = missed_recorder(ctx, body)
    return [
        DeadlineMissed(
            header=ctx.header(case.case_id, actor),
            obligation=obligation,
            rule_id=obligation.rule_id,
            body=body,
            due=due_at,
        )
    ]

"""Routing: 转送 and 交办 to a body at this level or below (R1, R6), 诉访分离 to another
procedure (Art. 22); never to the accused unit (R17)."""

from __future__ import annotations

from ..accusations import not_to_accused
from ..case import Case
from ..commands import AssignCase, DivertCase, NoticeService, TransferCase
from ..context import Context
from ..errors import InvalidInput, RoutingNotAllowed
from ..events import CaseAssigned, CaseDiverted, CaseTransferred, Event
from ..notices import notice_owed
from ..topology import Body, BodyKind
from ..vocabulary import CaseStatus, DiversionRoute, NoticeKind
from .guards import holder, office, require, served, text


def may_route(ctx: Context, case: Case, actor: str, to_body: str) -> Body:
    """Who may transfer (转送) or assign (交办) a registered item, and to whom: the petition
    office that holds it, to another body of its level or below, never the accused unit (R17).
    Returns the target. Raises NotThisNode, NotHolder, NotPetitionOffice, IllegalTransition,
    UnknownBody, RoutingNotAllowed or an R17 refusal."""
    holder(ctx, case, actor)
    office(ctx, actor)
    require(case, CaseStatus.REGISTERED)
    target = ctx.topology.body(to_body)
    if not ctx.topology.is_within(target.division, ctx.division):
        raise RoutingNotAllowed(f"{target.name} 不在本级或下级", to_body=to_body)
    if to_body == actor:
        raise RoutingNotAllowed("不能转送给自己", to_body=to_body)
    not_to_accused(ctx, case, target)
    return target


def decide_transfer(ctx: Context, case: Case, cmd: TransferCase) -> list[Event]:
    """转送 (R1)."""
    target = may_route(ctx, case, cmd.actor, cmd.to_body)
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
    target = may_route(ctx, case, cmd.actor, cmd.to_body)
    if not 1 <= cmd.report_within_days <= 365:
        raise InvalidInput("办结报告期限须为 1–365 日", days=cmd.report_within_days)
    report_due = ctx.working_calendar().add_calendar_days(ctx.now, cmd.report_within_days)
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


def may_divert(ctx: Context, case: Case, actor: str) -> Body:
    """Who may divert (诉访分离) an item: the body that holds it, before acceptance. Raises
    NotThisNode, NotHolder or IllegalTransition."""
    body = holder(ctx, case, actor)
    require(case, CaseStatus.REGISTERED, CaseStatus.TRANSFERRED, CaseStatus.ASSIGNED)
    return body


def diversion_target(
    ctx: Context, case: Case, route: DiversionRoute, to_body_id: str | None
) -> Body | None:
    """The organ a diversion hands the item to (None: out to another procedure): of the right
    kind, at this level, above or below, never the accused unit (R17). Raises InvalidInput,
    UnknownBody, RoutingNotAllowed or an R17 refusal."""
    kind = DIVERSION_BODY_KINDS.get(route)
    if kind is None:
        if to_body_id is not None:
            raise InvalidInput(
                "导入其他法定程序时不指定系统内机关 / no to_body for other procedures"
            )
        return None
    if to_body_id is None:
        raise InvalidInput("转政法、纪检监察机关须指定接办机关 / to_body is required")
    to_body = ctx.topology.body(to_body_id)
    if to_body.kind is not kind:
        raise RoutingNotAllowed(f"{to_body.name} 不是{route.value}机关", to_body=to_body_id)
    # the organ of the same level, or of a level above when the matter concerns this level
    if not (
        ctx.topology.is_within(ctx.division, to_body.division)
        or ctx.topology.is_within(to_body.division, ctx.division)
    ):
        raise RoutingNotAllowed(f"{to_body.name} 不在本级、上级或下级", to_body=to_body_id)
    not_to_accused(ctx, case, to_body)
    return to_body


def decide_divert(ctx: Context, case: Case, cmd: DivertCase) -> list[Event]:
    """诉访分离: to the 政法/纪检监察 organ (which takes it over) or out to another procedure."""
    may_divert(ctx, case, cmd.actor)
    text(cmd.guidance, "告知内容 / guidance")
    to_body = diversion_target(ctx, case, cmd.route, cmd.to_body)
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
        events.append(served(ctx, case, cmd.actor, NoticeKind.DIVERSION, NoticeService()))
    return events

"""Intake (登记): register a petition — R1 routing deadline, R11 finality, R12 duplicates in
progress, R13 visits one level up at most, R14 representatives, R15 urgent reports."""

from __future__ import annotations

from collections.abc import Sequence

from ..case import Case
from ..commands import RegisterPetition
from ..context import Context
from ..errors import IllegalTransition, InvalidInput, RoutingNotAllowed
from ..events import Event, PetitionRegistered, UrgentReported
from ..lifecycle_errors import (
    DuplicateInProgress,
    FinalAfterReReview,
    TooManyRepresentatives,
    VisitSkipsLevels,
)
from ..matter import same_matter
from ..topology import Body, Level
from ..vocabulary import Channel
from .guards import office, text

LEVEL_RANK = {Level.PROVINCE: 0, Level.CITY: 1, Level.COUNTY: 2}
NATIONAL_BUREAU = "国家信访局"


def may_register(ctx: Context, existing: Case | None, actor: str, case_id: str) -> Body:
    """Who may register (登记) a petition: a petition office, under a case id not yet used.
    Raises NotThisNode, NotPetitionOffice or IllegalTransition."""
    registrar = office(ctx, actor)
    if existing is not None:
        raise IllegalTransition("事项编号已被使用", case=case_id)
    return registrar


def decide_register(
    ctx: Context, existing: Case | None, cmd: RegisterPetition, related: Sequence[Case] = ()
) -> list[Event]:
    """登记. `related` are the cases this node knows with the same matter key."""
    registrar = may_register(ctx, existing, cmd.actor, cmd.case_id)
    f = cmd.file
    text(f.title, "标题 / title")
    text(f.request, "诉求 / request")
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
        own = ctx.topology.division(registrar.division)
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
        parent = ctx.topology.parent(registrar.division)
        reported = [
            f"中共{ctx.topology.division(registrar.division).name}委员会",
            f"{ctx.topology.division(registrar.division).name}人民政府",
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

"""Commands: validate against the rules and the case state, return new events.

Each `decide_*` function is pure: it takes the node's context and the current
case (folded from events) and either returns the events to record or raises a
DomainError. It never does I/O; the application service commits the events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .case import HANDLING_LIMIT, Case
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
    CaseFile,
    CaseTransferred,
    Event,
    EventHeader,
    HandlingOpinionIssued,
    NoticeServed,
    PetitionRegistered,
)
from .topology import BodyKind, Topology
from .vocabulary import CaseStatus, Category, NoticeKind, Outcome, Receipt, ServiceMethod


@dataclass(frozen=True)
class Context:
    """What a node knows when it decides: who it is, the map, and the time."""

    division: str
    topology: Topology
    now: datetime
    new_id: Callable[[], str]

    def header(self, case_id: str, actor: str) -> EventHeader:
        return EventHeader(
            event_id=self.new_id(),
            case_id=case_id,
            source=self.division,
            actor=actor,
            occurred_at=self.now,
        )


@dataclass(frozen=True)
class Service:
    """Service of a written document (送达) recorded together with a decision."""

    method: ServiceMethod = ServiceMethod.ELECTRONIC
    receipt: Receipt = Receipt.SIGNED
    served_at: datetime | None = None  # defaults to the decision time


@dataclass(frozen=True)
class RegisterPetition:
    actor: str  # the registering petition office
    case_id: str
    query_code: str
    file: CaseFile


@dataclass(frozen=True)
class TransferCase:
    actor: str
    to_body: str
    note: str = ""


@dataclass(frozen=True)
class AcceptCase:
    actor: str
    notice: Service | None = Service()


@dataclass(frozen=True)
class IssueOpinion:
    actor: str
    outcome: Outcome
    opinion: str
    legal_basis: str = ""
    notice: Service | None = Service()


def _own_body(ctx: Context, actor: str) -> None:
    body = ctx.topology.body(actor)
    if body.division != ctx.division:
        raise NotThisNode(f"{body.name} 不属于 {ctx.division}", body=actor)


def _holder(ctx: Context, case: Case, actor: str) -> None:
    _own_body(ctx, actor)
    if case.holder != actor:
        raise NotHolder(f"当前承办单位为 {case.holder}", case=case.case_id, body=actor)


def _require(case: Case, *allowed: CaseStatus) -> None:
    if case.status not in allowed:
        raise IllegalTransition(
            f"事项状态为 {case.status.value}", case=case.case_id, status=case.status.value
        )


def decide_register(ctx: Context, existing: Case | None, cmd: RegisterPetition) -> list[Event]:
    _own_body(ctx, cmd.actor)
    if ctx.topology.body(cmd.actor).kind is not BodyKind.PETITION_OFFICE:
        raise NotPetitionOffice(body=cmd.actor)
    if existing is not None:
        raise IllegalTransition("事项编号已被使用", case=cmd.case_id)
    f = cmd.file
    if not f.title.strip() or not f.request.strip():
        raise InvalidInput("标题和诉求不能为空 / title and request are required")
    if not f.petitioner.anonymous and not (f.petitioner.name or "").strip():
        raise InvalidInput("非匿名信访须填写信访人姓名 / a named petition needs the name")
    if not ctx.topology.has_division(f.place):
        raise InvalidInput(f"问题属地 {f.place} 不在拓扑中", place=f.place)
    if f.collective_size < 1:
        raise InvalidInput("人数至少为 1", collective_size=f.collective_size)
    return [
        PetitionRegistered(
            header=ctx.header(cmd.case_id, cmd.actor), query_code=cmd.query_code, file=f
        )
    ]


def decide_transfer(ctx: Context, case: Case, cmd: TransferCase) -> list[Event]:
    _holder(ctx, case, cmd.actor)
    if ctx.topology.body(cmd.actor).kind is not BodyKind.PETITION_OFFICE:
        raise NotPetitionOffice(body=cmd.actor)
    _require(case, CaseStatus.REGISTERED)
    target = ctx.topology.body(cmd.to_body)
    if not ctx.topology.is_within(target.division, ctx.division):
        raise RoutingNotAllowed(f"{target.name} 不在本级或下级", to_body=cmd.to_body)
    if cmd.to_body == cmd.actor:
        raise RoutingNotAllowed("不能转送给自己", to_body=cmd.to_body)
    if case.file.category is Category.ACCUSATION and case.file.accused_body == cmd.to_body:
        raise RoutingNotAllowed("检举控告材料不得转送被检举控告的单位 (R17)", to_body=cmd.to_body)
    return [
        CaseTransferred(
            header=ctx.header(case.case_id, cmd.actor),
            to_body=target.id,
            to_division=target.division,
            query_code=case.query_code,
            file=case.file,
            note=cmd.note,
        )
    ]


def _served(ctx: Context, case: Case, actor: str, kind: NoticeKind, s: Service) -> NoticeServed:
    return NoticeServed(
        header=ctx.header(case.case_id, actor),
        kind=kind,
        served_at=s.served_at or ctx.now,
        method=s.method,
        receipt=s.receipt,
    )


def decide_accept(ctx: Context, case: Case, cmd: AcceptCase) -> list[Event]:
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.TRANSFERRED)
    events: list[Event] = [
        CaseAccepted(
            header=ctx.header(case.case_id, cmd.actor),
            body=cmd.actor,
            handling_due=ctx.now + HANDLING_LIMIT,
        )
    ]
    if cmd.notice is not None:
        events.append(_served(ctx, case, cmd.actor, NoticeKind.ACCEPTANCE, cmd.notice))
    return events


def decide_opinion(ctx: Context, case: Case, cmd: IssueOpinion) -> list[Event]:
    _holder(ctx, case, cmd.actor)
    _require(case, CaseStatus.ACCEPTED)
    if not cmd.opinion.strip():
        raise InvalidInput("处理意见不能为空 / the opinion text is required")
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

"""Inbound events authorised like local commands (issue 12 item 3, decision 023).

A node applies a neighbour's case event only if it is a legal act of the event's actor on the
case as this node knows it. The check runs the same `may_*` function the decider of that act
runs for a local command — in the source's place, with a Context whose division is the event's
source — so there is one copy of each rule. What the decider fills in from the actor or the
case (`body`, `reviewer`, `to_division`, the rated bodies, the recorder of a missed deadline)
must be what the event says.

The node judges only what it knows at least as well as the source did when it decided:
- from below (a child, or a grandchild's event forwarded): always. The node hears everything
  its descendants decide and everything sent down to them, and the service parks an event
  until its predecessor (`causation_id`) is applied (decision 003), so by then the node knows
  the case at least as well as the source did.
- from above: when the node knows the event's predecessor and the case never went to a division
  outside the node's own line (a sibling's acts are never sent to it). Otherwise its copy may
  lack acts the ancestor saw, and only the actor's division is checked (routing.sender_refusal).
- a case first learned from above by its transfer or assignment is judged as the event itself
  describes it before (`learned_by_routing`: registered, held by the routing office); a case
  event from below about a case the node never heard of is refused (CaseNotFound).
Times, texts and deadlines are the source's to compute (its clock and rule set); they are not
judged here. Chain events are not case acts: the chain keeper checks them.
"""

from __future__ import annotations

from typing import assert_never

from ..case import Case, learned_by_routing
from ..context import Context
from ..errors import CaseNotFound, DomainError, InvalidInput, UnauthorisedAct
from ..events import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseDiverted,
    CaseEvent,
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
from ..topology import Topology
from ..vocabulary import CaseStatus
from .acceptance import may_answer_transfer, may_return
from .guards import office
from .handling import may_close, may_handle, may_issue_opinion, may_report_completion, may_serve
from .intake import may_register
from .review import may_decide_review, may_take_request
from .routing import diversion_target, may_divert, may_route
from .supervision import may_answer, may_evaluate, may_supervise, missed_recorder


def authorise_inbound(ctx: Context, case: Case | None, event: Event) -> UnauthorisedAct | None:
    """Why this node must not apply `event`, or None if it may.

    `ctx` is the receiving node's context; `case` the case as it knows it before the event
    (None: not known); `event` an inbound event whose source is a related division and whose
    actor is a body of that source (routing.sender_refusal passed) and whose predecessor, for
    an event from below, is applied. Returns UnauthorisedAct (XF-UNAUTHORISED-ACT) naming the
    actor, the act, the case and the refusal of the rule it breaks; never raises a DomainError.
    """
    if not is_case_event(event):
        return None  # the audit chain's own records (ChainKeeper checks them)
    h = event.header
    from_below = ctx.topology.is_within(h.source, ctx.division)
    try:
        if case is None:
            if isinstance(event, CaseTransferred | CaseAssigned) and not from_below:
                case = learned_by_routing(event)
            elif not isinstance(event, PetitionRegistered):
                raise CaseNotFound(f"本节点未收到该事项的登记 / {event.case_id} unknown here")
        elif not from_below and not _knows_as_well(ctx.topology, ctx.division, case, event):
            return None
        _legal_act(ctx.in_place_of(h.source), case, event)
    except DomainError as why:
        return UnauthorisedAct.of(h.actor, event.type, event.case_id, why)
    return None


def _knows_as_well(topology: Topology, own: str, case: Case, event: Event) -> bool:
    """Whether this node's copy of `case` holds all the ancestor that sent `event` knew."""
    after = event.header.causation_id
    if after and not case.knows(after):
        return False
    return all(topology.is_within(d, own) or topology.is_within(own, d) for d in case.participants)


def _same(field: str, value: str | None, expected: str | None) -> None:
    if value != expected:
        raise InvalidInput(
            f"事件的 {field} 为 {value}，应为 {expected} / the event's {field} is {value}, "
            f"the decision gives {expected}"
        )


def _legal_act(ctx: Context, case: Case | None, event: CaseEvent) -> None:
    """Run the `may_*` of the decider that makes `event`, with `ctx` in the source's place."""
    actor = event.header.actor
    if isinstance(event, PetitionRegistered):
        may_register(ctx, case, actor, event.case_id)
        return
    assert case is not None  # authorise_inbound refuses any other event of an unknown case
    if isinstance(event, CaseTransferred | CaseAssigned):
        target = may_route(ctx, case, actor, event.to_body)
        _same("to_division", event.to_division, target.division)
    elif isinstance(event, CaseDiverted):
        may_divert(ctx, case, actor)
        organ = diversion_target(ctx, case, event.route, event.to_body)
        _same("to_division", event.to_division, organ.division if organ else None)
    elif isinstance(event, UrgentReported):
        office(ctx, actor)  # reported by the registering petition office with the registration
    elif isinstance(event, TransferObjected | CaseAccepted | CaseNotAccepted):
        may_answer_transfer(ctx, case, actor)
        _same("body", event.body, actor)
    elif isinstance(event, TransferReturned):
        may_return(ctx, case, actor)
        _same("body", event.body, actor)
    elif isinstance(event, NoticeServed):
        may_serve(ctx, case, actor, event.kind)
    elif isinstance(event, HandlingExtended):
        may_handle(ctx, case, actor)
        _same("body", event.body, actor)
    elif isinstance(event, HandlingOpinionIssued):
        may_issue_opinion(ctx, case, actor, event.outcome)
        _same("body", event.body, actor)
    elif isinstance(event, CompletionReported):
        _same("to_body", event.to_body, may_report_completion(ctx, case, actor))
        _same("body", event.body, actor)
    elif isinstance(event, ReviewRequested):
        may_take_request(ctx, case, actor, CaseStatus.OPINION_ISSUED, case.handling_body)
        _same("reviewer", event.reviewer, actor)
    elif isinstance(event, ReReviewRequested):
        may_take_request(ctx, case, actor, CaseStatus.REVIEW_DECIDED, case.reviewer)
        _same("reviewer", event.reviewer, actor)
    elif isinstance(event, ReviewDecided):
        may_decide_review(ctx, case, actor, CaseStatus.REVIEW_REQUESTED)
        _same("reviewer", event.reviewer, actor)
    elif isinstance(event, ReReviewDecided):
        may_decide_review(ctx, case, actor, CaseStatus.RE_REVIEW_REQUESTED)
        _same("reviewer", event.reviewer, actor)
    elif isinstance(event, CaseClosed):
        may_close(ctx, case, actor, event.reason)
    elif isinstance(event, DeadlineMissed):
        _same("actor", actor, missed_recorder(ctx, event.body))
    elif isinstance(event, SupervisionIssued):
        may_supervise(ctx, case, actor, event.to_body)
    elif isinstance(event, SupervisionAnswered):
        may_answer(ctx, case, actor, event.supervision_id)
        _same("body", event.body, actor)
    elif isinstance(event, SatisfactionEvaluated):
        rated = may_evaluate(ctx, case, actor)
        _same("handling_body", event.handling_body, rated[0])
        _same("office", event.office, rated[1])
    elif isinstance(event, PersonalDataErased):
        raise InvalidInput(  # each node erases its own keys; none is told to by another
            "个人信息删除只记入本节点日志 / an erasure is recorded in its own node's log only"
        )
    else:
        assert_never(event)  # mypy names a case event type the check does not know

"""What a case owes, to whom and by when — read off the case state — and who supervises it.

The deadline watcher of each node asks `overdue` for the obligations of its own
bodies; the supervising petition office reacts to a missed deadline by climbing
the supervision ladder (reminder → 督办 → 挂牌督办).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import assert_never

from .accusations import accused_division, may_supervise_over
from .case import Case, obligation_key
from .commands import Supervise
from .context import Context
from .deadlines import Obligation
from .deciders.supervision import decide_supervise
from .errors import DomainError
from .events import DeadlineMissed, Event
from .topology import BodyKind, Topology
from .vocabulary import CaseStatus, CloseReason


class Reporting(StrEnum):
    """How a missed deadline of an obligation comes to be recorded."""

    WATCHER = "WATCHER"  # open in the case state; the deadline watcher records it (`overdue`)
    ON_RECORDING = "ON_RECORDING"  # discharged by recording the act; a late one says so at once
    NEVER = "NEVER"  # a right that lapses (R4, R7, R9), not a duty: nobody is in default


def reporting(obligation: Obligation) -> Reporting:
    """How `obligation` is reported missed. Exhaustive: mypy names a new member left out."""
    match obligation:
        case (
            Obligation.ROUTE
            | Obligation.ACCEPTANCE_NOTICE
            | Obligation.HANDLING
            | Obligation.ASSIGNMENT_REPORT
            | Obligation.REVIEW_DECISION
            | Obligation.RE_REVIEW_DECISION
            | Obligation.SUPERVISION_ANSWER
        ):
            return Reporting.WATCHER
        case Obligation.REVIEW_TAKE_UP | Obligation.RE_REVIEW_TAKE_UP:
            return Reporting.ON_RECORDING  # R19: the request is taken up when it is recorded
        case (
            Obligation.OBJECTION
            | Obligation.REVIEW_REQUEST_WINDOW
            | Obligation.RE_REVIEW_REQUEST_WINDOW
        ):
            return Reporting.NEVER
        case _:
            assert_never(obligation)


@dataclass(frozen=True)
class Due:
    obligation: Obligation
    body: str
    due: datetime

    @property
    def key(self) -> str:
        return obligation_key(self.obligation, self.body, self.due)

    @property
    def rule_id(self) -> str:
        return self.obligation.rule_id


def open_obligations(case: Case) -> list[Due]:
    """Every act the case is waiting for that runs against a clock (the WATCHER obligations)."""
    found: list[Due] = []
    s = case.status
    if s is CaseStatus.REGISTERED and case.route_due is not None:
        found.append(Due(Obligation.ROUTE, case.holder, case.route_due))
    if s in (CaseStatus.TRANSFERRED, CaseStatus.ASSIGNED) and case.acceptance_due is not None:
        found.append(Due(Obligation.ACCEPTANCE_NOTICE, case.holder, case.acceptance_due))
    if s is CaseStatus.ACCEPTED and case.handling_due is not None:
        found.append(Due(Obligation.HANDLING, case.holder, case.handling_due))
    if case.assigned and not case.completion_reported and case.report_due is not None:
        body = case.handling_body or case.holder
        if s is not CaseStatus.CLOSED or case.handling_body is not None:
            found.append(Due(Obligation.ASSIGNMENT_REPORT, body, case.report_due))
    if s is CaseStatus.REVIEW_REQUESTED and case.review_due and case.reviewer:
        found.append(Due(Obligation.REVIEW_DECISION, case.reviewer, case.review_due))
    if s is CaseStatus.RE_REVIEW_REQUESTED and case.re_review_due and case.re_reviewer:
        found.append(Due(Obligation.RE_REVIEW_DECISION, case.re_reviewer, case.re_review_due))
    # R17: a supervision addressed to the accused unit is never delivered to it (routing
    # keeps an accusation from the accused's division), so it owes no answer
    accused = accused_division(case.file)
    for supervision in case.supervisions:
        if not supervision.answered and supervision.to_body.split(".", 1)[0] != accused:
            found.append(
                Due(Obligation.SUPERVISION_ANSWER, supervision.to_body, supervision.answer_due)
            )
    return found


def overdue(case: Case, now: datetime, division: str) -> list[Due]:
    """Obligations of bodies of `division` whose deadline passed and that were not yet reported."""
    return [
        d
        for d in open_obligations(case)
        if d.due < now and d.body.split(".", 1)[0] == division and d.key not in case.missed
    ]


def lapsed(ctx: Context, case: Case) -> CloseReason | None:
    """WINDOW_LAPSED when the review (R7) or re-review (R9) window passed unused.

    Only the node of the body that holds the case closes it, so it closes once.
    """
    end = _window_end(ctx, case)
    if end is not None and ctx.now > end:
        return CloseReason.WINDOW_LAPSED
    return None


def _window_end(ctx: Context, case: Case) -> datetime | None:
    """End of the review or re-review window this node would close the case at, if any."""
    if case.holder_division != ctx.division:
        return None
    if case.status is CaseStatus.OPINION_ISSUED and case.opinion_served_at is not None:
        return ctx.due("review_request_window", case.opinion_served_at)
    if case.status is CaseStatus.REVIEW_DECIDED and case.review_served_at is not None:
        return ctx.due("re_review_request_window", case.review_served_at)
    return None


def next_check(ctx: Context, case: Case) -> datetime | None:
    """When the deadline watcher of `ctx.division` must next look at the case: the earliest
    deadline of an obligation of its bodies not yet reported, or the end of a review window it
    would close. None: nothing to watch (a closed case, or one waiting on other divisions).

    From `next_check` on, `overdue` or `lapsed` may answer; before it, neither does. The
    watcher looks only at cases whose moment has come instead of folding every open case.
    """
    if case.closed:
        return None
    moments = [
        d.due
        for d in open_obligations(case)
        if d.body.split(".", 1)[0] == ctx.division and d.key not in case.missed
    ]
    try:
        end = _window_end(ctx, case)
    except DomainError:  # e.g. no calendar for that year yet: look at every sweep, as before
        end = ctx.now
    if end is not None:
        moments.append(end)
    return min(moments) if moments else None


def supervisor(case: Case, missed: DeadlineMissed, topology: Topology) -> str | None:
    """The petition office that must supervise a missed deadline (Art. 40).

    A missed supervision answer goes back to the office that supervised; otherwise the office
    that routed the case supervises the body it routed it to, and any other body is supervised
    by the petition office of its own division (or of the level above, for that office itself).
    """
    if reporting(missed.obligation) is Reporting.NEVER:
        return None  # a lapsed right (R4, R7, R9): nobody to supervise
    if missed.obligation is Obligation.SUPERVISION_ANSWER:
        for s in reversed(case.supervisions):
            if s.to_body == missed.body:
                return s.by
    body = topology.body(missed.body)
    if case.routed_by and case.routed_by != missed.body:
        routed_by = topology.body(case.routed_by)
        if topology.is_within(body.division, routed_by.division):
            return routed_by.id
    own_office = topology.division(body.division).petition_office()
    if body.kind is not BodyKind.PETITION_OFFICE:
        return own_office.id
    parent = topology.parent(body.division)
    return topology.division(parent).petition_office().id if parent else None


def react(ctx: Context, case: Case, event: Event, auto_supervise: bool = True) -> list[Event]:
    """Reactions of this node's petition office to an event it just applied."""
    if not auto_supervise or not isinstance(event, DeadlineMissed):
        return []
    office = supervisor(case, event, ctx.topology)
    if office is None or ctx.topology.body(office).division != ctx.division:
        return []
    if not may_supervise_over(case.file, ctx.topology.body(event.body)):
        return []  # R17: 督办 of an accusation is never addressed to the accused unit
    reasons = (
        f"{ctx.topology.body(event.body).name}未在 {event.due:%Y-%m-%d} 前履行"
        f"「{event.obligation.zh}」义务 ({event.rule_id})，请即办理并书面反馈"
    )
    return decide_supervise(
        ctx,
        case,
        Supervise(actor=office, to_body=event.body, obligation=event.obligation, reasons=reasons),
    )

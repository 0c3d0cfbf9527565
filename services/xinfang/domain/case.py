"""The case (信访事项) as a node sees it: a pure fold over the case's events.

Every node that learns of a case — the registering office, the handling body's
node, the levels above it — folds the same events with `evolve`, so the same
history gives the same state everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .errors import DependencyMissing
from .events import (
    CaseAccepted,
    CaseFile,
    CaseTransferred,
    Event,
    HandlingOpinionIssued,
    NoticeServed,
    PetitionRegistered,
)
from .vocabulary import CaseStatus, NoticeKind, Outcome

ACCEPTANCE_LIMIT = timedelta(days=15)  # R3, Arts. 23, 44(3)
HANDLING_LIMIT = timedelta(days=60)  # R5, Art. 34


@dataclass(frozen=True)
class Case:
    case_id: str
    query_code: str
    file: CaseFile
    status: CaseStatus
    origin: str  # division that registered it
    holder: str  # body currently responsible
    routed_from: str | None = None  # division that transferred it to the holder
    acceptance_due: datetime | None = None
    handling_due: datetime | None = None
    outcome: Outcome | None = None
    notices: tuple[NoticeKind, ...] = ()
    history: tuple[str, ...] = ()  # ids of the events folded in, in order

    @property
    def version(self) -> int:
        return len(self.history)

    @property
    def last_event_id(self) -> str:
        return self.history[-1] if self.history else ""

    def knows(self, event_id: str) -> bool:
        return event_id in self.history

    @property
    def holder_division(self) -> str:
        return self.holder.split(".", 1)[0]


def evolve(case: Case | None, event: Event) -> Case:
    """Apply one event. Raises DependencyMissing if the case is not known yet."""
    return _record(_transition(case, event), event)


def require_predecessor(case: Case | None, event: Event) -> None:
    """Raise DependencyMissing unless the event's predecessor has been applied."""
    after = event.header.causation_id
    if after and (case is None or not case.knows(after)):
        raise DependencyMissing(
            f"{event.type} 接续的事件 {after} 尚未到达", case=event.case_id, after=after
        )


def _record(case: Case, event: Event) -> Case:
    return replace(case, history=(*case.history, event.header.event_id))


def _transition(case: Case | None, event: Event) -> Case:
    if isinstance(event, PetitionRegistered):
        return Case(
            case_id=event.case_id,
            query_code=event.query_code,
            file=event.file,
            status=CaseStatus.REGISTERED,
            origin=event.header.source,
            holder=event.header.actor,
        )
    if isinstance(event, CaseTransferred):
        due = event.header.occurred_at + ACCEPTANCE_LIMIT
        if case is None:  # the receiving node learns of the case by the transfer itself
            origin = event.case_id.split("-", 1)[0]
            case = Case(
                case_id=event.case_id,
                query_code=event.query_code,
                file=event.file,
                status=CaseStatus.REGISTERED,
                origin=origin,
                holder=event.header.actor,
            )
        return _next(
            case,
            status=CaseStatus.TRANSFERRED,
            holder=event.to_body,
            routed_from=event.header.source,
            acceptance_due=due,
        )
    if case is None:
        raise DependencyMissing(
            f"{event.type} 所属事项 {event.case_id} 尚未到达", case=event.case_id
        )
    if isinstance(event, CaseAccepted):
        return _next(case, status=CaseStatus.ACCEPTED, handling_due=event.handling_due)
    if isinstance(event, NoticeServed):
        return _next(case, notices=(*case.notices, event.kind))
    if isinstance(event, HandlingOpinionIssued):
        return _next(case, status=CaseStatus.OPINION_ISSUED, outcome=event.outcome)
    raise TypeError(f"unhandled event type {event.type}")


def _next(case: Case, **changes: object) -> Case:
    return replace(case, **changes)  # type: ignore[arg-type]


def fold(events: list[Event]) -> Case | None:
    case: Case | None = None
    for event in events:
        case = evolve(case, event)
    return case

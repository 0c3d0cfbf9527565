"""The decision context: what a node knows when it decides (who it is, the map, the rules,
the calendar and the time). Deciders (deciders/) read it; they never do I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .acts import DEFAULT_BACKDATE_TOLERANCE, DEFAULT_FUTURE_TOLERANCE, act_time
from .calendar import HolidayCalendar
from .deadlines import due
from .errors import InvalidInput
from .events import EventHeader
from .hierarchy import ReviewHierarchy
from .rules import LimitName, RuleSet
from .topology import Topology


@dataclass(frozen=True)
class Context:
    """What a node knows when it decides: who it is, the map, the rules and the time."""

    division: str
    topology: Topology
    now: datetime
    new_id: Callable[[], str]
    rules: RuleSet = field(default_factory=RuleSet.national)
    calendar: HolidayCalendar | None = None
    hierarchy: ReviewHierarchy | None = None
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE  # client clocks run a little ahead
    backdate_tolerance: timedelta = DEFAULT_BACKDATE_TOLERANCE  # earlier than this: say why
    person: str = ""  # the signed-in person deciding (recorded on the events); "" the node

    def in_place_of(self, division: str) -> Context:
        """The same map, rules, calendar and time in `division`'s place: how a receiver judges a
        neighbour's act with the deciders' rules (deciders/inbound.py). Built directly, not with
        dataclasses.replace, which costs more than the check itself on the inbox's hot path."""
        return Context(
            division, self.topology, self.now, self.new_id, self.rules, self.calendar,
            self.hierarchy, self.future_tolerance, self.backdate_tolerance,
        )  # fmt: skip

    def header(self, case_id: str, actor: str) -> EventHeader:
        return EventHeader(
            event_id=self.new_id(),
            case_id=case_id,
            source=self.division,
            actor=actor,
            occurred_at=self.now,
            person=self.person,
        )

    def working_calendar(self) -> HolidayCalendar:
        """The calendar every deadline is counted on; InvalidInput (422) when none is set."""
        if self.calendar is None:
            raise InvalidInput("节点未配置工作日历 / the node has no calendar configured")
        return self.calendar

    def due(self, limit_name: LimitName, start: datetime | None = None) -> datetime:
        limit = getattr(self.rules, limit_name)
        return due(limit, start or self.now, self.working_calendar())

    def reviewers(self) -> ReviewHierarchy:
        return self.hierarchy or ReviewHierarchy(self.topology)

    def act_time(
        self,
        moment: datetime,
        what: str,
        *,
        after: datetime | None = None,
        after_what: str = "",
        reason: str | None = None,
    ) -> tuple[datetime, str | None]:
        """DOMAIN.md §11: a client-given time of an act is not in the future, not before the
        act it follows, and back-dated only with a reason. Returns (time, reason) to record."""
        return act_time(
            self.now, moment, what=what, after=after, after_what=after_what, reason=reason,
            future_tolerance=self.future_tolerance, backdate_tolerance=self.backdate_tolerance,
        )  # fmt: skip

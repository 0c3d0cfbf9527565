"""The auditor's own copy of each province's rules and holiday calendar (deploy/rules), so that
it recomputes the deadlines the nodes stated instead of trusting them."""

from __future__ import annotations

from datetime import datetime

from ...domain.calendar import HolidayCalendar
from ...domain.case import Case
from ...domain.deadlines import due
from ...domain.errors import DomainError, XinfangError
from ...domain.restate import changed_fields, recount, restate
from ...domain.rules import Limit, LimitName, RuleSet


class RuleBook:
    """Rule sets and holiday calendars per province, loaded once (deploy/rules)."""

    def __init__(self, rules_dir: str | None = None) -> None:
        self.rules_dir = rules_dir  # default deploy/rules
        self._rules: dict[str, RuleSet | None] = {}
        self._calendars: dict[str, HolidayCalendar | None] = {}

    def rules(self, division: str) -> RuleSet | None:
        key = division[:2]
        if key not in self._rules:
            from ...rules_file import load_ruleset

            try:
                self._rules[key] = load_ruleset(division, self.rules_dir)
            except (XinfangError, OSError, ValueError):  # e.g. RulesInvalid
                self._rules[key] = None
        return self._rules[key]

    def calendar(self, division: str) -> HolidayCalendar | None:
        key = division[:2]
        if key not in self._calendars:
            from ...rules_file import load_calendar

            try:
                self._calendars[key] = load_calendar(division, self.rules_dir)
            except (XinfangError, OSError, ValueError):  # e.g. RulesInvalid
                self._calendars[key] = None
        return self._calendars[key]

    def due(self, division: str, limit_name: LimitName, start: datetime) -> datetime | None:
        rules, calendar = self.rules(division), self.calendar(division)
        if rules is None or calendar is None:
            return None
        limit = getattr(rules, limit_name, None)
        if not isinstance(limit, Limit):
            return None
        try:
            return due(limit, start, calendar)
        except DomainError:  # no calendar for that year
            return None

    def restate(self, division: str, before: Case | None, after: Case) -> Case:
        """`after` with the deadlines the event just set re-derived on the official schedule
        where they were counted provisionally (domain/restate.py), as the nodes see them."""
        rules, calendar = self.rules(division), self.calendar(division)
        if rules is None or calendar is None:
            return after
        return restate(after, rules, calendar, changed_fields(before, after))

    def recount(
        self, division: str, limit_names: tuple[str, ...], start: datetime, stated: datetime
    ) -> datetime:
        """`stated` as the official schedule counts it, if it was counted provisionally."""
        rules, calendar = self.rules(division), self.calendar(division)
        if rules is None or calendar is None:
            return stated
        limits = tuple(v for n in limit_names if isinstance(v := getattr(rules, n, None), Limit))
        return recount(stated, start, limits, calendar)

"""Where a running node's holiday calendar comes from (a port; rules_file.HolidayFolder is the
adapter over deploy/rules/holidays): the service asks it at each sweep whether a newly
published schedule was installed (DOMAIN.md §11), and reads no files itself."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from ..domain.calendar import HolidayCalendar


class CalendarSource(Protocol):
    def signature(self) -> Hashable:
        """Cheap to compute; changes whenever the calendar `current` would return changes."""
        ...

    def current(self) -> tuple[Hashable, HolidayCalendar]:
        """The signature (taken before reading) and the calendar read now. Raises the
        configuration errors of a malformed source (RulesInvalid, InvalidInput)."""
        ...

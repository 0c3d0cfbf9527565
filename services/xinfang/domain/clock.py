"""Time is an input: every decision takes the clock from its context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock tests move by hand, so a 60-day deadline passes in a second."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

"""Sign-in rate limits: attempts per source address and per account in a sliding window.

In memory, per node process: a restart forgets them, the per-account lock-out
(identity/accounts.py, in the database) does not. Time is monotonic seconds (injectable).
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import SignInThrottled


@dataclass
class Throttle:
    """At most `limit` attempts per key within `window_s`; `check` raises SignInThrottled
    (429) with the seconds until the next attempt is allowed."""

    limit: int
    window_s: float = 60.0
    now: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def check(self, key: str) -> None:
        """Count an attempt for `key`, or refuse it if the window is full."""
        moment = self.now()
        seen = self._seen[key]
        while seen and seen[0] <= moment - self.window_s:
            seen.popleft()
        if len(seen) >= self.limit:
            wait = max(1, int(seen[0] + self.window_s - moment) + 1)
            raise SignInThrottled(f"{wait} s", retry_after=wait)
        seen.append(moment)
        if len(self._seen) > 100_000:  # a flood of addresses: forget the idle ones
            for k in [k for k, v in self._seen.items() if not v]:
                del self._seen[k]

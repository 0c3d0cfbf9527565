"""Crash points for fault-injection runs (make chaos). Inert unless their variables are set.

XINFANG_FAULT_CRASH_BEFORE_PUBLISH=p  SIGKILL this process, with probability p per outbox
                                       batch, after the batch was committed but before it is
                                       published (the crash between commit and publish).
XINFANG_FAULT_CRASH_BEFORE_MARK=p     SIGKILL after publishing, before marking the rows sent
                                       (so the batch is published again after the restart).
"""

from __future__ import annotations

import os
import random
import signal


class CrashPoints:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        self.before_publish = float(env.get("XINFANG_FAULT_CRASH_BEFORE_PUBLISH", "0") or 0)
        self.before_mark = float(env.get("XINFANG_FAULT_CRASH_BEFORE_MARK", "0") or 0)
        self._random = random.Random()

    def _maybe_crash(self, probability: float) -> None:
        if probability > 0 and self._random.random() < probability:
            os.kill(os.getpid(), signal.SIGKILL)

    def at_before_publish(self) -> None:
        self._maybe_crash(self.before_publish)

    def at_before_mark(self) -> None:
        self._maybe_crash(self.before_mark)

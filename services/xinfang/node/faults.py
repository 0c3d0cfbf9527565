"""Crash points for fault-injection runs (make chaos). Inert unless their probabilities are set.

XINFANG_FAULT_CRASH_BEFORE_PUBLISH=p  SIGKILL this process, with probability p per outbox
                                       batch, after the batch was committed but before it is
                                       published (the crash between commit and publish).
XINFANG_FAULT_CRASH_BEFORE_MARK=p     SIGKILL after publishing, before marking the rows sent
                                       (so the batch is published again after the restart).

The variables are read once by settings.NodeSettings; bootstrap hands them to the relay.
"""

from __future__ import annotations

import os
import random
import signal


class CrashPoints:
    def __init__(self, before_publish: float = 0.0, before_mark: float = 0.0) -> None:
        self.before_publish = before_publish
        self.before_mark = before_mark
        self._random = random.Random()

    def _maybe_crash(self, probability: float) -> None:
        if probability > 0 and self._random.random() < probability:
            os.kill(os.getpid(), signal.SIGKILL)

    def at_before_publish(self) -> None:
        self._maybe_crash(self.before_publish)

    def at_before_mark(self) -> None:
        self._maybe_crash(self.before_mark)

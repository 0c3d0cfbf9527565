"""devtools.processes.stop_all: node processes are stopped side by side (decision 039), every
one of them even when one fails to stop, and the failure is raised afterwards."""

from __future__ import annotations

import threading
from typing import cast

import pytest

from xinfang.devtools.processes import NodeProcess, stop_all


class _Node:
    def __init__(self, barrier: threading.Barrier, fail: bool = False) -> None:
        self.barrier, self.fail = barrier, fail
        self.stopped_with: float | None = None

    def stop(self, timeout: float = 20.0) -> None:
        # every stop waits here until all have begun: one after another would never pass
        self.barrier.wait(timeout=30)
        self.stopped_with = timeout
        if self.fail:
            raise RuntimeError("did not stop")


def test_every_node_is_stopped_at_once_and_a_failure_is_raised_after_all() -> None:
    barrier = threading.Barrier(3)
    nodes = [_Node(barrier), _Node(barrier, fail=True), _Node(barrier)]
    with pytest.raises(RuntimeError, match="did not stop"):
        stop_all(cast(list[NodeProcess], nodes), timeout=7.0)
    assert [n.stopped_with for n in nodes] == [7.0, 7.0, 7.0]
    stop_all([])  # nothing to stop

"""A small `make cluster-chaos`, run by `make test-long` (issue 13 item 4): cases through four
nodes on a secured 3-broker cluster (RF 3, min ISR 2) while each broker in turn is SIGKILLed and
restarted; nothing lost or applied twice, and every partition fully replicated at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinfang.devtools.cluster_chaos import run_cluster_chaos

# Minutes of three brokers killed in turn: `make test-long`, not `make test` (the 15-minute budget)
pytestmark = [pytest.mark.integration, pytest.mark.long]


def test_small_cluster_run_survives_each_broker_sigkilled(tmp_path: Path) -> None:
    result, kills, under_replicated = run_cluster_chaos(cases=12, workdir=tmp_path, seed=5, kills=3)
    print(result.line(), result.fault_kinds, f"kills={kills} under_replicated={under_replicated}")
    assert kills >= 3  # every broker of the cluster was SIGKILLed once
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.chain_violations == 0
    assert result.mismatched_states == []
    assert under_replicated == 0
    assert result.ok

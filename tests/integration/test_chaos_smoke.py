"""A small `make chaos` inside `make test`: faults of every kind, nothing lost or applied twice.

Sized for the test budget (decision 039): 8 cases (two per driver) and a fault every 1½–3 s,
so that every kind of fault is injected while the cases move (the run waits until each kind
has been); `make chaos` runs 1,000 cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinfang.devtools.chaos import run_chaos

pytestmark = pytest.mark.integration


def test_small_fault_injection_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = run_chaos(
        cases=8,
        workdir=tmp_path,
        seed=11,
        workers=4,
        crash_probability=0.005,
        fault_interval=(1.5, 3.0),
        broker_restarts=1,
    )
    print(result.line(), result.fault_kinds)
    assert result.faults > 0
    for kind in ("sigkill", "sigstop", "duplicate_records", "malformed_records", "forged_records"):
        assert result.fault_kinds.get(kind, 0) > 0, result.fault_kinds
    assert result.never_injected == [], result.fault_kinds
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.chain_violations == 0
    assert result.mismatched_states == []
    assert result.dead_lettered == result.dead_letters_injected
    assert result.unexpected_dead_letters == 0
    assert result.forged > 0 and result.forged_applied == 0  # issue 12: forged records refused
    assert result.ok

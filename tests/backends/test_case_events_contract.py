"""Case events (protocols.CaseEvents, CaseReads): the aggregate store — case events, case
summaries with their next check time, case numbers — on every backend.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from xinfang.domain.vocabulary import CaseStatus, Outcome
from xinfang.store.protocols import CaseEvents, CaseReads
from xinfang.store.unit_of_work import NodeStore

from .store_world import ALL_BYTES, T0, event, registered_case


def test_the_sql_role_implements_its_protocol(store: NodeStore) -> None:
    with store.transaction() as tx:
        assert isinstance(tx.cases, CaseEvents) and isinstance(store.cases, CaseReads)


def test_next_serial_counts_per_name_and_a_rollback_gives_the_number_back(
    store: NodeStore,
) -> None:
    with store.transaction() as tx:
        assert [tx.cases.next_serial("case:2026") for _ in range(3)] == [1, 2, 3]
        assert tx.cases.next_serial("case:2027") == 1
    with store.transaction() as tx:
        assert tx.cases.next_serial("case:2026") == 4
    with pytest.raises(RuntimeError), store.transaction() as tx:
        assert tx.cases.next_serial("case:2026") == 5
        raise RuntimeError("decision failed")
    with store.transaction() as tx:
        assert tx.cases.next_serial("case:2026") == 5
        assert tx.cases.next_serial("case:2027") == 2


def test_case_payloads_come_back_in_the_order_recorded(store: NodeStore) -> None:
    a, b = "150400-2026-000001", "150400-2026-000002"
    with store.transaction() as tx:
        for i, case_id in enumerate([a, b, a, a, b]):
            tx.cases.append(event(case_id, seq=i + 1), f"{case_id}/{i}".encode())
    with store.transaction() as tx:
        assert tx.cases.payloads(a) == [f"{a}/0".encode(), f"{a}/2".encode(), f"{a}/3".encode()]
        assert tx.cases.payloads(b) == [f"{b}/1".encode(), f"{b}/4".encode()]
        assert tx.cases.payloads("150400-2026-999999") == []


def test_save_case_inserts_then_updates(store: NodeStore) -> None:
    case = registered_case("150400-2026-000001")
    with store.transaction() as tx:
        tx.cases.save(case)
    [row] = store.cases.list_cases()
    assert row["case_id"] == case.case_id
    assert row["query_code"] == "ABCD2345"
    assert row["title"] == "小区供暖不达标"
    assert (row["status"], row["holder"], row["outcome"]) == (case.status.value, case.holder, None)
    assert row["version"] == case.version == 1
    first_update = row["updated_at"]
    assert first_update.utcoffset() == timedelta(0)
    moved = replace(
        case,
        status=CaseStatus.OPINION_ISSUED,
        holder="150404.zj",
        outcome=Outcome.SUPPORTED,
        history=(*case.history, "e-2", "e-3"),
    )
    with store.transaction() as tx:
        tx.cases.save(moved)
    [row] = store.cases.list_cases()
    assert (row["status"], row["holder"], row["outcome"], row["version"]) == (
        "OPINION_ISSUED",
        "150404.zj",
        "SUPPORTED",
        3,
    )
    assert row["updated_at"] >= first_update
    assert store.stats()["cases"] == 1


def test_matter_keys_and_open_cases(store: NodeStore) -> None:
    a, b, c = "150400-2026-000003", "150400-2026-000001", "150400-2026-000002"
    with store.transaction() as tx:
        tx.cases.save(registered_case(a), matter_key="k-1")
        tx.cases.save(registered_case(b), matter_key="k-1")
        tx.cases.save(registered_case(c))  # anonymous: no key
    with store.transaction() as tx:
        assert tx.cases.ids_with_matter_key("k-1") == [b, a]
        assert tx.cases.ids_with_matter_key("k-2") == []
        tx.cases.save(replace(registered_case(a), status=CaseStatus.CLOSED), matter_key="k-1")
    assert store.cases.open_ids() == [b, c]


def test_list_cases_is_ordered_by_case_id(store: NodeStore) -> None:
    ids = ["150400-2026-000003", "150400-2025-000009", "150400-2026-000001"]
    with store.transaction() as tx:
        for case_id in ids:
            tx.cases.save(registered_case(case_id))
    assert [r["case_id"] for r in store.cases.list_cases()] == sorted(ids)


def test_case_history_keeps_every_field(store: NodeStore) -> None:
    at = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=8)))
    ev = event(seq=7, event_id="e-hist", at=at)
    with store.transaction() as tx:
        tx.cases.append(ev, ALL_BYTES)
    [stored] = store.cases.history(ev.case_id)
    assert (stored.event_id, stored.case_id, stored.source, stored.seq) == (
        "e-hist",
        ev.case_id,
        "150400",
        7,
    )
    assert (stored.type, stored.actor) == ("StoreProbe", "150400.xfj")
    assert stored.payload == ALL_BYTES
    assert stored.occurred_at == at  # the same instant ...
    assert stored.occurred_at.tzinfo is not None
    assert stored.occurred_at.utcoffset() == timedelta(0)  # ... handed back in UTC
    assert store.cases.history("150400-2026-999999") == []


def test_prefetched_case_versions_follow_saves_in_the_same_transaction(store: NodeStore) -> None:
    case = registered_case("150400-2026-000001")
    with store.transaction() as tx:
        tx.cases.prefetch_versions([case.case_id, "150400-2026-000009"])
        assert tx.cases.version(case.case_id) is None
        tx.cases.save(case)
        assert tx.cases.version(case.case_id) == 1
        tx.cases.payloads(case.case_id)  # a read that writes the pending rows first
        assert tx.cases.version(case.case_id) == 1
        assert tx.cases.version("150400-2026-000009") is None
    with store.transaction() as tx:
        tx.cases.prefetch_versions([case.case_id])
        assert tx.cases.version(case.case_id) == 1


def test_cases_to_check_are_the_open_ones_whose_moment_has_come(store: NodeStore) -> None:
    """The deadline watcher's due-time index (migration 0004)."""
    due, later, unknown, closed, idle = (f"150400-2026-00000{n}" for n in range(1, 6))
    with store.transaction() as tx:
        tx.cases.save(registered_case(due), next_check=T0 + timedelta(days=15))
        tx.cases.save(registered_case(later), next_check=T0 + timedelta(days=60))
        tx.cases.save(registered_case(unknown))  # e.g. a row from before the index: null
        done = replace(registered_case(closed), status=CaseStatus.CLOSED)
        tx.cases.save(done, next_check=T0)
    assert store.cases.ids_to_check(T0) == [unknown]
    assert store.cases.ids_to_check(T0 + timedelta(days=15)) == [due, unknown]
    assert store.cases.ids_to_check(T0 + timedelta(days=61)) == [due, later, unknown]
    [row] = [r for r in store.cases.list_cases() if r["case_id"] == due]
    assert row["next_check_at"] == T0 + timedelta(days=15)
    assert idle not in store.cases.ids_to_check(T0 + timedelta(days=999))

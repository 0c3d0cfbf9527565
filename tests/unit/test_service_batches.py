"""Group commit: a batch of inbox records in one transaction is still exactly once, in order,
and a record that trips a bug fails alone. The fold cache never serves a stale case."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from xinfang.codec.wire import EventCodec
from xinfang.domain.commands import AcceptCase, TransferCase
from xinfang.domain.deciders import decide_accept, decide_transfer
from xinfang.domain.errors import DomainError
from xinfang.domain.topology import Topology
from xinfang.node.service import DeliveryOutcome, NodeService
from xinfang.ops.deadletters import DeadLetter, distinct
from xinfang.store.records import Headers
from xinfang.store.unit_of_work import NodeStore

from .fakes import FakeBus
from .test_slice_in_memory import sample_file

Record = tuple[bytes, Headers]


def inbox_of(bus: FakeBus, sender: str, receiver: str) -> list[Record]:
    node = bus.nodes[sender]
    topic = bus.topics.inbox(receiver)
    return [(r.value, r.headers) for r in node.store.outbox.pending() if r.topic == topic]


def transferred_case(bus: FakeBus) -> tuple[str, list[Record]]:
    """赤峰市 registers a case and transfers it to 松山区; returns the case id and what
    赤峰市 sent 松山区."""
    city = bus.nodes["150400"]
    reg = city.register("150400.xfj", sample_file(bus))
    city.execute(reg.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj"))
    return reg.case_id, inbox_of(bus, "150400", "150404")


def test_a_batch_is_applied_in_order_exactly_once_with_garbage_and_duplicates_inside(
    topology: Topology, tmp_path: Path
) -> None:
    """The inbox guarantees of issue 4 hold inside one group commit."""
    bus = FakeBus(topology, ["150400", "150404", "150000"], tmp_path)
    city, county, province = bus.nodes["150400"], bus.nodes["150404"], bus.nodes["150000"]
    case_id, to_county = transferred_case(bus)
    registered, transferred = inbox_of(bus, "150400", "150000")
    for value, headers in to_county:
        county.receive(value, headers)
    county.execute(case_id, decide_accept, AcceptCase("150404.zj"))
    for value, headers in inbox_of(bus, "150404", "150400"):
        city.receive(value, headers)
    forwarded = inbox_of(bus, "150400", "150000")[2:]  # 受理 and its notice, passed on
    assert forwarded
    forged = (transferred[0].replace(b"150404.zj", b"150404.rs"), transferred[1])
    assert forged != transferred
    batch = [
        *forwarded,  # arrive before their case: wait (parked) ...
        (b"\x00garbage", [("ce_id", b"nonsense")]),
        registered,
        registered,  # a redelivery inside the same batch
        transferred,  # ... and are applied right after this one, in the same transaction
        forged,  # a known event id with other content
    ]
    receipts = province.receive_batch(batch)
    assert receipts == [DeliveryOutcome.PARKED] * len(forwarded) + [
        DeliveryOutcome.DEAD_LETTERED,
        DeliveryOutcome.APPLIED,
        DeliveryOutcome.DUPLICATE,
        DeliveryOutcome.APPLIED,
        DeliveryOutcome.DEAD_LETTERED,
    ]
    case = province.case(case_id)
    events = 2 + len(forwarded)
    assert case.status.value == "ACCEPTED" and case.version == events
    types = [e.type for _, e in province.history(case_id)]
    assert types[:3] == ["PetitionRegistered", "CaseTransferred", "CaseAccepted"]
    stats = province.store.stats()
    assert (stats["case_events"], stats["inbox"], stats["parked"]) == (events, events, 0)
    # the whole batch once more: duplicates (and the same two dead letters), nothing applied
    again = province.receive_batch(batch)
    assert again.count(DeliveryOutcome.DUPLICATE) == events + 1
    assert province.store.stats()["case_events"] == events


def test_a_record_that_trips_a_bug_fails_alone_and_the_rest_of_its_batch_is_applied(
    topology: Topology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = FakeBus(topology, ["150400", "150404"], tmp_path)
    city, county = bus.nodes["150400"], bus.nodes["150404"]
    case_id, to_county = transferred_case(bus)
    later = city.register("150400.xfj", sample_file(bus, place="150400"))
    city.execute(later.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj"))
    to_county = inbox_of(bus, "150400", "150404")
    assert len(to_county) == 2
    poisoned = to_county[1]  # the second transfer
    real_apply = county._apply

    def buggy_apply(tx, event, data, headers):  # type: ignore[no-untyped-def]
        if data == poisoned[0]:
            raise RuntimeError("a bug, not bad input")
        return real_apply(tx, event, data, headers)

    monkeypatch.setattr(county, "_apply", buggy_apply)
    with pytest.raises(RuntimeError, match="a bug"):
        county.receive_batch(to_county)
    # the record before the poisoned one committed on its own; the poisoned one did not
    assert county.case(case_id).holder == "150404.zj"
    assert county.store.stats()["inbox"] == 1
    monkeypatch.setattr(county, "_apply", real_apply)
    assert county.receive_batch(to_county) == [DeliveryOutcome.DUPLICATE, DeliveryOutcome.APPLIED]
    assert county.case(later.case_id).holder == "150404.zj"


def test_the_fold_cache_follows_writes_made_by_another_service_on_the_same_database(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400", "150404"], tmp_path)
    county = bus.nodes["150404"]
    case_id, to_county = transferred_case(bus)
    county.receive_batch(to_county)
    assert county.folds.get(case_id) == county.case(case_id)  # now cached
    # a second process (here: a second service) on the same database accepts the case
    twin = NodeService(
        "150404", topology, NodeStore(county.store.url), EventCodec(), bus.topics, clock=bus.clock
    )
    twin.execute(case_id, decide_accept, AcceptCase("150404.zj"))
    case = county.case(case_id)
    assert case.status.value == "ACCEPTED"
    assert case.version == county.folds.get(case_id).version + 0 == twin.case(case_id).version
    twin.store.close()


def test_a_refused_command_leaves_nothing_in_the_fold_cache(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400", "150404"], tmp_path)
    city = bus.nodes["150400"]
    reg = city.register("150400.xfj", sample_file(bus))
    before = city.case(reg.case_id)
    with pytest.raises(DomainError):  # 赤峰市's office cannot accept for 松山区's body
        city.execute(reg.case_id, decide_accept, AcceptCase("150404.zj"))
    assert city.case(reg.case_id) == before
    assert city.folds.get(reg.case_id) == before


def test_a_record_refused_again_after_a_redelivery_is_listed_once(
    topology: Topology, tmp_path: Path
) -> None:
    """Issue 4: a malformed record read twice (crash before the offset commit) or a dead letter
    re-published by the relay is one dead letter, not two."""
    bus = FakeBus(topology, ["150404"], tmp_path)
    county = bus.nodes["150404"]
    garbage = (b"\x00garbage", [("ce_id", b"x")])
    other = (b"\x00other garbage", [])
    county.receive_batch([garbage], ["t.inbox:0:7"])
    county.receive_batch([garbage, other], ["t.inbox:0:7", "t.inbox:0:8"])  # redelivered
    rows = [r for r in county.store.outbox.pending() if r.topic == bus.topics.deadletter("150404")]
    letters = [
        DeadLetter(
            n, dict(r.headers)["xinfang_dlq_reason"].decode(), "", b"k", r.value, r.headers, 0
        )
        for n, r in enumerate([*rows, rows[0]])  # and the relay re-published the first one
    ]
    assert [x.header("xinfang_dlq_origin") for x in letters] == [
        "t.inbox:0:7",
        "t.inbox:0:7",
        "t.inbox:0:8",
        "t.inbox:0:7",
    ]
    kept = distinct(letters)
    assert [(x.offset, x.value) for x in kept] == [(0, garbage[0]), (2, other[0])]
    # the origin is ours, not the sender's: re-driving sends the original headers only
    assert kept[0].original_headers == [("ce_id", b"x")]
    # without an origin (a letter written before origins existed) nothing is merged
    plain = [replace(x, headers=list(x.original_headers)) for x in letters]
    assert len(distinct(plain)) == 4


def test_the_deadline_watcher_looks_only_at_cases_whose_deadline_has_come(
    topology: Topology, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R3 at 松山区: the acceptance notice is due 15 days after the transfer; before that the
    watcher does not even load the case, after it the deadline is reported once."""
    bus = FakeBus(topology, ["150400", "150404"], tmp_path)
    city, county = bus.nodes["150400"], bus.nodes["150404"]
    case_id, to_county = transferred_case(bus)
    county.receive_batch(to_county)
    [row] = county.store.cases.list_cases()
    case = county.case(case_id)
    assert row["next_check_at"] == case.acceptance_due
    [city_row] = city.store.cases.list_cases()
    assert city_row["next_check_at"] is None  # nothing 赤峰市's bodies owe on it
    loaded: list[str] = []
    real_load = county._load

    def counting_load(tx, case_id):  # type: ignore[no-untyped-def]
        loaded.append(case_id)
        return real_load(tx, case_id)

    monkeypatch.setattr(county, "_load", counting_load)
    assert county.sweep_deadlines() == 0
    assert loaded == []
    assert case.acceptance_due is not None
    bus.clock.now = case.acceptance_due + timedelta(minutes=1)
    assert county.sweep_deadlines() >= 1
    assert loaded == [case_id]
    types = [e.type for _, e in county.history(case_id)]
    assert types.count("DeadlineMissed") == 1
    assert county.sweep_deadlines() == 0  # reported once

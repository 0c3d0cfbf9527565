"""The node's inbox: duplicates change nothing, bad input is dead-lettered, early events wait."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from xinfang.domain.commands import AcceptCase, TransferCase
from xinfang.domain.deciders import decide_accept, decide_transfer
from xinfang.domain.events import CaseAccepted, EventHeader
from xinfang.domain.routing import sender_refusal
from xinfang.domain.topology import Topology

from .fakes import FakeBus
from .test_slice_in_memory import sample_file


def dead_letters(bus: FakeBus, division: str) -> list[tuple[str, bytes]]:
    node = bus.nodes[division]
    rows = [r for r in node.store.outbox.pending() if r.topic == bus.topics.deadletter(division)]
    return [(dict(r.headers)["xinfang_dlq_reason"].decode(), r.value) for r in rows]


def test_garbage_is_dead_lettered_with_reason_and_original_bytes(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150404"], tmp_path)
    county = bus.nodes["150404"]
    assert county.receive(b"\x00\x01garbage", [("ce_id", b"x")]).value == "dead_lettered"
    assert county.receive(b"\xc3\x01" + b"\xff" * 8 + b"abc", []).value == "dead_lettered"
    assert dead_letters(bus, "150404") == [
        ("not-single-object-encoding", b"\x00\x01garbage"),
        ("unknown-schema-fingerprint", b"\xc3\x01" + b"\xff" * 8 + b"abc"),
    ]
    assert county.store.stats()["case_events"] == 0


def test_known_event_id_with_different_content_is_dead_lettered(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400", "150404"], tmp_path)
    city, county = bus.nodes["150400"], bus.nodes["150404"]
    reg = city.register("150400.xfj", sample_file(bus))
    city.execute(reg.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj"))
    [row] = [r for r in city.store.outbox.pending() if r.topic == bus.topics.inbox("150404")]
    assert county.receive(row.value, row.headers).value == "applied"
    forged = row.value.replace(b"150404.zj", b"150404.rs")
    assert forged != row.value
    assert county.receive(forged, row.headers).value == "dead_lettered"
    # not signed by the city's key: refused before the event id is even looked at (decision 021)
    assert [reason for reason, _ in dead_letters(bus, "150404")] == ["bad-signature"]
    assert county.case(reg.case_id).holder == "150404.zj"


def test_event_from_own_division_or_unknown_source_is_refused(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400"], tmp_path)
    city = bus.nodes["150400"]
    reg = city.register("150400.xfj", sample_file(bus))
    [own] = [r for r in city.store.outbox.pending() if r.topic == bus.topics.log("150400")]
    assert city.receive(own.value, own.headers).value == "dead_lettered"
    assert city.case(reg.case_id).version == 1


def test_event_arriving_before_its_case_waits_and_is_applied_in_order(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400", "150404", "150000"], tmp_path)
    city, county, province = bus.nodes["150400"], bus.nodes["150404"], bus.nodes["150000"]
    reg = city.register("150400.xfj", sample_file(bus))
    city.execute(reg.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj"))
    to_county = [r for r in city.store.outbox.pending() if r.topic == bus.topics.inbox("150404")]
    to_province = [r for r in city.store.outbox.pending() if r.topic == bus.topics.inbox("150000")]
    for row in to_county:
        county.receive(row.value, row.headers)
    county.execute(reg.case_id, decide_accept, AcceptCase("150404.zj"))
    accepted = [r for r in county.store.outbox.pending() if r.topic == bus.topics.inbox("150400")]
    for row in accepted:
        city.receive(row.value, row.headers)
    forwarded = [
        r
        for r in city.store.outbox.pending()
        if r.topic == bus.topics.inbox("150000") and r not in to_province
    ]
    # the province gets the county's acceptance before it has heard of the case
    for row in forwarded:
        assert province.receive(row.value, row.headers).value == "parked"
    assert province.store.stats()["parked"] == len(forwarded)
    for row in to_province:
        assert province.receive(row.value, row.headers).value == "applied"
    assert province.store.stats()["parked"] == 0
    assert province.case(reg.case_id).status.value == "ACCEPTED"
    types = [e.type for _, e in province.history(reg.case_id)]
    assert types[:3] == ["PetitionRegistered", "CaseTransferred", "CaseAccepted"]
    # redelivering a formerly parked event is now a plain duplicate
    assert province.receive(forwarded[0].value, forwarded[0].headers).value == "duplicate"


def test_events_from_unrelated_nodes_or_foreign_actors_are_refused(topology: Topology) -> None:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    event = CaseAccepted(
        header=EventHeader("e", "c", "150402", "150402.zj", at, 1, ""),
        body="150402.zj",
        handling_due=at,
    )
    assert sender_refusal(event, "150404", topology) == "source-not-related"  # a sibling county
    assert sender_refusal(event, "150400", topology) is None  # its parent
    forged = replace(event, header=replace(event.header, actor="150400.xfj"))
    assert sender_refusal(forged, "150400", topology) == "actor-not-of-source"
    assert sender_refusal(event, "150402", topology) == "own-event-echoed"

"""Issue 12 items 1 and 2 at the node (decisions 021, 022): every record signed by its author,
verified before anything of it is stored; strict per-source chains over the per-destination
pointers; forged records never block the genuine ones. Real encoded records through
`NodeService.receive`, as the inbox consumer hands them over."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from xinfang.api.handlers import NodeApi
from xinfang.chain.keys import Keyring, NodeKey
from xinfang.chain.keysets import PublishedKey, single_key_set
from xinfang.chain.links import record_hash
from xinfang.chain.record_signing import (
    CASE_EVENT_COVERED,
    PREV_TO_HEADER,
    RECORD_COVERED,
    SIG_HEADER,
    TO_HEADER,
    dead_letter_covered,
    record_signature_problem,
    sign_record,
)
from xinfang.codec.wire import EventCodec
from xinfang.devtools.staff import InProcessStaff
from xinfang.domain.commands import AcceptCase, IssueOpinion, TransferCase
from xinfang.domain.deciders import decide_accept, decide_opinion, decide_transfer
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import Outcome
from xinfang.node.case_sealer import without_wrap
from xinfang.store.records import Headers, OutboxRow

from .fakes import FakeBus
from .test_slice_in_memory import sample_file

CITY, COUNTY, OTHER_COUNTY, PROVINCE = "150400", "150404", "150402", "150000"
CODEC = EventCodec()
OPINION = IssueOpinion("150404.zj", Outcome.SUPPORTED, "经调查属实")


def _rows(bus: FakeBus, source: str, topic: str) -> list[OutboxRow]:
    return [r for r in bus.nodes[source].store.outbox.pending(10_000) if r.topic == topic]


def _reasons(bus: FakeBus, division: str) -> list[str]:
    rows = _rows(bus, division, bus.topics.deadletter(division))
    return [dict(r.headers)["xinfang_dlq_reason"].decode() for r in rows]


def _snapshot(bus: FakeBus, division: str) -> tuple[dict[str, int], object]:
    node = bus.nodes[division]
    with node.store.transaction() as tx:
        chain = tx.inbox.chain_source(CITY)
    stats = node.store.stats()
    stats.pop("outbox_pending")  # its dead letter is the one thing a refusal writes
    return stats, chain


@pytest.fixture
def bus(topology: Topology, tmp_path: Path) -> FakeBus:
    return FakeBus(topology, [PROVINCE, CITY, COUNTY, OTHER_COUNTY], tmp_path)


def _transferred(bus: FakeBus) -> tuple[str, list[OutboxRow]]:
    """A case registered at the city and transferred to the county: the county's inbox rows
    (registration is not sent down, so: CaseTransferred and what follows), not delivered."""
    city = bus.nodes[CITY]
    reg = city.register("150400.xfj", sample_file(bus))
    city.execute(reg.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj"))
    return reg.case_id, _rows(bus, CITY, bus.topics.inbox(COUNTY))


def _resigned(key: NodeKey, value: bytes, headers: Headers) -> Headers:
    return sign_record(key, value, headers, RECORD_COVERED)


def test_records_carry_addressing_and_one_signature_on_log_and_inbox_copies(
    bus: FakeBus,
) -> None:
    case_id, to_county = _transferred(bus)
    city = bus.nodes[CITY]
    log = _rows(bus, CITY, bus.topics.log(CITY))
    to_province = _rows(bus, CITY, bus.topics.inbox(PROVINCE))
    transfer = next(r for r in log if b"CaseTransferred" in dict(r.headers)["ce_type"])
    copies = [r for r in [*to_county, *to_province] if r.value == transfer.value]
    # the same signed headers; an inbox copy adds only its wrapped case key (decision 028)
    assert len(copies) == 2 and all(without_wrap(c.headers) == transfer.headers for c in copies)
    headers = dict(transfer.headers)
    assert headers[TO_HEADER] == f"{PROVINCE},{COUNTY}".encode()
    # the registration went to the province only: seq 1; nothing before to the county
    assert headers[PREV_TO_HEADER] == f"{PROVINCE}:1,{COUNTY}:0".encode()
    ring = bus.keyring
    assert (
        record_signature_problem(
            transfer.value, transfer.headers, CITY, lambda d, k: ring.lookup(d, k, city.clock())
        )
        is None
    )
    # the public status feed record is signed by the holder's node too
    [status, *_] = _rows(bus, CITY, bus.topics.public_status())
    assert (
        record_signature_problem(
            status.value, status.headers, CITY, lambda d, k: ring.lookup(d, k, city.clock())
        )
        is None
    )
    assert case_id


@pytest.mark.parametrize(
    "forgery",
    ["unsigned", "altered-value", "unknown-key", "revoked-key", "expired-key", "header-mismatch"],
)
def test_a_record_not_signed_by_a_valid_published_key_changes_nothing(
    bus: FakeBus, forgery: str
) -> None:
    _, [transfer, *_] = _transferred(bus)
    value, headers = transfer.value, list(transfer.headers)
    city_key = bus.keys[CITY]
    expected = "bad-signature"
    if forgery == "unsigned":
        headers, expected = [(k, v) for k, v in headers if k != SIG_HEADER], "unsigned"
    elif forgery == "altered-value":  # content changed, seq/prev_hash as the genuine record's
        event = CODEC.decode(value).event
        value = CODEC.encode(replace(event, to_body="150404.rs"))
        assert value != transfer.value
    elif forgery == "unknown-key":
        headers = _resigned(NodeKey.generate(), value, headers)
    elif forgery in ("revoked-key", "expired-key"):
        now = bus.clock()
        ended = {"revoked_at": now - timedelta(hours=1)}
        if forgery == "expired-key":
            ended = {"not_after": now - timedelta(hours=1)}
        gone = replace(PublishedKey(city_key.public_raw), **ended)  # type: ignore[arg-type]
        new_set = replace(single_key_set(CITY, NodeKey.generate().public_raw), keys=(gone,))
        bus.nodes[COUNTY].chain.keyring = Keyring.of(
            [new_set, *(bus.keyring.key_set(d) for d in (PROVINCE, COUNTY))]  # type: ignore[misc]
        )
    elif forgery == "header-mismatch":  # signed by the genuine key, but another case named
        headers = [(k, b"150400-2026-999999" if k == "ce_subject" else v) for k, v in headers]
        headers, expected = _resigned(city_key, value, headers), "header-mismatch"
    before = _snapshot(bus, COUNTY)
    assert bus.nodes[COUNTY].receive(value, headers).value == "dead_lettered"
    assert _reasons(bus, COUNTY) == [expected]
    assert _snapshot(bus, COUNTY) == before  # no inbox entry, no chain state, no case


def test_a_record_not_addressed_to_the_node_is_refused(bus: FakeBus) -> None:
    _, [transfer, *_] = _transferred(bus)  # addressed to the province and 150404 only
    assert bus.nodes[OTHER_COUNTY].receive(transfer.value, transfer.headers).value == (
        "dead_lettered"
    )
    assert _reasons(bus, OTHER_COUNTY) == ["not-addressed"]
    assert bus.nodes[OTHER_COUNTY].store.stats()["case_events"] == 0


def test_a_forged_record_with_the_genuine_id_and_seq_does_not_block_the_genuine_one(
    bus: FakeBus,
) -> None:
    case_id, [transfer, *_] = _transferred(bus)
    county = bus.nodes[COUNTY]
    event = CODEC.decode(transfer.value).event
    forged = CODEC.encode(replace(event, to_body="150404.rs"))  # same id, seq, prev_hash
    assert county.receive(forged, transfer.headers).value == "dead_lettered"
    assert county.receive(forged, transfer.headers).value == "dead_lettered"  # again
    assert county.receive(transfer.value, transfer.headers).value == "applied"
    assert county.case(case_id).holder == "150404.zj"
    assert _reasons(bus, COUNTY) == ["bad-signature", "bad-signature"]


def test_a_gap_parks_later_records_and_they_drain_in_order_when_it_fills(
    bus: FakeBus,
) -> None:
    case_id, _ = _transferred(bus)
    bus.settle()
    county, city = bus.nodes[COUNTY], bus.nodes[CITY]
    county.execute(case_id, decide_accept, AcceptCase("150404.zj"))
    county.execute(case_id, decide_opinion, OPINION)
    rows = _rows(bus, COUNTY, bus.topics.inbox(CITY))
    assert len(rows) >= 2
    first, rest = rows[0], rows[1:]
    for row in reversed(rest):  # everything but the first, newest first
        assert city.receive(row.value, row.headers).value == "parked"
    assert city.store.stats()["chain_parked"] == len(rest)
    assert city.case(case_id).status.value == "TRANSFERRED"
    assert city.receive(first.value, first.headers).value == "applied"
    assert city.store.stats()["chain_parked"] == 0
    applied = [e.header.seq for row, e in city.history(case_id) if row.source == COUNTY]
    assert applied == sorted(applied) and len(applied) == len(rows)
    assert city.case(case_id).status.value == "OPINION_ISSUED"
    for row in rows:  # a redelivery of any of them is a duplicate
        assert city.receive(row.value, row.headers).value == "duplicate"
    assert _reasons(bus, CITY) == []


def test_a_replay_signed_by_the_genuine_key_is_refused_without_touching_the_chain(
    bus: FakeBus,
) -> None:
    """A record whose pointer names an earlier record than the last applied (a replay, or the
    source's key misused) is refused; the genuine record after it still applies."""
    case_id, [transfer, *more] = _transferred(bus)
    county = bus.nodes[COUNTY]
    assert county.receive(transfer.value, transfer.headers).value == "applied"
    event = CODEC.decode(transfer.value).event
    again = CODEC.encode(replace(event, header=replace(event.header, event_id="replayed")))
    renamed = [(k, b"replayed" if k == "ce_id" else v) for k, v in transfer.headers]
    replay = _resigned(bus.keys[CITY], again, renamed)
    before = _snapshot(bus, COUNTY)
    assert county.receive(again, replay).value == "dead_lettered"
    assert _reasons(bus, COUNTY) == ["chain-seq-regressed"]
    assert _snapshot(bus, COUNTY) == before
    for row in more:
        assert county.receive(row.value, row.headers).value == "applied"
    assert county.case(case_id).holder == "150404.zj"


def test_parking_is_bounded_per_source(bus: FakeBus) -> None:
    case_id, _ = _transferred(bus)
    bus.settle()
    county, city = bus.nodes[COUNTY], bus.nodes[CITY]
    city.chain.park_limit = 1
    county.execute(case_id, decide_accept, AcceptCase("150404.zj"))
    county.execute(case_id, decide_opinion, OPINION)
    rows = _rows(bus, COUNTY, bus.topics.inbox(CITY))
    assert len(rows) >= 3
    assert city.receive(rows[1].value, rows[1].headers).value == "parked"
    assert city.receive(rows[2].value, rows[2].headers).value == "dead_lettered"
    assert _reasons(bus, CITY) == ["chain-gap-overflow"]


def test_a_gap_open_too_long_is_an_alarm_on_health(bus: FakeBus) -> None:
    case_id, _ = _transferred(bus)
    bus.settle()
    county, city = bus.nodes[COUNTY], bus.nodes[CITY]
    county.execute(case_id, decide_accept, AcceptCase("150404.zj"))
    county.execute(case_id, decide_opinion, OPINION)
    first, second = _rows(bus, COUNTY, bus.topics.inbox(CITY))[:2]
    api = InProcessStaff(NodeApi(city, status=city.chain_health))  # details: system-admin
    assert city.receive(second.value, second.headers).value == "parked"
    status, health = api.dispatch("GET", "/health", None)
    assert (status, health["status"], health["chain"]["alarms"]) == (200, "ok", [])
    bus.clock.advance(seconds=city.gap_alarm_s + 1)
    status, health = api.dispatch("GET", "/health", None)
    assert (status, health["status"]) == (200, "degraded")
    [gap] = health["chain"]["gaps"]
    waited = CODEC.decode(first.value).event.header.seq
    assert (gap["source"], gap["waiting_for_seq"], gap["parked"]) == (COUNTY, waited, 1)
    assert gap["age_s"] > city.gap_alarm_s
    [alarm] = health["chain"]["alarms"]
    assert COUNTY in alarm and str(waited) in alarm
    assert city.receive(first.value, first.headers).value == "applied"
    status, health = api.dispatch("GET", "/health", None)
    assert (health["status"], health["chain"]["gaps"]) == ("ok", [])


def test_dead_letters_are_signed_by_the_refusing_node_and_keep_the_original_signature(
    bus: FakeBus,
) -> None:
    from xinfang.ops.deadletters import DeadLetter

    _, [transfer, *_] = _transferred(bus)
    county = bus.nodes[COUNTY]
    event = CODEC.decode(transfer.value).event
    forged = CODEC.encode(replace(event, to_body="150404.rs"))
    assert county.receive(forged, transfer.headers).value == "dead_lettered"
    [row] = _rows(bus, COUNTY, bus.topics.deadletter(COUNTY))
    covered = dead_letter_covered(row.headers)
    assert set(covered) >= {"xinfang_dlq_reason", "xinfang_dlq_node", *CASE_EVENT_COVERED}
    ring = bus.keyring
    assert (
        record_signature_problem(
            row.value,
            row.headers,
            COUNTY,
            lambda d, k: ring.lookup(d, k, county.clock()),
            required=("xinfang_dlq_reason", "xinfang_dlq_node"),
        )
        is None
    )
    letter = DeadLetter(0, "bad-signature", "", b"k", row.value, row.headers, 0)
    assert letter.original_headers == transfer.headers  # what a re-drive sends
    assert record_hash(row.value) == record_hash(forged)


def test_redrive_says_why_a_record_would_be_refused_again(bus: FakeBus) -> None:
    """`xinfang dead-letters --redrive` (ops/deadletters.py `judge`): never a record its author
    did not sign; a chain refusal only if it fits the node's chain of that source now."""
    from xinfang.ops.deadletters import DeadLetter, judge

    _, [transfer, *_] = _transferred(bus)
    county = bus.nodes[COUNTY]
    event = CODEC.decode(transfer.value).event
    altered = CODEC.encode(replace(event, to_body="150404.rs"))
    assert county.receive(altered, transfer.headers).value == "dead_lettered"
    assert county.receive(transfer.value, transfer.headers).value == "applied"
    again = CODEC.encode(replace(event, header=replace(event.header, event_id="again")))
    renamed = [(k, b"again" if k == "ce_id" else v) for k, v in transfer.headers]
    assert county.receive(again, _resigned(bus.keys[CITY], again, renamed)).value == (
        "dead_lettered"
    )
    rows = _rows(bus, COUNTY, bus.topics.deadletter(COUNTY))
    forged, replayed = (
        DeadLetter(n, dict(r.headers)["xinfang_dlq_reason"].decode(), "", b"k", r.value,
                   r.headers, 0)
        for n, r in enumerate(rows)
    )  # fmt: skip
    assert (forged.reason, replayed.reason) == ("bad-signature", "chain-seq-regressed")
    verdict = judge(forged, COUNTY, head=0)
    assert not verdict.redrive and "refused again" in verdict.en
    seq = event.header.seq
    assert not judge(replayed, COUNTY, head=seq).redrive  # the chain moved past it
    assert not judge(replayed, COUNTY, head=None).redrive  # the chain is not known
    assert judge(replayed, COUNTY, head=0).redrive  # e.g. a node restored from a backup
    assert judge(replace(replayed, reason="source-not-related"), COUNTY, head=None).redrive


def test_a_source_whose_pointers_restart_is_followed_and_replays_stay_refused(
    bus: FakeBus,
) -> None:
    """After migration 0008 (or a restored database) a sender's pointers start at 0 again: its
    next signed record names 0 as previous. It is applied (else every later record of the
    source would park for ever); an older record is still refused."""
    from xinfang.store.tables import chain_pointers

    case_id, _ = _transferred(bus)
    bus.settle()
    county, city = bus.nodes[COUNTY], bus.nodes[CITY]
    county.execute(case_id, decide_accept, AcceptCase("150404.zj"))
    bus.settle()
    with county.store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(chain_pointers.delete())
    county.execute(case_id, decide_opinion, OPINION)
    [row, *_] = _rows(bus, COUNTY, bus.topics.inbox(CITY))
    assert dict(row.headers)[PREV_TO_HEADER] == f"{CITY}:0".encode()
    assert city.receive(row.value, row.headers).value == "applied"
    assert city.case(case_id).status.value == "OPINION_ISSUED"
    [(accepted, earlier)] = [
        (v, h)
        for v, h in bus.delivered[bus.topics.inbox(CITY)]
        if dict(h)["ce_type"].endswith(b".CaseAccepted")
    ]
    event = CODEC.decode(accepted).event
    old = CODEC.encode(replace(event, header=replace(event.header, event_id="old-again")))
    headers = [(k, b"old-again" if k == "ce_id" else v) for k, v in earlier]
    assert city.receive(old, _resigned(bus.keys[COUNTY], old, headers)).value == "dead_lettered"
    assert _reasons(bus, CITY) == ["chain-seq-regressed"]


def test_a_chain_refusal_names_where_the_record_was_read(bus: FakeBus) -> None:
    """So a refusal repeated after a redelivery is listed once (ops/deadletters.py `distinct`)."""
    _, [transfer, *_] = _transferred(bus)
    county = bus.nodes[COUNTY]
    assert county.receive(transfer.value, transfer.headers).value == "applied"
    event = CODEC.decode(transfer.value).event
    again = CODEC.encode(replace(event, header=replace(event.header, event_id="again")))
    renamed = [(k, b"again" if k == "ce_id" else v) for k, v in transfer.headers]
    replay = _resigned(bus.keys[CITY], again, renamed)
    assert county.receive_batch([(again, replay)], ["t.inbox:0:41"])[0].value == "dead_lettered"
    [row] = _rows(bus, COUNTY, bus.topics.deadletter(COUNTY))
    headers = dict(row.headers)
    assert (headers["xinfang_dlq_reason"], headers["xinfang_dlq_origin"]) == (
        b"chain-seq-regressed",
        b"t.inbox:0:41",
    )


def test_a_stolen_keys_illegal_act_does_not_block_the_genuine_record_at_its_seq(
    bus: FakeBus,
) -> None:
    """Issue 12 item 5 (f) at the receiver: the county's genuine key signs a 终结 of a case the
    city holds, placed exactly where the county's next genuine record goes (same seq, same
    pointer, valid link). The rules refuse it (`unauthorised-act`); the genuine record at that
    seq then takes its place, and the county's chain goes on from it."""
    from xinfang.domain.events import CaseClosed
    from xinfang.domain.vocabulary import CloseReason

    case_id, _ = _transferred(bus)
    city, county = bus.nodes[CITY], bus.nodes[COUNTY]
    other = replace(sample_file(bus, place="150400"), request="请求公开征地批复文件")
    held = city.register("150400.xfj", other).case_id  # never leaves the city
    bus.settle()
    county.execute(case_id, decide_accept, AcceptCase("150404.zj"))
    county.execute(case_id, decide_opinion, OPINION)
    genuine = _rows(bus, COUNTY, bus.topics.inbox(CITY))
    accepted = CODEC.decode(genuine[0].value).event
    closing = CaseClosed(
        header=replace(accepted.header, event_id="forged-1", case_id=held, causation_id=""),
        reason=CloseReason.PETITIONER_DECEASED,
    )
    value = CODEC.encode(closing)
    names = {"ce_id": b"forged-1", "ce_subject": held.encode(),
             "ce_type": f"xinfang.events.{CaseClosed.TYPE}".encode()}  # fmt: skip
    headers = [(k, names.get(k, v)) for k, v in genuine[0].headers if k != SIG_HEADER]
    signer = county.chain.signer
    assert signer is not None
    forged = _resigned(signer, value, headers)
    outcome = city.receive(value, forged).value
    assert (outcome, _reasons(bus, CITY)) == ("refused", ["unauthorised-act"])
    assert _reasons(bus, CITY) == ["unauthorised-act"]
    for row in genuine:  # the county's own records, at the forged one's seq and after
        assert city.receive(row.value, row.headers).value == "applied"
    assert city.case(case_id).status.value == "OPINION_ISSUED"
    assert city.case(held).status.value == "REGISTERED"
    assert _reasons(bus, CITY) == ["unauthorised-act"]

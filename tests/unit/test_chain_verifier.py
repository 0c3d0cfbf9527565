"""The one chain verifier (xinfang.chain.verifier): placing a record after its source's head,
a whole log's chain, and signed records — the rules the node, `audit verify` and the chaos
checker share (docs/decisions/013-chain-package.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from xinfang.chain.keys import NodeKey
from xinfang.chain.links import GENESIS, Head, record_hash
from xinfang.chain.signing import sign_checkpoint
from xinfang.chain.verifier import (
    Entry,
    LogChain,
    Placed,
    Step,
    is_resent,
    sequence_problem,
    signature_problem,
    step,
)
from xinfang.domain.events import CHAIN_CASE_ID, EventHeader
from xinfang.topics import RESENT_HEADER

SOURCE = "150404"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def header(seq: int, prev_hash: str, case_id: str = "150404-2026-000001") -> EventHeader:
    return EventHeader(f"e{seq}", case_id, SOURCE, "150404.xfj", T0, seq, prev_hash)


def log_of(n: int) -> list[tuple[int, bytes, str]]:
    """(seq, bytes, prev_hash) of a well-linked log of `n` records."""
    out: list[tuple[int, bytes, str]] = []
    prev = ""
    for seq in range(1, n + 1):
        data = f"record {seq}".encode()
        out.append((seq, data, prev))
        prev = record_hash(data)
    return out


def entry(seq: int, data: bytes, prev: str, offset: int, event_id: str | None = None) -> Entry:
    return Entry(
        seq,
        record_hash(data),
        prev,
        "xinfang.150404.log",
        0,
        offset,
        event_id or f"e{seq}",
        "CaseAccepted",
        0,
    )


def chain_of(records: list[tuple[int, bytes, str]]) -> LogChain:
    chain = LogChain()
    for offset, (seq, data, prev) in enumerate(records):
        chain.add(entry(seq, data, prev, offset))
    return chain


# -- one record after the source's head ---------------------------------------------------------
def test_a_record_that_follows_and_links_is_next() -> None:
    head = Head(3, record_hash(b"three"))
    assert step(head, 4, record_hash(b"three")) is Step.NEXT
    assert sequence_problem(head, header(4, record_hash(b"three"))) is None
    assert step(GENESIS, 1, "") is Step.NEXT  # a log read from its start: seq 1 links to ""
    assert step(None, 7, "anything") is Step.FIRST  # nothing known of the source yet


def test_a_bad_link_is_refused_as_chain_broken() -> None:
    head = Head(3, record_hash(b"three"))
    assert step(head, 4, "f" * 64) is Step.BROKEN
    problem = sequence_problem(head, header(4, "f" * 64))
    assert problem is not None and problem.code == "chain-broken"
    assert step(GENESIS, 1, "f" * 64) is Step.BROKEN


def test_a_gap_is_told_apart_and_accepted_by_the_node_today() -> None:
    head = Head(3, record_hash(b"three"))
    assert step(head, 6, "f" * 64) is Step.GAP  # the link cannot be checked yet
    assert sequence_problem(head, header(6, "f" * 64)) is None


def test_a_replayed_sequence_number_is_refused() -> None:
    head = Head(3, record_hash(b"three"))
    assert step(head, 3, "x") is Step.BEHIND
    problem = sequence_problem(head, header(2, "x"))
    assert problem is not None and problem.code == "chain-seq-regressed"


def test_a_resent_record_below_the_head_is_its_own_step() -> None:
    head = Head(5, record_hash(b"five"))
    headers = [(RESENT_HEADER, b"1"), ("ce_id", b"e3")]
    assert is_resent(headers) and not is_resent([("ce_id", b"e3")])
    assert step(head, 3, "x", resent=True) is Step.RESENT
    assert step(head, 3, "x", resent=False) is Step.BEHIND
    assert step(head, 5, "x", resent=True) is Step.BEHIND  # the head itself is never re-sent


# -- a whole log --------------------------------------------------------------------------------
def test_a_good_log_has_no_gap_and_no_broken_link() -> None:
    chain = chain_of(log_of(5))
    assert chain.missing() == [] and chain.broken_links() == []
    assert chain.max_seq == 5 and chain.redeliveries == 0


def test_a_republication_is_harmless_and_a_different_record_conflicts() -> None:
    records = log_of(3)
    chain = chain_of(records)
    seq, data, prev = records[1]
    assert chain.add(entry(seq, data, prev, 10)).placed is Placed.REPUBLISHED
    assert chain.add(entry(seq, b"forged", prev, 11)).placed is Placed.CONFLICT
    assert chain.redeliveries == 1 and len(chain.candidates(2)) == 2


def test_a_gap_in_a_log_is_missing_sequence_numbers() -> None:
    records = log_of(6)
    chain = chain_of(records[:2] + records[4:])  # seq 3 and 4 deleted
    assert chain.missing() == [3, 4]
    assert chain.broken_links() == []  # seq 5's link cannot be judged: left to the gap


def test_an_altered_record_breaks_its_successors_link() -> None:
    records = log_of(4)
    seq, _, prev = records[1]
    chain = chain_of([records[0], (seq, b"altered", prev), *records[2:]])
    [(broken, pred)] = chain.broken_links()
    assert (broken.seq, pred is not None and pred.seq) == (3, 2)


def test_seq_1_must_link_to_nothing_unless_read_from_a_time() -> None:
    [(first, pred)] = chain_of([(1, b"one", "f" * 64)]).broken_links()
    assert (first.seq, pred) == (1, None)
    anchored = LogChain(anchored=True)
    anchored.add(entry(7, b"seven", "f" * 64, 0))
    assert anchored.broken_links() == [] and anchored.missing() == []


def test_a_late_record_and_a_replayed_event_id_are_reported_to_the_caller() -> None:
    records = log_of(3)
    chain = chain_of([records[0], records[2]])
    seq, data, prev = records[1]
    late = chain.add(entry(seq, data, prev, 9))
    assert late.placed is Placed.NEW and late.behind is not None and late.behind.seq == 3
    replayed = chain.add(entry(4, b"four", record_hash(records[2][1]), 10, event_id="e1"))
    assert replayed.replay_of == 1


# -- signed records -----------------------------------------------------------------------------
def test_a_checkpoint_signed_by_the_expected_key_verifies() -> None:
    key = NodeKey.generate()
    checkpoint = sign_checkpoint(key, header(5, record_hash(b"four"), CHAIN_CASE_ID))
    assert signature_problem(checkpoint, key.public_raw) is None
    assert signature_problem(checkpoint, None) is None  # trust on first use: the key it names


def test_a_bad_signature_and_a_wrong_key_are_refused() -> None:
    key = NodeKey.generate()
    checkpoint = sign_checkpoint(key, header(5, record_hash(b"four"), CHAIN_CASE_ID))
    tampered = replace(checkpoint, signature=bytes(64))
    bad = signature_problem(tampered, key.public_raw)
    assert bad is not None and bad.code == "bad-signature"
    other = signature_problem(checkpoint, NodeKey.generate().public_raw)
    assert other is not None and other.code == "key-mismatch"


def test_an_unsigned_event_has_no_signature_problem() -> None:
    from xinfang.domain.events import CaseAccepted

    event = CaseAccepted(header=header(2, "x"), body="150404.zj", handling_due=T0)
    assert signature_problem(event, NodeKey.generate().public_raw) is None

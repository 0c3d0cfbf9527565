"""Chain, signature and countersignature verification on in-memory logs (xinfang.audit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from xinfang.audit.records import LogRecord
from xinfang.audit.verify import Auditor, AuditResult, Finding
from xinfang.chain.keys import Keyring, NodeKey
from xinfang.chain.signing import checkpoint_message, sign_checkpoint
from xinfang.domain.events import CHAIN_CASE_ID, ChainCheckpointed, EventHeader
from xinfang.domain.topology import Topology

from .audit_world import CITY, CODEC, COUNTY, PROVINCE, World, decode, digest, rechain, seq_of


@pytest.fixture(scope="module")
def world(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(topology, tmp_path_factory.mktemp("audit-world"))
    w.handled_case()
    w.checkpoint_all()
    w.handled_case()  # an unsigned tail after the checkpoints
    w.checkpoint_all()
    return w


def audit(
    w: World,
    county_log: list[bytes] | None = None,
    *,
    keyring: Keyring | None = None,
    inboxes: bool = True,
    city_log: list[bytes] | None = None,
) -> AuditResult:
    auditor = Auditor(w.topology, w.keyring if keyring is None else keyring)
    auditor.feed_log(COUNTY, w.records(COUNTY, values=county_log))
    auditor.feed_log(CITY, w.records(CITY, values=city_log))
    auditor.feed_log(PROVINCE, w.records(PROVINCE))
    if inboxes:
        for d in (COUNTY, CITY, PROVINCE):
            auditor.feed_inbox(d, w.records(d, "inbox"))
    return auditor.finish()


def codes(result: AuditResult) -> set[tuple[str, str, int | None]]:
    return {(f.code, f.node, f.seq) for f in result.violations}


def only(result: AuditResult, code: str) -> list[Finding]:
    return [f for f in result.violations if f.code == code]


def test_clean_logs_verify_with_every_checkpoint_countersigned(world: World) -> None:
    result = audit(world)
    assert result.ok, [f.line() for f in result.findings]
    assert result.warnings == []  # no unsigned tail, nothing left uncountersigned
    county = result.nodes[COUNTY]
    assert county["checkpoints"] == 2 and county["key_published"]
    assert result.nodes[CITY]["countersigns"] == 2
    assert result.nodes[PROVINCE]["countersigns"] == 2


def test_an_exact_redelivery_is_harmless(world: World) -> None:
    log = world.values(COUNTY)
    result = audit(world, log[:4] + log[2:4] + log[4:] + [log[1]])
    assert result.ok
    assert result.nodes[COUNTY]["redeliveries"] == 3


def test_an_altered_record_is_located_by_the_checkpoint_that_vouches_for_its_successor(
    world: World,
) -> None:
    log = world.values(COUNTY)
    assert decode(log[2]).type == "HandlingOpinionIssued"
    at = log[2].index(b"xfs1.") + 8  # a character of the sealed opinion (decision 037)
    altered = log[2][:at] + (b"B" if log[2][at:at + 1] == b"A" else b"A") + log[2][at + 1:]
    result = audit(world, [*log[:2], altered, *log[3:]], inboxes=False)
    [finding] = result.violations
    assert (finding.code, finding.node, finding.seq, finding.offset) == (
        "record-altered", COUNTY, 3, 2
    )
    # the parent's inbox holds the original bytes: the copy check points at the same record
    with_copies = audit(world, [*log[:2], altered, *log[3:]])
    assert ("copy-mismatch", COUNTY, 3) in codes(with_copies)


def test_a_byte_flipped_in_the_last_record_breaks_its_signature(world: World) -> None:
    log = world.values(COUNTY)
    assert decode(log[-1]).type == "ChainCheckpointed"
    last = bytearray(log[-1])
    last[-70] ^= 0x01  # inside the signature or key bytes
    result = audit(world, [*log[:-1], bytes(last)], inboxes=False)
    assert {f.code for f in result.violations} & {"bad-signature", "signed-record-invalid"}
    assert {f.seq for f in result.violations} == {len(log)}


def test_a_deleted_event_is_reported_missing(world: World) -> None:
    log = world.values(COUNTY)
    result = audit(world, log[:3] + log[4:], inboxes=False)
    assert codes(result) == {("seq-missing", COUNTY, 4)}


def test_a_deleted_event_with_the_chain_recomputed_contradicts_the_countersignature(
    world: World,
) -> None:
    """The node rewrites its own past, re-chains and re-signs with its own key: its parent's
    countersignature still names the old checkpoint."""
    log = world.values(COUNTY)
    key = world.keys[COUNTY]
    rewritten = rechain(log[:3] + log[4:], start=3)
    resigned = []
    for value in rewritten:
        event = decode(value)
        if isinstance(event, ChainCheckpointed):
            value = CODEC.encode(sign_checkpoint(key, event.header))
        resigned.append(rechain([*resigned, value], start=len(resigned))[-1])
    result = audit(world, resigned, inboxes=False)
    mismatches = only(result, "countersign-mismatch")
    assert mismatches and all(f.node == COUNTY for f in mismatches)
    first_rewritten_checkpoint = min(f.seq for f in mismatches if f.seq is not None)
    assert first_rewritten_checkpoint <= len(rewritten)


def test_two_swapped_events_are_out_of_order(world: World) -> None:
    log = world.values(COUNTY)
    result = audit(world, [log[0], log[2], log[1], *log[3:]], inboxes=False)
    assert codes(result) == {("seq-out-of-order", COUNTY, 2)}
    [finding] = result.violations
    assert finding.related_seq == 3 and finding.offset == 2


def test_a_checkpoint_forged_with_another_key_is_refused(world: World) -> None:
    log = world.values(COUNTY)
    genuine = decode(log[-1])
    assert isinstance(genuine, ChainCheckpointed)
    header = replace(genuine.header, event_id="forged", seq=len(log) + 1, prev_hash=digest(log[-1]))
    forged = CODEC.encode(sign_checkpoint(NodeKey.generate(), header))
    result = audit(world, [*log, forged], inboxes=False)
    assert codes(result) == {("key-mismatch", COUNTY, len(log) + 1)}


def test_a_checkpoint_with_a_bad_signature_is_refused(world: World) -> None:
    log = world.values(COUNTY)
    genuine = decode(log[-1])
    assert isinstance(genuine, ChainCheckpointed)
    header = replace(genuine.header, event_id="forged", seq=len(log) + 1, prev_hash=digest(log[-1]))
    forged = replace(sign_checkpoint(world.keys[COUNTY], header), signature=bytes(64))
    result = audit(world, [*log, CODEC.encode(forged)], inboxes=False)
    assert codes(result) == {("bad-signature", COUNTY, len(log) + 1)}


def test_a_forged_event_with_a_non_matching_chain_is_located(world: World) -> None:
    log = world.values(COUNTY)
    event = decode(log[2])
    forged = replace(
        event, header=replace(event.header, event_id="forged", seq=len(log) + 1, prev_hash="0" * 64)
    )
    result = audit(world, [*log, CODEC.encode(forged)], inboxes=False)
    assert codes(result) == {("chain-broken", COUNTY, len(log) + 1)}


def test_a_forged_event_that_fits_the_chain_collides_with_the_node_next_record(
    world: World,
) -> None:
    log = world.values(COUNTY)
    event = decode(log[2])
    head = len(log) - 1  # forged right before the node's last record (its checkpoint)
    forged = CODEC.encode(
        replace(
            event,
            header=replace(
                event.header, event_id="forged", seq=head + 1, prev_hash=digest(log[head - 1])
            ),
        )
    )
    result = audit(world, [*log[:head], forged, *log[head:]], inboxes=False)
    [finding] = result.violations
    assert (finding.code, finding.seq, finding.offset) == ("seq-conflict", head + 1, head)
    assert finding.evidence["chain_offset"] == head + 1


def test_an_old_event_replayed_at_the_head_is_located(world: World) -> None:
    log = world.values(COUNTY)
    replayed = rechain([*log, log[1]], start=len(log))
    result = audit(world, replayed, inboxes=False)
    [finding] = result.violations
    assert (finding.code, finding.seq, finding.related_seq) == (
        "event-replayed", len(log) + 1, 2
    )


def test_an_event_of_another_node_in_a_log_is_refused(world: World) -> None:
    county, city = world.values(COUNTY), world.values(CITY)
    result = audit(world, [*county, city[0]], inboxes=False)
    assert ("wrong-source", COUNTY, 1) in codes(result)


def test_undecodable_bytes_are_located_at_their_expected_seq(world: World) -> None:
    log = world.values(COUNTY)
    result = audit(world, [*log[:2], b"\xc3\x01garbage!", *log[3:]], inboxes=False)
    assert ("undecodable", COUNTY, 3) in codes(result)
    assert not only(result, "seq-missing")


def test_a_forged_copy_in_an_inbox_is_reported(world: World) -> None:
    log = world.values(COUNTY)
    event = decode(log[2])
    forged = CODEC.encode(replace(event, opinion="伪造的处理意见"))
    auditor = Auditor(world.topology, world.keyring)
    auditor.feed_log(COUNTY, world.records(COUNTY))
    auditor.feed_inbox(CITY, [LogRecord("t.xinfang.150400.inbox", 0, 99, 0, None, forged)])
    result = auditor.finish()
    [finding] = result.violations
    assert (finding.code, finding.node, finding.seq, finding.offset) == (
        "copy-mismatch", COUNTY, 3, 99
    )


def test_without_published_keys_the_first_key_is_trusted_and_reported(world: World) -> None:
    result = audit(world, keyring=Keyring.empty())
    assert result.ok
    assert {f.code for f in result.warnings} == {"key-not-published"}


def test_reading_from_a_time_does_not_report_what_came_before(world: World) -> None:
    auditor = Auditor(world.topology, world.keyring, anchored=True)
    auditor.feed_log(COUNTY, world.records(COUNTY)[3:])
    assert auditor.finish().ok


def test_the_signed_message_covers_every_field() -> None:
    key = NodeKey.generate()
    header = replace(
        decode(CODEC.encode(sign_checkpoint(key, _header()))).header, seq=5, prev_hash="ab" * 32
    )
    checkpoint = sign_checkpoint(key, header)
    base = checkpoint_message(checkpoint)
    variants = [
        replace(checkpoint, header=replace(header, actor="150404.zj")),
        replace(checkpoint, header=replace(header, event_id="other")),
        replace(checkpoint, header=replace(header, occurred_at=header.occurred_at + ONE_MS)),
        replace(checkpoint, head_seq=3),
        replace(checkpoint, key_id="0" * 16),
    ]
    assert all(checkpoint_message(v) != base for v in variants)
    assert checkpoint_message(replace(checkpoint, signature=b"x")) == base


ONE_MS = timedelta(milliseconds=1)


def _header() -> EventHeader:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    return EventHeader("e", CHAIN_CASE_ID, COUNTY, "150404.xfj", at, 2, "")


def test_every_log_is_numbered_from_one(world: World) -> None:
    for division in (COUNTY, CITY, PROVINCE):
        seqs = [seq_of(v) for v in world.values(division)]
        assert seqs == list(range(1, len(seqs) + 1))


def test_exported_files_verify_like_the_topics(world: World, tmp_path: Path) -> None:
    import fastavro

    from xinfang.audit.export import TopicFile, wrapper_schema_path, write_manifest
    from xinfang.audit.replay import export_files, read_export
    from xinfang.audit.run import Source, run_audit
    from xinfang.audit.verify import RecordDecoder

    decoder = RecordDecoder()
    files = []
    for d in (COUNTY, CITY, PROVINCE):
        for kind in ("log", "inbox"):
            records = world.records(d, kind)
            out = TopicFile(tmp_path, d, kind, records[0].topic, decoder)
            for rec in records:
                out.write(rec)
            files.append(out.close())
            assert files[-1]["records"] == len(records)
    write_manifest(tmp_path, files)
    listed = export_files(tmp_path)
    assert [(f.division, f.kind) for f in listed] == [
        (d, kind) for kind in ("log", "inbox") for d in sorted((COUNTY, CITY, PROVINCE))
    ]
    assert list(read_export(tmp_path / f"{COUNTY}.log.avro")) == world.records(COUNTY)
    with (tmp_path / f"{COUNTY}.log.avro").open("rb") as fh:  # a generic Avro reader
        rows = list(fastavro.reader(fh))
    assert rows[0]["event_type"] == decode(world.values(COUNTY)[0]).type
    assert wrapper_schema_path().is_file()
    outcome = run_audit(world.topology, Source(folder=tmp_path), keyring=world.keyring)
    assert outcome.ok and set(outcome.integrity.nodes) == {COUNTY, CITY, PROVINCE}
    assert outcome.integrity.inbox_records[CITY] == len(world.values(CITY, "inbox"))


def test_a_deleted_log_is_betrayed_by_countersignatures_and_copies(world: World) -> None:
    auditor = Auditor(world.topology, world.keyring)
    auditor.audited = {COUNTY, CITY, PROVINCE}
    auditor.feed_log(CITY, world.records(CITY))
    auditor.feed_inbox(CITY, world.records(CITY, "inbox"))
    result = auditor.finish()
    assert {(f.code, f.node) for f in result.violations} == {("log-missing", COUNTY)}


def test_time_windows_and_times_in_beijing() -> None:
    from xinfang.audit.cli import parse_time
    from xinfang.audit.replay import TimeRange
    from xinfang.chain.signing import millis

    since = parse_time("2026-03-02")
    assert since.utcoffset() == timedelta(hours=8)
    window = TimeRange(millis(since), millis(parse_time("2026-03-02T12:00:00+08:00")))
    assert not window.contains(millis(since) - 1)
    assert window.contains(millis(since) + 3_600_000)
    assert not window.contains(millis(since) + 13 * 3_600_000)

"""`audit verify` trusts only keys (issue 12 item 4, decision 024): every record's signature is
checked against its source's published key, every copy must be a signed record of the source's
own log (also beyond its head), and every finding is located where the auditor read it. The
forged records come from the attacker's toolkit (devtools/forge.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from xinfang.audit.records import LogRecord
from xinfang.audit.signatures import KeyTable, PublishedKey, RecordKeys
from xinfang.audit.verify import Auditor, AuditResult, Finding
from xinfang.chain.keys import NodeKey
from xinfang.chain.record_signing import sign_record
from xinfang.chain.signing import millis
from xinfang.devtools import forge
from xinfang.domain.events import CaseClosed, Event, HandlingOpinionIssued
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import CloseReason

from .audit_world import CITY, COUNTY, PROVINCE, World, decode

INBOX = "t.xinfang.150400.inbox"


@pytest.fixture(scope="module")
def world(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> World:
    w = World(topology, tmp_path_factory.mktemp("audit-sig"))
    w.handled_case()
    w.checkpoint_all()
    return w


def public_log(w: World, division: str = COUNTY) -> list[forge.Record]:
    """The source's log as anyone reads it from its topic."""
    return [(r.value, list(r.headers)) for r in w.records(division)]


def opinion(w: World) -> HandlingOpinionIssued:
    return next(
        e for e in map(decode, w.values(COUNTY)) if isinstance(e, HandlingOpinionIssued)
    )


def audit(
    w: World,
    extra_inbox: list[forge.Record] = (),  # type: ignore[assignment]
    *,
    county_log: list[LogRecord] | None = None,
    keys: RecordKeys | None = None,
    deadletters: list[forge.Record] = (),  # type: ignore[assignment]
) -> AuditResult:
    auditor = Auditor(w.topology, w.keyring, record_keys=keys)
    auditor.feed_log(COUNTY, w.records(COUNTY) if county_log is None else county_log)
    auditor.feed_log(CITY, w.records(CITY))
    auditor.feed_log(PROVINCE, w.records(PROVINCE))
    inbox = w.records(CITY, "inbox")
    at = len(inbox)
    inbox += [LogRecord(INBOX, 0, at + i, 0, None, v, tuple(h)) for i, (v, h) in
              enumerate(extra_inbox)]
    auditor.feed_inbox(CITY, inbox)
    dlq = "t.xinfang.150400.deadletter"
    auditor.feed_inbox(
        CITY,
        [LogRecord(dlq, 0, i, 0, None, v, tuple(h)) for i, (v, h) in enumerate(deadletters)],
        "deadletter",
    )
    return auditor.finish()


def only(result: AuditResult) -> Finding:
    [finding] = result.violations
    return finding


def test_genuine_signed_logs_and_copies_verify(world: World) -> None:
    result = audit(world)
    assert result.ok, [f.line() for f in result.findings]
    assert not {f.code for f in result.warnings} & {"records-unsigned", "copy-replayed"}
    county = result.nodes[COUNTY]
    assert (county["signed_records"], county["unsigned_before_signing"], county["forged"]) == (
        len(world.values(COUNTY)), 0, 0
    )


def test_a_valid_link_impersonation_beyond_the_head_is_named_where_it_was_found(
    world: World,
) -> None:
    """Today's hole: a copy whose seq is beyond the source's head was skipped."""
    at = len(world.records(CITY, "inbox"))
    for key in (None, NodeKey.generate()):
        forged = forge.impersonation(public_log(world), opinion(world), CITY, key)
        finding = only(audit(world, [forged]))
        assert (finding.code, finding.node, finding.seq) == (
            "copy-beyond-head", COUNTY, len(world.values(COUNTY)) + 1
        )
        assert finding.location == f"{INBOX}:0:{at}"
        assert finding.evidence["signature"] == ("unsigned" if key is None else "bad-signature")


def test_a_seq_gap_with_a_bogus_link_is_named(world: World) -> None:
    forged = forge.seq_gap(public_log(world), opinion(world), CITY)
    finding = only(audit(world, [forged]))
    assert (finding.code, finding.seq) == ("copy-beyond-head", len(world.values(COUNTY)) + 2)


def test_an_altered_payload_with_its_genuine_signature_kept_is_named(world: World) -> None:
    log = public_log(world)
    index = next(i for i, (v, _) in enumerate(log) if decode(v).type == "HandlingOpinionIssued")

    def change(event: Event) -> Event:
        assert isinstance(event, HandlingOpinionIssued)
        return replace(event, opinion="不予支持")

    for key in (None, NodeKey.generate()):
        finding = only(audit(world, [forge.altered(log[index], change, key)]))
        assert (finding.code, finding.seq) == ("copy-mismatch", index + 1)
        assert finding.evidence["signature"] == "bad-signature"


def test_a_replayed_genuine_record_is_reported_as_a_replay_not_as_forged(world: World) -> None:
    log = [(r.value, list(r.headers)) for r in world.records(CITY, "inbox")]
    result = audit(world, [forge.replay(log[0])])
    assert result.ok  # the bytes are the source's: applying them twice is the receiver's check
    [warning] = [f for f in result.warnings if f.code == "copy-replayed"]
    assert warning.seq == decode(log[0][0]).header.seq
    assert warning.location == f"{INBOX}:0:{len(log)}"
    assert warning.evidence["first_offset"] == 0


def test_a_record_signed_by_a_revoked_key_is_named_and_old_records_still_verify(
    world: World,
) -> None:
    old = world.keys[COUNTY]
    new = NodeKey.generate()
    event = opinion(world)
    # the old key was revoked after every genuine record was written; the forger signs with it
    revoked_at = millis(event.header.occurred_at) + 1
    keys = KeyTable.from_keyring(world.keyring)
    keys.add(PublishedKey(COUNTY, old.public_raw, revoked_at_ms=revoked_at + 3_600_000))
    keys.add(PublishedKey(COUNTY, new.public_raw, not_before_ms=revoked_at))
    later = replace(event, header=replace(event.header, occurred_at=event.header.occurred_at
                                          + timedelta(days=1)))
    forged = forge.revoked_key(public_log(world), later, CITY, old)
    result = audit(world, [forged], keys=keys)
    finding = only(result)  # the genuine records signed before the revocation verify
    assert (finding.code, finding.evidence["signature"]) == ("copy-beyond-head", "bad-signature")
    # an expired key: the same record, the old key valid only until the genuine records' time
    keys.add(PublishedKey(COUNTY, old.public_raw, not_after_ms=revoked_at + 3_600_000))
    assert only(audit(world, [forged], keys=keys)).evidence["signature"] == "bad-signature"


def test_a_genuine_key_used_for_an_act_its_body_may_not_do_is_not_in_the_log(
    world: World,
) -> None:
    """The county closes a case its city holds, signed with the county's real key: the
    signature holds, but the county's log never had the record."""
    template = opinion(world)
    closed = CaseClosed(header=template.header, reason=CloseReason.WINDOW_LAPSED, note="伪造终结")
    forged = forge.illegal_act(public_log(world), closed, CITY, world.keys[COUNTY])
    finding = only(audit(world, [forged]))
    assert (finding.code, finding.evidence["signature"]) == ("copy-beyond-head", "ok")


def test_a_record_in_the_log_not_signed_by_the_node_is_kept_off_its_chain(world: World) -> None:
    """A producer that is not the node appends a chain-consistent record to its log: named by
    its signature, and the node's genuine chain is judged without it (no conflict)."""
    records = world.records(COUNTY)
    topic = records[0].topic
    for key, code in ((NodeKey.generate(), "record-bad-signature"), (None, "record-unsigned")):
        value, headers = forge.impersonation(public_log(world), opinion(world), CITY, key)
        forged = LogRecord(topic, 0, len(records), 0, None, value, tuple(headers))
        result = audit(world, county_log=[*records, forged])
        finding = only(result)
        assert (finding.code, finding.node, finding.seq, finding.location) == (
            code, COUNTY, len(records) + 1, f"{topic}:0:{len(records)}"
        )
        assert result.nodes[COUNTY]["last_seq"] == len(records)


def test_a_genuine_copy_with_its_signature_stripped_is_named(world: World) -> None:
    value, headers = public_log(world)[0]
    stripped = [(k, v) for k, v in headers if k != "xinfang_sig"]
    finding = only(audit(world, [(value, stripped)]))
    assert (finding.code, finding.seq) == ("copy-bad-signature", 1)


def test_forged_dead_letters_are_named_in_the_dead_letter_topic(world: World) -> None:
    forged = forge.impersonation(public_log(world), opinion(world), CITY)
    # a genuine record the city refused, re-signed by the city as its dead letter: not forged
    value, headers = public_log(world)[1]
    refused = (value, list(sign_record(world.keys[CITY], value, headers)))
    finding = only(audit(world, deadletters=[refused, forged]))
    assert finding.code == "copy-beyond-head"
    assert finding.location == "t.xinfang.150400.deadletter:0:1"
    assert finding.evidence["held_in"] == "deadletter"


def test_a_log_written_before_record_signatures_is_reported_once(world: World) -> None:
    unsigned = [replace(r, headers=()) for r in world.records(COUNTY)]
    auditor = Auditor(world.topology, world.keyring)
    auditor.feed_log(COUNTY, unsigned)
    legacy = auditor.finish()
    assert legacy.ok
    [warning] = [f for f in legacy.warnings if f.code == "records-unsigned"]
    assert (warning.seq, warning.related_seq) == (1, len(unsigned))
    # once the node signs, an unsigned record after its first signed one is forged
    records = world.records(COUNTY)
    mixed = [*records[:2], replace(records[2], headers=()), *records[3:]]
    assert "record-unsigned" in {f.code for f in audit(world, county_log=mixed).violations}


def export(
    w: World, folder: Path, extra_inbox: list[forge.Record], dead: list[forge.Record] = ()  # type: ignore[assignment]
) -> None:
    from xinfang.audit.export import TopicFile, write_manifest
    from xinfang.audit.verify import RecordDecoder

    decoder, files = RecordDecoder(), []
    if dead:
        out = TopicFile(folder, CITY, "deadletter", "t.xinfang.150400.deadletter", decoder)
        for i, (v, h) in enumerate(dead):
            out.write(LogRecord("t.xinfang.150400.deadletter", 0, i, 0, None, v, tuple(h)))
        files.append(out.close())
    for d in (COUNTY, CITY):
        for kind in ("log", "inbox"):
            records = w.records(d, kind)
            if (d, kind) == (CITY, "inbox"):
                records += [LogRecord(INBOX, 0, len(records) + i, 0, None, v, tuple(h))
                            for i, (v, h) in enumerate(extra_inbox)]
            out = TopicFile(folder, d, kind, records[0].topic, decoder)
            for rec in records:
                out.write(rec)
            files.append(out.close())
    write_manifest(folder, files)


def rewrite(path: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    import fastavro

    with path.open("rb") as fh:
        reader = fastavro.reader(fh)
        schema, metadata = reader.writer_schema, dict(reader.metadata)
        rows = [dict(row) for row in reader if isinstance(row, dict)]
    change(rows)
    with path.open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), rows, metadata={
            k: v for k, v in metadata.items() if k.startswith("xinfang.")
        })


def verify_files(w: World, folder: Path) -> AuditResult:
    from xinfang.audit.run import Source, run_audit

    return run_audit(
        w.topology, Source(folder=folder), nodes=[COUNTY, CITY], keyring=w.keyring
    ).integrity


def test_an_export_locates_by_position_not_by_its_wrapper_fields(
    world: World, tmp_path: Path
) -> None:
    forged = forge.impersonation(public_log(world), opinion(world), CITY)
    export(world, tmp_path, [forged])
    at = len(world.records(CITY, "inbox"))
    [finding] = verify_files(world, tmp_path).violations
    assert (finding.code, finding.location) == ("copy-beyond-head", f"150400.inbox.avro#{at}")

    def move(rows: list[dict[str, Any]]) -> None:  # the attacker edits the wrapper fields
        for row in rows:
            row["offset"], row["topic"], row["partition"] = 0, "t.xinfang.150404.inbox", 3

    rewrite(tmp_path / "150400.inbox.avro", move)
    result = verify_files(world, tmp_path)
    located = {(f.code, f.location) for f in result.violations}
    assert located == {
        ("copy-beyond-head", f"150400.inbox.avro#{at}"),
        ("export-file-altered", "150400.inbox.avro"),
    }


def test_an_exports_manifest_hashes_are_checked(world: World, tmp_path: Path) -> None:
    import json

    export(world, tmp_path, [])
    assert verify_files(world, tmp_path).ok
    (tmp_path / "150404.inbox.avro").unlink()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["files"] = [f for f in manifest["files"] if f["file"] != "150400.inbox.avro"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    located = {(f.code, f.file) for f in verify_files(world, tmp_path).violations}
    assert located == {
        ("export-file-missing", "150404.inbox.avro"),
        ("export-file-unlisted", "150400.inbox.avro"),
    }
    (tmp_path / "manifest.json").unlink()
    assert {f.code for f in verify_files(world, tmp_path).violations} == {"manifest-missing"}


def test_the_reports_list_forged_records_with_where_they_were_found(world: World) -> None:
    from xinfang.audit.report import html_report, outcome_json, text_summary
    from xinfang.audit.run import AuditOutcome

    forged = forge.impersonation(public_log(world), opinion(world), CITY)
    outcome = AuditOutcome(audit(world, [forged]), None, world.topology)
    where = f"{INBOX}:0:{len(world.records(CITY, 'inbox'))}"
    assert f"✗ {where}  {COUNTY} seq {len(world.values(COUNTY)) + 1}  copy-beyond-head" in (
        text_summary(outcome)
    )
    [listed] = outcome_json(outcome)["integrity"]["forged"]
    assert (listed["location"], listed["code"], listed["held_in"]) == (
        where, "copy-beyond-head", "inbox"
    )
    assert f"<code>{where}</code>" in html_report(outcome)


def test_an_exported_dead_letter_topic_is_checked_too(world: World, tmp_path: Path) -> None:
    forged = forge.seq_gap(public_log(world), opinion(world), CITY)
    export(world, tmp_path, [], dead=[forged])
    [finding] = verify_files(world, tmp_path).violations
    assert (finding.code, finding.location) == ("copy-beyond-head", "150400.deadletter.avro#0")
    assert finding.evidence["held_in"] == "deadletter"


def test_the_forgers_links_are_what_a_receiver_checks(world: World) -> None:
    """The toolkit really forges valid links: the head's hash, and the destination's previous
    seq read from the log's `xinfang_to` headers."""
    import hashlib

    log = public_log(world)
    routed = [(v, [*h, (forge.TO_HEADER, b"150000,150400")]) for v, h in log[:2]] + log[2:]
    value, headers = forge.impersonation(routed, opinion(world), CITY)
    event = decode(value)
    assert (event.header.seq, event.header.prev_hash) == (
        len(log) + 1, hashlib.sha256(log[-1][0]).hexdigest()
    )
    assert dict(headers)[forge.PREV_TO_HEADER] == b"150400:2"
    assert event.header.event_id not in {decode(v).header.event_id for v, _ in log}
    gap = decode(forge.seq_gap(routed, opinion(world), CITY, gap=3)[0]).header
    assert (gap.seq, gap.prev_hash) == (len(log) + 3, "f" * 64)


def test_a_record_altered_in_the_log_by_an_outsider_is_named_once(world: World) -> None:
    """The altered bytes keep the genuine signature header, which no longer holds: the record is
    not the node's; its seq is reported as that record, not also as missing."""
    records = world.records(COUNTY)
    index = next(
        i for i, r in enumerate(records) if decode(r.value).type == "HandlingOpinionIssued"
    )
    value = records[index].value
    at = value.index(b"xfs1.") + 8  # a character of the sealed opinion (decision 037)
    altered = replace(
        records[index], value=value[:at] + (b"B" if value[at:at + 1] == b"A" else b"A")
        + value[at + 1:]
    )
    result = audit(world, county_log=[*records[:index], altered, *records[index + 1:]])
    assert {(f.code, f.seq) for f in result.violations} == {
        ("record-bad-signature", index + 1),
        ("copy-not-in-log", index + 1),  # the city's genuine copy: not in the log now
    }


def test_a_node_side_key_lookup_plugs_in(world: World) -> None:
    """E's key sets answer `record_signing.KeyLookup` (valid now); `Timeless` adapts one."""
    from xinfang.audit.signatures import Timeless

    published = {(d, k.key_id): k.public_raw for d, k in world.keys.items()}
    keys = Timeless(lambda d, kid: published.get((d, kid)), world.keys)
    assert audit(world, keys=keys).ok
    without_county = Timeless(lambda d, kid: None if d == COUNTY else published.get((d, kid)),
                              world.keys)
    result = audit(world, keys=without_county)
    assert {f.code for f in result.violations} >= {"record-bad-signature"}


def test_each_distinct_record_is_verified_once(world: World) -> None:
    """A log record and its inbox copies carry the same bytes and headers: one verification."""
    table = KeyTable.from_keyring(world.keyring)
    asked: list[tuple[str, str]] = []

    class Counting:
        def lookup(self, division: str, kid: str, at_ms: int) -> bytes | None:
            asked.append((division, kid))
            return table.lookup(division, kid, at_ms)

        def publishes(self, division: str) -> bool:
            return table.publishes(division)

    assert audit(world, keys=Counting()).ok
    distinct = {r.value for d in (COUNTY, CITY, PROVINCE) for r in world.records(d)}
    assert len(asked) == len(distinct)


def test_published_key_sets_keep_old_keys_verifiable_and_revoked_ones_out() -> None:
    """Key sets (decision 021) as the keyring carries them: a rotated key verifies what it
    signed before its `not_after`, a revoked key nothing from `revoked_at` on."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    old, new, stolen = NodeKey.generate(), NodeKey.generate(), NodeKey.generate()
    t = datetime(2026, 11, 1, tzinfo=UTC)
    at = int(t.timestamp() * 1000)
    key_set = SimpleNamespace(keys=(
        SimpleNamespace(public_raw=old.public_raw, not_before=None, not_after=t, revoked_at=None),
        SimpleNamespace(public_raw=new.public_raw, not_before=t, not_after=None, revoked_at=None),
        SimpleNamespace(public_raw=stolen.public_raw, not_before=None, not_after=None,
                        revoked_at=t),
    ))
    keyring = SimpleNamespace(keys={COUNTY: new.public_raw, CITY: NodeKey.generate().public_raw},
                              sets={COUNTY: key_set})
    table = KeyTable.from_keyring(keyring)  # type: ignore[arg-type]
    assert table.lookup(COUNTY, old.key_id, at - 1) == old.public_raw
    assert table.lookup(COUNTY, old.key_id, at) is None
    assert table.lookup(COUNTY, new.key_id, at) == new.public_raw
    assert table.lookup(COUNTY, stolen.key_id, at - 1) == stolen.public_raw
    assert table.lookup(COUNTY, stolen.key_id, at) is None
    assert table.publishes(CITY) and not table.publishes(PROVINCE)

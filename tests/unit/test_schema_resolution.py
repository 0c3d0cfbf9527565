"""Records of every released schema version are read (issue 10 item 7, decision 011).

A v2 of CaseAccepted (one optional field more) is released in a temporary copy of schemas/.
A v2 reader reads v1 bytes, a v1 reader reads v2 bytes once it has the v2 writer schema (from
the catalogue topic), and a fingerprint no one published stays refused.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_writer

from tests.schema_release import NEW_FIELD, encode_v2, release_v2
from xinfang.audit.verify import RecordDecoder
from xinfang.codec.resolving import MAX_LEARNED, DecodeError
from xinfang.codec.schemas import SchemaCatalogue
from xinfang.codec.wire import MAGIC, EventCodec
from xinfang.contract import catalogue as catalogue_module
from xinfang.contract.catalogue import CatalogueEntry, SchemaLearner
from xinfang.contract.history import released
from xinfang.contract.public_status import PUBLIC_FIELDS, PublicStatusFeed
from xinfang.domain.events import CaseAccepted, EventHeader
from xinfang.settings import NodeSettings, SettingsError
from xinfang.topics import TopicNames
from xinfang.topology_file import load_topology

T = datetime(2026, 3, 2, 8, 30, 15, 123000, tzinfo=UTC)
ACCEPTED = CaseAccepted(
    header=EventHeader("e-9", "150400-2026-000009", "150404", "150404.zj", T, 7, "cd" * 32),
    body="150404.zj",
    handling_due=T,
)


@pytest.fixture(scope="module")
def v2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_v2(tmp_path_factory.mktemp("v2") / "schemas")


@pytest.fixture(scope="module")
def v1() -> EventCodec:
    return EventCodec()  # the repository's schemas: CaseAccepted v1 only


@pytest.fixture(scope="module")
def v2(v2_dir: Path) -> EventCodec:
    return EventCodec(SchemaCatalogue(v2_dir))


def v2_writer_json(v2_dir: Path) -> tuple[str, str]:
    """(fingerprint hex, .avsc text) of CaseAccepted v2, as the catalogue topic carries it."""
    version = released(v2_dir)["CaseAccepted"][-1]
    assert version.number >= 2  # the release after the repository's last (tests/schema_release.py)
    return version.fingerprint.hex(), json.dumps(version.expanded, ensure_ascii=False)


def test_v2_is_a_released_version_with_its_own_fingerprint(v1: EventCodec, v2: EventCodec) -> None:
    old, new = (c.catalogue.get("CaseAccepted").fingerprint for c in (v1, v2))
    assert old != new
    # every other record is the same schema in both releases
    for name, schema in v1.catalogue.by_name.items():
        if name != "CaseAccepted":
            assert v2.catalogue.get(name).fingerprint == schema.fingerprint


def test_v1_bytes_are_read_by_a_v2_reader(v1: EventCodec, v2: EventCodec) -> None:
    old = v1.encode(ACCEPTED)
    decoded = v2.decode(old)
    assert decoded.event == ACCEPTED
    assert decoded.writer.fingerprint == v1.catalogue.get("CaseAccepted").fingerprint
    assert decoded.writer.origin == "history"  # v2's schemas/history/CaseAccepted/v1.avsc
    _, _, datum = v2.decoder.decode(old)
    assert datum[NEW_FIELD] is None  # the field v1 lacks takes the reader's default


def test_v2_bytes_with_the_new_field_set_are_read_by_a_v1_reader(
    v1_fresh: EventCodec, v2: EventCodec, v2_dir: Path
) -> None:
    new = encode_v2(v2, ACCEPTED, "备注")
    assert v2.decoder.decode(new)[2][NEW_FIELD] == "备注"
    with pytest.raises(DecodeError) as refused:  # before it learns the v2 writer schema
        v1_fresh.decode(new)
    assert refused.value.reason == "unknown-schema-fingerprint"
    fp_hex, text = v2_writer_json(v2_dir)
    assert v1_fresh.decoder.learn(text, fp_hex) is True
    decoded = v1_fresh.decode(new)
    assert decoded.event == ACCEPTED  # the field v1 lacks is skipped, nothing else changes
    assert decoded.writer.origin == "catalogue"
    assert NEW_FIELD not in v1_fresh.decoder.decode(new)[2]


@pytest.fixture
def v1_fresh() -> EventCodec:
    return EventCodec()


def test_an_unknown_fingerprint_is_still_refused(v1_fresh: EventCodec, v2_dir: Path) -> None:
    fp_hex, text = v2_writer_json(v2_dir)
    unknown = MAGIC + b"\x01" * 8 + b"\x02\x03"
    assert not v1_fresh.decoder.learn(text, "01" * 8)  # a value published under a wrong key
    assert not v1_fresh.decoder.learn("{not json", fp_hex)  # junk
    assert not v1_fresh.decoder.learn('"string"')  # not a record schema
    for data in (unknown, MAGIC + bytes.fromhex(fp_hex) + b"\x00"):
        with pytest.raises(DecodeError) as refused:
            v1_fresh.decode(data)
        assert refused.value.reason == "unknown-schema-fingerprint"


def test_learning_is_bounded(v1_fresh: EventCodec, v2_dir: Path) -> None:
    fp_hex, text = v2_writer_json(v2_dir)
    v1_fresh.decoder.learned = MAX_LEARNED
    assert not v1_fresh.decoder.learn(text, fp_hex)


def test_a_writer_schema_that_does_not_resolve_is_refused_not_misread(v1_fresh: EventCodec) -> None:
    # Published (fingerprint = key) but incompatible: body changed from string to long.
    raw: dict[str, Any] = json.loads(json.dumps(v1_fresh.catalogue.get("CaseAccepted").expanded))
    for f in raw["fields"]:
        if f["name"] == "body":
            f["type"] = "long"
    assert v1_fresh.decoder.learn(json.dumps(raw))
    writer = next(w for w in v1_fresh.decoder.writers.values() if w.origin == "catalogue")
    buf = io.BytesIO()
    schemaless_writer(buf, writer.parsed, {**_datum(), "body": 5})
    with pytest.raises(DecodeError) as refused:
        v1_fresh.decode(MAGIC + writer.fingerprint + buf.getvalue())
    assert refused.value.reason == "unresolvable-schema"


def _datum() -> dict[str, Any]:
    from xinfang.codec.mapping import to_datum

    datum: dict[str, Any] = to_datum(ACCEPTED)
    return datum


def test_the_audit_decoder_reads_both_versions_and_hashes_the_bytes(
    v2: EventCodec, v2_dir: Path
) -> None:
    """audit verify decodes with the current (v1) reader; the digest is of the bytes as they
    were written, never of a re-encoding."""
    decoder = RecordDecoder()
    fp_hex, text = v2_writer_json(v2_dir)
    decoder.resolver.learn(text, fp_hex)
    for data in (EventCodec().encode(ACCEPTED), encode_v2(v2, ACCEPTED, "x")):
        name, datum = decoder.decode(data)
        assert (name, datum["header"]["seq"], datum["body"]) == ("CaseAccepted", 7, "150404.zj")


def test_the_learner_reads_the_catalogue_once_per_new_fingerprint(
    monkeypatch: pytest.MonkeyPatch, v2: EventCodec, v2_dir: Path
) -> None:
    fp_hex, text = v2_writer_json(v2_dir)
    reads: list[str] = []

    async def fake_read(bootstrap: str, topics: TopicNames, timeout_s: float) -> Any:
        reads.append(topics.schemas())
        return {fp_hex: CatalogueEntry(fp_hex, "xinfang.events.CaseAccepted", text)}

    monkeypatch.setattr(catalogue_module, "read_catalogue", fake_read)
    codec = EventCodec()
    now = [100.0]
    learner = SchemaLearner(
        "unused:9092", TopicNames("p."), codec.decoder, retry_after_s=600, clock=lambda: now[0]
    )
    known = (codec.encode(ACCEPTED), [])
    junk = (MAGIC + b"\x07" * 8 + b"\x00", [])
    redriven = (junk[0], [("xinfang_redriven_from", b"3")])

    async def before(*records: Any) -> int:
        return await learner.before(list(records))

    async def scenario() -> list[int]:
        steps = [
            await before(known),  # every fingerprint known: no read
            await before(known, (encode_v2(v2, ACCEPTED, "a"), [])),  # v2 new: one read
            await before((encode_v2(v2, ACCEPTED, "b"), [])),  # v2 known now: no read
            await before(junk, junk),  # a fingerprint never looked up: one read
            await before(junk),  # still unknown after that read: no second read …
        ]
        now[0] += 601
        steps.append(await before(junk))  # … until retry_after_s has passed: one read
        steps.append(await before(redriven))  # an operator re-drove it: one read
        return steps

    assert asyncio.run(scenario()) == [0, 1, 0, 0, 0, 0, 0]
    assert learner.reads == 4 and len(reads) == 4
    assert codec.decode(encode_v2(v2, ACCEPTED, "c")).event == ACCEPTED
    with pytest.raises(DecodeError) as refused:
        codec.decode(junk[0])
    assert refused.value.reason == "unknown-schema-fingerprint"


def test_the_public_status_reader_reads_an_older_case_status(tmp_path: Path) -> None:
    """A v2 CaseStatus (one optional field more) is released; the feed of the v2 release reads
    the v1 records still in the compacted topic."""
    v2_status = release_status_v2(tmp_path / "schemas")
    old_feed = PublicStatusFeed(load_topology())  # v1
    new_feed = PublicStatusFeed(load_topology(), v2_status)
    datum: dict[str, Any] = {k: None for k in PUBLIC_FIELDS}
    datum.update(
        case_id="150400-2026-000009", query_code="q", division="150404", holder="150404.zj",
        holder_name="松山区住建局", status="ACCEPTED", status_zh="已受理", final=False,
        updated_at=T, event_id="e-9", feed_id="f-9", query_hash="h-9",
    )  # fmt: skip
    read = new_feed.decode(old_feed.encode(datum))
    assert read["case_id"] == "150400-2026-000009" and read["channel_hint"] is None
    with pytest.raises(DecodeError):
        new_feed.decode(MAGIC + b"\x05" * 8)


def release_status_v2(target: Path) -> Path:
    import shutil

    from xinfang.codec.schemas import default_schema_dir
    from xinfang.contract.history import snapshot

    shutil.copytree(default_schema_dir(), target)
    path = target / "public" / "CaseStatus.avsc"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["fields"].append({"name": "channel_hint", "type": ["null", "string"], "default": None})
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    released_before = len(list((target / "history" / "CaseStatus").glob("v*.avsc")))
    assert [p.name for p in snapshot(target)] == [f"v{released_before + 1}.avsc"]
    return target


def test_schema_dir_setting(tmp_path: Path, v2_dir: Path) -> None:
    env = {"XINFANG_DIVISION": "150404", "XINFANG_SCHEMA_DIR": str(v2_dir)}
    assert NodeSettings.from_env(env).schema_dir == v2_dir
    assert NodeSettings.from_env({"XINFANG_DIVISION": "150404"}).schema_dir is None
    with pytest.raises(SettingsError, match="XINFANG_SCHEMA_DIR"):
        NodeSettings.from_env({**env, "XINFANG_SCHEMA_DIR": str(tmp_path)})


def test_the_example_subscriber_resolves_every_version_into_its_own(v2_dir: Path) -> None:
    """examples/subscriber.py (no xinfang import) reads with the writer schema into the newest
    version in its --schemas folder: v1 bytes for a v2 app, v2 bytes for a v1 app."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "examples" / "subscriber.py"
    spec = importlib.util.spec_from_file_location("example_subscriber", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    v1_history = SchemaCatalogue().schema_dir / "history"
    old, new = (
        EventCodec().encode(ACCEPTED),
        encode_v2(EventCodec(SchemaCatalogue(v2_dir)), ACCEPTED, "备注"),
    )
    name = "xinfang.events.CaseAccepted"

    app_v2 = example.load_schemas(v2_dir / "history")[0], example.load_readers(v2_dir / "history")
    assert example.decode(old, *app_v2)[1][NEW_FIELD] is None
    assert example.decode(new, *app_v2)[1][NEW_FIELD] == "备注"

    table, _ = example.load_schemas(v1_history)  # a v1 app that took v2's writer schema from
    table.update(example.load_schemas(v2_dir / "history")[0])  # the catalogue topic
    app_v1 = table, example.load_readers(v1_history)
    for data in (old, new):
        record, datum = example.decode(data, *app_v1)
        assert record == name and NEW_FIELD not in datum and datum["body"] == "150404.zj"

"""The integrators' contract: generated AsyncAPI document, released schema history, fingerprints
that any Avro library reproduces, the schema catalogue and the public status feed."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader

from xinfang.codec.schemas import SchemaCatalogue
from xinfang.codec.wire import EventCodec
from xinfang.contract import asyncapi
from xinfang.contract.catalogue import writer_schemas
from xinfang.contract.history import current_schemas, released, unreleased
from xinfang.contract.public_status import PUBLIC_FIELDS, PublicStatusFeed, load_public_schema
from xinfang.domain.topology import Topology
from xinfang.topology_file import load_topology

from .fakes import FakeBus
from .lifecycle import PETITION, handled, register

ROOT = Path(__file__).resolve().parents[2]

# Nothing of the petitioner or of what was petitioned or accused may be public.
PERSONAL_OR_CONTENT = {
    "petitioner",
    "name",
    "address",
    "contact",
    "anonymous",
    "file",
    "title",
    "request",
    "facts",
    "reasons",
    "accused",
    "accused_body",
    "opinion",
    "summary",
    "answer",
    "comment",
    "guidance",
    "note",
    "category",
}


def test_asyncapi_document_is_generated_and_up_to_date() -> None:
    checked_in = (ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert checked_in == asyncapi.render(), (
        "docs/asyncapi.yaml 已过期 / is out of date: "
        "python -m xinfang.contract.asyncapi --out docs/asyncapi.yaml"
    )


def test_asyncapi_document_names_every_topic_and_message() -> None:
    doc = asyncapi.build(load_topology())
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {
        "xinfang.{division}.log",
        "xinfang.{division}.inbox",
        "xinfang.{division}.deadletter",
        "xinfang.schemas",
        "xinfang.public.status",
    }
    catalogue = SchemaCatalogue()
    messages = doc["components"]["messages"]
    for schema in catalogue.by_name.values():
        message = messages[schema.name]
        assert message["x-fingerprint"] == schema.fingerprint_hex
        assert message["payload"]["schema"] == schema.expanded
        assert schema.name in doc["channels"]["nodeLog"]["messages"]
    status = doc["channels"]["publicStatus"]["bindings"]["kafka"]["topicConfiguration"]
    assert status["cleanup.policy"] == ["compact"]
    log = doc["channels"]["nodeLog"]["bindings"]["kafka"]
    assert log["partitions"] == 1 and log["topicConfiguration"]["retention.ms"] == -1


def test_every_schema_written_today_is_a_released_version() -> None:
    changed = [s.full_name for s in unreleased()]
    assert not changed, (
        f"未发布的模式 / unreleased schemas {changed}: python -m xinfang.contract.history snapshot "
        "(then python -m xinfang.contract.asyncapi --out docs/asyncapi.yaml)"
    )


def test_history_versions_are_self_contained_and_numbered_from_v1() -> None:
    history = released(ROOT / "schemas")
    assert set(current_schemas()) <= set(history)
    for record, versions in history.items():
        assert [v.number for v in versions] == list(range(1, len(versions) + 1)), record
        for version in versions:
            parse_schema(version.expanded)  # no reference to a type defined elsewhere
            assert version.expanded["name"] == record


def test_canonical_form_is_a_schema_of_its_own_with_each_named_type_defined_once() -> None:
    """The fingerprint is the one Apache Avro computes (SchemaNormalization): each named type
    is defined at its first use and referred to by name after (SatisfactionEvaluated uses
    Rating twice; PetitionRegistered nests Petitioner inside CaseFile)."""
    for schema in current_schemas().values():
        canonical = json.loads(schema.canonical)
        parse_schema(canonical)  # standalone: every type it uses is defined in it
    rated = SchemaCatalogue().get("SatisfactionEvaluated").canonical
    assert rated.count('"name":"xinfang.events.Rating"') == 1
    registered = SchemaCatalogue().get("PetitionRegistered").canonical
    assert '"name":"xinfang.events.Petitioner","type":"record"' in registered


def test_catalogue_entries_are_verified_and_cover_every_writer_schema() -> None:
    entries = writer_schemas()
    by_fp = {e.fingerprint_hex: e for e in entries}
    assert len(by_fp) == len(entries)
    assert all(e.verified() for e in entries)
    for schema in current_schemas().values():
        assert by_fp[schema.fingerprint_hex].full_name == schema.full_name


def _field_names(schema: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(schema, dict):
        for field in schema.get("fields", []):
            names.add(field["name"])
            names |= _field_names(field["type"])
    elif isinstance(schema, list):
        for branch in schema:
            names |= _field_names(branch)
    return names


def test_public_schema_has_only_allowed_fields_and_no_nested_records() -> None:
    schema = load_public_schema()
    top = [f["name"] for f in schema.expanded["fields"]]
    assert tuple(top) == PUBLIC_FIELDS
    assert _field_names(schema.expanded) == set(PUBLIC_FIELDS)  # nothing nested
    assert not set(top) & PERSONAL_OR_CONTENT
    assert "xinfang.events" not in schema.canonical  # no shared event type (CaseFile, …)


def _public_records(bus: FakeBus, feed: PublicStatusFeed) -> list[tuple[bytes, dict[str, Any]]]:
    rows = bus.published.get(bus.topics.public_status(), [])
    return [(value, feed.decode(value)) for value in rows]


def test_public_feed_follows_the_case_and_carries_nothing_personal(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    feed = PublicStatusFeed(topology)
    accused = {
        "category": "ACCUSATION",
        "title": "反映松山区自然资源局某科长索要好处费",
        "request": "请求查处索要好处费问题",
        "facts": "某科长在办理宅基地审批时索要好处费两万元",
        "reasons": "严重违纪违法",
        "accused": "松山区自然资源局某科长",
        "accused_body": "150404.zrzy",
        "petitioner": {"name": "举报人甲", "address": "松山区某镇某村", "contact": "13911112222"},
    }
    accusation = register(bus, **accused)
    bus.run(
        "150400",
        accusation,
        "divert",
        {"actor": "150400.xfj", "route": "DISCIPLINE", "to_body": "150400.jw", "guidance": "移交"},
    )
    appeal = handled(bus)

    records = _public_records(bus, feed)
    secrets = [
        *[v for k, v in accused.items() if isinstance(v, str) and k not in {"category"}],
        *accused["petitioner"].values(),  # type: ignore[union-attr]
        *[v for k, v in PETITION.items() if k in {"title", "request", "facts", "reasons"}],
        *PETITION["petitioner"].values(),
        "ACCUSATION",
    ]
    for value, datum in records:
        assert set(datum) == set(PUBLIC_FIELDS)
        for secret in secrets:
            assert secret.encode() not in value, secret
            assert secret not in json.dumps(datum, default=str, ensure_ascii=False), secret

    # no case id and no query code (issue 15 item 4): an opaque feed id and a keyed hash
    codes = {c: bus.nodes["150400"].case(c).query_code for c in (accusation, appeal)}
    for value, datum in records:
        assert (datum["case_id"], datum["query_code"]) == ("", "")
        for case_id, code in codes.items():
            assert case_id.encode() not in value and code.encode() not in value
    by_feed: dict[str, list[dict[str, Any]]] = {}
    for _, datum in records:
        by_feed.setdefault(datum["feed_id"], []).append(datum)
    by_case = {c: by_feed[feed.key.feed_id(c)] for c in (accusation, appeal)}
    assert all(feed.key.matches(by_case[c][-1], c, code) for c, code in codes.items())
    assert not feed.key.matches(by_case[appeal][-1], accusation, codes[appeal])
    assert [(d["status"], d["holder"]) for d in by_case[accusation]] == [
        ("REGISTERED", "150400.xfj"),
        ("DIVERTED", "150400.jw"),
    ]
    steps = [(d["status"], d["division"]) for d in by_case[appeal]]
    assert steps == [
        ("REGISTERED", "150400"),
        ("TRANSFERRED", "150404"),
        ("ACCEPTED", "150404"),
        ("OPINION_ISSUED", "150404"),
    ]
    accepted = by_case[appeal][2]
    assert accepted["handling_due"] is not None and accepted["query_hash"]
    # Published once per change, by the node holding the case only (never by 150000).
    events = {
        feed.key.event_ref(e.header.event_id): e for _, e in bus.nodes["150000"].history(appeal)
    }
    for datum in by_case[appeal]:
        assert events[datum["event_id"]].header.occurred_at == datum["updated_at"]


def test_every_event_decodes_with_the_history_files_alone() -> None:
    """What a node writes, an integrator decodes with schemas/history and fastavro only."""
    from .test_schemas import SAMPLES

    codec = EventCodec()
    files = {
        v.fingerprint: parse_schema(v.expanded)
        for versions in released(ROOT / "schemas").values()
        for v in versions
    }
    for event in SAMPLES:
        data = codec.encode(event)
        datum = schemaless_reader(io.BytesIO(data[10:]), files[data[2:10]], None)
        assert datum["header"]["event_id"] == event.header.event_id


def test_the_guides_snippet_is_the_tested_example_file() -> None:
    guide = (ROOT / "docs" / "integrators.md").read_text(encoding="utf-8")
    example = (ROOT / "examples" / "minimal_subscriber.py").read_text(encoding="utf-8")
    blocks = guide.split("```python\n")[1:]
    assert any(block.split("```")[0] == example for block in blocks), (
        "docs/integrators.md 的代码须与 examples/minimal_subscriber.py 一致 / the guide's "
        "snippet must be examples/minimal_subscriber.py verbatim"
    )

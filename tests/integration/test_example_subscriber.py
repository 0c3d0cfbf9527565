"""The topic contract over the real broker, from an integrator's side.

Three node processes run the demo scenarios (slice, review chain, an accusation, supervision
chain with the shared clock moved 23 days). Then:

- every record on the log and inbox topics (and the public feed) is self-describing: Avro
  single-object encoding and CloudEvents headers that agree with the body;
- examples/subscriber.py (confluent-kafka + fastavro + the .avsc files, no xinfang import)
  decodes every event type the nodes emitted; an "old" copy that knows only a subset of the
  schemas skips the unknown types and keeps going;
- the public status feed follows each case and carries nothing personal or accused;
- `xinfang schemas list|export` reads every writer schema back from the catalogue topic.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xinfang.codec.wire import EventCodec
from xinfang.contract.catalogue import writer_schemas
from xinfang.contract.public_status import PUBLIC_FIELDS, FeedKey, PublicStatusFeed
from xinfang.devtools.broker import Broker
from xinfang.devtools.processes import NodeProcess, stop_all
from xinfang.devtools.scenario import (
    CITY,
    COUNTY,
    PETITION,
    PROVINCE,
    run_review_chain,
    run_slice,
    run_supervision_chain,
    wait_for,
)
from xinfang.kafka_io import read_to_end
from xinfang.node.clock_file import write_offset
from xinfang.store.unit_of_work import NodeStore
from xinfang.topics import TopicNames
from xinfang.topology_file import load_topology

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "subscriber.py"
MINIMAL = ROOT / "examples" / "minimal_subscriber.py"
DIVISIONS = (PROVINCE, CITY, COUNTY)
CE_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_dataschema",
    "content-type",
)
# What the demo scenarios must make the nodes emit, at least.
DEMO_TYPES = {
    "PetitionRegistered",
    "CaseTransferred",
    "CaseAccepted",
    "NoticeServed",
    "HandlingOpinionIssued",
    "ReviewRequested",
    "ReviewDecided",
    "ReReviewRequested",
    "ReReviewDecided",
    "CaseClosed",
    "CaseDiverted",
    "CaseAssigned",
    "DeadlineMissed",
    "SupervisionIssued",
    "SupervisionAnswered",
    "CompletionReported",
}
OLD_SUBSCRIBER_UNKNOWN = {"DeadlineMissed", "SupervisionIssued", "SupervisionAnswered"}
ACCUSATION: dict[str, Any] = {
    **PETITION,
    "category": "ACCUSATION",
    "title": "反映松山区自然资源局某科长索要好处费",
    "request": "请求查处某科长索要好处费问题",
    "facts": "某科长在宅基地审批中索要好处费两万元",
    "reasons": "严重违纪违法",
    "accused": "松山区自然资源局某科长",
    "accused_body": "150404.zrzy",
    "petitioner": {
        "name": "举报人孙某",
        "address": "松山区某镇某村 7 号",
        "contact": "13811112222",
    },
}


@dataclass
class Demo:
    bootstrap: str
    topics: TopicNames
    cases: dict[str, str]
    records: dict[str, list[Any]] = field(default_factory=dict)  # topic -> ConsumerRecords
    private_texts: list[str] = field(default_factory=list)
    feed_key: FeedKey | None = None  # what the petitioner app holds (issue 15 item 4)
    query_codes: dict[str, str] = field(default_factory=dict)  # case id -> its query code

    def node_topics(self, *kinds: str) -> list[str]:
        return [getattr(self.topics, kind)(d) for d in DIVISIONS for kind in kinds]


def _read_all(bootstrap: str, topics: list[str]) -> dict[str, list[Any]]:
    """Every record of `topics`, once no more arrive (the nodes' relays have caught up)."""
    before: list[Any] = []
    deadline = time.monotonic() + 30
    while True:
        records = asyncio.run(read_to_end(bootstrap, topics))
        if len(records) == len(before) or time.monotonic() > deadline:
            break
        before = records
        time.sleep(1.5)
    out: dict[str, list[Any]] = {t: [] for t in topics}
    for record in records:
        out[record.topic].append(record)
    return out


@pytest.fixture(scope="module")
def demo(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("contract")
    clock = root / "clock.json"
    write_offset(clock, timedelta(0))
    prefix = f"t{uuid.uuid4().hex[:10]}."
    nodes = {
        d: NodeProcess(
            d,
            kafka.bootstrap_servers,
            root / d,
            topic_prefix=prefix,
            clock_file=clock,
            sweep_interval_s=0.5,
        )
        for d in DIVISIONS
    }
    try:
        for node in nodes.values():
            node.start()
        for node in nodes.values():
            node.wait_ready()
        city, county, province = (nodes[d].client for d in (CITY, COUNTY, PROVINCE))
        cases = {"slice": run_slice(city, county, province)}
        cases["review"] = run_review_chain(city, county, province)
        accusation = str(city.post("/api/cases", {"actor": "150400.xfj", **ACCUSATION})["case_id"])
        city.post(
            f"/api/cases/{accusation}/divert",
            {
                "actor": "150400.xfj",
                "route": "DISCIPLINE",
                "to_body": "150400.jw",
                "guidance": "移交",
            },
        )
        cases["accusation"] = accusation
        cases["supervision"] = run_supervision_chain(
            city, county, province, lambda days: write_offset(clock, timedelta(days=days))
        )

        # No one at the province may read an accusation over HTTP (R17 for reads, decision
        # 025): the test looks into the province's own database instead.
        def province_status() -> str | None:
            store = NodeStore(nodes[PROVINCE].database_url)
            try:
                return {r["case_id"]: r["status"] for r in store.cases.list_cases()}.get(accusation)
            finally:
                store.close()

        wait_for(lambda: province_status() == "DIVERTED", "自治区看到移交")
        topics = TopicNames(prefix)
        demo = Demo(kafka.bootstrap_servers, topics, cases)
        wanted = [*demo.node_topics("log", "inbox"), topics.public_status()]
        demo.records = _read_all(kafka.bootstrap_servers, wanted)
        demo.feed_key = FeedKey(base64.b64decode(nodes[CITY].feed_key_file.read_text()))
        for node in nodes.values():  # each case's query code, as its petitioner's receipt has it
            store = NodeStore(node.database_url)
            try:
                rows = store.cases.list_cases()
                demo.query_codes |= {r["case_id"]: r["query_code"] for r in rows}
            finally:
                store.close()
        demo.private_texts = [
            *(v for k, v in ACCUSATION.items() if k in {"title", "request", "facts", "reasons"}),
            ACCUSATION["accused"],
            *ACCUSATION["petitioner"].values(),
            *(v for k, v in PETITION.items() if k in {"title", "request", "facts", "reasons"}),
            *PETITION["petitioner"].values(),
            "赵某某",  # the review chain's petitioner
            "钱某某",  # the supervision chain's petitioner
            "房屋征收补偿标准争议",
            "农民工工资拖欠",
            "ACCUSATION",  # not even the category of an accusation
        ]
        yield demo
    finally:
        for node in nodes.values():
            node.signal(signal.SIGTERM)  # all at once, then wait for each
        stop_all(nodes.values())


def _check_node_topic(demo: Demo, codec: EventCodec, division: str, topic: str) -> int:
    for record in demo.records[topic]:
        value = record.value
        assert value[:2] == b"\xc3\x01", f"{topic}@{record.offset}"
        event = codec.decode(value).event  # fingerprint known, body decodes exactly
        headers = _headers(record)
        assert set(CE_HEADERS) <= set(headers), f"{topic}@{record.offset}: {sorted(headers)}"
        h = event.header
        assert headers["ce_specversion"] == b"1.0"
        assert headers["ce_id"].decode() == h.event_id
        assert headers["ce_source"].decode() == h.source
        assert headers["ce_type"].decode() == f"xinfang.events.{event.type}"
        assert headers["ce_subject"].decode() == h.case_id == record.key.decode()
        assert headers["ce_dataschema"].decode() == f"urn:avro:crc64:{value[2:10].hex()}"
        assert headers["content-type"] == b"application/avro"
        assert datetime.fromisoformat(headers["ce_time"].decode()) == h.occurred_at
        if topic == demo.topics.log(division):
            assert h.source == division  # a log holds its own node's decisions only
        else:
            assert h.source != division  # an inbox holds what others address to the node
    return len(demo.records[topic])


def _headers(record: Any) -> dict[str, bytes]:
    keys = [k for k, _ in record.headers]
    assert len(keys) == len(set(keys)), f"duplicate headers {keys}"
    return {k: bytes(v) for k, v in record.headers}


def test_every_record_on_log_and_inbox_topics_is_self_describing(demo: Demo) -> None:
    codec = EventCodec()
    checked = 0
    for division in DIVISIONS:
        for topic in (demo.topics.log(division), demo.topics.inbox(division)):
            checked += _check_node_topic(demo, codec, division, topic)
    feed = PublicStatusFeed(load_topology())
    for record in demo.records[demo.topics.public_status()]:
        datum = feed.decode(record.value)
        headers = _headers(record)
        assert set(CE_HEADERS) <= set(headers)
        assert headers["ce_type"] == b"xinfang.public.CaseStatus"
        assert headers["ce_subject"].decode() == datum["feed_id"] == record.key.decode()
        assert headers["ce_source"].decode() == datum["division"]
        assert headers["ce_dataschema"].decode().endswith(record.value[2:10].hex())
        checked += 1
    assert checked > 50


def _emitted_types(demo: Demo) -> dict[tuple[str, int], str]:
    codec = EventCodec()
    return {
        (topic, r.offset): codec.decode(r.value).event.type
        for topic in demo.node_topics("log")
        for r in demo.records[topic]
    }


@pytest.fixture(scope="module")
def subscriber_runs(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the example twice at once: with every released schema, and as an old subscriber
    that predates the supervision event types."""
    root = tmp_path_factory.mktemp("subscriber")
    old = root / "old-schemas"
    shutil.copytree(
        ROOT / "schemas" / "history",
        old,
        ignore=lambda _d, names: [n for n in names if n in OLD_SUBSCRIBER_UNKNOWN],
    )
    prefix = re.escape(demo.topics.prefix)
    pattern = rf"^{prefix}xinfang\.([0-9]+\.log|public\.status)$"
    procs = {}
    # On the secured broker the guide's minimal subscriber runs as the `integrator` principal
    # with the one group its ACLs grant (decision 018); these two as the test's admin.
    integrator = integrator_env(demo.topics.prefix)
    for name, schemas in (("full", ROOT / "schemas" / "history"), ("old", old)):
        procs[name] = subprocess.Popen(
            [
                sys.executable, str(EXAMPLE),
                "--bootstrap-servers", demo.bootstrap,
                "--schemas", str(schemas),
                "--pattern", pattern,
                "--idle-exit", "2",
                "--output", str(root / f"{name}.jsonl"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
    # The guide's ten-minute snippet runs until stopped: stop it once it printed every record.
    minimal_out = root / "minimal.txt"
    with minimal_out.open("w") as sink:
        minimal = subprocess.Popen(
            [sys.executable, str(MINIMAL)],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                **integrator["env"],
                "XINFANG_KAFKA_GROUP": integrator["group"],
                "KAFKA_BOOTSTRAP_SERVERS": demo.bootstrap,
                "XINFANG_TOPIC_PREFIX": demo.topics.prefix,
                "XINFANG_SCHEMAS": "schemas/history",
            },
        )
        expected = sum(len(demo.records[t]) for t in demo.node_topics("log"))
        try:
            wait_for(
                lambda: len(minimal_out.read_text().splitlines()) >= expected,
                "minimal subscriber",
                timeout=45,
            )
        finally:
            minimal.terminate()
            minimal.wait(10)
    results: dict[str, Any] = {"minimal": minimal_out.read_text(encoding="utf-8").splitlines()}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=60)
        lines = (root / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        results[name] = (proc.returncode, [json.loads(line) for line in lines], err)
    return results


def integrator_env(prefix: str) -> dict[str, Any]:
    """The `integrator` principal's credentials and granted group (secured broker), or none."""
    from xinfang.devtools.secured import credentials_dir
    from xinfang.kafka_acls import INTEGRATOR, integrator_group

    folder = credentials_dir()
    env = (
        {"XINFANG_KAFKA_CREDENTIALS": str(folder / f"{INTEGRATOR}.json")}
        if folder is not None
        else {}
    )
    return {"env": env, "group": integrator_group(prefix, INTEGRATOR)}


def test_example_imports_nothing_from_xinfang() -> None:
    tree = ast.parse(EXAMPLE.read_text(encoding="utf-8"))
    modules = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in modules if m.split(".")[0] == "xinfang"}
    assert {"confluent_kafka", "fastavro"} <= {m.split(".")[0] for m in modules}


def test_example_subscriber_decodes_every_event_type_the_nodes_emit(
    demo: Demo, subscriber_runs: dict[str, Any]
) -> None:
    code, lines, err = subscriber_runs["full"]
    assert code == 0, err
    emitted = _emitted_types(demo)
    assert set(emitted.values()) >= DEMO_TYPES, DEMO_TYPES - set(emitted.values())
    assert not [line for line in lines if line.get("skipped")], err
    decoded = {(line["topic"], line["offset"]): line for line in lines}
    for (topic, offset), event_type in emitted.items():
        line = decoded[(topic, offset)]
        assert line["record"] == f"xinfang.events.{event_type}"
        assert line["value"]["header"]["event_id"] == line["headers"]["ce_id"]
    names = {line["record"] for line in lines}
    assert names == {f"xinfang.events.{t}" for t in emitted.values()} | {
        "xinfang.public.CaseStatus"
    }


def test_the_guides_minimal_subscriber_decodes_every_log_record(
    demo: Demo, subscriber_runs: dict[str, Any]
) -> None:
    lines = subscriber_runs["minimal"]
    emitted = _emitted_types(demo)
    assert len(lines) == len(emitted), lines[-5:]
    assert not [line for line in lines if line.startswith("skip")]
    printed = {line.split(" ")[0] for line in lines}
    assert printed == {f"xinfang.events.{t}" for t in emitted.values()}


def test_an_old_subscriber_skips_unknown_event_types_and_keeps_going(
    demo: Demo, subscriber_runs: dict[str, Any]
) -> None:
    code, lines, err = subscriber_runs["old"]
    assert code == 0, err
    emitted = _emitted_types(demo)
    skipped = {(x["topic"], x["offset"]): x for x in lines if x.get("skipped")}
    decoded = {(x["topic"], x["offset"]): x for x in lines if not x.get("skipped")}
    for where, event_type in emitted.items():
        if event_type in OLD_SUBSCRIBER_UNKNOWN:
            assert skipped[where]["ce_type"] == f"xinfang.events.{event_type}"
        else:
            assert decoded[where]["record"] == f"xinfang.events.{event_type}"
    assert {x["ce_type"] for x in skipped.values()} == {
        f"xinfang.events.{t}" for t in OLD_SUBSCRIBER_UNKNOWN
    }
    # It went on past the unknown records: on some topic, a record after a skipped one decoded.
    assert any(t == st and o > so for st, so in skipped for t, o in decoded)
    assert "skipped" in err and "unknown writer schema" in err


def test_public_status_feed_follows_cases_without_personal_or_accused_content(
    demo: Demo,
) -> None:
    feed = PublicStatusFeed(load_topology())
    by_feed_id: dict[str, dict[str, Any]] = {}
    clear = [*demo.query_codes, *demo.query_codes.values()]  # case ids and query codes
    assert len(clear) >= 8  # the four cases of the scenario
    for record in demo.records[demo.topics.public_status()]:
        raw = bytes(record.key) + bytes(record.value)
        raw += b"".join(bytes(v) for _, v in record.headers)
        for text in [*demo.private_texts, *clear]:
            assert text.encode() not in raw, text
        datum = feed.decode(record.value)
        assert set(datum) == set(PUBLIC_FIELDS)
        assert (datum["case_id"], datum["query_code"]) == ("", "")
        current = by_feed_id.get(datum["feed_id"])
        if current is None or datum["updated_at"] >= current["updated_at"]:
            by_feed_id[datum["feed_id"]] = datum
    # the petitioner app: the feed key, and the case number and query code of a receipt
    key = demo.feed_key
    assert key is not None
    latest = {}
    for case_id in demo.cases.values():
        datum = by_feed_id[key.feed_id(case_id)]
        assert key.matches(datum, case_id, demo.query_codes[case_id])
        assert not key.matches(datum, case_id, "ABCDEFGH")  # a wrong code shows nothing
        latest[case_id] = datum
    review = latest[demo.cases["review"]]
    assert (review["status"], review["final"], review["closed_reason"]) == (
        "CLOSED",
        True,
        "RE_REVIEW_SERVED",
    )
    accusation = latest[demo.cases["accusation"]]
    assert (accusation["status"], accusation["holder"]) == ("DIVERTED", "150400.jw")
    assert latest[demo.cases["slice"]]["status"] == "OPINION_ISSUED"
    assert latest[demo.cases["supervision"]]["division"] == COUNTY


def test_schema_catalogue_topic_lists_and_exports_every_writer_schema(
    demo: Demo, tmp_path: Path
) -> None:
    common = ["--bootstrap-servers", demo.bootstrap, "--topic-prefix", demo.topics.prefix]
    base = [sys.executable, "-m", "xinfang", "schemas", *common]
    listing, exporting = (
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for cmd in ([*base, "--json", "list"], [*base, "export", str(tmp_path / "avsc")])
    )
    out, err = listing.communicate(timeout=60)
    assert listing.returncode == 0, err
    rows = json.loads(out)
    expected = {e.fingerprint_hex: e.full_name for e in writer_schemas()}
    assert {r["fingerprint"]: r["name"] for r in rows} == expected
    assert all(r["verified"] for r in rows)
    on_wire = {bytes(r.value[2:10]).hex() for records in demo.records.values() for r in records}
    assert on_wire <= set(expected)
    out, err = exporting.communicate(timeout=60)
    assert exporting.returncode == 0, err
    # The exported folder alone is enough for the example subscriber's decoder.
    spec = importlib.util.spec_from_file_location("xinfang_example_subscriber", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    table, not_self_contained = example.load_schemas(tmp_path / "avsc")
    assert not not_self_contained
    assert {fp.hex() for fp in table} == set(expected)
    from_topic = example.load_schemas_from_topic(demo.bootstrap, demo.topics.schemas())
    assert {fp.hex() for fp in from_topic} == set(expected)
    for records in demo.records.values():
        for record in records:
            assert example.decode(bytes(record.value), table) is not None

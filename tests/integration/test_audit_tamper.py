"""Issue 5 against the real broker: tampered logs are detected and located (node + seq), and
`xinfang audit verify --from <export>` passes on a clean export and fails on an altered one.

Two node processes (赤峰市 and 松山区) with published keys run a case to its handling opinion and
checkpoint their logs (the city countersigns the county's checkpoint). Each tamper test copies
the logs, byte for byte, to topics of a new prefix — altered as an attacker would — and replays
them from the broker with `xinfang audit verify`. The last tests forge records into the real
topics while the nodes run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import fastavro
import pytest
from aiokafka import AIOKafkaProducer
from fastavro.write import Writer

from xinfang.audit.demo import generate_keys
from xinfang.audit.records import LogRecord
from xinfang.audit.replay import KafkaSource
from xinfang.audit.run import Source, run_audit
from xinfang.chain.keys import Keyring, NodeKey
from xinfang.chain.signing import sign_checkpoint
from xinfang.cli import main
from xinfang.codec.wire import EventCodec
from xinfang.devtools.broker import Broker
from xinfang.devtools.processes import NodeProcess, stop_all
from xinfang.devtools.scenario import PETITION, wait_for
from xinfang.domain.events import CHAIN_CASE_ID, ChainCheckpointed
from xinfang.kafka_security import aiokafka_security
from xinfang.node.admin import ensure_topics
from xinfang.provisioning import LOG_CONFIG
from xinfang.topics import TopicNames

pytestmark = pytest.mark.integration
CITY, COUNTY = "150400", "150404"
CODEC = EventCodec()


@dataclass
class Run:
    bootstrap: str
    prefix: str
    keys_dir: Path
    nodes: dict[str, NodeProcess]
    logs: dict[str, list[LogRecord]]

    def topic(self, division: str, prefix: str | None = None) -> str:
        return TopicNames(self.prefix if prefix is None else prefix).log(division)


async def _read(bootstrap: str, topic: str) -> list[LogRecord]:
    out: list[LogRecord] = []
    async with KafkaSource(bootstrap) as kafka:
        await kafka.read(topic, out.append)
    return out


async def _publish(bootstrap: str, topic: str, records: list[LogRecord]) -> None:
    await ensure_topics(bootstrap, {topic: LOG_CONFIG})
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **aiokafka_security())
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(topic, r.value, key=r.key, headers=list(r.headers))
    finally:
        await producer.stop()


def verify(run: Run, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(
        [
            "audit", "verify", "--bootstrap-servers", run.bootstrap, "--public-keys",
            str(run.keys_dir), "--nodes", f"{CITY},{COUNTY}", "--quiet", "--json", *args,
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def located(payload: Any) -> set[tuple[str, str, int | None]]:
    return {(v["code"], v["node"], v["seq"]) for v in payload["integrity"]["violations"]}


def countersigned(run: Run) -> bool:
    outcome = run_audit(
        _topology(),
        Source(bootstrap_servers=run.bootstrap, prefix=run.prefix),
        nodes=[CITY, COUNTY],
        keyring=Keyring.from_dir(run.keys_dir),
        inboxes=False,
    )
    return not any(w.code == "not-countersigned" for w in outcome.integrity.warnings)


def _topology() -> Any:
    from xinfang.topology_file import load_topology

    return load_topology()


@pytest.fixture(scope="module")
def run(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("audit")
    prefix = f"t{uuid.uuid4().hex[:10]}."
    keys_dir = root / "keys"
    generate_keys([CITY, COUNTY], keys_dir, root)
    nodes = {
        d: NodeProcess(
            d,
            kafka.bootstrap_servers,
            root / d,
            topic_prefix=prefix,
            extra_env={"XINFANG_PUBLIC_KEYS": str(keys_dir), "XINFANG_CHECKPOINT_INTERVAL": "0"},
        )
        for d in (CITY, COUNTY)
    }
    try:
        for node in nodes.values():
            node.start()
        for node in nodes.values():
            assert node.wait_ready()["key_id"]
        city, county = nodes[CITY].client, nodes[COUNTY].client
        case_id = str(city.post("/api/cases", {"actor": "150400.xfj", **PETITION})["case_id"])
        city.post(f"/api/cases/{case_id}/transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
        wait_for(lambda: _status(county, case_id) == "TRANSFERRED", "松山区收到转送")
        county.post(f"/api/cases/{case_id}/accept", {"actor": "150404.zj"})
        county.post(
            f"/api/cases/{case_id}/opinion",
            {"actor": "150404.zj", "outcome": "SUPPORTED", "opinion": "经调查属实，责令整改"},
        )
        this = Run(kafka.bootstrap_servers, prefix, keys_dir, nodes, {})
        assert county.post("/admin/checkpoint", {})["checkpointed"]
        wait_for(lambda: countersigned(this), "赤峰市会签松山区检查点", timeout=30)
        assert city.post("/admin/checkpoint", {})["checkpointed"]
        for d in (CITY, COUNTY):
            topic = this.topic(d)
            this.logs[d] = wait_for(
                lambda t=topic: _ends_with_checkpoint(asyncio.run(_read(this.bootstrap, t))),
                f"{d} 日志",
                timeout=30,
            )
        yield this
    finally:
        stop_all(nodes.values())


def _status(client: Any, case_id: str) -> str | None:
    from xinfang.devtools.scenario import case_status

    return case_status(client, case_id)


def _ends_with_checkpoint(records: list[LogRecord]) -> list[LogRecord] | None:
    if records and isinstance(CODEC.decode(records[-1].value).event, ChainCheckpointed):
        return records
    return None


def tampered(run: Run, county_log: list[LogRecord]) -> str:
    """Copy the city's log and a tampered county log to the topics of a new prefix."""
    prefix = f"{run.prefix}x{uuid.uuid4().hex[:6]}."
    asyncio.run(_publish(run.bootstrap, run.topic(CITY, prefix), run.logs[CITY]))
    asyncio.run(_publish(run.bootstrap, run.topic(COUNTY, prefix), county_log))
    return prefix


def seq(record: LogRecord) -> int:
    return CODEC.decode(record.value).event.header.seq


def signing(run: Run) -> bool:
    """True once nodes sign every record (decision 021): a record that is not the node's is then
    named by its signature and kept off the chain (decision 024), not by the chain's checks."""
    return any(k == "xinfang_sig" for k, _ in run.logs[COUNTY][0].headers)


def named(run: Run, unsigned_code: str) -> str:
    """The code a forged or altered log record gets: by signature if the nodes sign."""
    return "record-bad-signature" if signing(run) else unsigned_code


def test_clean_logs_verify(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = verify(run, capsys, "--topic-prefix", run.prefix)
    assert code == 0, payload["integrity"]["violations"]
    nodes = payload["integrity"]["nodes"]
    assert nodes[COUNTY]["checkpoints"] == 1 and nodes[CITY]["countersigns"] == 1
    assert nodes[COUNTY]["key_published"] and nodes[COUNTY]["unsigned_tail"] is None


def test_an_altered_byte_is_located(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    log = run.logs[COUNTY]
    target = next(
        i for i, r in enumerate(log)
        if CODEC.decode(r.value).event.type == "HandlingOpinionIssued"
    )  # fmt: skip
    value = bytearray(log[target].value)
    at = value.index(b"xfs1.") + 8  # the opinion is sealed (decision 037): one of its characters
    value[at] = ord("B") if value[at] == ord("A") else ord("A")
    copy = [*log[:target], replace(log[target], value=bytes(value)), *log[target + 1 :]]
    code, payload = verify(run, capsys, "--topic-prefix", tampered(run, copy))
    assert code == 1
    assert (named(run, "record-altered"), COUNTY, seq(log[target])) in located(payload)


def test_a_deleted_event_is_located(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    log = run.logs[COUNTY]
    code, payload = verify(run, capsys, "--topic-prefix", tampered(run, log[:1] + log[2:]))
    assert code == 1
    assert located(payload) == {("seq-missing", COUNTY, seq(log[1]))}


def test_two_swapped_events_are_located(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    log = run.logs[COUNTY]
    copy = [log[0], log[2], log[1], *log[3:]]
    code, payload = verify(run, capsys, "--topic-prefix", tampered(run, copy))
    assert code == 1
    assert located(payload) == {("seq-out-of-order", COUNTY, seq(log[1]))}


def test_an_event_forged_with_another_key_is_located(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    log = run.logs[COUNTY]
    last = CODEC.decode(log[-1].value).event
    header = replace(
        last.header, event_id=str(uuid.uuid4()), seq=last.header.seq + 1,
        prev_hash=hashlib.sha256(log[-1].value).hexdigest(),
    )
    forged = CODEC.encode(sign_checkpoint(NodeKey.generate(), header))
    copy = [*log, replace(log[-1], value=forged)]
    code, payload = verify(run, capsys, "--topic-prefix", tampered(run, copy))
    assert code == 1
    assert located(payload) == {(named(run, "key-mismatch"), COUNTY, last.header.seq + 1)}


def test_an_event_forged_with_a_non_matching_chain_is_located(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    log = run.logs[COUNTY]
    event = CODEC.decode(log[2].value).event
    head = seq(log[-1])
    forged = replace(
        event, header=replace(event.header, event_id="forged", seq=head + 1, prev_hash="0" * 64)
    )
    copy = [*log, replace(log[2], value=CODEC.encode(forged))]
    code, payload = verify(run, capsys, "--topic-prefix", tampered(run, copy))
    assert code == 1
    assert located(payload) == {(named(run, "chain-broken"), COUNTY, head + 1)}


def test_an_old_event_replayed_is_located(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    log = run.logs[COUNTY]
    old = CODEC.decode(log[0].value).event
    head = seq(log[-1])
    replayed = replace(
        old,
        header=replace(
            old.header, seq=head + 1, prev_hash=hashlib.sha256(log[-1].value).hexdigest()
        ),
    )
    copy = [*log, replace(log[0], value=CODEC.encode(replayed))]
    code, payload = verify(run, capsys, "--topic-prefix", tampered(run, copy))
    assert code == 1
    assert located(payload) == {(named(run, "event-replayed"), COUNTY, head + 1)}
    # an exact re-publication of an old record (a relay crash) is harmless
    code, payload = verify(run, capsys, "--topic-prefix", tampered(run, [*log, log[0], log[1]]))
    assert code == 0 and payload["integrity"]["nodes"][COUNTY]["redeliveries"] == 2


def test_verify_from_an_export(
    run: Run, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "logs"
    args = ["--bootstrap-servers", run.bootstrap, "--topic-prefix", run.prefix, "--quiet"]
    assert main(["audit", "export", "--out", str(out), "--nodes", f"{CITY},{COUNTY}", *args]) == 0
    capsys.readouterr()
    files = sorted(p.name for p in out.glob("*.avro"))
    assert files == [f"{d}.{kind}.avro" for d in (CITY, COUNTY) for kind in ("inbox", "log")]
    base = ["audit", "verify", "--from", str(out), "--public-keys", str(run.keys_dir), "--quiet"]
    assert main(base) == 0
    assert "日志完整" in capsys.readouterr().out

    path = out / f"{COUNTY}.log.avro"
    with path.open("rb") as fh:
        reader = fastavro.reader(fh)
        schema, metadata = reader.writer_schema, dict(reader.metadata)
        rows = list(reader)
    target = next(i for i, r in enumerate(rows) if r["event_type"] == "HandlingOpinionIssued")
    value = rows[target]["value"]
    at = value.index(b"xfs1.") + 8  # the opinion is sealed (decision 037): one of its characters
    flipped = b"B" if value[at : at + 1] == b"A" else b"A"
    rows[target]["value"] = value[:at] + flipped + value[at + 1 :]
    with path.open("wb") as fh:
        writer = Writer(
            fh, fastavro.parse_schema(schema), codec="deflate",
            metadata={k: v for k, v in metadata.items() if k.startswith("xinfang.")},
        )
        for row in rows:
            writer.write(row)
        writer.flush()
    assert main(base) == 1
    output = capsys.readouterr().out
    assert f"节点 {COUNTY} seq {rows[target]['seq']}" in output
    assert named(run, "record-altered") in output

    # stripping the file's metadata does not make the altered log go unnoticed
    with path.open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), rows)
    assert main(base) == 1
    assert f"节点 {COUNTY} seq {rows[target]['seq']}" in capsys.readouterr().out


def test_a_forged_record_in_the_live_log_collides_with_the_node(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    """A producer that is not the node appends a chain-consistent record to the node's real
    log; the node's next record has the same seq, its signed checkpoint tells which is real."""
    log = run.logs[COUNTY]
    event = CODEC.decode(log[2].value).event
    head = seq(log[-1])
    forged = replace(
        event,
        header=replace(
            event.header, event_id=str(uuid.uuid4()), seq=head + 1,
            prev_hash=hashlib.sha256(log[-1].value).hexdigest(),
        ),
    )
    asyncio.run(
        _publish(run.bootstrap, run.topic(COUNTY), [replace(log[2], value=CODEC.encode(forged))])
    )
    county = run.nodes[COUNTY].client
    assert county.post("/admin/checkpoint", {"force": True})["seq"] == head + 1
    wait_for(
        lambda: len(asyncio.run(_read(run.bootstrap, run.topic(COUNTY)))) >= len(log) + 2,
        "县级日志写入新检查点",
        timeout=30,
    )
    code, payload = verify(run, capsys, "--topic-prefix", run.prefix, "--no-inboxes")
    assert code == 1
    [finding] = payload["integrity"]["violations"]
    assert (finding["code"], finding["node"], finding["seq"], finding["offset"]) == (
        named(run, "seq-conflict"), COUNTY, head + 1, log[-1].offset + 1
    )


def test_the_parent_dead_letters_a_checkpoint_signed_with_another_key(run: Run) -> None:
    log = asyncio.run(_read(run.bootstrap, run.topic(COUNTY)))
    last = CODEC.decode(log[-1].value).event
    header = replace(
        last.header, event_id=str(uuid.uuid4()), case_id=CHAIN_CASE_ID, causation_id="",
        seq=last.header.seq + 1, prev_hash=hashlib.sha256(log[-1].value).hexdigest(),
    )
    forged = CODEC.encode(sign_checkpoint(NodeKey.generate(), header))
    inbox = TopicNames(run.prefix).inbox(CITY)
    asyncio.run(_publish(run.bootstrap, inbox, [LogRecord(inbox, 0, 0, 0, b"_chain", forged)]))
    deadletter = TopicNames(run.prefix).deadletter(CITY)

    def refused() -> str | None:
        records = asyncio.run(_read_all(run.bootstrap, deadletter))
        for r in records:
            if r.value == forged:
                return dict(r.headers)["xinfang_dlq_reason"].decode()
        return None

    # refused before its checkpoint signature is looked at: no record signature (decision 021)
    assert wait_for(refused, "赤峰市拒收伪造检查点", timeout=30) == "unsigned"


async def _read_all(bootstrap: str, topic: str) -> list[LogRecord]:
    async with KafkaSource(bootstrap) as kafka:
        if not kafka.has(topic):
            return []
    return await _read(bootstrap, topic)


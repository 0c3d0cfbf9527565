"""Issue 14 item 3 against the real broker: a node process records each request on its operator
trail, the relay publishes the entries to `xinfang.<division>.trail`, only the audit
administrator's principal can read that topic, `xinfang audit verify` passes on the genuine
trail and names an altered and a deleted entry in a tampered copy, and `xinfang audit trail`
lists the entries (decision 027).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from xinfang.audit.demo import generate_keys
from xinfang.audit.records import LogRecord
from xinfang.audit.replay import KafkaSource
from xinfang.cli import main
from xinfang.devtools.broker import Broker
from xinfang.devtools.processes import NodeProcess
from xinfang.devtools.scenario import PETITION, wait_for
from xinfang.devtools.secured import credentials_dir
from xinfang.identity.trail_record import decode
from xinfang.kafka_acls import AUDIT_ADMIN, AUDITOR
from xinfang.kafka_security import aiokafka_security
from xinfang.node.admin import ensure_topics
from xinfang.provisioning import trail_config
from xinfang.topics import TopicNames

pytestmark = pytest.mark.integration
CITY = "150400"


async def _read(bootstrap: str, prefix: str, topic: str) -> list[LogRecord]:
    out: list[LogRecord] = []
    async with KafkaSource(bootstrap, prefix) as kafka:
        if kafka.has(topic):
            await kafka.read(topic, out.append)
    return out


async def _publish(bootstrap: str, topic: str, records: list[LogRecord]) -> None:
    await ensure_topics(bootstrap, {topic: trail_config()})
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **aiokafka_security())
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(topic, r.value, key=r.key, headers=list(r.headers))
    finally:
        await producer.stop()


def _as(principal: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Act as `principal` on a secured broker (its credentials file), as admin otherwise."""
    folder = credentials_dir()
    if folder is not None:
        monkeypatch.setenv("XINFANG_KAFKA_CREDENTIALS", str(folder / f"{principal}.json"))


def _verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["audit", "verify", "--quiet", "--json", "--no-inboxes", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_node_publishes_its_trail_which_audit_verify_checks(
    kafka: Broker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    keys_dir = tmp_path / "keys"
    generate_keys([CITY], keys_dir, tmp_path)
    node = NodeProcess(
        CITY, kafka.bootstrap_servers, tmp_path / CITY, topic_prefix=prefix,
        extra_env={"XINFANG_PUBLIC_KEYS": str(keys_dir), "XINFANG_CHECKPOINT_INTERVAL": "0"},
    )  # fmt: skip
    topic = TopicNames(prefix).trail(CITY)
    try:
        node.start()
        node.wait_ready()  # polls /health: liveness probes answered 2xx are not recorded
        client = node.client
        case_id = client.post("/api/cases", PETITION)["case_id"]
        client.get(f"/api/cases/{case_id}")
        with pytest.raises(Exception, match="XF-CASE-NOT-FOUND"):
            client.get("/api/cases/150400-2026-999999")
        records = wait_for(
            lambda: [
                r
                for r in [asyncio.run(_read(kafka.bootstrap_servers, prefix, topic))]
                if any(decode(x.value).status == 404 for x in r)
            ],
            "审计记录到达主题 / trail entries reach the topic",
            timeout=60,
        )[0]
    finally:
        node.stop()
    entries = [decode(r.value) for r in records]
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    # the staff client signs in first (decision 025): those attempts are entries too
    assert {e.action for e in entries} >= {"signIn"}
    acts = [(e.action, e.case_id, e.status, e.code) for e in entries if e.action != "signIn"]
    assert acts == [
        ("registerCase", case_id, 201, ""),
        ("getCase", case_id, 200, ""),
        ("getCase", "150400-2026-999999", 404, "XF-CASE-NOT-FOUND"),
    ]
    assert {(e.node, e.source) for e in entries} == {(CITY, "127.0.0.1")}
    assert entries[0].agent.startswith("Python-urllib")

    # the audit administrator reads and verifies the trail; the auditor does not see it
    _as(AUDIT_ADMIN, monkeypatch)
    keys = ["--public-keys", str(keys_dir), "--bootstrap-servers", kafka.bootstrap_servers]
    code, genuine = _verify(capsys, *keys, "--topic-prefix", prefix)
    assert code == 0, genuine["integrity"]["violations"]
    read = genuine["about"]["trails"]  # every division's trail topic, empty ones too
    assert read[CITY] == len(entries) and not any(n for d, n in read.items() if d != CITY)
    shown = main(["audit", "trail", "--node", CITY, "--topic-prefix", prefix, *keys,
                  "--action", "getCase"])  # fmt: skip
    table = capsys.readouterr().out
    assert shown == 0 and "150400-2026-999999" in table and "XF-CASE-NOT-FOUND" in table
    assert "共 2 条 / 2 entries" in table and "✓" in table
    if credentials_dir() is not None:  # ACLs exist on a secured broker only
        _as(AUDITOR, monkeypatch)
        code, seen = _verify(capsys, *keys, "--topic-prefix", prefix)
        assert seen["about"]["trails"] == {}

    # a tampered copy: the 404's outcome rewritten, the registration removed
    _as("admin", monkeypatch)
    copy = f"{prefix}x{uuid.uuid4().hex[:6]}."
    refused = next(i for i, e in enumerate(entries) if e.status == 404)
    registered = next(i for i, e in enumerate(entries) if e.action == "registerCase")
    changed = dataclasses.replace(entries[refused], status=200, code="")
    forged = [
        dataclasses.replace(r, value=changed.to_bytes()) if i == refused else r
        for i, r in enumerate(records)
        if i != registered
    ]
    asyncio.run(_publish(kafka.bootstrap_servers, TopicNames(copy).trail(CITY), forged))
    code, tampered = _verify(capsys, *keys, "--topic-prefix", copy)
    assert code == 1
    found = {(v["code"], v["node"], v["seq"]) for v in tampered["integrity"]["violations"]}
    assert found == {
        ("trail-altered", CITY, entries[refused].seq),
        ("trail-missing", CITY, entries[registered].seq),
    }

"""Bad input from the wire goes to the dead-letter topic with its reason; the node keeps running;
an operator lists dead letters and re-drives one after fixing the cause."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaProducer

from xinfang.codec.wire import EventCodec
from xinfang.devtools.broker import Broker
from xinfang.devtools.scenario import PETITION, case_status, wait_for
from xinfang.kafka_security import aiokafka_security
from xinfang.ops.deadletters import list_sync
from xinfang.topics import TopicNames
from xinfang.topology_file import default_topology_path

from .conftest import NodeFactory

pytestmark = pytest.mark.integration


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **aiokafka_security())
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


def xinfang(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xinfang", *args], capture_output=True, text=True)


def test_malformed_unknown_and_forged_records_are_dead_lettered_and_one_is_redriven(
    kafka: Broker, start_node: NodeFactory, topic_prefix: str, tmp_path: Path
) -> None:
    # 松山区 starts with an outdated topology that puts it directly under the province:
    # then 赤峰市 is no relative of it, and whatever 赤峰市 sends is refused.
    data = yaml.safe_load(default_topology_path().read_text(encoding="utf-8"))
    for division in data["divisions"]:
        if division["code"] == "150404":
            division["parent"] = "150000"
    wrong = tmp_path / "outdated.yaml"
    wrong.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    topics = TopicNames(topic_prefix)
    city = start_node("150400")
    county = start_node("150404", topology=wrong)
    city.wait_ready()
    county.wait_ready()

    codec = EventCodec()
    good = codec.catalogue.get("CaseAccepted").fingerprint
    asyncio.run(
        produce(
            kafka.bootstrap_servers,
            topics.inbox("150404"),
            [
                (b"k1", b"not avro at all"),
                (b"k2", b"\xc3\x01" + b"\x01" * 8 + b"\x02\x03"),  # unknown fingerprint
                (b"k3", b"\xc3\x01" + good + b"\xff\xff\xff"),  # known schema, broken body
            ],
        )
    )
    case_id = city.client.post("/api/cases", {"actor": "150400.xfj", **PETITION})["case_id"]
    city.client.post(
        f"/api/cases/{case_id}/transfer", {"actor": "150400.xfj", "to_body": "150404.zj"}
    )

    def reasons() -> list[str]:
        return [x.reason for x in list_sync(kafka.bootstrap_servers, topics, "150404")]

    wait_for(lambda: len(reasons()) >= 4, "四条死信 / four dead letters", timeout=60)
    assert sorted(reasons()) == sorted(
        [
            "not-single-object-encoding",
            "unknown-schema-fingerprint",
            "undecodable-body",
            "source-not-related",
        ]
    )
    assert county.client.get("/health")["status"] == "ok"  # the node kept running
    assert case_status(county.client, case_id) is None

    listed = xinfang(
        "dead-letters",
        "--node",
        "150404",
        "--bootstrap-servers",
        kafka.bootstrap_servers,
        "--topic-prefix",
        topic_prefix,
    )
    assert listed.returncode == 0 and "source-not-related" in listed.stdout, listed.stderr

    # the fix: restart 松山区 with the right topology, then re-drive the refused transfer
    county.stop()
    fixed = start_node("150404")
    fixed.wait_ready()
    [refused] = [
        x
        for x in list_sync(kafka.bootstrap_servers, topics, "150404")
        if x.reason == "source-not-related"
    ]
    redriven = xinfang(
        "dead-letters",
        "--node",
        "150404",
        "--bootstrap-servers",
        kafka.bootstrap_servers,
        "--topic-prefix",
        topic_prefix,
        "--redrive",
        str(refused.offset),
    )
    assert redriven.returncode == 0, redriven.stderr
    wait_for(lambda: case_status(fixed.client, case_id) == "TRANSFERRED", "重新投递后收到转送", 60)
    assert len(reasons()) == 4  # nothing new was refused


def test_a_forged_record_is_refused_the_genuine_one_applies_and_redrive_says_why_not(
    kafka: Broker, start_node: NodeFactory, topic_prefix: str
) -> None:
    """Issue 12 items 1 and 2 over the broker: a record altered by someone without the city's
    key (headers, id and seq copied from the genuine one) is dead-lettered as bad-signature and
    changes nothing, and re-driving it is refused with the reason (exit 1) instead of
    "succeeding" and doing nothing. (A forgery arriving before the genuine record:
    tests/unit/test_record_chains.py.)"""
    from dataclasses import replace

    from xinfang.kafka_io import read_topic

    topics = TopicNames(topic_prefix)
    city, county = start_node("150400"), start_node("150404")
    city.wait_ready()
    county.wait_ready()
    case_id = city.client.post("/api/cases", {"actor": "150400.xfj", **PETITION})["case_id"]
    city.client.post(
        f"/api/cases/{case_id}/transfer", {"actor": "150400.xfj", "to_body": "150404.zj"}
    )

    def transfer() -> object:
        records = asyncio.run(read_topic(kafka.bootstrap_servers, topics.log("150400")))
        return next((r for r in records if b"CaseTransferred" in dict(r.headers)["ce_type"]), None)

    genuine = wait_for(transfer, "转送记录 / the transfer on the city's log", timeout=60)
    codec = EventCodec()
    forged = codec.encode(replace(codec.decode(genuine.value).event, to_body="150404.rs"))
    headers = [(k, bytes(v)) for k, v in genuine.headers]
    asyncio.run(
        _produce_with_headers(
            kafka.bootstrap_servers, topics.inbox("150404"), genuine.key, forged, headers
        )
    )
    wait_for(lambda: case_status(county.client, case_id) == "TRANSFERRED", "真实转送已应用", 60)
    letters = wait_for(
        lambda: list_sync(kafka.bootstrap_servers, topics, "150404"), "伪造记录进入死信", 60
    )
    assert county.client.get(f"/api/cases/{case_id}")["holder"] == "150404.zj"
    [letter] = letters
    assert (letter.reason, letter.value) == ("bad-signature", forged)
    redriven = xinfang(
        "dead-letters", "--node", "150404", "--bootstrap-servers", kafka.bootstrap_servers,
        "--topic-prefix", topic_prefix, "--redrive", str(letter.offset),
    )  # fmt: skip
    assert redriven.returncode == 1, redriven.stderr
    assert "not re-driven" in redriven.stdout and "refused again" in redriven.stdout


async def _produce_with_headers(
    bootstrap: str, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **aiokafka_security())
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()

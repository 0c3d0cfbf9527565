"""What a subscriber sees on a node's log topic: single-object Avro + CloudEvents headers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from fastavro import parse_schema, schemaless_reader
from fastavro.schema import fingerprint, to_parsing_canonical_form

from xinfang.devtools.broker import Broker
from xinfang.devtools.scenario import CITY, COUNTY, PROVINCE, run_slice
from xinfang.kafka_security import aiokafka_security

from .conftest import NodeFactory

pytestmark = pytest.mark.integration
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def schemas_from_files_only() -> dict[bytes, dict]:
    """Decode using nothing but the .avsc files, as an integrator would: the self-contained
    released versions in schemas/history, fingerprinted as Apache Avro does."""
    table = {}
    for path in (SCHEMAS / "history").rglob("*.avsc"):
        raw = json.loads(path.read_text())
        fp = bytes.fromhex(fingerprint(to_parsing_canonical_form(raw), "CRC-64-AVRO"))
        table[fp] = parse_schema(raw)
    return table


async def read_topic(bootstrap: str, topic: str, count: int) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **aiokafka_security(),
    )
    await consumer.start()
    records = []
    try:
        while len(records) < count:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 30)
            for msgs in batch.values():
                records.extend(msgs)
    finally:
        await consumer.stop()
    return records


def test_log_topic_is_self_describing_and_chained(
    kafka: Broker, start_node: NodeFactory, topic_prefix: str
) -> None:
    nodes = {d: start_node(d) for d in (PROVINCE, CITY, COUNTY)}
    for node in nodes.values():
        node.wait_ready()
    case_id = run_slice(nodes[CITY].client, nodes[COUNTY].client, nodes[PROVINCE].client)

    records = asyncio.run(
        read_topic(kafka.bootstrap_servers, f"{topic_prefix}xinfang.{COUNTY}.log", 4)
    )
    schemas = schemas_from_files_only()
    prev_hash = ""
    for seq, record in enumerate(records, start=1):
        value = record.value
        assert value[:2] == b"\xc3\x01"
        datum = schemaless_reader(io.BytesIO(value[10:]), schemas[value[2:10]], None)
        header = datum["header"]
        assert header["seq"] == seq and header["prev_hash"] == prev_hash
        assert header["source"] == COUNTY and header["case_id"] == case_id
        assert record.key == case_id.encode()
        headers = dict(record.headers)
        assert headers["ce_specversion"] == b"1.0"
        assert headers["ce_id"] == header["event_id"].encode()
        assert headers["ce_source"] == COUNTY.encode()
        assert headers["ce_subject"] == case_id.encode()
        assert headers["ce_type"].startswith(b"xinfang.events.")
        prev_hash = hashlib.sha256(value).hexdigest()

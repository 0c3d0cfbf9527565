"""Issue 15 item 6: no personal data in clear in any node database (with its WAL) nor on any
topic, after a complaint and an accusation went through three node processes on the real
broker; the entitled node reads the clear values, the accused unit's node holds nothing of the
accusation (decision 028)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from xinfang.client import ApiError
from xinfang.codec.wire import EventCodec
from xinfang.devtools.processes import NodeProcess
from xinfang.devtools.scenario import (
    CITY,
    CITY_OFFICE,
    COUNTY,
    PETITION,
    PROVINCE,
    run_slice,
    wait_for,
)
from xinfang.domain.clock import system_clock
from xinfang.domain.events import CaseFile
from xinfang.kafka_io import read_to_end
from xinfang.kafka_security import aiokafka_security
from xinfang.node.case_sealer import CaseSealer
from xinfang.privacy.fields import FieldCipher
from xinfang.privacy.keyfile import load_data_keys
from xinfang.privacy.node_keys import load_or_create_recipient_key
from xinfang.store.unit_of_work import NodeStore

from .conftest import NodeFactory

pytestmark = pytest.mark.integration

ID_NUMBER = "150404199001011237"
ACCUSATION: dict[str, Any] = {
    "title": "举报某局工作人员",
    "channel": "LETTER",
    "category": "ACCUSATION",
    "petitioner": {"name": "孙晓梅", "address": "赤峰市红山区某街 18 号", "contact": "13712345678"},
    "request": "请求查处收受红包的行为",
    "facts": f"举报人身份证号 {ID_NUMBER}；该局科长收受开发商红包两万元",
    "reasons": "违反廉洁纪律",
    "place": COUNTY,
    "accused": "松山区住建局李科长",
    "accused_body": "150404.zj",
}
NEEDLES = [
    str(PETITION["petitioner"]["name"]),
    str(PETITION["petitioner"]["contact"]),
    str(PETITION["petitioner"]["address"]),
    str(PETITION["facts"]),
    str(ACCUSATION["petitioner"]["name"]),
    str(ACCUSATION["petitioner"]["contact"]),
    str(ACCUSATION["petitioner"]["address"]),
    ID_NUMBER,
    "收受开发商红包两万元",
    "请求查处收受红包的行为",
    "松山区住建局李科长",
]


def _found(blob: bytes) -> list[str]:
    return [n for n in NEEDLES if n.encode("utf-8") in blob]


async def _every_topic(bootstrap: str, prefix: str) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **aiokafka_security())
    await consumer.start()
    try:
        names = sorted(t for t in await consumer.topics() if t.startswith(prefix))
    finally:
        await consumer.stop()
    return await read_to_end(bootstrap, names)


def _opened_file(node: NodeProcess, case_id: str) -> CaseFile:
    """The case file as `node` reads it: its stored records opened with its own keys."""
    division = node.division
    data_keys = load_data_keys({}, node.data_dir / f"node-{division}.datakeys.json")
    own, _ = load_or_create_recipient_key(node.data_dir / f"node-{division}.x25519")
    sealer = CaseSealer(division, FieldCipher(data_keys), own, lambda _: None, system_clock)
    store = NodeStore(node.database_url)
    try:
        with store.transaction() as tx:
            for payload in tx.cases.payloads(case_id):
                event = sealer.unseal(tx, EventCodec().decode(payload).event)
                file = getattr(event, "file", None)
                if isinstance(file, CaseFile):
                    return file
    finally:
        store.close()
    raise AssertionError(f"{division} holds no file of {case_id}")


def _holds(node: NodeProcess, case_id: str) -> bool:
    with sqlite3.connect(node.data_dir / f"node-{node.division}.sqlite3") as conn:
        found = conn.execute("SELECT 1 FROM case_events WHERE case_id = ?", (case_id,))
        return found.fetchone() is not None


def _settled(nodes: list[NodeProcess]) -> bool:
    return all(n.client.get("/health")["outbox_pending"] == 0 for n in nodes)


def test_no_personal_data_in_clear_in_any_store_or_topic(
    start_node: NodeFactory, topic_prefix: str, tmp_path: Path
) -> None:
    province, city, county = (start_node(d) for d in (PROVINCE, CITY, COUNTY))
    nodes = [province, city, county]
    for node in nodes:
        node.wait_ready()
    complaint = run_slice(city.client, county.client, province.client)
    registered = city.client.post("/api/cases", {"actor": CITY_OFFICE, **ACCUSATION})
    accusation = str(registered["case_id"])
    # the query code (the petitioner's lookup credential) is sealed too
    code = str(registered["query_code"]).encode()
    assert len(code) >= 6
    wait_for(lambda: _settled(nodes), "所有发件箱已发送", 60)
    # the province holds the accusation (its staff view may not show it: not theirs to handle)
    wait_for(lambda: _holds(province, accusation), "省级收到举报", 60)

    # the entitled nodes read the clear values, with their own keys (the view masks them)
    for node, case_id, petition in (
        (city, accusation, ACCUSATION), (province, accusation, ACCUSATION),
        (county, complaint, PETITION), (province, complaint, PETITION),
    ):  # fmt: skip
        file = _opened_file(node, case_id)
        assert file.petitioner.name == petition["petitioner"]["name"], node.division
        assert file.facts == petition["facts"], node.division

    # the accused unit's node: no case, no key
    with pytest.raises(ApiError) as refused:
        county.client.get(f"/api/cases/{accusation}")
    assert refused.value.status == 404
    county_db = county.data_dir / f"node-{COUNTY}.sqlite3"
    with sqlite3.connect(county_db) as conn:
        held = {r[0] for r in conn.execute("SELECT case_id FROM case_keys")}
    assert held == {complaint}

    # every SQLite file, with its WAL and shared memory
    files = sorted(p for p in tmp_path.rglob("*.sqlite3*") if p.is_file())
    assert len(files) >= 3
    scanned_bytes = 0
    for path in files:
        raw = path.read_bytes()
        scanned_bytes += len(raw)
        assert _found(raw) == [], path
        assert code not in raw, path

    # every topic of the run, all partitions, from the beginning: values, keys, headers
    records = asyncio.run(_every_topic(city.bootstrap_servers, topic_prefix))
    topics = {r.topic for r in records}
    assert any(t.endswith(f"{COUNTY}.inbox") for t in topics)
    assert any(t.endswith(f"{CITY}.log") for t in topics)
    for r in records:
        blob = (r.value or b"") + (r.key or b"") + b"".join(k.encode() + v for k, v in r.headers)
        assert _found(blob) == [], (r.topic, r.offset)
        assert code not in blob, (r.topic, r.offset)
    wrapped = [r for r in records if any(k == "xinfang_dk" for k, _ in r.headers)]
    assert wrapped and all(".inbox" in r.topic for r in wrapped)
    print(
        f"\nraw-bytes scan: {len(files)} SQLite files, {scanned_bytes} bytes; "
        f"{len(records)} records on {len(topics)} topics; {len(NEEDLES) + 1} needles; 0 found"
    )

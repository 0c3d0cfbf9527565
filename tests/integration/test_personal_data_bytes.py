"""Issue 15 item 6: no personal data in clear in any node database (with its WAL) nor on any
topic, after a complaint and an accusation went through three node processes on the real
broker; the entitled node reads the clear values, the accused unit's node holds nothing of the
accusation (decision 028). The free text of acts too (decision 037): the handling opinion, a
transfer note, a review request's reasons and a not-accepted reason."""

from __future__ import annotations

import asyncio
import json
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
    HANDLING_BODY,
    PETITION,
    PROVINCE,
    run_slice,
    wait_for,
)
from xinfang.domain.clock import system_clock
from xinfang.domain.events import CaseFile, Event, ReviewRequested
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
# act texts (decision 037): run_slice's opinion and transfer note, and the acts below
OPINION = "经调查情况属实，责令供热企业 7 日内整改，室温达标后回访"
REVIEW_REASONS = "回访时室温仍只有 14 度，物业经理周某某拒绝入户检测"
NOT_ACCEPTED = "该事项已由松山区人民法院立案（2026 蒙 0404 民初 88 号），依法不予受理"
ACT_NEEDLES = [OPINION, "请依法处理并按期答复", REVIEW_REASONS, NOT_ACCEPTED]
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
    *ACT_NEEDLES,
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


def _opened(node: NodeProcess, case_id: str) -> list[Event]:
    """The case's events as `node` reads them: its stored records opened with its own keys."""
    division = node.division
    data_keys = load_data_keys({}, node.data_dir / f"node-{division}.datakeys.json")
    own, _ = load_or_create_recipient_key(node.data_dir / f"node-{division}.x25519")
    sealer = CaseSealer(division, FieldCipher(data_keys), own, lambda _: None, system_clock)
    store = NodeStore(node.database_url)
    try:
        with store.transaction() as tx:
            return [
                sealer.unseal(tx, EventCodec().decode(payload).event)
                for payload in tx.cases.payloads(case_id)
            ]
    finally:
        store.close()


def _opened_file(node: NodeProcess, case_id: str) -> CaseFile:
    """The case file as `node` reads it: its stored records opened with its own keys."""
    for event in _opened(node, case_id):
        file = getattr(event, "file", None)
        if isinstance(file, CaseFile):
            return file
    raise AssertionError(f"{node.division} holds no file of {case_id}")


def _timeline(node: NodeProcess, case_id: str) -> str:
    return json.dumps(node.client.get(f"/api/cases/{case_id}/timeline"), ensure_ascii=False)


def _acts(city: NodeProcess, county: NodeProcess, complaint: str) -> str:
    """A review request on the complaint at 赤峰市住建局 and a third petition not accepted by
    松山区住建局, each with a needle in its text; returns the third case's id."""
    city.client.post(
        f"/api/cases/{complaint}/review-request", {"actor": "150400.zj", "reasons": REVIEW_REASONS}
    )
    other = {
        **PETITION, "request": "请求赔偿取暖费损失",
        "petitioner": {"name": "钱某某", "address": "赤峰市松山区某镇", "contact": "13500000001"},
    }  # fmt: skip
    case_id = str(city.client.post("/api/cases", {"actor": CITY_OFFICE, **other})["case_id"])
    transfer = {"actor": CITY_OFFICE, "to_body": HANDLING_BODY}
    city.client.post(f"/api/cases/{case_id}/transfer", transfer)
    wait_for(lambda: _holds(county, case_id), "松山区收到转送", 60)
    county.client.post(
        f"/api/cases/{case_id}/reject", {"actor": HANDLING_BODY, "reasons": NOT_ACCEPTED}
    )
    return case_id


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
    declined = _acts(city, county, complaint)
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

    # the act texts: in clear in the entitled nodes' views (the timeline shows the opinion and
    # the not-accepted reason; the review request's reasons as its nodes read the event)
    wait_for(lambda: NOT_ACCEPTED in _timeline(province, declined), "省级收到不予受理", 60)
    for node in (county, city, province):
        assert OPINION in _timeline(node, complaint), node.division
        assert NOT_ACCEPTED in _timeline(node, declined), node.division
    for node in (city, province):
        [review] = [e for e in _opened(node, complaint) if isinstance(e, ReviewRequested)]
        assert review.reasons == REVIEW_REASONS, node.division

    # the accused unit's node: no case, no key
    with pytest.raises(ApiError) as refused:
        county.client.get(f"/api/cases/{accusation}")
    assert refused.value.status == 404
    county_db = county.data_dir / f"node-{COUNTY}.sqlite3"
    with sqlite3.connect(county_db) as conn:
        held = {r[0] for r in conn.execute("SELECT case_id FROM case_keys")}
    assert held == {complaint, declined}

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

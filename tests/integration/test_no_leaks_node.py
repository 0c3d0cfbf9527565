"""Issue 15, tried as an outsider over real node processes and the broker: after a registration
with a full petitioner (name, phone, identity number, address, facts), refused registrations,
a transfer, a full view with a reason that names the identity number, and a record the county
dead-letters, none of those values is in clear in either node's log, on the operator trail
topic, on the dead-letter topic or in `xinfang dead-letters` output."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from xinfang.client import ApiError
from xinfang.devtools.broker import Broker
from xinfang.devtools.scenario import PETITION, case_status, wait_for
from xinfang.kafka_io import read_topic
from xinfang.kafka_security import aiokafka_security
from xinfang.ops.deadletters import list_sync
from xinfang.topics import TopicNames

from .conftest import NodeFactory

pytestmark = pytest.mark.integration

PERSON = PETITION["petitioner"]
ID_NUMBER = PERSON["id_number"]
CLEAR = (
    PERSON["name"], PERSON["contact"], ID_NUMBER, "某小区 3 号楼",
    "多次向物业和供热企业反映未果", "保障室温达标",
)  # fmt: skip


def _leaks(text: str | bytes) -> list[str]:
    blob = text if isinstance(text, bytes) else text.encode("utf-8")
    return [s for s in CLEAR if s.encode("utf-8") in blob]


def _refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(ApiError) as refused:
        call()
    assert refused.value.status == 422
    payload = refused.value.payload
    assert isinstance(payload, dict)
    return payload


async def _produce(bootstrap: str, topic: str, key: bytes, value: bytes, headers: Any) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **aiokafka_security())
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=list(headers))
    finally:
        await producer.stop()


def _values(bootstrap: str, topic: str) -> list[bytes]:
    return [bytes(r.value or b"") for r in asyncio.run(read_topic(bootstrap, topic))]


def test_no_personal_data_in_node_logs_trail_topic_or_dead_letters(
    kafka: Broker, start_node: NodeFactory, topic_prefix: str
) -> None:
    topics, bootstrap = TopicNames(topic_prefix), kafka.bootstrap_servers
    city, county = start_node("150400"), start_node("150404")
    city.wait_ready()
    county.wait_ready()

    case_id = city.client.post("/api/cases", {"actor": "150400.xfj", **PETITION})["case_id"]
    wrong_choice = _refusal(
        lambda: city.client.post("/api/cases", {**PETITION, "category": ID_NUMBER})
    )
    wrong_birth = _refusal(
        lambda: city.client.post(
            "/api/cases", {**PETITION, "petitioner": {**PERSON, "id_number": "150404202602301237"}}
        )
    )
    assert (wrong_choice["code"], wrong_birth["context"]["reason"]) == (
        "XF-INVALID-INPUT", "birth-date"
    )  # fmt: skip
    assert _leaks(str(wrong_choice)) == [] and "20260230" not in str(wrong_birth)
    city.client.post(
        f"/api/cases/{case_id}/transfer", {"actor": "150400.xfj", "to_body": "150404.zj"}
    )
    wait_for(lambda: case_status(county.client, case_id) == "TRANSFERRED", "松山区收到转送", 60)
    shown = city.client.post(
        f"/api/cases/{case_id}/personal-data", {"reason": f"核实 {ID_NUMBER} 的身份以便回访"}
    )
    assert shown["petitioner"]["id_number"] == ID_NUMBER  # the entitled viewer gets it

    # the city's own registration record, copied into the county's inbox: refused there
    [registered] = [
        r for r in asyncio.run(read_topic(bootstrap, topics.log("150400")))
        if (r.key or b"").decode() == case_id
    ][:1]  # fmt: skip
    asyncio.run(
        _produce(
            bootstrap, topics.inbox("150404"), registered.key, registered.value,
            registered.headers or (),
        )
    )  # fmt: skip
    letters = wait_for(
        lambda: list_sync(bootstrap, topics, "150404"), "松山区的死信 / a dead letter", 60
    )
    listed = subprocess.run(
        [sys.executable, "-m", "xinfang", "dead-letters", "--node", "150404",
         "--bootstrap-servers", bootstrap, "--topic-prefix", topic_prefix],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert listed.returncode == 0 and letters[0].reason in listed.stdout, listed.stderr
    assert _leaks(listed.stdout + listed.stderr) == []
    assert [_leaks(v) for v in _values(bootstrap, topics.deadletter("150404"))] == [
        [] for _ in letters
    ]

    def trail_reasons() -> list[bytes]:
        found = _values(bootstrap, topics.trail("150400"))
        return [v for v in found if b"revealPersonalData" in v]

    [entry] = wait_for(trail_reasons, "操作审计记录上了主题 / the trail entry published", 60)
    assert b"150404********2035" in entry
    assert [v for v in _values(bootstrap, topics.trail("150400")) if _leaks(v)] == []
    for node in (city, county):
        log = node.log_path.read_bytes()
        assert b"INFO" in log or b"WARNING" in log  # the log is written (not silent)
        assert _leaks(log) == [], node.tail_log()

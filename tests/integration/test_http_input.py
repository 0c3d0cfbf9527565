"""Issue 10 items 2, 3, 10 (HTTP side) and 13 over HTTP against a real node process on the
real broker: the web layer (uvicorn, FastAPI, middleware) included."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from xinfang.commands.limits import FIELD_CHARS, MAX_BODY_BYTES, RECORD_BUDGET_BYTES
from xinfang.devtools.broker import Broker
from xinfang.devtools.processes import NodeProcess
from xinfang.identity.principal import Role
from xinfang.kafka_security import aiokafka_security

from .conftest import NodeFactory

CITY, COUNTY = "150400", "150404"
PETITION: dict[str, Any] = {
    "title": "征地补偿款未足额发放",
    "channel": "ONLINE",
    "category": "APPEAL",
    "petitioner": {"name": "李四", "contact": "13700000000"},
    "request": "请求足额发放征地补偿款",
    "place": COUNTY,
}

pytestmark = pytest.mark.integration


SIGNED: dict[str, str] = {}  # Authorization of the city's registrar (set by `registrar`)


def registrar(node: NodeProcess) -> None:
    """Requests of this module are made by the city petition office's registrar."""
    SIGNED.clear()
    SIGNED.update(node.staff.headers("150400.xfj", Role.REGISTRAR))


def send(url: str, raw: bytes, key: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **SIGNED}
    if key is not None:
        headers["Idempotency-Key"] = key
    req = urllib.request.Request(url, data=raw, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def body(**override: Any) -> bytes:
    return json.dumps({**PETITION, **override}, ensure_ascii=False).encode()


def test_bad_input_is_4xx_and_the_largest_accepted_petition_is_published(
    kafka: Broker, start_node: NodeFactory, topic_prefix: str
) -> None:
    node = start_node(CITY)
    node.wait_ready()
    registrar(node)
    cases = f"{node.url}/api/cases"

    # Item 2: each of these answered 500, 503 or 201 before.
    status, payload = send(cases, b"[" * 100_000)
    assert (status, payload["code"]) == (400, "XF-JSON-TOO-DEEP")
    for override, code in (
        ({"received_at": "9999-12-31T23:00:00Z"}, "XF-TIME-OUT-OF-RANGE"),
        ({"received_at": "2000-01-01T00:00:00Z"}, "XF-TIME-OUT-OF-RANGE"),
        ({"collective_size": 10**30}, "XF-VALUE-OUT-OF-RANGE"),
        ({"collective_size": 2**31}, "XF-VALUE-OUT-OF-RANGE"),
    ):
        status, payload = send(cases, body(**override))
        assert (status, payload["code"]) == (422, code), override
    # Item 10: over the body limit → 413; a field over its length → 422; nothing stored.
    status, payload = send(cases, body(facts="事" * (MAX_BODY_BYTES // 3)))
    assert (status, payload["code"]) == (413, "XF-BODY-TOO-LARGE")
    status, payload = send(cases, body(facts="事" * (FIELD_CHARS["facts"] + 1)))
    assert (status, payload["code"], payload["context"]["field"]) == (
        422,
        "XF-FIELD-TOO-LONG",
        "facts",
    )
    assert node.client.get("/api/cases")["cases"] == []

    # Item 3: no offset → Beijing time; R1's 15 working days end on the 调休 Saturday 02-28.
    # (months ago by the node's clock: a back-dated receipt states why, DOMAIN.md §11)
    status, done = send(
        cases, body(received_at="2026-02-13T17:00:00", backdate_reason="旧信件补录")
    )
    assert status == 201, done
    view = node.client.get(f"/api/cases/{done['case_id']}")
    assert view["received_at"] == "2026-02-13T09:00:00+00:00"
    assert view["route_due"] == "2026-02-28T15:59:59.999000+00:00"

    # Item 10: the largest petition a client may send, then the longest transfer note: the
    # biggest record a request can cause; the relay publishes it.
    wide = "😀"  # 4 bytes of UTF-8
    largest = {
        **PETITION,
        **{k: wide * FIELD_CHARS[k] for k in ("title", "request", "facts", "reasons", "accused")},
        "petitioner": {k: wide * FIELD_CHARS[k] for k in ("name", "address", "contact")},
    }
    status, big = send(cases, json.dumps(largest, ensure_ascii=False).encode())
    assert status == 201, big
    note = {"actor": "150400.xfj", "to_body": "150404.zj", "note": wide * FIELD_CHARS["note"]}
    status, moved = send(f"{cases}/{big['case_id']}/transfer", json.dumps(note).encode())
    assert status == 200, moved
    record = asyncio.run(
        transfer_record(kafka.bootstrap_servers, f"{topic_prefix}xinfang.{CITY}.log", big)
    )
    assert 600_000 < len(record) <= RECORD_BUDGET_BYTES


async def transfer_record(bootstrap: str, topic: str, case: dict[str, str]) -> bytes:
    """The value of the case's CaseTransferred record on the topic (waits up to 60 s)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **aiokafka_security(),
    )
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                for record in (r for records in batch.values() for r in records):
                    headers = dict(record.headers)
                    if (
                        record.key == case["case_id"].encode()
                        and headers["ce_type"].endswith(b".CaseTransferred")
                        and record.value is not None
                    ):
                        return record.value
    finally:
        await consumer.stop()


def test_ten_concurrent_posts_with_one_key_create_one_case(start_node: NodeFactory) -> None:
    """Item 13: ten identical anonymous registrations at once with one Idempotency-Key."""
    node = start_node(CITY)
    node.wait_ready()
    registrar(node)
    raw = body(petitioner={"anonymous": True})
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: send(f"{node.url}/api/cases", raw, "dup-1"), range(10)))
    assert answers[0][0] == 201
    assert all(answer == answers[0] for answer in answers)
    assert [c["case_id"] for c in node.client.get("/api/cases")["cases"]] == [
        answers[0][1]["case_id"]
    ]
    status, payload = send(f"{node.url}/api/cases", body(title="另一事项"), "dup-1")
    assert (status, payload["code"]) == (422, "XF-IDEMPOTENCY-KEY-REUSED")

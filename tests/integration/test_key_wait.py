"""A copy for a recipient whose encryption key is not published yet waits, then arrives wrapped
and is applied once (decision 038). Over the real broker with real node processes.

The county's key file is taken out of the run's keys folder (which every node reads) before
the city transfers a case to it, and put back afterwards: meanwhile the city holds the copy
(its /health degraded, naming the county) and the county dead-letters nothing.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from xinfang.devtools.processes import NodeProcess
from xinfang.devtools.scenario import (
    CITY,
    CITY_OFFICE,
    COUNTY,
    HANDLING_BODY,
    PETITION,
    PROVINCE,
    case_status,
    wait_for,
)
from xinfang.kafka_io import read_topic
from xinfang.node.key_wait import KEY_MISSING
from xinfang.privacy.node_keys import published_path
from xinfang.topics import TopicNames

from .conftest import NodeFactory

pytestmark = pytest.mark.integration


def _relay(node: NodeProcess) -> dict[str, Any]:
    health: dict[str, Any] = node.client.get("/health")
    return {"status": health["status"], **health["relay"]}


def _dead_letters(node: NodeProcess, prefix: str) -> list[bytes]:
    topic = TopicNames(prefix).deadletter(node.division)
    records = asyncio.run(read_topic(node.bootstrap_servers, topic, timeout_s=30))
    return [dict(r.headers).get("xinfang_dlq_reason", b"?") for r in records]


def test_a_copy_waits_for_the_recipients_key_then_arrives_wrapped_and_applies_once(
    start_node: NodeFactory, topic_prefix: str, tmp_path: Path
) -> None:
    city, county = start_node(CITY), start_node(COUNTY)
    # the province's keys published as its operator would; its node need not run here
    NodeProcess(PROVINCE, city.bootstrap_servers, city.data_dir.parent / PROVINCE).publish_key()
    city.wait_ready()
    county.wait_ready()
    key_file = published_path(city.keys_dir, COUNTY)
    aside = tmp_path / "county-key-not-yet-published.json"
    os.replace(key_file, aside)  # as if the county had not published its key yet

    case_id = str(city.client.post("/api/cases", {"actor": CITY_OFFICE, **PETITION})["case_id"])
    city.client.post(
        f"/api/cases/{case_id}/transfer", {"actor": CITY_OFFICE, "to_body": HANDLING_BODY}
    )
    held = wait_for(
        lambda: (r := _relay(city))["set_aside_reasons"].get(KEY_MISSING) and r,
        "市级暂缓发往县级的记录",
        60,
    )
    assert held["status"] == "degraded"
    assert held["waiting_for_keys"] == {COUNTY: 1}
    [alarm] = held["alarms"]
    assert f"发往 {COUNTY} 的记录等待其加密公钥" in alarm and f"records to {COUNTY}" in alarm
    wait_for(lambda: _relay(city)["pending"] == 0, "市级其余记录已发送", 60)
    assert _dead_letters(county, topic_prefix) == []  # nothing reached it unreadable
    assert case_status(county.client, case_id) is None

    os.replace(aside, key_file)  # the county's key published
    wait_for(lambda: _relay(city)["status"] == "ok", "市级补发完毕", 60)
    handler = county.client.acting(HANDLING_BODY)
    wait_for(lambda: case_status(county.client, case_id) == "TRANSFERRED", "县级收到转送", 60)
    shown = handler.post(f"/api/cases/{case_id}/personal-data", {"reason": "核实信访人身份"})
    petitioner = PETITION["petitioner"]
    assert (shown["petitioner"]["name"], shown["petitioner"]["contact"]) == (
        petitioner["name"], petitioner["contact"]
    )  # fmt: skip
    timeline = county.client.get(f"/api/cases/{case_id}/timeline")["timeline"]
    assert [e["type"] for e in timeline].count("CaseTransferred") == 1, timeline
    relay = _relay(city)
    assert (relay["set_aside"], relay["waiting_for_keys"], relay["alarms"]) == (0, {}, [])
    assert _dead_letters(county, topic_prefix) == []

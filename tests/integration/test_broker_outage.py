"""A node cut off from the broker keeps deciding; its backlog goes out in order when it is back."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from xinfang.codec.wire import EventCodec
from xinfang.devtools.broker import start_deploy_broker
from xinfang.devtools.processes import NodeProcess
from xinfang.devtools.scenario import PETITION, wait_for
from xinfang.devtools.secured import client_env
from xinfang.kafka_io import read_topic

pytestmark = pytest.mark.integration


def test_backlog_is_published_in_order_after_a_broker_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = start_deploy_broker(tmp_path / "kafka", secure=True)  # private: this test stops it
    for key, value in client_env(broker).items():  # this test's clients: admin of its broker
        monkeypatch.setenv(key, value)
    city = NodeProcess("150400", broker.bootstrap_servers, tmp_path / "city", topic_prefix="o.")
    try:
        city.start()
        city.wait_ready(120)

        def register(i: int) -> str:
            body = {
                **PETITION,
                "petitioner": {"name": f"断网{i}", "address": "赤峰", "contact": f"1390000000{i}"},
            }
            case_id = str(
                city.client.post("/api/cases", {"actor": "150400.xfj", **body})["case_id"]
            )
            city.client.post(
                f"/api/cases/{case_id}/transfer", {"actor": "150400.xfj", "to_body": "150404.zj"}
            )
            return case_id

        before = [register(i) for i in range(3)]
        wait_for(lambda: city.client.get("/health")["outbox_pending"] == 0, "发布完毕", 60)
        broker.take_down()
        during = [register(i) for i in range(3, 9)]  # decisions go on while the broker is away
        assert city.client.get("/health")["outbox_pending"] > 0
        broker.bring_back()
        wait_for(lambda: city.client.get("/health")["outbox_pending"] == 0, "积压发布完毕", 120)

        records = asyncio.run(read_topic(broker.bootstrap_servers, "o.xinfang.150400.log"))
        codec = EventCodec()
        first_copy: dict[int, bytes] = {}
        for record in records:
            first_copy.setdefault(codec.decode(record.value).event.header.seq, record.value)
        first_seen = list(first_copy)  # dict order = order of first appearance on the topic
        assert sorted(first_copy) == list(range(1, 2 * len(before + during) + 1))  # nothing lost
        assert first_seen == sorted(first_seen)  # in order; a re-publication only repeats
        for seq in range(2, len(first_copy) + 1):
            prev = hashlib.sha256(first_copy[seq - 1]).hexdigest()
            assert codec.decode(first_copy[seq]).event.header.prev_hash == prev
    finally:
        city.stop()
        broker.stop()

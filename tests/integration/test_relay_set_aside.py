"""A record the broker refuses for good is set aside; the node's later records still go out
(issue 10 item 10). Over the real broker with a real node process.

The broker is made to refuse one record for good by lowering the node log topic's
`max.message.bytes` below the size of one petition's record; the "fix" restores it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from xinfang.devtools.broker import Broker
from xinfang.devtools.scenario import PETITION, wait_for
from xinfang.kafka_io import read_to_end
from xinfang.kafka_security import aiokafka_security
from xinfang.node.admin import ensure_topics
from xinfang.node.relay import OutboxRelay
from xinfang.provisioning import LOG_CONFIG
from xinfang.store.unit_of_work import NodeStore
from xinfang.topics import TopicNames

from .conftest import NodeFactory, publish_recipients

pytestmark = pytest.mark.integration
TOPIC_LIMIT = 8192  # bytes a record batch may have on the log topic while "broken"


async def _set_topic_config(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    """Replace the topic's configuration (AlterConfigs sets the whole set), then wait until
    the broker describes it so: the change goes through the KRaft metadata log, and a describe
    sent at once may still answer the old values (seen in CI)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **aiokafka_security())
    await admin.start()
    try:
        altered = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs)]
        )
        assert [r[0] for resp in altered for r in resp.resources] == [0], altered
        now: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            [response] = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic)]
            )
            [resource] = response.resources
            now = {str(entry[0]): str(entry[1]) for entry in resource[4]}
            if all(now.get(k) == v for k, v in configs.items()):
                return
            await asyncio.sleep(0.2)
        differing = {k: (now.get(k), v) for k, v in configs.items() if now.get(k) != v}
        raise AssertionError(f"topic config not applied within 30 s: {differing}")
    finally:
        await admin.close()


def _outbox_cli(data_dir: Path, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "xinfang", "outbox", "--division", "150400",
         "--data-dir", str(data_dir), "--json", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _log_events(bootstrap: str, topic: str) -> set[tuple[str, str]]:
    """(case id, event type) of every record on the topic, read to its end offsets."""
    records = asyncio.run(read_to_end(bootstrap, [topic]))
    return {
        (bytes(r.key).decode(), dict(r.headers)["ce_type"].decode().rsplit(".", 1)[-1])
        for r in records
    }


def test_an_oversize_record_is_set_aside_later_ones_flow_and_a_resend_publishes_it(
    kafka: Broker, start_node: NodeFactory, topic_prefix: str
) -> None:
    log_topic = TopicNames(topic_prefix).log("150400")
    city = start_node("150400")
    publish_recipients(city, "150000", "150404")
    city.wait_ready()

    def register(name: str, **extra: str) -> str:
        body = {**PETITION, "petitioner": {**PETITION["petitioner"], "name": name}, **extra}
        return str(city.client.post("/api/cases", {"actor": "150400.xfj", **body})["case_id"])

    def health() -> dict[str, Any]:
        return dict(city.client.get("/health"))

    first = register("李某")
    wait_for(lambda: health()["outbox_pending"] == 0, "发布完毕 / published")
    assert health()["status"] == "ok"

    # the broker now refuses any record batch over 8 KiB on the node's log topic
    bootstrap = kafka.bootstrap_servers
    asyncio.run(
        _set_topic_config(
            bootstrap, log_topic, {**LOG_CONFIG, "max.message.bytes": str(TOPIC_LIMIT)}
        )
    )
    big = register("张某", facts="多年来反复出现漏水、停暖等问题，详情见附件。" * 600)  # ~36 KB
    later = register("赵某")
    city.client.post(
        f"/api/cases/{later}/transfer", {"actor": "150400.xfj", "to_body": "150404.zj"}
    )

    def set_aside_and_drained() -> bool:
        h = health()
        return bool(h.get("outbox_set_aside") == 1 and h["outbox_pending"] == 0)

    wait_for(set_aside_and_drained, "记录被搁置、其余发出 / one set aside, the rest out", 90)
    h = health()
    assert h["status"] == "degraded"
    assert h["relay"]["set_aside"] == 1
    assert h["relay"]["set_aside_reasons"] == {"record-too-large": 1}
    assert "record-too-large" in h["relay"]["alarms"][0]
    # the node's later events were published, read back from the topic; the refused one is not
    on_log = _log_events(bootstrap, log_topic)
    assert {(first, "PetitionRegistered"), (later, "PetitionRegistered")} <= on_log
    assert (later, "CaseTransferred") in on_log
    assert (big, "PetitionRegistered") not in on_log

    [listed] = _outbox_cli(city.data_dir, "set-aside")
    assert (listed["case_id"], listed["topic"], listed["reason"]) == (
        big,
        log_topic,
        "record-too-large",
    )
    assert listed["event_type"] == "xinfang.events.PetitionRegistered"
    assert listed["bytes"] > TOPIC_LIMIT

    # across a restart it stays set aside (not retried, not jamming), and the alarm stays
    city.stop()
    city.start()
    city.wait_ready()
    after_restart = register("孙某")
    wait_for(lambda: health()["outbox_pending"] == 0, "重启后发布 / published after restart")
    assert health()["status"] == "degraded" and health()["outbox_set_aside"] == 1
    assert (after_restart, "PetitionRegistered") in _log_events(bootstrap, log_topic)

    # the fix: the topic's limit back to the default; then the operator re-sends it
    asyncio.run(_set_topic_config(bootstrap, log_topic, LOG_CONFIG))
    assert _outbox_cli(city.data_dir, "resend", "--all") == {
        "resent": [listed["id"]],
        "superseded": [],
        "not_set_aside": [],
    }
    wait_for(
        lambda: (h := health())["status"] == "ok" and h["outbox_pending"] == 0,
        "重新发送后恢复 / ok after the re-send",
        60,
    )
    h = health()
    assert (h["outbox_set_aside"], h["outbox_pending"], h["relay"]["set_aside"]) == (0, 0, 0)
    assert (big, "PetitionRegistered") in _log_events(bootstrap, log_topic)
    assert _outbox_cli(city.data_dir, "set-aside") == []

    # the auditor sees where it landed: a warning, not a broken log
    verify = subprocess.run(
        [sys.executable, "-m", "xinfang", "audit", "verify", "--bootstrap-servers", bootstrap,
         "--topic-prefix", topic_prefix, "--nodes", "150400", "--no-inboxes", "--quiet", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    integrity = json.loads(verify.stdout)["integrity"]
    assert verify.returncode == 0 and integrity["violations"] == [], verify.stdout[-2000:]
    assert "seq-resent-late" in {w["code"] for w in integrity["warnings"]}


def test_a_record_for_a_topic_that_cannot_exist_is_set_aside_and_the_rest_flow(
    kafka: Broker, topic_prefix: str, tmp_path: Path
) -> None:
    """The relay over the real broker: a row addressed to a topic name the broker cannot create
    stays unknown; past the grace period it is set aside, the rows around it go out."""
    good = TopicNames(topic_prefix).log("150400")
    bad = f"{topic_prefix}xinfang 150400 log!"  # spaces and "!": not a legal topic name
    asyncio.run(ensure_topics(kafka.bootstrap_servers, {good: LOG_CONFIG}))
    store = NodeStore(f"sqlite:///{tmp_path / 'node.sqlite3'}")
    with store.transaction() as tx:
        for topic, key in ((good, "c-1"), (bad, "c-2"), (good, "c-3")):
            tx.log.enqueue(topic, key, key.encode(), [("ce_type", b"xinfang.events.CaseAccepted")])
    relay = OutboxRelay(
        store,
        kafka.bootstrap_servers,
        "test-relay",
        unknown_topic_grace_s=0.0,  # unknown at the first failure counts as staying unknown
        producer_settings={"request_timeout_ms": 3000},
    )

    async def drain() -> None:
        try:
            for _ in range(5):
                if await relay.publish_pending() == 0:
                    return
            raise AssertionError("relay did not drain")
        finally:
            await relay.stop()

    asyncio.run(asyncio.wait_for(drain(), 120))
    [row] = store.outbox.set_aside_rows()
    assert (row.topic, row.key, row.reason) == (bad, "c-2", "unknown-topic")
    records = asyncio.run(read_to_end(kafka.bootstrap_servers, [good]))
    assert [r.key for r in records] == [b"c-1", b"c-3"]
    assert relay.health()["status"] == "degraded"
    store.close()


def test_a_record_over_the_producers_limit_is_set_aside_until_the_limit_is_raised(
    kafka: Broker, start_node: NodeFactory, topic_prefix: str
) -> None:
    """The issue's own case: the producer itself refuses the record (MessageSizeTooLarge before
    sending). Every copy of it is set aside; raising XINFANG_MAX_RECORD_BYTES and re-sending
    publishes them."""
    topics = TopicNames(topic_prefix)
    city = start_node("150400", extra_env={"XINFANG_MAX_RECORD_BYTES": str(TOPIC_LIMIT)})
    publish_recipients(city, "150000")
    city.wait_ready()

    def health() -> dict[str, Any]:
        return dict(city.client.get("/health"))

    def register(name: str, **extra: str) -> str:
        body = {**PETITION, "petitioner": {**PETITION["petitioner"], "name": name}, **extra}
        return str(city.client.post("/api/cases", {"actor": "150400.xfj", **body})["case_id"])

    big = register("周某", facts="情况复杂，材料较多。" * 1200)  # ~36 KB
    later = register("吴某")
    wait_for(
        lambda: (h := health())["outbox_pending"] == 0 and h.get("outbox_set_aside", 0) > 0,
        "超限记录被搁置 / oversize records set aside",
        90,
    )
    listed = _outbox_cli(city.data_dir, "set-aside")
    # its copies on the log and to the parent's inbox; nothing of the later case
    assert {(x["topic"], x["case_id"], x["reason"]) for x in listed} == {
        (topics.log("150400"), big, "record-too-large"),
        (topics.inbox("150000"), big, "record-too-large"),
    }
    assert health()["relay"]["set_aside_reasons"] == {"record-too-large": 2}
    assert (later, "PetitionRegistered") in _log_events(
        kafka.bootstrap_servers, topics.log("150400")
    )

    city.stop()  # the fix: the default limit (1 MiB)
    city.extra_env = {}
    city.start()
    city.wait_ready()
    resent = _outbox_cli(city.data_dir, "resend", "--all")
    assert sorted(resent["resent"]) == sorted(x["id"] for x in listed)
    wait_for(
        lambda: (h := health())["status"] == "ok" and h["outbox_pending"] == 0,
        "重新发送后恢复 / ok after the re-send",
        60,
    )
    assert (big, "PetitionRegistered") in _log_events(kafka.bootstrap_servers, topics.log("150400"))
    assert (big, "PetitionRegistered") in _log_events(
        kafka.bootstrap_servers, topics.inbox("150000")
    )

"""Node throughput: sustained events/s through one node with durable commits.

The node under test is 赤峰市 (150400). Its inbox is pre-loaded with what 松山区 (150404)
reports upward for `cases` new cases: 登记 + 转送 within 松山区, decided by 松山区's own
application service (bench.events), so the records are byte for byte what its node publishes.
For each record the city node decodes it, checks the case's predecessor, folds the case,
commits inbox + case event + case summary + outbox row (SQLite, WAL, synchronous=FULL), and
its relay publishes the record on to 内蒙古自治区's inbox (acks=all, idempotent). That is the
whole path inbox → domain → store → outbox → Kafka. (A transfer *from above* would exercise
less: a county that receives one publishes nothing.)

The node is started after the pre-load; its rate is read from its own database: from the first
`inbox.received_at` to the last `outbox.sent_at` (start-up is not counted).

The raw baseline: an aiokafka consumer → idempotent acks=all producer pass-through of the same
records on the same broker, in batches of up to 500 like the relay, offsets committed per
batch; timed from the first record received to the last publish acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from xinfang.devtools.processes import NodeProcess
from xinfang.kafka_security import aiokafka_security
from xinfang.node.relay import PRODUCER_SETTINGS
from xinfang.provisioning import LOG_CONFIG
from xinfang.topics import TopicNames
from xinfang.topology_file import load_topology

from .common import (
    cpu_seconds,
    create_topics,
    db_time,
    node_db,
    provision,
    query,
    ratio,
    rss_bytes,
    say,
    wait_until,
)
from .events import LogWriter

CITY, COUNTY = "150400", "150404"


@dataclass
class ThroughputResult:
    events: int
    node_eps: float  # first inbox record applied → last outbox record acknowledged
    node_apply_eps: float  # first → last inbox record applied (store only)
    node_seconds: float
    node_cpu_s_per_1k: float  # CPU seconds the node process spent per 1,000 events
    raw_eps: float
    raw_seconds: float
    node_rss_mb: float
    records_per_transaction: float = 1.0  # inbox records applied per database transaction

    @property
    def ratio(self) -> float:
        return ratio(self.node_eps, self.raw_eps)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


async def preload(bootstrap: str, prefix: str, cases: int, keys_dir: Path | None = None) -> int:
    """Publish what 松山区's node publishes for `cases` × (登记 + 转送): its log records to its
    log topic, its upward reports to 赤峰市's inbox. Returns the number of inbox records."""
    topics = TopicNames(prefix)
    await create_topics(bootstrap, {topics.inbox(CITY): {}, topics.log(COUNTY): LOG_CONFIG})
    writer = LogWriter(COUNTY, load_topology(), keys_dir=keys_dir)  # signed, key published
    records = [r for _ in range(cases) for r in writer.register_and_transfer()]
    wanted = {writer.log_topic(), writer.inbox_topic(CITY)}
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        **aiokafka_security(),
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
    )
    await producer.start()
    try:
        futures = [
            await producer.send(
                prefix + r.topic, r.value, key=r.case_id.encode(), headers=r.headers
            )
            for r in records
            if r.topic in wanted
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sum(r.topic == writer.inbox_topic(CITY) for r in records)


async def raw_pass_through(bootstrap: str, source: str, sink: str, count: int) -> float:
    """Seconds to move `count` records from `source` to `sink` (consume → produce)."""
    await create_topics(bootstrap, {sink: {}})
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        **aiokafka_security(),
        group_id=f"{sink}-group",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, **aiokafka_security(), **PRODUCER_SETTINGS
    )  # the relay's
    await consumer.start()
    await producer.start()
    try:
        moved, first = 0, 0.0
        deadline = time.monotonic() + 300
        while moved < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw pass-through moved {moved}/{count}")
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            for records in batches.values():
                if not first:
                    first = time.perf_counter()
                futures = [
                    await producer.send(
                        sink, value=m.value, key=m.key, headers=list(m.headers or ())
                    )
                    for m in records
                ]
                await asyncio.gather(*futures)
                moved += len(records)
            if batches:
                await consumer.commit()
        return time.perf_counter() - first
    finally:
        await consumer.stop()
        await producer.stop()


def run_throughput(bootstrap: str, prefix: str, workdir: Path, cases: int) -> ThroughputResult:
    topics = TopicNames(prefix)
    say(
        f"生成并预载 {cases} 件的上报事件",
        f"generating and pre-loading the reports of {cases} cases",
    )
    node = NodeProcess(CITY, bootstrap, workdir / "nodes" / CITY, topic_prefix=prefix)
    events = asyncio.run(preload(bootstrap, prefix, cases, node.keys_dir))

    say("测量原始 aiokafka 消费→生产直通", "measuring the raw consume→produce pass-through")
    raw_s = asyncio.run(
        raw_pass_through(bootstrap, topics.inbox(CITY), f"{prefix}bench.raw-out", events)
    )

    say(f"启动节点 {CITY} 并等待其处理完全部事件", f"starting node {CITY}; waiting for all events")
    provision(bootstrap, prefix, workdir / "provision", [CITY], None)
    db = node_db(node.data_dir, CITY)
    try:
        node.start()
        health = node.wait_ready(timeout=180)
        assert node.proc is not None
        cpu_at_ready = cpu_seconds(node.proc.pid)
        processed_at_ready = int(health.get("inbox", 0))

        def done() -> bool:
            h = node.client.get("/health")
            return bool(
                h["inbox"] >= events and h["outbox_pending"] == 0 and h["case_events"] >= events
            )

        wait_until(done, f"node {CITY} to process {events} events", timeout=60 + events / 5)
        cpu_used = cpu_seconds(node.proc.pid) - cpu_at_ready
        final = node.client.get("/health")
        batch_mean = final.get("inbox_records", 0) / max(final.get("inbox_transactions", 0), 1)
        rss = rss_bytes(node.proc.pid) / 2**20
    finally:
        node.stop()

    received = query(db, "SELECT min(received_at), max(received_at), count(*) FROM inbox")
    sent = query(  # the node's records; its operator trail (the bench's requests) apart
        db,
        "SELECT max(sent_at), count(*) FROM outbox WHERE sent_at IS NOT NULL "
        "AND topic NOT LIKE '%.trail'",
    )
    first, last_applied, applied = db_time(received[0][0]), db_time(received[0][1]), received[0][2]
    last_sent, published = db_time(sent[0][0]), sent[0][1]
    if applied != events or published != events:
        raise RuntimeError(f"node applied {applied} and published {published} of {events}")
    node_s = last_sent - first
    counted = max(events - processed_at_ready, 1)
    return ThroughputResult(
        events=events,
        node_eps=events / node_s,
        node_apply_eps=events / (last_applied - first),
        node_seconds=node_s,
        node_cpu_s_per_1k=cpu_used / counted * 1000,
        raw_eps=events / raw_s,
        raw_seconds=raw_s,
        node_rss_mb=rss,
        records_per_transaction=batch_mean,
    )

"""Hop latency: one case through three node processes, beside a raw aiokafka hop.

The slice of the current domain (a county cannot transfer up): 赤峰市 registers and transfers
a case to 松山区 (hop 150400 → 150404); 松山区 accepts it (hop 150404 → 150400), and 赤峰市
passes the acceptance on (hop 150400 → 150000). Cases go one at a time (latency, not
queueing): the next starts when the previous one has reached the province.

A hop is timed from the source's store to the receiver's store, both read from the nodes'
SQLite files afterwards: from `outbox.created_at` of the row that carries the event to the
receiver (stamped inside the source's transaction, before its commit) to `inbox.received_at`
at the receiver (stamped inside the receiver's transaction, before its commit). So each hop
holds exactly one durable commit (the source's), the relay's pick-up and publish (acks=all),
the broker, the receiver's consumer, decoding and applying. `outbox.sent_at` (stamped when
the publish was acknowledged) splits a hop into "relay" and "delivery".

The raw baseline: an idempotent acks=all producer (the relay's settings) in this process, a
consumer in another process; one record at a time, timed from just before `send` to the
consumer's receipt.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from xinfang.devtools.processes import NodeProcess, stop_all
from xinfang.kafka_security import aiokafka_security
from xinfang.node.relay import PRODUCER_SETTINGS
from xinfang.topics import TopicNames

from .common import (
    Stats,
    bench_env,
    create_topics,
    db_time,
    node_db,
    provision,
    python_cmd,
    query,
    ratio,
    rss_bytes,
    say,
    wait_until,
)
from .events import LogWriter, petition

PROVINCE, CITY, COUNTY = "150000", "150400", "150404"
CITY_OFFICE, HANDLING_BODY = "150400.xfj", "150404.zj"
WARMUP = 3  # first cases/records start producers and fetchers: not counted


@dataclass
class HopResult:
    cases: int
    hops: dict[str, Stats]  # "150400→150404" … : whole hop
    relay: dict[str, Stats]  # source commit → publish acknowledged
    delivery: dict[str, Stats]  # publish acknowledged → receiver's transaction
    raw: Stats
    node_rss_mb: dict[str, float] = field(default_factory=dict)

    @property
    def ratio_p50(self) -> float:
        return ratio(sum(s.p50 for s in self.hops.values()) / len(self.hops), self.raw.p50)

    @property
    def ratio_p99(self) -> float:
        return ratio(sum(s.p99 for s in self.hops.values()) / len(self.hops), self.raw.p99)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "hops": {k: v.as_dict() for k, v in self.hops.items()},
            "relay": {k: v.as_dict() for k, v in self.relay.items()},
            "delivery": {k: v.as_dict() for k, v in self.delivery.items()},
            "raw": self.raw.as_dict(),
            "ratio_p50": self.ratio_p50,
            "ratio_p99": self.ratio_p99,
            "node_rss_mb": self.node_rss_mb,
        }


def _count_case_events(db: Path, case_id: str) -> int:
    rows = query(db, "SELECT count(*) FROM case_events WHERE case_id = ?", (case_id,))
    return int(rows[0][0]) if rows else 0


def _event_id(db: Path, case_id: str, event_type: str) -> str:
    rows = query(
        db,
        "SELECT event_id FROM case_events WHERE case_id = ? AND type = ? ORDER BY id LIMIT 1",
        (case_id, event_type),
    )
    if not rows:
        raise LookupError(f"{event_type} of {case_id} not in {db}")
    return str(rows[0][0])


def _hop(src: Path, dst: Path, dst_inbox: str, event_id: str) -> tuple[float, float, float]:
    """(hop, relay, delivery) in ms for the record carrying `event_id` from src to dst."""
    payload = query(src, "SELECT payload FROM case_events WHERE event_id = ?", (event_id,))
    if not payload:
        raise LookupError(f"event {event_id} not in {src}")
    out = query(
        src,
        "SELECT created_at, sent_at FROM outbox WHERE topic = ? AND value = ? ORDER BY id LIMIT 1",
        (dst_inbox, payload[0][0]),
    )
    got = query(dst, "SELECT received_at FROM inbox WHERE event_id = ?", (event_id,))
    if not out or not got:
        raise LookupError(f"event {event_id}: no outbox row in {src} or inbox row in {dst}")
    created, sent, received = db_time(out[0][0]), db_time(out[0][1]), db_time(got[0][0])
    return (received - created) * 1e3, (sent - created) * 1e3, (received - sent) * 1e3


def run_hop(bootstrap: str, prefix: str, workdir: Path, cases: int, raw_records: int) -> HopResult:
    topics = TopicNames(prefix)
    nodes = {
        d: NodeProcess(d, bootstrap, workdir / "nodes" / d, topic_prefix=prefix)
        for d in (PROVINCE, CITY, COUNTY)
    }
    db = {d: node_db(n.data_dir, d) for d, n in nodes.items()}
    provision(bootstrap, prefix, workdir / "provision", list(nodes), None)
    try:
        for node in nodes.values():
            node.start()
        for node in nodes.values():
            node.wait_ready(timeout=180)
        say("三个节点已就绪", "three node processes ready")
        city, county = nodes[CITY].client, nodes[COUNTY].client

        def alive() -> None:  # another user's tooling on a shared machine may signal a node
            for division, node in nodes.items():
                if node.proc is not None and node.proc.poll() is not None:
                    raise RuntimeError(
                        f"节点 {division} 进程已退出 / node {division} exited "
                        f"(code {node.proc.returncode}) during the run:\n{node.tail_log(5)}"
                    )

        case_ids: list[str] = []
        for i in range(cases + WARMUP):
            case_id = str(
                city.post("/api/cases", {"actor": CITY_OFFICE, **petition(COUNTY)})["case_id"]
            )
            city.post(
                f"/api/cases/{case_id}/transfer",
                {"actor": CITY_OFFICE, "to_body": HANDLING_BODY, "note": "请依法处理"},
            )
            wait_until(
                lambda cid=case_id: alive() or _count_case_events(db[COUNTY], cid) >= 1,
                f"{case_id} at {COUNTY}",
                timeout=60,
                interval=0.005,
            )
            county.post(f"/api/cases/{case_id}/accept", {"actor": HANDLING_BODY})
            wait_until(
                lambda cid=case_id: alive() or _count_case_events(db[PROVINCE], cid) >= 4,
                f"{case_id} at {PROVINCE}",
                timeout=60,
                interval=0.005,
            )
            if i >= WARMUP:
                case_ids.append(case_id)
            if (i + 1) % 50 == 0:
                say(f"已流转 {i + 1} 件", f"{i + 1} cases through")
        rss = {d: rss_bytes(n.proc.pid) / 2**20 for d, n in nodes.items() if n.proc}
    finally:
        stop_all(nodes.values())

    samples: dict[str, list[tuple[float, float, float]]] = {
        f"{CITY}→{COUNTY}": [],
        f"{COUNTY}→{CITY}": [],
        f"{CITY}→{PROVINCE}": [],
    }
    for case_id in case_ids:
        transferred = _event_id(db[CITY], case_id, "CaseTransferred")
        accepted = _event_id(db[COUNTY], case_id, "CaseAccepted")
        samples[f"{CITY}→{COUNTY}"].append(
            _hop(db[CITY], db[COUNTY], topics.inbox(COUNTY), transferred)
        )
        samples[f"{COUNTY}→{CITY}"].append(_hop(db[COUNTY], db[CITY], topics.inbox(CITY), accepted))
        samples[f"{CITY}→{PROVINCE}"].append(
            _hop(db[CITY], db[PROVINCE], topics.inbox(PROVINCE), accepted)
        )

    say("测量原始 aiokafka 跳转", "measuring the raw aiokafka hop")
    raw = asyncio.run(raw_hop(bootstrap, prefix, workdir, raw_records))
    return HopResult(
        cases=len(case_ids),
        hops={k: Stats.of([s[0] for s in v]) for k, v in samples.items()},
        relay={k: Stats.of([s[1] for s in v]) for k, v in samples.items()},
        delivery={k: Stats.of([s[2] for s in v]) for k, v in samples.items()},
        raw=raw,
        node_rss_mb=rss,
    )


async def raw_hop(bootstrap: str, prefix: str, workdir: Path, records: int) -> Stats:
    return Stats.of(await raw_hop_samples(bootstrap, prefix, workdir, records))


async def raw_hop_samples(bootstrap: str, prefix: str, workdir: Path, records: int) -> list[float]:
    """The raw hop's latencies (ms), one per record after the warm-up ones."""
    topic = f"{prefix}bench.raw-hop"
    await create_topics(bootstrap, {topic: {}})
    from xinfang.topology_file import load_topology

    sample = max(
        LogWriter(CITY, load_topology()).register_and_transfer(), key=lambda r: len(r.value)
    )
    value, headers = sample.value, sample.headers  # a real record of the slice (the largest)
    log = (workdir / "raw-consumer.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        *python_cmd("bench.raw_consumer", bootstrap, topic, f"{prefix}bench-raw-hop"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        env=bench_env(),
    )
    assert proc.stdout is not None and proc.stdin is not None
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, **aiokafka_security(), **PRODUCER_SETTINGS
    )  # the relay's
    await producer.start()
    latencies: list[float] = []
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        if line.strip() != b"READY":
            raise RuntimeError(f"raw consumer did not start: {line!r}")
        for i in range(records + WARMUP):
            key = uuid.uuid4().hex
            began = time.time()
            await producer.send(topic, value=value, key=key.encode(), headers=headers)
            while True:
                got = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
                got_key, _, stamp = got.decode().strip().partition(" ")
                if got_key == key:
                    break
            if i >= WARMUP:
                latencies.append((float(stamp) - began) * 1e3)
    finally:
        await producer.stop()
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout=20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log.close()
    return latencies

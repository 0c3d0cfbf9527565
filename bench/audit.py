"""Audit replay-and-verify rate beside raw fastavro decoding — PROVISIONAL.

The audit module does not exist yet. Until it lands this is the bench's own verify pass over a
node log topic (`xinfang.<division>.log`), replayed from offset 0:

- verify: `EventCodec.decode` every record (single-object encoding, fingerprint lookup, Avro
  body, domain objects), check `header.seq` increments by one from 1 and `header.prev_hash`
  equals the SHA-256 of the previous record's bytes ("" for the first);
- raw baseline: `fastavro.schemaless_reader` on the same bytes (schema chosen by the 8-byte
  fingerprint), nothing else.

Both are timed twice: replaying from Kafka (fetch included), and over the records already in
memory (CPU only, best of three). Replace with the audit module's own entry point when it lands.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastavro import schemaless_reader

from xinfang.codec.schemas import SchemaCatalogue
from xinfang.codec.wire import EventCodec
from xinfang.kafka_security import aiokafka_security
from xinfang.node.admin import LOG_CONFIG
from xinfang.topology_file import load_topology

from .common import create_topics, ratio, say
from .events import LogWriter

DIVISION = "150402"  # 红山区: a county whose log only this benchmark writes


@dataclass
class AuditResult:
    records: int
    verify_replay_rps: float  # from Kafka, decode + chain check
    raw_replay_rps: float  # from Kafka, fastavro only
    verify_cpu_rps: float  # in memory
    raw_cpu_rps: float
    chain_ok: bool
    provisional: bool = True

    @property
    def ratio_replay(self) -> float:
        return ratio(self.verify_replay_rps, self.raw_replay_rps)

    @property
    def ratio_cpu(self) -> float:
        return ratio(self.verify_cpu_rps, self.raw_cpu_rps)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio_replay": self.ratio_replay, "ratio_cpu": self.ratio_cpu}


class ChainBroken(ValueError):
    pass


def make_verifier(codec: EventCodec) -> Callable[[bytes], None]:
    state = {"seq": 0, "prev": ""}

    def verify(data: bytes) -> None:
        header = codec.decode(data).event.header
        if header.seq != state["seq"] + 1:
            raise ChainBroken(f"seq {header.seq} after {state['seq']}")
        if header.prev_hash != state["prev"]:
            raise ChainBroken(f"prev_hash of seq {header.seq} does not match")
        state["seq"] = header.seq
        state["prev"] = hashlib.sha256(data).hexdigest()

    return verify


def make_raw_decoder(catalogue: SchemaCatalogue) -> Callable[[bytes], None]:
    schemas = {fp: s.parsed for fp, s in catalogue.by_fingerprint.items()}

    def decode(data: bytes) -> None:
        schemaless_reader(io.BytesIO(data[10:]), schemas[data[2:10]], None)

    return decode


async def write_log(bootstrap: str, prefix: str, records: int) -> str:
    """A log of at least `records` records, decided by 红山区's own application service."""
    writer = LogWriter(DIVISION, load_topology())
    topic = prefix + writer.log_topic()
    await create_topics(bootstrap, {topic: LOG_CONFIG})
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        **aiokafka_security(),
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
    )
    await producer.start()
    try:
        futures = []
        while len(futures) < records:
            for r in writer.register_and_transfer():
                if r.topic == writer.log_topic():
                    futures.append(
                        await producer.send(
                            topic, r.value, key=r.case_id.encode(), headers=r.headers
                        )
                    )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return topic


async def replay(bootstrap: str, topic: str, handle: Callable[[bytes], None]) -> tuple[int, float]:
    """Read the topic from offset 0 to its end, `handle` each value; (records, seconds)."""
    tp = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        **aiokafka_security(),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, 0)
        count = 0
        began = time.perf_counter()
        while await consumer.position(tp) < end:
            batches = await consumer.getmany(tp, timeout_ms=1000, max_records=2000)
            for record in batches.get(tp, []):
                handle(record.value or b"")
                count += 1
        return count, time.perf_counter() - began
    finally:
        await consumer.stop()


async def fetch_all(bootstrap: str, topic: str) -> list[bytes]:
    values: list[bytes] = []
    await replay(bootstrap, topic, values.append)
    return values


def best_of(runs: int, values: list[bytes], make: Callable[[], Callable[[bytes], None]]) -> float:
    best = float("inf")
    for _ in range(runs):
        handle = make()
        began = time.perf_counter()
        for value in values:
            handle(value)
        best = min(best, time.perf_counter() - began)
    return best


def run_audit(bootstrap: str, prefix: str, records: int, topic: str | None = None) -> AuditResult:
    """Replay `topic` (a node log), or first write a log of about `records` records."""
    if topic is None:
        say(f"写入约 {records} 条哈希链日志", f"writing a hash-chained log of ~{records} records")
        topic = asyncio.run(write_log(bootstrap, prefix, records))
    else:
        say(f"回放节点日志 {topic}", f"replaying the node log {topic}")
    codec = EventCodec()
    catalogue = codec.catalogue

    say("回放并校验（Kafka）", "replay-and-verify from Kafka")
    asyncio.run(fetch_all(bootstrap, topic))  # warm the broker's page cache and the client
    chain_ok = True
    try:
        n_verify, verify_s = asyncio.run(replay(bootstrap, topic, make_verifier(codec)))
    except ChainBroken:
        chain_ok, n_verify, verify_s = False, 0, float("nan")
    n_raw, raw_s = asyncio.run(replay(bootstrap, topic, make_raw_decoder(catalogue)))

    say("内存中校验与原始解码", "in-memory verify and raw decoding")
    values = asyncio.run(fetch_all(bootstrap, topic))
    verify_cpu = best_of(3, values, lambda: make_verifier(codec))
    raw_cpu = best_of(3, values, lambda: make_raw_decoder(catalogue))
    return AuditResult(
        records=n_raw,
        verify_replay_rps=n_verify / verify_s,
        raw_replay_rps=n_raw / raw_s,
        verify_cpu_rps=len(values) / verify_cpu,
        raw_cpu_rps=len(values) / raw_cpu,
        chain_ok=chain_ok and n_verify == n_raw == len(values),
    )

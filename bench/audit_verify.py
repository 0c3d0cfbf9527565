"""Audit replay-and-verify throughput of `xinfang.audit` beside plain fastavro decoding.

`bench/audit.py` times the bench's own provisional chain check; this module times the audit
module itself — `xinfang.audit.verify.NodeChain`, what `xinfang audit verify` runs per record:
single-object decoding with fastavro, SHA-256 of the record, sequence/hash-link bookkeeping,
Ed25519 verification of the checkpoints — on a node log with a signed checkpoint every
`checkpoint_every` records, against `fastavro.schemaless_reader` alone on the same bytes
(schema chosen by the 8-byte fingerprint). Both are timed replaying the topic from Kafka
(fetch included, with the audit's own reader `KafkaSource`) and over the records in memory
(CPU time of the process, best of five, taken in turns). The aim: verification at most 40 %
slower than raw decoding.

    python -m bench.audit_verify --records 20000            # starts its own broker
    python -m bench.audit_verify --bootstrap HOST:PORT      # a running broker
    python -m bench.audit_verify --memory                   # no broker: in memory only

`run_audit_verify(bootstrap, prefix, records)` has the signature of `bench.audit.run_audit`,
so `bench/run.py` can use it for its "audit" step.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fastavro import schemaless_reader

from xinfang.audit.records import LogRecord
from xinfang.audit.replay import KafkaSource
from xinfang.audit.verify import NodeChain, RecordDecoder
from xinfang.chain.keys import KeyBook, Keyring, NodeKey
from xinfang.codec.schemas import SchemaCatalogue
from xinfang.kafka_security import aiokafka_security
from xinfang.node.admin import LOG_CONFIG
from xinfang.node.checkpoints import ChainKeeper
from xinfang.topology_file import load_topology

from .common import create_topics, ratio, say
from .events import LogWriter

DIVISION = "150402"  # 红山区: a county whose log only this benchmark writes


@dataclass
class AuditVerifyResult:
    records: int
    checkpoints: int
    verify_replay_rps: float  # from Kafka: fetch + xinfang.audit verification
    raw_replay_rps: float  # from Kafka: fetch + fastavro decoding only
    verify_cpu_rps: float  # in memory
    raw_cpu_rps: float
    chain_ok: bool

    @property
    def overhead_replay(self) -> float:
        """Extra time of verification over raw decoding, replaying from Kafka (0.25 = 25 %)."""
        return ratio(self.raw_replay_rps, self.verify_replay_rps) - 1

    @property
    def overhead_cpu(self) -> float:
        return ratio(self.raw_cpu_rps, self.verify_cpu_rps) - 1

    @property
    def ratio_replay(self) -> float:
        return ratio(self.verify_replay_rps, self.raw_replay_rps)

    @property
    def ratio_cpu(self) -> float:
        return ratio(self.verify_cpu_rps, self.raw_cpu_rps)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "ratio_replay": self.ratio_replay,
            "ratio_cpu": self.ratio_cpu,
            "overhead_replay": self.overhead_replay,
            "overhead_cpu": self.overhead_cpu,
            "target_overhead": 0.40,
        }


def make_log(records: int, checkpoint_every: int = 500) -> tuple[list[bytes], Keyring]:
    """A node log of about `records` records, as the division's node writes it (register +
    transfer per case), with a signed checkpoint every `checkpoint_every` records."""
    writer = LogWriter(DIVISION, load_topology())
    key = NodeKey.generate()
    service = writer.service
    service.chain = ChainKeeper(DIVISION, writer.topology, signer=key)
    log_topic = writer.log_topic()
    values: list[bytes] = []
    since = 0
    while len(values) < records:
        values += [r.value for r in writer.register_and_transfer() if r.topic == log_topic]
        since += 2
        if since >= checkpoint_every:
            since = 0
            service.chain.checkpoint(service)
            rows = writer.store.outbox.pending(10_000)
            writer.store.outbox.mark_sent([row.id for row in rows])
            values += [row.value for row in rows if row.topic == log_topic]
    return values, Keyring({DIVISION: key.public_raw})


def as_records(topic: str, values: list[bytes]) -> list[LogRecord]:
    return [LogRecord(topic, 0, i, 0, None, v) for i, v in enumerate(values)]


class Verifier:
    """xinfang.audit's per-node verifier, as `xinfang audit verify` runs it."""

    def __init__(self, topic: str, keyring: Keyring, decoder: RecordDecoder) -> None:
        self.chain = NodeChain(DIVISION, topic, decoder, KeyBook(keyring))

    def __call__(self, rec: LogRecord) -> None:
        self.chain.feed(rec)

    def finish(self) -> bool:
        return not [f for f in self.chain.finish() if f.level == "violation"]


def make_raw(catalogue: SchemaCatalogue) -> Callable[[LogRecord], None]:
    schemas = {fp: s.parsed for fp, s in catalogue.by_fingerprint.items()}

    def decode(rec: LogRecord) -> None:
        value = rec.value
        schemaless_reader(io.BytesIO(value[10:]), schemas[value[2:10]], None)

    return decode


def best_of_alternating(runs: int, *works: Callable[[], None]) -> list[float]:
    """The best CPU time (of this process: other load on the machine counts less) of each
    `work`, run in turns so that drifts in machine load hit all of them alike."""
    best = [float("inf")] * len(works)
    for _ in range(runs):
        for i, work in enumerate(works):
            began = time.process_time()
            work()
            best[i] = min(best[i], time.process_time() - began)
    return best


def cpu_rates(
    records: list[LogRecord], keyring: Keyring, catalogue: SchemaCatalogue
) -> tuple[float, float, bool]:
    """(verify rps, raw rps, chain ok) over records in memory."""
    decoder = RecordDecoder(catalogue)
    topic = records[0].topic
    ok = [True]

    def verify() -> None:
        v = Verifier(topic, keyring, decoder)
        for rec in records:
            v(rec)
        ok[0] = v.finish()

    raw = make_raw(catalogue)

    def decode() -> None:
        for rec in records:
            raw(rec)

    decode()  # warm up
    verify_s, raw_s = best_of_alternating(5, verify, decode)
    return len(records) / verify_s, len(records) / raw_s, ok[0]


async def _write(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

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
        futures = [await producer.send(topic, v, key=b"k") for v in values]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _replay(bootstrap: str, topic: str, handle: Callable[[LogRecord], None]) -> float:
    async with KafkaSource(bootstrap) as kafka:
        began = time.perf_counter()
        await kafka.read(topic, handle)
        return time.perf_counter() - began


def run_audit_verify(bootstrap: str, prefix: str, records: int) -> AuditVerifyResult:
    say(f"写入 {records} 条带签名检查点的节点日志", f"writing a signed node log of {records}")
    values, keyring = make_log(records)
    topic = f"{prefix}xinfang.{DIVISION}.log"
    asyncio.run(_write(bootstrap, topic, values))
    catalogue = SchemaCatalogue()
    decoder = RecordDecoder(catalogue)

    say("从 Kafka 回放并校验", "replay-and-verify from Kafka")
    asyncio.run(_replay(bootstrap, topic, lambda r: None))  # warm the page cache and client
    verify_s = raw_s = float("inf")
    chain_ok = True
    for _ in range(2):  # in turns, best of two: load on the machine hits both alike
        verifier = Verifier(topic, keyring, decoder)
        verify_s = min(verify_s, asyncio.run(_replay(bootstrap, topic, verifier)))
        chain_ok = chain_ok and verifier.finish()
        raw_s = min(raw_s, asyncio.run(_replay(bootstrap, topic, make_raw(catalogue))))

    say("内存中校验与原始解码", "in-memory verify and raw decoding")
    verify_cpu, raw_cpu, ok = cpu_rates(as_records(topic, values), keyring, catalogue)
    return AuditVerifyResult(
        records=len(values),
        checkpoints=sum(1 for v in values if b"_chain" in v[:200]),
        verify_replay_rps=len(values) / verify_s,
        raw_replay_rps=len(values) / raw_s,
        verify_cpu_rps=verify_cpu,
        raw_cpu_rps=raw_cpu,
        chain_ok=chain_ok and ok,
    )


def _print(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2, ensure_ascii=False))
    for where in ("cpu", "replay"):
        if f"overhead_{where}" in result:
            say(
                f"校验比原始解码多用时（{where}）：{result[f'overhead_{where}'] * 100:.1f}%",
                f"verification overhead over raw decoding ({where}): "
                f"{result[f'overhead_{where}'] * 100:.1f}% (target ≤ 40%)",
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--bootstrap", help="a running broker (default: start deploy/kafka)")
    parser.add_argument("--memory", action="store_true", help="in memory only, no broker")
    args = parser.parse_args(argv)
    if args.memory:
        values, keyring = make_log(args.records)
        records = as_records("xinfang.150402.log", values)
        verify, raw, ok = cpu_rates(records, keyring, SchemaCatalogue())
        _print(
            {
                "records": len(values),
                "verify_cpu_rps": verify,
                "raw_cpu_rps": raw,
                "ratio_cpu": verify / raw,
                "overhead_cpu": raw / verify - 1,
                "chain_ok": ok,
            }
        )
        return 0 if ok else 1
    broker = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        from xinfang.devtools.broker import start_deploy_broker
        from xinfang.devtools.secured import use_broker

        say("启动 Kafka", "starting Apache Kafka")
        state = Path(tempfile.mkdtemp(prefix="xinfang-audit-bench-"))
        broker = start_deploy_broker(state, secure=True)
        use_broker(broker)
        bootstrap = broker.bootstrap_servers
    try:
        result = run_audit_verify(bootstrap, f"bench{uuid.uuid4().hex[:6]}.", args.records)
    finally:
        if broker is not None:
            broker.stop()
    _print(result.as_dict())
    return 0 if result.chain_ok else 1


if __name__ == "__main__":
    sys.exit(main())

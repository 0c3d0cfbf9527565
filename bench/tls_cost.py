"""The TLS/SASL cost: the raw baselines on a plaintext broker beside the same on the secured one.

Every other step runs on the bench's broker, secured (TLS + SASL/SCRAM-SHA-512 + ACLs), node
and raw baseline alike. This step starts a second, plaintext deploy/kafka broker (own state
folder and ports, same JVM settings; stopped at the end of the step) and runs the three raw
baselines — the aiokafka hop (`bench.hop.raw_hop`), the consume→produce pass-through
(`bench.throughput.raw_pass_through`) and decoding a log from Kafka (`bench.audit.replay` with
fastavro only, best of three replays) — on each broker, one baseline at a time, with the same
sizes as the other steps. Each baseline runs in two halves in the order plaintext, secured,
secured, plaintext, so that neither the fresh broker's cold JVM nor the machine's drift favours
one side. Secured ÷ plaintext is what TLS and SASL cost a client here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from xinfang.codec.wire import EventCodec
from xinfang.devtools.broker import Broker, start_deploy_broker
from xinfang.devtools.secured import use_broker
from xinfang.kafka_security import client_security
from xinfang.topics import TopicNames

from .audit import make_raw_decoder, replay, write_log
from .common import Stats, ratio, say
from .hop import CITY, raw_hop_samples
from .throughput import preload, raw_pass_through

T = TypeVar("T")
SIDES = ("plaintext", "secured")
ORDER = ("plaintext", "secured", "secured", "plaintext")  # ABBA: no side gets the warm slot


class BrokerNotSecured(RuntimeError):
    """The broker under test is plaintext: there is no TLS/SASL cost to measure."""


@dataclass
class TlsCostResult:
    hop: dict[str, Stats]  # side → raw hop latency (ms)
    pass_through_eps: dict[str, float]  # side → raw consume→produce events/s
    decode_rps: dict[str, float]  # side → raw fetch + fastavro decode records/s
    events: int  # records moved by each pass-through
    records: int  # records decoded by each replay
    plaintext_broker: str  # how the comparison broker was started
    protocol: dict[str, str]  # side → the security protocol its raw clients used

    def as_dict(self) -> dict[str, Any]:
        p, s = SIDES
        return {
            "hop": {side: st.as_dict() for side, st in self.hop.items()},
            "pass_through_eps": self.pass_through_eps,
            "decode_rps": self.decode_rps,
            "events": self.events,
            "records": self.records,
            "plaintext_broker": self.plaintext_broker,
            "protocol": self.protocol,
            # secured ÷ plaintext: > 1 for latency, < 1 for rates means TLS/SASL costs
            "hop_p50_ratio": ratio(self.hop[s].p50, self.hop[p].p50),
            "hop_p99_ratio": ratio(self.hop[s].p99, self.hop[p].p99),
            "pass_through_ratio": ratio(self.pass_through_eps[s], self.pass_through_eps[p]),
            "decode_ratio": ratio(self.decode_rps[s], self.decode_rps[p]),
        }


@contextlib.contextmanager
def _client_of(broker: Broker | None) -> Iterator[None]:
    """This process's Kafka clients (and the raw consumer it spawns) talk to `broker` as admin
    or plaintext; None keeps the current settings (the secured broker under test)."""
    if broker is None:
        yield
        return
    restore = use_broker(broker)
    try:
        yield
    finally:
        restore()


def run_tls_cost(
    bootstrap: str,
    prefix: str,
    workdir: Path,
    hop_records: int,
    cases: int,
    log_records: int,
    start_plaintext: Callable[[Path], Broker] | None = None,
) -> TlsCostResult:
    """Raw baselines on a fresh plaintext broker and on `bootstrap` (which must be secured:
    raises BrokerNotSecured otherwise). `start_plaintext(state_dir)` starts the comparison
    broker (default: a plaintext deploy/kafka broker)."""
    if not client_security().secured:
        raise BrokerNotSecured("the broker under test is plaintext")
    starter = start_plaintext or (lambda state: start_deploy_broker(state, secure=False))
    say("启动明文 Kafka（仅用于对比）", "starting a plaintext Kafka (for this comparison only)")
    plain = starter(workdir / "kafka-plaintext")
    sides: dict[str, tuple[str, Broker | None]] = {
        "plaintext": (plain.bootstrap_servers, plain),
        "secured": (bootstrap, None),
    }

    protocol: dict[str, str] = {}

    def each(what: tuple[str, str], run: Callable[[str, str, Path], T]) -> dict[str, list[T]]:
        out: dict[str, list[T]] = {side: [] for side in SIDES}
        for n, side in enumerate(ORDER):
            servers, broker = sides[side]
            say(f"{what[0]}（{side}）", f"{what[1]} ({side})")
            folder = workdir / f"{side}{n}"
            folder.mkdir(parents=True, exist_ok=True)
            with _client_of(broker):
                protocol[side] = client_security().protocol
                out[side].append(run(servers, f"{prefix}{side}{n}.", folder))
        return out

    half = (max(hop_records // 2, 1), max(cases // 2, 1), max(log_records // 2, 1))
    try:
        hop = each(
            ("原始跳转", "raw hop"),
            lambda b, p, w: asyncio.run(raw_hop_samples(b, p, w, half[0])),
        )
        passed = each(
            ("原始消费→生产直通", "raw consume→produce pass-through"),
            lambda b, p, w: _pass_through(b, p, half[1]),
        )
        decoded = each(
            ("从 Kafka 原始解码", "raw decode from Kafka"),
            lambda b, p, w: _decode(b, p, half[2]),
        )
    finally:
        say("停止明文 Kafka", "stopping the plaintext Kafka")
        plain.stop()
    return TlsCostResult(
        hop={k: Stats.of([ms for run in v for ms in run]) for k, v in hop.items()},
        pass_through_eps={k: _rate(v) for k, v in passed.items()},
        decode_rps={k: _rate(v) for k, v in decoded.items()},
        events=sum(n for _, n in passed["secured"]),
        records=sum(n for _, n in decoded["secured"]),
        plaintext_broker=f"deploy/kafka {plain.security}, {plain.bootstrap_servers}",
        protocol=protocol,
    )


def _rate(runs: list[tuple[float, int]]) -> float:
    """Records per second over all runs: (seconds, records) each."""
    return ratio(sum(n for _, n in runs), sum(s for s, _ in runs))


def _pass_through(bootstrap: str, prefix: str, cases: int) -> tuple[float, int]:
    """(seconds, events) of bench.throughput's raw pass-through on freshly pre-loaded records."""
    events = asyncio.run(preload(bootstrap, prefix, cases))
    source = TopicNames(prefix).inbox(CITY)
    sink = f"{prefix}bench.raw-out"
    return asyncio.run(raw_pass_through(bootstrap, source, sink, events)), events


def _decode(bootstrap: str, prefix: str, records: int, runs: int = 3) -> tuple[float, int]:
    """(seconds, records) of reading a hash-chained log from offset 0 with fastavro decoding:
    the best of `runs` replays after one warm-up replay (page cache, connections) — a replay
    of a few thousand records lasts a fraction of a second, so one alone is mostly noise."""
    topic = asyncio.run(write_log(bootstrap, prefix, records))
    asyncio.run(replay(bootstrap, topic, lambda value: None))
    decoder = make_raw_decoder(EventCodec().catalogue)
    timed = [asyncio.run(replay(bootstrap, topic, decoder)) for _ in range(runs)]
    count, seconds = min(timed, key=lambda t: t[1])
    return seconds, count

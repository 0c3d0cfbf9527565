"""The chaos run's fault injector: SIGKILL and SIGSTOP of node processes, broker restarts,
duplicate records copied back into an inbox and malformed records written to one. Every kind
is injected at least once however short the run (`required_kinds`)."""

from __future__ import annotations

import asyncio
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from aiokafka import AIOKafkaProducer

from ..codec.framing import MAGIC, fingerprint_of
from ..codec.wire import EventCodec
from ..kafka_io import read_topic
from ..kafka_security import aiokafka_security
from ..topics import TopicNames
from .broker import Broker
from .chaos_scenario import DIVISIONS
from .processes import NodeProcess

RawRecord = tuple[bytes | None, bytes, list[tuple[str, bytes]]]


@dataclass
class FaultLog:
    counts: Counter[str] = field(default_factory=Counter)
    garbage_sent: int = 0
    duplicates_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, n: int = 1) -> None:
        with self.lock:
            self.counts[kind] += n

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def _inject(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, request_timeout_ms=10000, **aiokafka_security()
    )
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


INJECTION_COVERAGE_TIMEOUT_S = 300.0


class FaultInjector(threading.Thread):
    def __init__(
        self,
        broker: Broker,
        nodes: dict[str, NodeProcess],
        topics: TopicNames,
        log: FaultLog,
        rng: random.Random,
        interval: tuple[float, float],
        broker_restarts: int,
    ) -> None:
        super().__init__(daemon=True)
        self.broker, self.nodes, self.topics, self.log, self.rng = broker, nodes, topics, log, rng
        self.interval = interval
        self.broker_restarts_left = broker_restarts
        self.stop_event = threading.Event()
        self.paused: set[str] = set()
        self.broker_down = threading.Event()
        self.covered = threading.Event()  # set once every kind has been injected

    #: the log key each kind of fault is counted under
    COUNTED_AS: ClassVar[dict[str, str]] = {
        "kill": "sigkill",
        "pause": "sigstop",
        "duplicates": "duplicate_records",
        "garbage": "malformed_records",
        "broker": "broker_restart",
    }

    def required_kinds(self) -> list[str]:
        """Kinds still owed: every kind is injected at least once, however short the run."""
        kinds = ["kill", "pause", "duplicates", "garbage"]
        if self.broker_restarts_left:
            kinds.append("broker")
        return [k for k in kinds if self.log.counts[self.COUNTED_AS[k]] == 0]

    def run(self) -> None:
        kinds = ["kill", "kill", "pause", "duplicates", "garbage"]
        while not self.stop_event.wait(self.rng.uniform(*self.interval)):
            owed = self.required_kinds()
            if owed:
                kind = owed[0]  # retried until it is really injected (a dead node is no fault)
            elif self.broker_restarts_left and self.rng.random() < 0.2:
                kind = "broker"
            else:
                kind = self.rng.choice(kinds)
            try:
                getattr(self, f"_{kind}")()
            except Exception as exc:  # a fault that could not be injected is not a fault
                print(f"  (注入失败 / injection failed: {kind}: {exc!r})", flush=True)
            if not self.required_kinds():
                self.covered.set()

    def _node(self) -> NodeProcess:
        return self.nodes[self.rng.choice(DIVISIONS)]

    def _kill(self) -> None:
        node = self._node()
        if node.alive():
            node.kill()
            self.log.add("sigkill")

    def _pause(self) -> None:
        node = self._node()
        if not node.alive():
            return
        self.paused.add(node.division)
        node.signal(signal.SIGSTOP)
        time.sleep(self.rng.uniform(1.0, 4.0))
        node.signal(signal.SIGCONT)
        self.paused.discard(node.division)
        self.log.add("sigstop")

    def _broker(self) -> None:
        self.broker_down.set()
        try:
            self.broker.take_down()
            for attempt in range(5):  # a loaded machine may need more than one start
                try:
                    self.broker.bring_back()
                    break
                except Exception:
                    if attempt == 4:
                        raise
                    time.sleep(3)
        finally:
            self.broker_down.clear()
        self.broker_restarts_left -= 1
        self.log.add("broker_restart")

    def _duplicates(self) -> None:
        division = self.rng.choice(DIVISIONS)
        topic = self.topics.inbox(division)
        records = asyncio.run(read_topic(self.broker.bootstrap_servers, topic))
        valid = [r for r in records if fingerprint_of(r.value or b"") is not None]
        if not valid:
            return
        chosen = self.rng.sample(valid, min(len(valid), self.rng.randint(1, 10)))
        payload = [
            (r.key, bytes(r.value), [(k, bytes(v)) for k, v in r.headers or ()]) for r in chosen
        ]
        asyncio.run(_inject(self.broker.bootstrap_servers, topic, payload))
        self.log.duplicates_sent += len(payload)
        self.log.add("duplicate_records", len(payload))

    def _garbage(self) -> None:
        division = self.rng.choice(DIVISIONS)
        fingerprint = EventCodec().catalogue.get("CaseAccepted").fingerprint
        garbage: list[RawRecord] = [
            (b"x", b"\x00garbage " + bytes(self.rng.randrange(256) for _ in range(16)), []),
            (b"y", MAGIC + bytes(self.rng.randrange(256) for _ in range(8)) + b"??", []),
            (b"z", MAGIC + fingerprint + b"\xff\xff\xff\xff", []),
        ]
        asyncio.run(_inject(self.broker.bootstrap_servers, self.topics.inbox(division), garbage))
        self.log.garbage_sent += len(garbage)
        self.log.add("malformed_records", len(garbage))

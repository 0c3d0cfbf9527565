"""The chaos run's fault injector: SIGKILL and SIGSTOP of node processes, broker restarts,
duplicate records copied back into an inbox, malformed records written to one, and forged
records (devtools/forge.py, a kind drawn by the run's seed) claiming a child, produced into its
parent's inbox. Every kind is injected at least once however short the run
(`required_kinds`)."""

from __future__ import annotations

import asyncio
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import ClassVar

from aiokafka import AIOKafkaProducer

from ..chain.keys import NodeKey, load_private_key
from ..chain.links import record_hash
from ..codec.framing import MAGIC, fingerprint_of
from ..codec.wire import EventCodec
from ..domain.events import CHAIN_CASE_ID, CaseClosed, Event
from ..domain.vocabulary import CloseReason
from ..kafka_io import read_topic
from ..kafka_security import aiokafka_security
from ..topics import TopicNames
from . import forge
from .broker import Broker
from .chaos_scenario import CITY, COUNTIES, DIVISIONS, PROVINCE
from .processes import NodeProcess

RawRecord = tuple[bytes | None, bytes, list[tuple[str, bytes]]]


@dataclass
class FaultLog:
    counts: Counter[str] = field(default_factory=Counter)
    garbage_sent: int = 0
    duplicates_sent: int = 0
    #: digest (links.record_hash of the value) -> (forgery kind, target inbox topic)
    forged: dict[str, tuple[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_forged(self, digest: str, kind: str, topic: str) -> None:
        with self.lock:
            self.forged[digest] = (kind, topic)
            self.counts["forged_records"] += 1

    def forged_digests(self, *, replays: bool) -> set[str]:
        """Digests of the forged records sent; `replays`: with the replayed genuine ones (their
        bytes are genuine: found applied once, they were applied as the original)."""
        with self.lock:
            return {d for d, (kind, _) in self.forged.items() if replays or kind != "replay"}

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
        "forged": "forged_records",
    }

    #: inject forged records (`run_chaos(forged=False)` turns them off)
    forged_records = True
    PARENT: ClassVar[dict[str, str]] = {**dict.fromkeys(COUNTIES, CITY), CITY: PROVINCE}

    def required_kinds(self) -> list[str]:
        """Kinds still owed: every kind is injected at least once, however short the run."""
        kinds = ["kill", "pause", "duplicates", "garbage"]
        if self.forged_records:
            kinds.append("forged")
        if self.broker_restarts_left:
            kinds.append("broker")
        return [k for k in kinds if self.log.counts[self.COUNTED_AS[k]] == 0]

    def run(self) -> None:
        kinds = ["kill", "kill", "pause", "duplicates", "garbage"]
        if self.forged_records:
            kinds.append("forged")
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

    def _forged(self) -> None:
        """One forged record claiming a child, into its parent's inbox: made from the child's
        public log only (plus, for `illegal-act`, the child's own key file)."""
        bootstrap = self.broker.bootstrap_servers
        source = self.rng.choice(sorted(self.PARENT))
        target = self.PARENT[source]
        log = asyncio.run(forge.read_records(bootstrap, self.topics.log(source)))
        cases = [r for r in log if _case_of(r) != CHAIN_CASE_ID]
        if not cases:
            return  # nothing written yet: nothing to imitate
        kind = self.rng.choice(forge.KINDS)
        record = self._forge(kind, source, target, log, cases)
        topic = self.topics.inbox(target)
        forge.produce_sync(bootstrap, topic, [record])
        self.log.add_forged(record_hash(record[0]), kind, topic)

    def _forge(
        self, kind: str, source: str, target: str, log: list[forge.Record],
        cases: list[forge.Record],
    ) -> forge.Record:
        template = _event(self.rng.choice(cases))
        if kind == "replay":
            return forge.replay(self.rng.choice(cases))
        if kind == "altered":
            return forge.altered(
                self.rng.choice(cases),
                lambda e: replace(e, header=replace(
                    e.header, occurred_at=e.header.occurred_at + timedelta(seconds=1)
                )),
                NodeKey.generate() if self.rng.random() < 0.5 else None,
            )
        if kind == "impersonation":
            key = NodeKey.generate() if self.rng.random() < 0.5 else None
            return forge.impersonation(log, template, target, key)
        if kind == "seq-gap":
            return forge.seq_gap(log, template, target, self.rng.randint(2, 5))
        if kind == "revoked-key":  # a key the source does not (or no longer) publish
            return forge.revoked_key(log, template, target, NodeKey.generate())
        # illegal-act: the child's real key closes a case its parent holds and it never had
        key = load_private_key(self.nodes[source].data_dir / f"node-{source}.key")
        theirs = asyncio.run(forge.read_records(self.broker.bootstrap_servers,
                                                self.topics.log(target)))
        mine = {_case_of(r) for r in cases}
        foreign = [c for c in map(_case_of, theirs) if c != CHAIN_CASE_ID and c not in mine]
        case_id = self.rng.choice(foreign) if foreign else template.case_id
        header = replace(template.header, case_id=case_id)
        closed = CaseClosed(header=header, reason=CloseReason.DIVERTED, note="越权终结（伪造）")
        return forge.illegal_act(log, closed, target, key)


def _event(record: forge.Record) -> Event:
    return EventCodec().decode(record[0]).event


def _case_of(record: forge.Record) -> str:
    return _event(record).case_id

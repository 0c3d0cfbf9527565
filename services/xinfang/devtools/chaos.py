"""`make chaos`: cases cross three levels on the real broker while faults are injected.

The same scenario runs twice: once in-process without faults (the reference), once as
separate node processes on a real Kafka broker while this harness SIGKILLs nodes (at
random moments, and through crash points between commit and publish and between
publish and mark-sent), restarts the broker, pauses nodes (SIGSTOP/SIGCONT) and injects
duplicate and malformed records. When everything has settled, every node's store must
hold exactly the reference's case events: nothing lost, nothing applied twice. Every
node's log must be an unbroken chain (an exact re-publication is harmless; two different
records at one position are not). Every dead letter must be one that was injected.

The last line reads `cases=N faults=N lost=N duplicated=N dead_lettered=N`; the exit
status is non-zero unless lost and duplicated are 0 and every dead letter was injected.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

from aiokafka import AIOKafkaProducer

from ..client import ApiError, NodeClient
from ..codec.wire import EventCodec
from ..commands.inputs import case_file
from ..contract.catalogue import read_to_end
from ..domain.errors import DomainError
from ..presentation import case_view
from ..store.protocols import Store
from ..store.unit_of_work import NodeStore
from ..topics import TopicNames
from ..topology_file import load_topology
from .broker import Broker, find_or_start_broker
from .inprocess import InProcessBus
from .processes import NodeProcess

PROVINCE, CITY = "150000", "150400"
COUNTIES = ("150404", "150402")
DIVISIONS = (PROVINCE, CITY, *COUNTIES)
INJECTED_REASONS = {"not-single-object-encoding", "unknown-schema-fingerprint", "undecodable-body"}
View = dict[str, Any]
RawRecord = tuple[bytes | None, bytes, list[tuple[str, bytes]]]


# -- the scenario ------------------------------------------------------------------------------
class Executor(Protocol):
    def register(self, body: dict[str, Any]) -> str: ...
    def view(self, division: str, case_id: str) -> View | None: ...
    def run(self, division: str, case_id: str, command: str, body: dict[str, Any]) -> None: ...


class StepFailed(RuntimeError):
    pass


ABORT = threading.Event()  # set when the run cannot go on (e.g. a node that cannot start)


def petition(i: int) -> dict[str, Any]:
    county = COUNTIES[i % len(COUNTIES)]
    return {
        "actor": "150400.xfj",
        "title": f"混沌测试事项 {i:05d}",
        "channel": "ONLINE",
        "category": "APPEAL",
        "petitioner": {"name": f"测试人{i:05d}", "address": "赤峰市", "contact": f"1390000{i:04d}"},
        "request": f"请求处理第 {i} 号事项",
        "facts": "事实",
        "reasons": "理由",
        "place": county,
    }


def step(
    ex: Executor,
    division: str,
    case_id: str,
    command: str,
    body: dict[str, Any],
    done: Callable[[View], bool],
    timeout: float,
) -> None:
    """Run a command until its effect is visible at `division`: safe to retry after a crash."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline and not ABORT.is_set():
        try:
            view = ex.view(division, case_id)
            if view is not None and done(view):
                return
            if view is not None:
                ex.run(division, case_id, command, body)
                continue
        except (ApiError, DomainError, OSError) as err:
            last = err  # node down, broker away, or not yet propagated: look again shortly
        time.sleep(0.2)
    raise StepFailed(f"{command} at {division} for {case_id} did not take effect: {last}")


def wait_view(
    ex: Executor, division: str, case_id: str, check: Callable[[View], bool], timeout: float
) -> View:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ABORT.is_set():
        try:
            view = ex.view(division, case_id)
            if view is not None and check(view):
                return view
        except (ApiError, OSError):
            pass
        time.sleep(0.2)
    raise StepFailed(f"{division} never saw the expected state of {case_id}")


def drive_case(ex: Executor, i: int, timeout: float = 300.0) -> str:
    """One case's lifecycle: 登记 → 转送 → 受理 → 处理意见 (→ 复查) (→ 督办 → 反馈)."""
    county = COUNTIES[i % len(COUNTIES)]
    body = county + ".zj"
    case_id = ex.register(petition(i))
    step(
        ex,
        CITY,
        case_id,
        "transfer",
        {"actor": "150400.xfj", "to_body": body},
        lambda v: v["status"] != "REGISTERED",
        timeout,
    )
    wait_view(ex, county, case_id, lambda v: True, timeout)
    step(
        ex,
        county,
        case_id,
        "accept",
        {"actor": body},
        lambda v: v["status"] not in ("TRANSFERRED",),
        timeout,
    )
    outcome = ("SUPPORTED", "EXPLAINED", "NOT_SUPPORTED")[i % 3]
    step(
        ex,
        county,
        case_id,
        "opinion",
        {"actor": body, "outcome": outcome, "opinion": "处理意见"},
        lambda v: v["handling_body"] is not None,
        timeout,
    )
    if i % 4 == 0:
        wait_view(ex, CITY, case_id, lambda v: v["status"] == "OPINION_ISSUED", timeout)
        step(
            ex,
            CITY,
            case_id,
            "review-request",
            {"actor": "150400.zj", "reasons": "不服"},
            lambda v: v["reviewer"] is not None,
            timeout,
        )
        step(
            ex,
            CITY,
            case_id,
            "review-decide",
            {"actor": "150400.zj", "result": "UPHOLD", "opinion": "维持"},
            lambda v: v["review_result"] is not None,
            timeout,
        )
    if i % 5 == 0:
        wait_view(ex, CITY, case_id, lambda v: v["handling_body"] is not None, timeout)
        step(
            ex,
            CITY,
            case_id,
            "supervise",
            {"actor": "150400.xfj", "to_body": body, "reasons": "请报告办理情况"},
            lambda v: bool(v["supervisions"]),
            timeout,
        )
        seen = wait_view(ex, county, case_id, lambda v: bool(v["supervisions"]), timeout)
        sid = seen["supervisions"][0]["supervision_id"]
        step(
            ex,
            county,
            case_id,
            "answer-supervision",
            {"actor": body, "supervision_id": sid, "answer": "已办理", "adopted": True},
            lambda v: all(s["answered"] for s in v["supervisions"]),
            timeout,
        )
    return case_id


class HttpExecutor:
    def __init__(self, nodes: dict[str, NodeProcess]) -> None:
        self.nodes = nodes

    def client(self, division: str) -> NodeClient:
        return NodeClient(self.nodes[division].url, timeout=10)

    def register(self, body: dict[str, Any]) -> str:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                return str(self.client(CITY).post("/api/cases", body)["case_id"])
            except ApiError as err:
                if err.code == "XF-R12-IN-PROGRESS":  # it was registered before the crash
                    return str(err.payload["context"]["case"])
                if err.status < 500:
                    raise
            except OSError:
                pass
            time.sleep(0.3)
        raise StepFailed("registration never succeeded")

    def view(self, division: str, case_id: str) -> View | None:
        try:
            return dict(self.client(division).get(f"/api/cases/{case_id}"))
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def run(self, division: str, case_id: str, command: str, body: dict[str, Any]) -> None:
        self.client(division).post(f"/api/cases/{case_id}/{command}", body)


class InProcessExecutor:
    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    def register(self, body: dict[str, Any]) -> str:
        node = self.bus.nodes[CITY]
        done = node.register(str(body["actor"]), case_file(body, node.context().now))
        self.bus.settle()
        return done.case_id

    def view(self, division: str, case_id: str) -> View | None:
        node = self.bus.nodes[division]
        try:
            return case_view(node.case(case_id), node.topology)
        except DomainError:
            return None

    def run(self, division: str, case_id: str, command: str, body: dict[str, Any]) -> None:
        self.bus.run(division, case_id, command, body)


# -- what a node holds, by case title ----------------------------------------------------------
@dataclass
class NodeSnapshot:
    events: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)  # title -> events
    states: dict[str, tuple[Any, ...]] = field(default_factory=dict)


def snapshot(store: Store, codec: EventCodec) -> NodeSnapshot:
    snap = NodeSnapshot()
    for row in store.cases.list_cases():
        title = str(row["title"])
        history = store.cases.history(str(row["case_id"]))
        kinds: Counter[tuple[str, str]] = Counter()
        for stored in history:
            event = codec.decode(stored.payload).event
            kinds[(event.type, event.header.source)] += 1
        snap.events[title] = snap.events.get(title, Counter()) + kinds
        snap.states[title] = (row["status"], row["holder"], row["outcome"])
    return snap


@dataclass
class Comparison:
    lost: int = 0
    duplicated: int = 0
    mismatched_states: list[str] = field(default_factory=list)


def compare(reference: dict[str, NodeSnapshot], actual: dict[str, NodeSnapshot]) -> Comparison:
    result = Comparison()
    for division, expected in reference.items():
        got = actual[division]
        for title, events in expected.events.items():
            have = got.events.get(title, Counter())
            result.lost += sum((events - have).values())
            result.duplicated += sum((have - events).values())
            if got.states.get(title) != expected.states[title]:
                result.mismatched_states.append(
                    f"{division} {title}: {got.states.get(title)} != {expected.states[title]}"
                )
        for title in set(got.events) - set(expected.events):
            result.duplicated += sum(got.events[title].values())  # a case the reference never had
    return result


# -- log chains on the broker -------------------------------------------------------------------
async def _read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every record of the topic to its end offsets, all partitions, bounded; [] if it does not
    exist (the one shared reader: contract.catalogue.read_to_end)."""
    try:
        return list(await read_to_end(bootstrap, [topic], timeout_s=120))
    except LookupError:
        return []


def check_log_chain(bootstrap: str, topic: str, codec: EventCodec) -> tuple[int, int, int]:
    """(records, harmless re-publications, violations) of one node log."""
    records = asyncio.run(_read_topic(bootstrap, topic))
    by_seq: dict[int, bytes] = {}
    republished = violations = 0
    for record in records:
        header = codec.decode(record.value).event.header
        if header.seq in by_seq:
            if by_seq[header.seq] == record.value:
                republished += 1
            else:
                violations += 1
            continue
        by_seq[header.seq] = record.value
    seqs = sorted(by_seq)
    if seqs != list(range(1, len(seqs) + 1)):
        violations += 1
    for seq in seqs[1:]:
        prev = hashlib.sha256(by_seq[seq - 1]).hexdigest()
        if codec.decode(by_seq[seq]).event.header.prev_hash != prev:
            violations += 1
    return len(records), republished, violations


# -- faults ------------------------------------------------------------------------------------
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
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=10000)
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
        records = asyncio.run(_read_topic(self.broker.bootstrap_servers, topic))
        valid = [r for r in records if (r.value or b"")[:2] == b"\xc3\x01"]
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
            (b"y", b"\xc3\x01" + bytes(self.rng.randrange(256) for _ in range(8)) + b"??", []),
            (b"z", b"\xc3\x01" + fingerprint + b"\xff\xff\xff\xff", []),
        ]
        asyncio.run(_inject(self.broker.bootstrap_servers, self.topics.inbox(division), garbage))
        self.log.garbage_sent += len(garbage)
        self.log.add("malformed_records", len(garbage))


class Supervisor(threading.Thread):
    """Restarts node processes that died (SIGKILL by the injector or by a crash point)."""

    def __init__(self, nodes: dict[str, NodeProcess], injector: FaultInjector | None) -> None:
        super().__init__(daemon=True)
        self.nodes, self.injector = nodes, injector
        self.stop_event = threading.Event()
        self.restarts = 0

    def run(self) -> None:
        recent: list[float] = []
        while not self.stop_event.wait(0.5):
            for node in self.nodes.values():
                if not node.alive() and node.restart_if_dead():
                    self.restarts += 1
                    now = time.monotonic()
                    recent = [t for t in recent if now - t < 60] + [now]
                    if len(recent) > 20:  # restarting in a loop: the node cannot start at all
                        print(f"节点无法启动 / node cannot start:\n{node.tail_log(15)}", flush=True)
                        ABORT.set()
                        return


# -- the run -----------------------------------------------------------------------------------
@dataclass
class ChaosResult:
    cases: int
    faults: int
    lost: int
    duplicated: int
    dead_lettered: int
    dead_letters_injected: int
    unexpected_dead_letters: int
    fault_kinds: dict[str, int]
    chain_records: int
    republished: int
    chain_violations: int
    mismatched_states: list[str]
    seconds: float
    #: fault kinds the run owed but never managed to inject (a run with gaps proves less)
    never_injected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.chain_violations == 0
            and self.unexpected_dead_letters == 0
            and self.dead_lettered == self.dead_letters_injected
            and not self.mismatched_states
            and not self.never_injected
        )

    def line(self) -> str:
        return (
            f"cases={self.cases} faults={self.faults} lost={self.lost} "
            f"duplicated={self.duplicated} dead_lettered={self.dead_lettered}"
        )


def reference_run(cases: int, workdir: Path) -> dict[str, NodeSnapshot]:
    topology = load_topology()
    workdir.mkdir(parents=True, exist_ok=True)
    bus = InProcessBus(topology, list(DIVISIONS), workdir)
    try:
        ex = InProcessExecutor(bus)
        for i in range(cases):
            drive_case(ex, i)
        codec = EventCodec()
        return {d: snapshot(bus.nodes[d].store, codec) for d in DIVISIONS}
    finally:
        bus.close()


def _settle(nodes: dict[str, NodeProcess], quiet_s: float = 5.0, timeout: float = 300.0) -> None:
    """Wait until every outbox is empty, nothing is parked and no store changes for a while."""
    deadline = time.monotonic() + timeout
    last: tuple[Any, ...] | None = None
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        try:
            stats = tuple(
                (h["outbox_pending"], h["parked"], h["case_events"], h["inbox"])
                for h in (n.client.get("/health") for n in nodes.values())
            )
        except (ApiError, OSError):
            time.sleep(0.5)
            continue
        busy = any(s[0] or s[1] for s in stats)
        if stats != last or busy:
            last, stable_since = stats, time.monotonic()
        elif time.monotonic() - stable_since >= quiet_s:
            return
        time.sleep(0.5)
    raise TimeoutError("系统未在时限内稳定 / the nodes did not settle")


def run_chaos(
    cases: int,
    workdir: Path,
    seed: int = 7,
    faults: bool = True,
    workers: int = 6,
    crash_probability: float = 0.001,
    fault_interval: tuple[float, float] = (2.0, 6.0),
    broker_restarts: int = 1,
    broker: Broker | None = None,
) -> ChaosResult:
    began = time.monotonic()
    rng = random.Random(seed)
    print(
        f"参照运行（无故障，进程内，并行）/ reference run without faults: {cases} cases …",
        flush=True,
    )
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else None  # fsync-free: it is thrown away
    reference_dir = Path(tempfile.mkdtemp(prefix="xinfang-reference-", dir=shm))
    pool = ProcessPoolExecutor(max_workers=1)
    reference_future = pool.submit(reference_run, cases, reference_dir)
    own_broker = broker is None
    broker = broker or find_or_start_broker(workdir / "kafka")
    if broker.kind != "deploy":
        broker_restarts = 0  # only the deploy/kafka broker can be restarted from here
    topics = TopicNames(f"chaos{rng.randrange(10**6)}.")
    env = {
        "XINFANG_FAULT_CRASH_BEFORE_PUBLISH": str(crash_probability if faults else 0),
        "XINFANG_FAULT_CRASH_BEFORE_MARK": str(crash_probability if faults else 0),
    }
    nodes = {
        d: NodeProcess(
            d,
            broker.bootstrap_servers,
            workdir / "nodes" / d,
            topic_prefix=topics.prefix,
            extra_env=env,
        )
        for d in DIVISIONS
    }
    log = FaultLog()
    injector = (
        FaultInjector(broker, nodes, topics, log, rng, fault_interval, broker_restarts)
        if faults
        else None
    )
    supervisor = Supervisor(nodes, injector)
    try:
        for node in nodes.values():
            node.start()
        for node in nodes.values():
            node.wait_ready(120)
        supervisor.start()
        if injector is not None:
            injector.start()
        print(
            f"故障注入运行 / run with faults on {broker.bootstrap_servers}: {cases} cases, "
            f"{workers} drivers …",
            flush=True,
        )
        ex = HttpExecutor(nodes)
        done = Counter[str]()
        failures: list[str] = []
        lock = threading.Lock()

        def worker(indexes: list[int]) -> None:
            for i in indexes:
                try:
                    drive_case(ex, i)
                except StepFailed as err:
                    with lock:
                        failures.append(str(err))
                with lock:
                    done["cases"] += 1
                    if done["cases"] % max(1, cases // 20) == 0:
                        print(
                            f"  进度 / progress {done['cases']}/{cases}  "
                            f"faults={log.total} restarts={supervisor.restarts}",
                            flush=True,
                        )

        threads = [
            threading.Thread(target=worker, args=(list(range(w, cases, workers)),))
            for w in range(workers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if ABORT.is_set():
            raise RuntimeError("故障注入运行中止 / the run was aborted (see above)")
        if injector is not None:
            # A quick run must not end before every kind of fault has hit it at least once.
            if not injector.covered.wait(INJECTION_COVERAGE_TIMEOUT_S):
                print(f"  (未注入 / never injected: {injector.required_kinds()})", flush=True)
            injector.stop_event.set()
            injector.join(60)
        print("等待系统稳定 / settling …", flush=True)
        _settle(nodes)
        supervisor.stop_event.set()
        supervisor.join(5)
        crash_restarts = supervisor.restarts - log.counts["sigkill"]
        if crash_restarts > 0:
            log.add("crash_point_kill", crash_restarts)
        for node in nodes.values():
            node.stop()
        codec = EventCodec()
        actual = {d: snapshot(NodeStore(nodes[d].database_url), codec) for d in DIVISIONS}
        print("等待参照运行 / waiting for the reference run …", flush=True)
        reference = reference_future.result()
        comparison = compare(reference, actual)
        chain_records = republished = violations = 0
        for d in DIVISIONS:
            n, r, v = check_log_chain(broker.bootstrap_servers, topics.log(d), codec)
            chain_records, republished, violations = (
                chain_records + n,
                republished + r,
                violations + v,
            )
        letters = []
        from ..ops.deadletters import list_sync

        for d in DIVISIONS:
            letters += list_sync(broker.bootstrap_servers, topics, d)
        unexpected = [x for x in letters if x.reason not in INJECTED_REASONS]
        for failure in failures[:5]:
            print(f"  未完成 / incomplete: {failure}", flush=True)
        return ChaosResult(
            cases=cases,
            faults=log.total,
            lost=comparison.lost,
            duplicated=comparison.duplicated,
            dead_lettered=len(letters),
            dead_letters_injected=log.garbage_sent,
            unexpected_dead_letters=len(unexpected),
            fault_kinds=dict(log.counts),
            chain_records=chain_records,
            republished=republished,
            chain_violations=violations,
            mismatched_states=comparison.mismatched_states[:20],
            seconds=time.monotonic() - began,
            never_injected=injector.required_kinds() if injector is not None else [],
        )
    finally:
        supervisor.stop_event.set()
        if injector is not None:
            injector.stop_event.set()
        for node in nodes.values():
            if node.proc is not None:
                node.signal(signal.SIGCONT)
            node.stop()
        if own_broker:
            broker.stop()
        pool.shutdown(cancel_futures=True)
        shutil.rmtree(reference_dir, ignore_errors=True)


def write_report(result: ChaosResult, path: Path) -> None:
    kinds = "\n".join(f"| {k} | {v} |" for k, v in sorted(result.fault_kinds.items()))
    path.write_text(
        f"""# 可靠性 / Reliability: `make chaos`

Latest full run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {result.seconds:.0f} s wall time on this
machine (2 cores). Four node processes (150000 内蒙古自治区, 150400 赤峰市, 150404 松山区,
150402 红山区) on a real Apache Kafka 4.1.1 broker; every case is registered and transferred by
赤峰市, accepted and answered by a county, every 4th reviewed at the city, every 5th supervised.
The same scenario run in-process without faults is the reference.

| figure | value |
|---|---|
| cases | {result.cases} |
| faults injected | {result.faults} |
| events lost | {result.lost} |
| events applied twice | {result.duplicated} |
| dead letters | {result.dead_lettered} (injected: {result.dead_letters_injected}) |
| node-log records read back | {result.chain_records} ({result.republished} re-published) |
| chain violations | {result.chain_violations} |
| state mismatches | {len(result.mismatched_states)} |

| fault kind | count |
|---|---|
{kinds}

Fault kinds: `sigkill` (a node process killed at a random moment), `crash_point_kill` (a node
killed itself at a crash point between commit and publish or between publish and mark-sent),
`sigstop` (a node paused, then resumed), `broker_restart`, `duplicate_records` (records copied
back into an inbox), `malformed_records` (undecodable records written to an inbox).

Last line of the run: `{result.line()}`
""",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="故障注入测试 / fault-injection run")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--report", type=Path, help="write docs/reliability.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="xinfang-chaos-"))
    try:
        result = run_chaos(args.cases, workdir, seed=args.seed, workers=args.workers)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    for mismatch in result.mismatched_states:
        print(f"  状态不一致 / state mismatch: {mismatch}")
    if result.never_injected:
        print(f"  未注入的故障 / fault kinds never injected: {result.never_injected}")
    print(
        f"故障 / faults: {result.fault_kinds}; 日志记录 / log records {result.chain_records}, "
        f"重发 / re-published {result.republished}, "
        f"链错误 / chain violations {result.chain_violations}; "
        f"{result.seconds:.0f} s"
    )
    if args.report:
        write_report(result, args.report)
    print(result.line())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())

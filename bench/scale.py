"""Scale: every node of a topology running at once (the whole of 内蒙古自治区: 121 nodes).

Nodes run in `bench.host` processes, several nodes per process (each node is still its own
faust app, relay and SQLite file; only the interpreter is shared): 121 interpreters would start
and idle on 2 cores far slower than the nodes do their work. Measured:

- start-up: all hosts launched at once until every node's HTTP API answers;
- memory: RSS of the host processes / nodes (and the broker's RSS);
- idle CPU: CPU time of the hosts over a quiet window, per node;
- burst: every city registers and transfers K cases to each of its counties (HTTP, one client
  thread per city); settled when every store holds every case it should and all stores agree
  on each case's status and holder (read from the nodes' SQLite files). The settle time runs
  from the first request to the last `inbox.received_at` of the burst at any node;
- broker: topics and partitions of the run, all topics, consumer groups.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from xinfang.client import ApiError, NodeClient
from xinfang.devtools.staff import StaffClient, process_staff
from xinfang.domain.clock import system_clock
from xinfang.domain.topology import Level, Topology
from xinfang.topology_file import load_topology

from .common import (
    BrokerCounts,
    bench_env,
    broker_counts,
    cpu_seconds,
    db_time,
    http_ports,
    node_db,
    python_cmd,
    query,
    rss_bytes,
    say,
    wait_until,
)
from .events import petition


@dataclass
class ScaleResult:
    nodes: int
    levels: dict[str, int]
    hosts: int
    startup_s: float
    host_rss_mb: float  # all host processes together
    rss_per_node_mb: float
    idle_cpu_pct_per_node: float  # % of one core, per node, nothing to do
    broker_rss_mb: float
    cases: int
    deliveries: int  # inbox records applied during the burst, all nodes
    post_s: float  # issuing every register + transfer request
    settle_s: float  # first request → last receipt anywhere
    broker: BrokerCounts
    agree: bool
    case_settle_ms: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["broker"] = asdict(self.broker)
        return data


@dataclass
class Host:
    divisions: list[str]
    ports: dict[str, int]
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.log is not None:
            self.log.close()
            self.log = None


def plan_hosts(topology: Topology, divisions: list[str], per_host: int) -> list[Host]:
    count = max(1, math.ceil(len(divisions) / per_host))
    size = math.ceil(len(divisions) / count)
    ports = dict(zip(divisions, http_ports(len(divisions)), strict=True))
    hosts = []
    for start in range(0, len(divisions), size):
        chunk = divisions[start : start + size]
        hosts.append(Host(chunk, {d: ports[d] for d in chunk}))
    return hosts


def _cases(db: Path) -> dict[str, tuple[str, str]]:
    rows = query(db, "SELECT case_id, status, holder FROM cases")
    return {str(r[0]): (str(r[1]), str(r[2])) for r in rows}


def run_scale(
    bootstrap: str,
    prefix: str,
    workdir: Path,
    topology_path: Path,
    per_county: int,
    per_host: int = 16,
    broker_pid: int | None = None,
    idle_window_s: float = 10.0,
) -> ScaleResult:
    workdir.mkdir(parents=True, exist_ok=True)
    topology = load_topology(topology_path)
    divisions = [d.code for d in topology.divisions]
    levels = {lvl.value: sum(d.level is lvl for d in topology.divisions) for lvl in Level}
    hosts = plan_hosts(topology, divisions, per_host)
    data_dir = workdir / "nodes"
    ports = {d: p for h in hosts for d, p in h.ports.items()}
    clients = {d: NodeClient(f"http://127.0.0.1:{p}", timeout=60) for d, p in ports.items()}
    dbs = {d: node_db(data_dir / d, d) for d in divisions}
    say(
        f"启动 {len(divisions)} 个节点（{len(hosts)} 个进程）",
        f"starting {len(divisions)} nodes in {len(hosts)} host processes",
    )
    try:
        began = time.monotonic()
        for i, host in enumerate(hosts):
            host.log = (workdir / f"host-{i}.log").open("ab")
            args = ["--bootstrap", bootstrap, "--topology", str(topology_path)]
            args += ["--prefix", prefix, "--data-dir", str(data_dir)]
            args += [f"{d}:{p}" for d, p in host.ports.items()]
            host.proc = subprocess.Popen(
                python_cmd("bench.host", *args),
                stdout=host.log,
                stderr=subprocess.STDOUT,
                env=bench_env(),
            )

        def all_ready() -> bool:
            for host in hosts:
                if host.proc is not None and host.proc.poll() is not None:
                    raise RuntimeError(
                        f"host of {host.divisions[0]}… exited {host.proc.returncode}"
                    )
            pending = [d for d in divisions if not _answers(clients[d])]
            return not pending

        wait_until(all_ready, "all nodes to answer", timeout=120 + 5 * len(divisions), interval=1)
        startup = time.monotonic() - began
        say(f"全部节点就绪，用时 {startup:.1f} 秒", f"all nodes ready in {startup:.1f}s")

        time.sleep(min(3.0, idle_window_s))  # let consumer groups finish joining first
        pids = [h.proc.pid for h in hosts if h.proc is not None]
        cpu_before = sum(cpu_seconds(p) for p in pids)
        time.sleep(idle_window_s)
        idle_cpu = (sum(cpu_seconds(p) for p in pids) - cpu_before) / idle_window_s
        host_rss = sum(rss_bytes(p) for p in pids) / 2**20
        broker_rss = rss_bytes(broker_pid) / 2**20 if broker_pid else 0.0

        cities = list(topology.children(topology.divisions[0].code))
        plan = {c: [k for k in topology.children(c) for _ in range(per_county)] for c in cities}
        total = sum(len(v) for v in plan.values())
        say(
            f"突发：{len(cities)} 个市向各县各转送 {per_county} 件，共 {total} 件",
            f"burst: {len(cities)} cities transfer {per_county} case(s) to each county, {total}",
        )
        errors: list[BaseException] = []
        staffed = {  # the cities' registrars, signed in (devtools/staff.py)
            c: StaffClient(
                clients[c].base_url,
                process_staff(
                    clients[c].base_url, f"sqlite:///{dbs[c]}", c, topology, system_clock
                ),
                timeout=60,
            )
            for c in cities
        }

        def drive(city: str) -> None:
            office = f"{city}.xfj"
            try:
                for county in plan[city]:
                    client = staffed[city]
                    case_id = client.post("/api/cases", {"actor": office, **petition(county)})[
                        "case_id"
                    ]
                    client.post(
                        f"/api/cases/{case_id}/transfer",
                        {"actor": office, "to_body": f"{county}.zj", "note": "请依法处理"},
                    )
            except BaseException as exc:
                errors.append(exc)

        t0 = time.time()
        threads = [threading.Thread(target=drive, args=(c,)) for c in cities]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        post_s = time.time() - t0
        if errors:
            raise errors[0]

        expected = {d: 0 for d in divisions}
        for city, counties in plan.items():
            expected[city] += len(counties)
            expected[topology.divisions[0].code] += len(counties)
            for county in counties:
                expected[county] += 1

        def settled() -> bool:
            seen = {d: _cases(dbs[d]) for d in divisions}
            if any(len(seen[d]) < n for d, n in expected.items()):
                return False
            views: dict[str, set[tuple[str, str]]] = {}
            for cases in seen.values():
                for case_id, view in cases.items():
                    views.setdefault(case_id, set()).add(view)
            return all(len(v) == 1 and next(iter(v))[0] == "TRANSFERRED" for v in views.values())

        try:
            wait_until(settled, "every store to agree", timeout=120 + total, interval=0.5)
        except TimeoutError:
            short = [d for d, n in expected.items() if len(_cases(dbs[d])) < n]
            raise TimeoutError(f"stores not settled; short of cases: {short}") from None
        last = 0.0
        deliveries = 0
        for d in divisions:
            row = query(dbs[d], "SELECT max(received_at), count(*) FROM inbox")
            if row and row[0][0]:
                last = max(last, db_time(row[0][0]))
                deliveries += int(row[0][1])
        settle_s = last - t0
        counts = asyncio.run(broker_counts(bootstrap, prefix))
        case_ms = _case_settle(dbs, topology, divisions)
    finally:
        for host in hosts:
            with contextlib.suppress(Exception):
                if host.proc is not None and host.proc.poll() is None:
                    host.proc.terminate()
        for host in hosts:
            host.stop()
    return ScaleResult(
        nodes=len(divisions),
        levels=levels,
        hosts=len(hosts),
        startup_s=startup,
        host_rss_mb=host_rss,
        rss_per_node_mb=host_rss / len(divisions),
        idle_cpu_pct_per_node=idle_cpu / len(divisions) * 100,
        broker_rss_mb=broker_rss,
        cases=total,
        deliveries=deliveries,
        post_s=post_s,
        settle_s=settle_s,
        broker=counts,
        agree=True,
        case_settle_ms=case_ms,
    )


def _answers(client: NodeClient) -> bool:
    try:
        client.get("/health")
        return True
    except (OSError, ApiError):
        return False


def _case_settle(
    dbs: dict[str, Path], topology: Topology, divisions: list[str]
) -> dict[str, float]:
    """Per case: the city's transfer decision → its arrival at the last node (county, province)."""
    from .common import Stats

    arrived: dict[str, float] = {}
    for d in divisions:
        for event_id, received in query(dbs[d], "SELECT event_id, received_at FROM inbox"):
            arrived[str(event_id)] = max(arrived.get(str(event_id), 0.0), db_time(received))
    spans: list[float] = []
    for city in topology.children(topology.divisions[0].code):
        rows = query(
            dbs[city],
            "SELECT event_id, occurred_at FROM case_events WHERE type = 'CaseTransferred'",
        )
        spans += [
            (arrived[str(e)] - db_time(occurred)) * 1e3 for e, occurred in rows if str(e) in arrived
        ]
    if not spans:
        return {}
    stats = Stats.of(spans)
    return {"n": stats.n, "p50": stats.p50, "p99": stats.p99, "max": stats.max}

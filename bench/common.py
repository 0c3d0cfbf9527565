"""Shared helpers: progress messages, statistics, node databases, process figures, Kafka admin."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]  # the repository this bench/ belongs to


def say(zh: str, en: str) -> None:
    """Progress line: Chinese first, English after."""
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {zh} / {en}", flush=True)


# -- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Latency figures in milliseconds."""

    n: int
    p50: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, values_ms: Sequence[float]) -> Stats:
        if not values_ms:
            raise ValueError("no samples")
        ordered = sorted(values_ms)
        return cls(
            n=len(ordered),
            p50=percentile(ordered, 50),
            p99=percentile(ordered, 99),
            mean=sum(ordered) / len(ordered),
            max=ordered[-1],
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default) over sorted values."""
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


# -- node databases (read directly, never through the node) -----------------------------------


def node_db(data_dir: Path, division: str) -> Path:
    return data_dir / f"node-{division}.sqlite3"


@contextlib.contextmanager
def open_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A reader on a node's SQLite file (WAL: it never blocks the node's writer)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def query(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    if not path.exists():
        return []
    try:
        with open_db(path) as conn:
            return list(conn.execute(sql, params))
    except sqlite3.OperationalError as err:  # table not created yet, or locked for a moment
        if "no such table" in str(err) or "locked" in str(err):
            return []
        raise


def db_time(text: str | None) -> float:
    """A timestamp column (SQLAlchemy stores UTC as naive 'YYYY-MM-DD HH:MM:SS.ffffff')."""
    if text is None:
        raise ValueError("missing timestamp")
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# -- processes -------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """faust creates `<app id>-data/` in the current directory: keep that out of the repo."""
    before = Path.cwd()
    path.mkdir(parents=True, exist_ok=True)
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def wait_until(probe: Any, what: str, timeout: float, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"等待超时 / timed out waiting for {what} ({timeout:.0f}s)")
        time.sleep(interval)


# -- Kafka -----------------------------------------------------------------------------------


async def create_topics(bootstrap: str, topics: dict[str, dict[str, str]]) -> None:
    from xinfang.node.admin import ensure_topics

    await ensure_topics(bootstrap, topics)


@dataclass(frozen=True)
class BrokerCounts:
    topics: int  # topics with the run's prefix
    partitions: int  # their partitions
    all_topics: int  # every topic on the broker, internal ones included
    all_partitions: int
    consumer_groups: int


async def broker_counts(bootstrap: str, prefix: str) -> BrokerCounts:
    from aiokafka.admin import AIOKafkaAdminClient

    from xinfang.kafka_security import aiokafka_security

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **aiokafka_security())
    await admin.start()
    try:
        names = sorted(await admin.list_topics())
        partitions: dict[str, int] = {}
        for chunk in _chunks(names, 200):
            for topic in await admin.describe_topics(chunk):
                partitions[str(topic["topic"])] = len(topic["partitions"])
        groups = await admin.list_consumer_groups()
    finally:
        await admin.close()
    ours = [n for n in names if n.startswith(prefix)]
    return BrokerCounts(
        topics=len(ours),
        partitions=sum(partitions.get(n, 0) for n in ours),
        all_topics=len(names),
        all_partitions=sum(partitions.values()),
        consumer_groups=len(groups),
    )


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)


def http_ports(count: int, start: int = 21000) -> list[int]:
    """Free ports below Linux's ephemeral range (32768+), so that the hundreds of Kafka client
    connections of a large run cannot take a node's port before its HTTP server binds it."""
    ports: list[int] = []
    port = start
    while len(ports) < count:
        if port >= 32768:
            raise RuntimeError("no free ports below 32768")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
                ports.append(port)
            except OSError:
                pass
        port += 1
    return ports


# -- the machine -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError):
        match = re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE)
        mem_kb = int(match.group(1)) if match else 0
    return {
        "nproc": os.cpu_count() or 0,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "java": _java_version(),
        "kafka": _kafka_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": _package_versions(),
        "code": _code_version(),
    }


def _code_version() -> str:
    """The commit of this repository, whether services/ differs from it, and where the xinfang
    package measured was imported from if that is not this repository."""
    import xinfang

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "services", "schemas"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    where = Path(xinfang.__file__).resolve().parents[1]
    if REPO not in where.parents:
        return f"xinfang imported from {where}, not from this working tree (at {head or '?'})"
    return f"commit {head or '?'}" + (" + uncommitted changes in services/" if dirty else "")


def _java_version() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = done.stderr or done.stdout
    match = re.search(r'version "([^"]+)"', text)
    vendor = "OpenJDK" if "openjdk" in text.lower() else "Java"
    return f"{vendor} {match.group(1)}" if match else "unknown"


def _kafka_version() -> str:
    with contextlib.suppress(OSError):
        pom = (REPO / "deploy" / "kafka" / "pom.xml").read_text()
        match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
        if match:
            return match.group(1)
    return "unknown"


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for name in ("faust-streaming", "aiokafka", "fastavro", "SQLAlchemy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "-"
    return out


def python_cmd(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a bench subprocess: `bench` importable from any working directory."""
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), path) if p),
        "PYTHONUNBUFFERED": "1",
        **(extra or {}),
    }


def provision(
    bootstrap: str, prefix: str, data_dir: Path, divisions: Sequence[str], topology: Path | None
) -> None:
    """Create the topics `xinfang node run` would create for these divisions (asking the node
    code itself, in a `bench.host --provision-only` process) and wait until each has a leader,
    so that no node's consumer joins its group before its inbox topic exists (docs F2)."""
    args = ["--bootstrap", bootstrap, "--prefix", prefix, "--data-dir", str(data_dir)]
    if topology is not None:
        args += ["--topology", str(topology)]
    args += ["--provision-only", *(f"{d}:1" for d in divisions)]  # port never bound
    done = subprocess.run(
        python_cmd("bench.host", *args), env=bench_env(), capture_output=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"provisioning failed: {done.stdout!r} {done.stderr[-2000:]!r}")

"""Node processes: each node is its own OS process running `xinfang node run`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..chain.keys import ensure_published
from ..client import ApiError, NodeClient
from ..privacy.node_keys import load_or_create_recipient_key, publish, published_path
from . import secured
from .broker import free_port
from .staff import Staff, StaffClient, process_staff


@dataclass
class NodeProcess:
    division: str
    bootstrap_servers: str
    data_dir: Path
    topic_prefix: str = ""
    port: int = field(default_factory=free_port)
    topology: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    clock_file: Path | None = None
    sweep_interval_s: float = 60.0
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None
    # The chaos suite kills, pauses and restarts a node from two threads (fault injector and
    # supervisor): without this lock a restart between a kill and its clean-up lost track of
    # the new process, which then ran on untracked beside its successor.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _staff: Staff | None = field(default=None, repr=False, compare=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        given = self.extra_env.get("XINFANG_DB_URL")
        return given or f"sqlite:///{self.data_dir / f'node-{self.division}.sqlite3'}"

    @property
    def staff(self) -> Staff:
        """Accounts of this node for the bodies and roles a scenario acts as (signed in)."""
        if self._staff is None:
            from ..domain.clock import system_clock
            from ..node.clock_file import FileClock
            from ..topology_file import load_topology

            clock = FileClock(self.clock_file) if self.clock_file else system_clock
            topology = load_topology(self.topology)
            keys = self.extra_env.get("XINFANG_DATA_KEYS_FILE")  # else the node's default file
            self._staff = process_staff(
                self.url, self.database_url, self.division, topology, clock,
                Path(keys) if keys else self.data_dir / f"node-{self.division}.datakeys.json",
            )  # fmt: skip
        return self._staff

    @property
    def client(self) -> StaffClient:
        """A client whose requests are made by signed-in staff (devtools/staff.py)."""
        return StaffClient(self.url, self.staff)

    @property
    def anonymous(self) -> NodeClient:
        """A client that is not signed in."""
        return NodeClient(self.url, token="")

    @property
    def keys_dir(self) -> Path:
        """Where the nodes of one run publish their keys (decision 021): XINFANG_PUBLIC_KEYS if
        given, else `keys/` beside the nodes' data folders (never the shared topology folder)."""
        given = self.extra_env.get("XINFANG_PUBLIC_KEYS")
        return Path(given) if given else self.data_dir.parent / "keys"

    @property
    def feed_key_file(self) -> Path:
        """The public feed's key (contract/public_status.py), shared by the nodes of one run
        (and the petitioner app of a test): XINFANG_FEED_KEY_FILE if given, else beside the
        nodes' data folders."""
        given = self.extra_env.get("XINFANG_FEED_KEY_FILE")
        return Path(given) if given else self.data_dir.parent / "public-feed.key"

    def publish_key(self) -> None:
        """As an operator with `xinfang keys generate` would: the node's private key in its data
        folder and its public key in `keys_dir`, where the other nodes and auditors read it."""
        key = ensure_published(
            self.division, self.data_dir / f"node-{self.division}.key", self.keys_dir
        )
        # and its X25519 key for wrapped case keys, signed by that key (decision 028)
        enc, _ = load_or_create_recipient_key(self.data_dir / f"node-{self.division}.x25519")
        if not published_path(self.keys_dir, self.division).exists():
            publish(self.division, enc, key, self.keys_dir)

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"node-{self.division}.log"

    def start(self) -> NodeProcess:
        with self._lock:
            return self._start()

    def _start(self) -> NodeProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "xinfang", "node", "run",
            "--division", self.division,
            "--bootstrap-servers", self.bootstrap_servers,
            "--topic-prefix", self.topic_prefix,
            "--data-dir", str(self.data_dir),
            "--http-port", str(self.port),
        ]  # fmt: skip
        if self.topology is not None:
            cmd += ["--topology", str(self.topology)]
        if self.clock_file is not None:
            cmd += ["--clock-file", str(self.clock_file)]
        cmd += ["--sweep-interval", str(self.sweep_interval_s)]
        # secured broker: principals, topics and ACLs first (as admin; once per prefix), and
        # the node connects with its own credentials file (decision 018)
        secured.prepare(self.bootstrap_servers, self.topology, self.topic_prefix)
        self.publish_key()
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                **secured.node_env(self.division),
                "XINFANG_PUBLIC_KEYS": str(self.keys_dir),
                "XINFANG_FEED_KEY_FILE": str(self.feed_key_file),  # one for the run's nodes
                **self.extra_env,
                "PYTHONUNBUFFERED": "1",
            },
        )
        return self

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until the node's HTTP API answers (its agent and relay run by then); its
        /health with the figures, as its system administrator."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"节点 {self.division} 已退出 / node exited with {self.proc.returncode}; "
                    f"log:\n{self.tail_log()}"
                )
            try:
                self.anonymous.get("/health")
            except (OSError, ApiError):
                time.sleep(0.2)
                continue
            try:
                health: dict[str, Any] = self.client.get("/health")
                return health
            except (OSError, ApiError):
                time.sleep(0.2)
        raise TimeoutError(
            f"节点 {self.division} 未就绪 / not ready in {timeout}s:\n{self.tail_log()}"
        )

    def tail_log(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def signal(self, sig: int) -> None:
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(sig)

    def stop(self, timeout: float = 20.0) -> None:
        with self._lock:
            self._stop(timeout)

    def _stop(self, timeout: float) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def restart_if_dead(self) -> bool:
        """Start the node again if its process has died (crash recovery). True if restarted."""
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                return False
            if self.proc is not None:
                self.proc.wait()  # reap it
            if self._log is not None:
                self._log.close()
                self._log = None
            self.proc = None
            self._start()
            return True

    def kill(self) -> None:
        """SIGKILL: no chance to clean up (crash simulation)."""
        with self._lock:
            if self.proc is not None:
                self.proc.kill()
                self.proc.wait(10)
                self.proc = None
            if self._log is not None:
                self._log.close()
                self._log = None


def stop_all(nodes: Iterable[NodeProcess], timeout: float = 20.0) -> None:
    """Stop node processes side by side: each stop waits for its node's graceful shutdown
    (seconds: the consumer leaves its group, the producer flushes), so one after another
    costs a multiple of that (decision 039). Raises the first error after all were tried."""
    nodes = list(nodes)
    if not nodes:
        return
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        futures = [pool.submit(node.stop, timeout) for node in nodes]
    for future in futures:
        future.result()

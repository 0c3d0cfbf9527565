"""Find or start a real Apache Kafka broker.

Order (tests and demo alike): KAFKA_BOOTSTRAP_SERVERS if set → testcontainers'
Kafka container if a Docker engine answers → the deploy/kafka broker (jars from
Maven Central, KRaft mode, run with `java`).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..domain.errors import ConfigurationError
from ..resources import checkout_dir

_KAFKA_ADVICE = (
    "请设置 KAFKA_BOOTSTRAP_SERVERS 指向运行中的 Kafka 代理",
    "set KAFKA_BOOTSTRAP_SERVERS to a running Kafka broker",
)


def repo_root() -> Path:
    """The source checkout xinfang runs from. deploy/kafka (and deploy/avro-compat) are
    developer tools that only a checkout has: from an installed wheel this raises
    ResourceMissing (a FileNotFoundError) saying to set KAFKA_BOOTSTRAP_SERVERS instead."""
    return checkout_dir("deploy/kafka", _KAFKA_ADVICE).parents[1]


_PORTS = random.Random()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A free port below the kernel's ephemeral range.

    A port the kernel hands out for outgoing connections may be taken again by a client's
    connection while a broker or node is down, and then the restart cannot bind it.
    """
    low, _ = _ephemeral_range()
    for _ in range(200):
        port = _PORTS.randrange(10000, max(low, 10001))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("没有可用端口 / no free port below the ephemeral range")


class BrokerUnavailable(ConfigurationError, RuntimeError):
    """No Kafka broker could be found or started for a developer tool."""

    code = "XF-BROKER-UNAVAILABLE"
    zh = "没有可用的 Kafka"
    en = "No Kafka broker is available"


@dataclass
class Broker:
    bootstrap_servers: str
    kind: str  # "env" | "testcontainers" | "deploy"
    started_here: bool = False
    startup_s: float = 0.0
    _stop: Any = field(default=None, repr=False)

    def stop(self) -> None:
        if self.started_here and self._stop is not None:
            self._stop()
            self._stop = None

    _deploy_env: dict[str, str] = field(default_factory=dict, repr=False)

    # The deploy/kafka broker can be taken down and brought back in place (fault injection).
    def _script(self, action: str) -> None:
        if self.kind != "deploy":
            raise BrokerUnavailable("only the deploy/kafka broker can be restarted by xinfang")
        script = str(repo_root() / "deploy" / "kafka" / "kafka.sh")
        env = self._deploy_env
        done = subprocess.run([script, action], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
            raise BrokerUnavailable(f"kafka.sh {action} 失败 / failed ({done.returncode}):\n{tail}")

    def take_down(self) -> None:
        self._script("stop")

    def bring_back(self, attempts: int = 3) -> None:
        for attempt in range(attempts):  # a loaded machine may need more than one start
            try:
                self._script("start")
                return
            except BrokerUnavailable:
                if attempt == attempts - 1:
                    raise
                time.sleep(3)

    def restart(self) -> None:
        self.take_down()
        self.bring_back()


def _docker_answers() -> bool:
    """True if a Docker engine answers /_ping on its Unix socket (no Docker client needed)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return bool(host)  # a remote engine was configured explicitly: let testcontainers try
    path = host.removeprefix("unix://")
    if not Path(path).exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status_line = sock.recv(64)
            return status_line.startswith(b"HTTP/1.") and b" 200 " in status_line
    except OSError:
        return False


def _start_testcontainers() -> Broker:
    from testcontainers.kafka import KafkaContainer

    began = time.monotonic()
    container = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    container.start()
    return Broker(
        container.get_bootstrap_server(),
        "testcontainers",
        started_here=True,
        startup_s=time.monotonic() - began,
        _stop=container.stop,
    )


def start_deploy_broker(state_dir: Path, port: int | None = None) -> Broker:
    """Start a private deploy/kafka broker with its own state folder and port."""
    port = port or free_port()
    script = repo_root() / "deploy" / "kafka" / "kafka.sh"
    env = {
        **os.environ,
        "XINFANG_KAFKA_PORT": str(port),
        "XINFANG_KAFKA_CONTROLLER_PORT": str(free_port()),
        "XINFANG_KAFKA_STATE": str(state_dir),
        # a loaded machine (parallel CI jobs, fault injection) may start slowly
        "XINFANG_KAFKA_START_TIMEOUT": os.environ.get("XINFANG_KAFKA_START_TIMEOUT", "240"),
    }
    began = time.monotonic()
    done = subprocess.run([str(script), "start"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BrokerUnavailable(
            f"deploy/kafka 启动失败 / failed to start (exit {done.returncode}):\n"
            f"{done.stdout}\n{done.stderr}"
        )

    def stop() -> None:
        subprocess.run([str(script), "stop"], env=env, capture_output=True, text=True)

    broker = Broker(
        f"127.0.0.1:{port}",
        "deploy",
        started_here=True,
        startup_s=time.monotonic() - began,
        _stop=stop,
    )
    broker._deploy_env = env
    return broker


def find_or_start_broker(state_dir: Path, env: Mapping[str, str] | None = None) -> Broker:
    env = os.environ if env is None else env
    if env.get("KAFKA_BOOTSTRAP_SERVERS"):
        return Broker(env["KAFKA_BOOTSTRAP_SERVERS"], "env")
    if _docker_answers():
        return _start_testcontainers()
    return start_deploy_broker(state_dir)

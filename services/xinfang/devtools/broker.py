"""Find or start a real Apache Kafka broker.

Order (tests and demo alike): KAFKA_BOOTSTRAP_SERVERS if set → testcontainers'
Kafka container if a Docker engine answers → the deploy/kafka broker (jars from
Maven Central, KRaft mode, run with `java`).
"""

from __future__ import annotations

import json
import os
import random
import socket
import ssl
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


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports below the ephemeral range (a deploy/kafka
    cluster numbers its brokers' client, controller and internal ports from one base)."""
    low, _ = _ephemeral_range()
    for _ in range(200):
        base = _PORTS.randrange(10000, max(low - count, 10001))
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise OSError(f"没有 {count} 个连续可用端口 / no {count} consecutive free ports")


class BrokerUnavailable(ConfigurationError, RuntimeError):
    """No Kafka broker could be found or started for a developer tool."""

    code = "XF-BROKER-UNAVAILABLE"
    zh = "没有可用的 Kafka"
    en = "No Kafka broker is available"


@dataclass
class Broker:
    """A running broker (or cluster). `security` is "plaintext" or "sasl_ssl"; a secured
    deploy/kafka broker also knows its CA file and credentials folder (one
    `<principal>.json` per principal: username, password, mechanism, security_protocol,
    ca_file, bootstrap_servers — deploy/kafka/README.md, "Credentials")."""

    bootstrap_servers: str
    kind: str  # "env" | "testcontainers" | "deploy"
    started_here: bool = False
    startup_s: float = 0.0
    _stop: Any = field(default=None, repr=False)
    security: str = "plaintext"
    brokers: int = 1
    ca_file: Path | None = None
    credentials_dir: Path | None = None
    state_dir: Path | None = None

    def stop(self) -> None:
        if self.started_here and self._stop is not None:
            self._stop()
            self._stop = None

    _deploy_env: dict[str, str] = field(default_factory=dict, repr=False)

    def credentials(self, principal: str) -> dict[str, str]:
        """The credentials file of `principal` (e.g. "admin", "node-150402") as a dict.
        Raises BrokerUnavailable for a plaintext broker or an unknown principal."""
        if self.credentials_dir is None:
            raise BrokerUnavailable(f"{self.kind} broker has no credentials ({self.security})")
        path = self.credentials_dir / f"{principal}.json"
        if not path.is_file():
            raise BrokerUnavailable(
                f"没有主体 {principal} 的凭据 / no credentials for {principal} ({path})"
            )
        doc: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return doc

    def client_config(self, principal: str = "admin") -> dict[str, Any]:
        """aiokafka keyword arguments to connect as `principal` (plaintext: only the servers)."""
        if self.security == "plaintext":
            return {"bootstrap_servers": self.bootstrap_servers}
        doc = self.credentials(principal)
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": "SASL_SSL",
            "ssl_context": ssl.create_default_context(cafile=doc["ca_file"]),
            "sasl_mechanism": doc["mechanism"],
            "sasl_plain_username": doc["username"],
            "sasl_plain_password": doc["password"],
        }

    # The deploy/kafka broker can be taken down and brought back in place (fault injection).
    def _script(self, action: str, *args: str) -> None:
        if self.kind != "deploy":
            raise BrokerUnavailable("only the deploy/kafka broker can be restarted by xinfang")
        script = str(repo_root() / "deploy" / "kafka" / "kafka.sh")
        env = self._deploy_env
        done = subprocess.run([script, action, *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
            raise BrokerUnavailable(f"kafka.sh {action} 失败 / failed ({done.returncode}):\n{tail}")

    def _index(self, index: int | None) -> tuple[str, ...]:
        if index is None:
            return ()
        if not 1 <= index <= self.brokers:
            raise ValueError(f"broker index must be 1–{self.brokers}: {index}")
        return (str(index),)

    def take_down(self, index: int | None = None) -> None:
        """Stop every broker, or only broker `index` (1-based) of a cluster (SIGTERM)."""
        self._script("stop", *self._index(index))

    def kill(self, index: int) -> None:
        """SIGKILL broker `index` (1-based): no clean shutdown (cluster chaos)."""
        self._script("kill", *self._index(index))

    def bring_back(self, index: int | None = None, attempts: int = 3) -> None:
        """Start every broker (or broker `index`) again and wait until it answers."""
        for attempt in range(attempts):  # a loaded machine may need more than one start
            try:
                self._script("start", *self._index(index))
                return
            except BrokerUnavailable:
                if attempt == attempts - 1:
                    raise
                time.sleep(3)

    def restart(self, index: int | None = None) -> None:
        self.take_down(index)
        self.bring_back(index)


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


def start_deploy_broker(
    state_dir: Path,
    port: int | None = None,
    *,
    secure: bool = False,
    brokers: int = 1,
    topology: Path | None = None,
    extra_principals: tuple[str, ...] = (),
) -> Broker:
    """Start a private deploy/kafka broker (or a `brokers`-node KRaft cluster) with its own
    state folder and ports. `secure=True`: TLS + SASL/SCRAM-SHA-512 + StandardAuthorizer
    (kafka.sh's default); False: the plaintext debugging mode the node clients use until they
    are wired for security. Broker i's client port is `port + i - 1`.
    Raises BrokerUnavailable (with kafka.sh's output) if it does not start."""
    security = "sasl_ssl" if secure else "plaintext"
    port = port or free_port_block(3 * brokers)
    script = repo_root() / "deploy" / "kafka" / "kafka.sh"
    env = {
        **os.environ,
        "XINFANG_KAFKA_SECURITY": security,
        "XINFANG_KAFKA_BROKERS": str(brokers),
        "XINFANG_KAFKA_PORT": str(port),
        "XINFANG_KAFKA_CONTROLLER_PORT": str(port + brokers),
        "XINFANG_KAFKA_INTERNAL_PORT": str(port + 2 * brokers),
        "XINFANG_KAFKA_STATE": str(state_dir),
        # a loaded machine (parallel CI jobs, fault injection) may start slowly
        "XINFANG_KAFKA_START_TIMEOUT": os.environ.get("XINFANG_KAFKA_START_TIMEOUT", "240"),
    }
    if topology is not None:
        env["XINFANG_KAFKA_TOPOLOGY"] = str(topology)
    if extra_principals:
        env["XINFANG_KAFKA_EXTRA_PRINCIPALS"] = ",".join(extra_principals)
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
        ",".join(f"127.0.0.1:{port + i}" for i in range(brokers)),
        "deploy",
        started_here=True,
        startup_s=time.monotonic() - began,
        _stop=stop,
        security=security,
        brokers=brokers,
        ca_file=state_dir / "pki" / "ca.crt" if secure else None,
        credentials_dir=state_dir / "credentials" if secure else None,
        state_dir=state_dir,
    )
    broker._deploy_env = env
    return broker


def find_or_start_broker(state_dir: Path, env: Mapping[str, str] | None = None) -> Broker:
    """The broker of tests, demo and chaos; the calling process then acts as its admin
    (devtools/secured.py). KAFKA_BOOTSTRAP_SERVERS: a running broker, secured when
    XINFANG_KAFKA_CREDENTIALS_DIR names its credentials folder. Else a private deploy/kafka
    broker, secured (TLS + SCRAM + ACLs) unless XINFANG_KAFKA_SECURITY=plaintext, which also
    lets testcontainers' (plaintext) Kafka be used when a Docker engine answers."""
    from . import secured

    broker = _find_or_start(state_dir, os.environ if env is None else env)
    restore = secured.use_broker(broker)
    if broker.started_here and broker._stop is not None:
        stop_broker = broker._stop

        def stop() -> None:  # a private broker gone: the process's previous settings return
            try:
                stop_broker()
            finally:
                restore()

        broker._stop = stop
    return broker


def _find_or_start(state_dir: Path, env: Mapping[str, str]) -> Broker:
    plaintext = env.get("XINFANG_KAFKA_SECURITY", "").lower() == "plaintext"
    if env.get("KAFKA_BOOTSTRAP_SERVERS"):
        folder = env.get("XINFANG_KAFKA_CREDENTIALS_DIR")
        if folder and not plaintext:
            return Broker(
                env["KAFKA_BOOTSTRAP_SERVERS"], "env", security="sasl_ssl",
                credentials_dir=Path(folder),
                ca_file=Path(json.loads((Path(folder) / "admin.json").read_text())["ca_file"]),
            )  # fmt: skip
        return Broker(env["KAFKA_BOOTSTRAP_SERVERS"], "env")
    if plaintext and _docker_answers():
        return _start_testcontainers()
    return start_deploy_broker(state_dir, secure=not plaintext)

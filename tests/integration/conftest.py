"""Integration fixtures: a real Apache Kafka broker and node processes.

Broker order: KAFKA_BOOTSTRAP_SERVERS → testcontainers (if a Docker engine answers)
→ deploy/kafka (jars from Maven Central, run with java). A test that cannot get a
broker fails; it never skips. Every test gets its own topic prefix.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from xinfang.devtools.broker import Broker, find_or_start_broker
from xinfang.devtools.keycloak import Keycloak, start_keycloak
from xinfang.devtools.processes import NodeProcess, stop_all


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    broker = find_or_start_broker(tmp_path_factory.mktemp("kafka"))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


NodeFactory = Callable[..., NodeProcess]


@pytest.fixture
def start_node(kafka: Broker, topic_prefix: str, tmp_path: Path) -> Iterator[NodeFactory]:
    started: list[NodeProcess] = []

    def start(division: str, **kwargs: object) -> NodeProcess:
        node = NodeProcess(
            division,
            kafka.bootstrap_servers,
            tmp_path / "nodes" / division,
            topic_prefix=topic_prefix,
            **kwargs,  # type: ignore[arg-type]
        ).start()
        started.append(node)
        return node

    yield start
    stop_all(started)  # side by side: each waits seconds for its node's graceful shutdown


@pytest.fixture(scope="session")
def keycloak(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Keycloak]:
    """A real Keycloak (deploy/keycloak/keycloak.sh), started once per test session with the
    realm of the demo topology and its test users; its start time is printed. Developers may
    keep one running between runs: XINFANG_TEST_KEYCLOAK_STATE, _PORT and _PASSWORD name it
    (then it is left running)."""
    kept = os.environ.get("XINFANG_TEST_KEYCLOAK_STATE")
    state = Path(kept) if kept else tmp_path_factory.mktemp("keycloak")
    port = int(os.environ.get("XINFANG_TEST_KEYCLOAK_PORT", "0")) or None
    kc = start_keycloak(
        state, port=port, test_password=os.environ.get("XINFANG_TEST_KEYCLOAK_PASSWORD")
    )
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nKeycloak 启动用时 / Keycloak start time: {kc.started_in_s:.1f} s ({kc.issuer})")
    try:
        yield kc
    finally:
        if not kept:
            kc.stop()

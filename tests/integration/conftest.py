"""Integration fixtures: a real Apache Kafka broker and node processes.

Broker order: KAFKA_BOOTSTRAP_SERVERS → testcontainers (if a Docker engine answers)
→ deploy/kafka (jars from Maven Central, run with java). A test that cannot get a
broker fails; it never skips. Every test gets its own topic prefix.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


def publish_recipients(node: NodeProcess, *divisions: str) -> None:
    """The keys of the divisions `node`'s copies go to, published as their operators would
    (their nodes need not run in the test): else those copies wait for them and the node's
    /health is degraded (decision 038)."""
    for division in divisions:
        NodeProcess(division, node.bootstrap_servers, node.data_dir.parent / division).publish_key()


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


_KEYCLOAK: dict[str, Future[Keycloak]] = {}  # started at collection, taken by the fixture


def _kept() -> str | None:
    return os.environ.get("XINFANG_TEST_KEYCLOAK_STATE")


def _start_keycloak() -> Keycloak:
    """Keycloak in the kept state folder, else in a new one (removed when it stops)."""
    kept = _kept()
    state = Path(kept) if kept else Path(tempfile.mkdtemp(prefix="xinfang-keycloak-"))
    port = int(os.environ.get("XINFANG_TEST_KEYCLOAK_PORT", "0")) or None
    return start_keycloak(
        state, port=port, test_password=os.environ.get("XINFANG_TEST_KEYCLOAK_PASSWORD")
    )


def _stop_keycloak(kc: Keycloak) -> None:
    if not _kept():
        kc.stop()
        shutil.rmtree(kc.state_dir, ignore_errors=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """When a collected test needs Keycloak, start it now, beside the tests that run before
    it (the backend tests, the first integration modules): its start is most of a minute of
    JVM and database work that otherwise ran alone (decision 039)."""
    if session.config.option.collectonly or "keycloak" in _KEYCLOAK:
        return
    if any("keycloak" in getattr(item, "fixturenames", ()) for item in session.items):
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keycloak-start")
        _KEYCLOAK["keycloak"] = pool.submit(_start_keycloak)
        pool.shutdown(wait=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A Keycloak started at collection that no test took (e.g. `-x` stopped first) is stopped."""
    started = _KEYCLOAK.pop("keycloak", None)
    if started is not None:
        with contextlib.suppress(Exception):
            _stop_keycloak(started.result())


@pytest.fixture(scope="session")
def keycloak(request: pytest.FixtureRequest) -> Iterator[Keycloak]:
    """A real Keycloak (deploy/keycloak/keycloak.sh), started once per test session with the
    realm of the demo topology and its test users (begun at collection, see above); its start
    time is printed. Developers may keep one running between runs:
    XINFANG_TEST_KEYCLOAK_STATE, _PORT and _PASSWORD name it (then it is left running)."""
    started = _KEYCLOAK.pop("keycloak", None)
    began = time.monotonic()
    kc = started.result() if started is not None else _start_keycloak()
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(
            f"\nKeycloak 启动用时 / Keycloak start time: {kc.started_in_s:.1f} s, of which the "
            f"first test waited {time.monotonic() - began:.1f} s ({kc.issuer})"
        )
    try:
        yield kc
    finally:
        _stop_keycloak(kc)

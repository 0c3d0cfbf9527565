"""Store backends for the backend tests (store contract, service, migrations): SQLite (a file
in tmp_path) and PostgreSQL.

PostgreSQL order: XINFANG_TEST_POSTGRES_URL → a throwaway cluster started once per
test session (xinfang.devtools.postgres; needs the server binaries, e.g. the Debian
package `postgresql`). Each test gets databases of its own: migrated ones from a pool,
emptied with TRUNCATE when the test ends, or new empty ones for migration tests. Under
CI=true a test that needs PostgreSQL and cannot get it fails; elsewhere it skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from xinfang.devtools.postgres import (
    DatabasePool,
    PostgresServer,
    PostgresUnavailable,
    find_or_start_postgres,
)
from xinfang.store.unit_of_work import NodeStore

BACKENDS = ["sqlite", "postgresql"]


class DatabaseFactory(Protocol):
    """name -> URL of a database for this test alone (one per name, e.g. per node).

    By default it holds the newest schema and no rows (PostgreSQL: a pooled database,
    emptied after the test); ``empty=True`` gives a new database without any tables.
    """

    def __call__(self, name: str = "node", *, empty: bool = False) -> str: ...


class StoreFactory(Protocol):
    def __call__(self, name: str = "node") -> NodeStore: ...


_SERVER = pytest.StashKey[PostgresServer]()
_UNAVAILABLE = pytest.StashKey[str]()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    try:
        server = find_or_start_postgres()
    except PostgresUnavailable as exc:
        request.config.stash[_UNAVAILABLE] = str(exc)
        message = f"PostgreSQL unavailable: {exc}"
        if in_ci():
            pytest.fail(message + " (CI=true: a PostgreSQL test never skips)", pytrace=False)
        pytest.skip(message)
    request.config.stash[_SERVER] = server
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_pool(postgres: PostgresServer) -> Iterator[DatabasePool]:
    pool = DatabasePool(postgres)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_database(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[DatabaseFactory]:
    made: dict[str, str] = {}
    created: list[str] = []  # PostgreSQL databases to drop
    lent: list[str] = []  # pooled PostgreSQL databases to give back
    pool: DatabasePool | None = (
        request.getfixturevalue("postgres_pool") if backend == "postgresql" else None
    )

    def make(name: str = "node", *, empty: bool = False) -> str:
        if name not in made:
            if pool is None:
                made[name] = f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
            elif empty:
                made[name] = pool.server.create_database()
                created.append(made[name])
            else:
                made[name] = pool.acquire()
                lent.append(made[name])
        return made[name]

    yield make
    if pool is not None:
        for url in created:
            pool.server.drop_database(url)
        for url in lent:
            pool.release(url)


@pytest.fixture
def open_store(new_database: DatabaseFactory) -> Iterator[StoreFactory]:
    """NodeStore on a fresh database (per name); every store is closed after the test."""
    opened: list[NodeStore] = []

    def open_(name: str = "node") -> NodeStore:
        store = NodeStore(new_database(name))
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: StoreFactory) -> NodeStore:
    return open_store()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    server = config.stash.get(_SERVER, None)
    if server is not None:
        t = server.timings
        detail = (
            f"initdb {t.initdb_s:.2f}s + pg_ctl start {t.start_s:.2f}s"
            if server.kind == "throwaway"
            else f"connected in {t.start_s:.2f}s"
        )
        terminalreporter.write_line(f"PostgreSQL for backend tests: {server.kind} ({detail})")
    elif _UNAVAILABLE in config.stash:
        terminalreporter.write_line(f"PostgreSQL unavailable: {config.stash[_UNAVAILABLE]}")

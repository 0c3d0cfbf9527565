"""The application-service unit tests again, with every node's database on each backend.

The test functions (and their module fixtures, such as ``bus``) of the FakeBus-driven
unit modules are imported here, so pytest collects them a second time in this module;
the autouse fixture below makes every FakeBus built during a test put each node on the
backend under test (SQLite files, or PostgreSQL databases of the test's own), and
closes the buses afterwards. The node logic is then proven on PostgreSQL end to end:
log numbering, outbox, idempotent inbox, parking, the whole case lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit import fakes
from tests.unit.test_lifecycle_rules import *  # noqa: F403
from tests.unit.test_service_inbox import *  # noqa: F403
from tests.unit.test_slice_in_memory import *  # noqa: F403

from .conftest import DatabaseFactory


@pytest.fixture(autouse=True)
def _nodes_on_backend(
    backend: str, new_database: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    buses: list[fakes.FakeBus] = []
    build = fakes.FakeBus.__init__

    def on_backend(self: fakes.FakeBus, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("database_url", new_database)
        build(self, *args, **kwargs)
        buses.append(self)

    monkeypatch.setattr(fakes.FakeBus, "__init__", on_backend)
    yield
    for bus in buses:
        bus.close()
    urls = [node.store.url for bus in buses for node in bus.nodes.values()]
    assert all(url.startswith(backend) for url in urls), urls

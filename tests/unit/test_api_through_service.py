"""Issue 11 item 6: the HTTP handlers talk only to the application service — never to its store
or its chain keeper — so the store can change shape behind the service's query methods."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xinfang.devtools.staff import signed_in
from xinfang.node.service import NodeService
from xinfang.topology_file import load_topology

from .audit_world import CITY, World
from .lifecycle import PETITION


class ServiceOnly:
    """The service as the API may see it: every attribute but `store` and `chain`."""

    def __init__(self, service: NodeService) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        if name in ("store", "chain"):
            raise AssertionError(f"the API reached service.{name}")
        return getattr(self._service, name)


def test_health_cases_idempotency_and_checkpoints_go_through_the_service(tmp_path: Path) -> None:
    world = World(load_topology(), tmp_path)
    api = signed_in(ServiceOnly(world.bus.nodes[CITY]))  # type: ignore[arg-type]
    body = json.dumps({**PETITION, "petitioner": {"anonymous": True}}).encode()
    first = api.serve_path("POST", "/api/cases", body, idempotency_key="k-1")
    assert first[0] == 201
    assert api.serve_path("POST", "/api/cases", body, idempotency_key="k-1") == first
    status, health = api.dispatch("GET", "/health", None)
    assert status == 200 and (health["cases"], health["outbox_pending"]) > (0, 0)
    assert health["cases"] == 1 and health["log_events"] == 1
    status, listed = api.dispatch("GET", "/api/cases", None)
    assert status == 200
    assert [row["case_id"] for row in listed["cases"]] == [first[1]["case_id"]]
    assert isinstance(listed["cases"][0]["updated_at"], str)
    status, signed = api.dispatch("POST", "/admin/checkpoint", {})
    assert status == 200 and signed["checkpointed"] is True
    assert (signed["key_id"], signed["seq"]) == (world.keys[CITY].key_id, 2)
    status, again = api.dispatch("POST", "/admin/checkpoint", {})
    assert (status, again) == (200, {"checkpointed": False, "key_id": world.keys[CITY].key_id})


def test_an_in_memory_store_serves_the_web_layers_worker_threads() -> None:
    """`sqlite://` (bench, quick tools) holds its tables in one connection: called from inside
    a running event loop, the in-process API runs in a thread of its own, which must see that
    database, not a new empty one (the bench answered 500 "no such table" once the API moved
    to the ASGI app)."""
    import asyncio

    from xinfang.bootstrap import service_for
    from xinfang.store.unit_of_work import NodeStore

    store = NodeStore("sqlite://")
    service = service_for(CITY, load_topology(), store)

    async def register() -> tuple[int, Any]:  # as the bench does, inside its event loop
        return signed_in(service).dispatch(
            "POST", "/api/cases", {**PETITION, "actor": "150400.xfj"}
        )

    try:
        status, done = asyncio.run(register())
        assert status == 201, done
        assert [row["case_id"] for row in service.list_cases()] == [done["case_id"]]
    finally:
        store.close()

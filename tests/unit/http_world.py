"""Nodes on the in-process bus driven through their HTTP handlers (NodeApi.dispatch), as a
client would drive them: JSON in, status and JSON out, delivery between nodes after each call."""

from __future__ import annotations

from typing import Any

from xinfang.api.handlers import NodeApi
from xinfang.devtools.staff import InProcessStaff

from .fakes import FakeBus


class Http:
    def __init__(self, bus: FakeBus) -> None:
        self.bus = bus
        # signed-in staff: each request made by the body of its `actor` (devtools/staff.py)
        self.apis = {d: InProcessStaff(NodeApi(node)) for d, node in bus.nodes.items()}

    def post(self, division: str, path: str, body: Any) -> tuple[int, Any]:
        status, answer = self.apis[division].dispatch("POST", path, body)
        self.bus.settle()
        return status, answer

    def get(self, division: str, path: str) -> tuple[int, Any]:
        return self.apis[division].dispatch("GET", path, None)

    def ok(self, division: str, path: str, body: Any) -> Any:
        status, answer = self.post(division, path, body)
        assert status in (200, 201), (status, answer)
        return answer

    def register(self, division: str, body: dict[str, Any]) -> str:
        return str(self.ok(division, "/api/cases", body)["case_id"])

    def command(self, division: str, case_id: str, name: str, body: dict[str, Any]) -> Any:
        return self.ok(division, f"/api/cases/{case_id}/{name}", body)

    def refused(self, division: str, path: str, body: Any) -> tuple[int, str]:
        """Status and error code of a request that must be refused (4xx, never 5xx)."""
        status, answer = self.post(division, path, body)
        assert 400 <= status < 500, (status, answer)
        return status, str(answer["code"])

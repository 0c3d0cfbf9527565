"""Framework-free request handlers: (method, path, JSON body) -> (status, JSON).

The faust web server only adapts these; tests can call them directly. Every
refusal carries its domain error code; bad input is a 4xx, never a 5xx.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..domain.errors import DomainError, InvalidInput
from ..node.service import NodeService
from ..presentation import case_view, timeline_entry
from . import inputs
from .commands_table import BY_NAME
from .openapi import openapi_document

Json = Any
Handler = Callable[[dict[str, str], Json], tuple[int, Json]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # aiohttp-style path with {placeholders}
    handler: Handler

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")


class NodeApi:
    def __init__(self, service: NodeService, status: Callable[[], dict[str, Any]] | None = None):
        self.service = service
        self._status = status or (lambda: {})
        self.routes = [
            Route("GET", "/health", self.health),
            Route("GET", "/api/cases", self.list_cases),
            Route("POST", "/api/cases", self.register),
            Route("GET", "/api/cases/{case_id}", self.get_case),
            Route("GET", "/api/cases/{case_id}/timeline", self.timeline),
            Route("POST", "/api/cases/{case_id}/{command}", self.command),
            Route("POST", "/admin/sweep", self.sweep),
            Route("POST", "/admin/checkpoint", self.checkpoint),
            Route("GET", "/openapi.json", self.openapi),
        ]

    def dispatch(self, method: str, path: str, body: Json) -> tuple[int, Json]:
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method == method:
                return self.call(route, match.groupdict(), body)
        return 404, {
            "code": "XF-NO-ROUTE",
            "message_zh": "没有该接口",
            "message_en": "No such route",
        }

    def call(self, route: Route, params: dict[str, str], body: Json) -> tuple[int, Json]:
        try:
            return route.handler(params, body)
        except DomainError as err:
            return err.http_status, err.to_dict()

    # -- handlers ---------------------------------------------------------------------
    def health(self, _p: dict[str, str], _b: Json) -> tuple[int, Json]:
        division = self.service.topology.division(self.service.division)
        return 200, {
            "status": "ok",
            "division": division.code,
            "name": division.name,
            "level": division.level.value,
            **self.service.store.stats(),
            **self._status(),
        }

    def list_cases(self, _p: dict[str, str], _b: Json) -> tuple[int, Json]:
        rows = self.service.store.list_cases()
        for row in rows:
            row["updated_at"] = row["updated_at"].isoformat()
            due = row["next_check_at"]
            row["next_check_at"] = due.isoformat() if due is not None else None
        return 200, {"cases": rows}

    def register(self, _p: dict[str, str], body: Json) -> tuple[int, Json]:
        if not isinstance(body, dict):
            raise InvalidInput("请求体须为 JSON 对象 / body must be a JSON object")
        office = self.service.topology.division(self.service.division).petition_office().id
        actor = body.get("actor") or office
        if not isinstance(actor, str):
            raise InvalidInput("actor 须为字符串 / actor must be a string", field="actor")
        file = inputs.case_file(body, self.service.context().now)
        done = self.service.register(actor, file, inputs.backdate_reason(body))
        return 201, {"case_id": done.case_id, "query_code": done.query_code}

    def get_case(self, p: dict[str, str], _b: Json) -> tuple[int, Json]:
        return 200, case_view(self.service.case(p["case_id"]), self.service.topology)

    def timeline(self, p: dict[str, str], _b: Json) -> tuple[int, Json]:
        topology = self.service.topology
        entries = [
            timeline_entry(event, topology) for _, event in self.service.history(p["case_id"])
        ]
        return 200, {"case_id": p["case_id"], "node": self.service.division, "timeline": entries}

    def command(self, p: dict[str, str], body: Json) -> tuple[int, Json]:
        command = BY_NAME.get(p["command"])
        if command is None:
            return 404, {
                "code": "XF-NO-ROUTE",
                "message_zh": f"没有该操作：{p['command']}",
                "message_en": f"No such command: {p['command']}",
            }
        events = self.service.execute(p["case_id"], command.decide, command.parse(body))
        return 200, {
            "case": case_view(self.service.case(p["case_id"]), self.service.topology),
            "events": [{"event_id": e.header.event_id, "type": e.type} for e in events],
        }

    def sweep(self, _p: dict[str, str], _b: Json) -> tuple[int, Json]:
        """Run the deadline watcher now (it also runs on its own schedule)."""
        return 200, {"recorded": self.service.sweep_deadlines()}

    def checkpoint(self, _p: dict[str, str], body: Json) -> tuple[int, Json]:
        """Sign a checkpoint of the log head now (it also runs on its own schedule); unless
        `{"force": true}`, not when the head already is a checkpoint."""
        force = isinstance(body, dict) and body.get("force") is True
        event = self.service.chain.checkpoint(self.service, force=force)
        if event is None:
            return 200, {"checkpointed": False, "key_id": self.service.chain.key_id}
        return 200, {
            "checkpointed": True,
            "key_id": event.key_id,
            "event_id": event.header.event_id,
            "seq": event.header.seq,
            "head_seq": event.head_seq,
            "head_hash": event.head_hash,
        }

    def openapi(self, _p: dict[str, str], _b: Json) -> tuple[int, Json]:
        return 200, openapi_document(self.service.division)

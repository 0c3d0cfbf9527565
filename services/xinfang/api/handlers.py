"""Framework-free request handlers: (method, path, JSON body) -> (status, JSON).

The faust web server only adapts these (`NodeApi.serve`: raw body bytes in, never raises);
tests can call them directly. Every refusal carries its domain error code; bad input is a 4xx,
never a 5xx.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..commands import BY_NAME, inputs
from ..commands.input_errors import (
    BodyTooLarge,
    IdempotencyInterrupted,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    InvalidJson,
    JsonTooDeep,
)
from ..commands.limits import (
    ID_CHARS,
    IDEMPOTENCY_KEY_PATTERN,
    MAX_BODY_BYTES,
    MAX_IDEMPOTENCY_KEY_CHARS,
    MAX_JSON_DEPTH,
    TimeBounds,
)
from ..domain.errors import CaseNotFound, InvalidInput, XinfangError
from ..node.service import NodeService
from ..presentation import case_view, timeline_entry
from .errors import http_status
from .openapi import openapi_document

log = logging.getLogger(__name__)

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


INTERNAL = {"code": "XF-INTERNAL", "message_zh": "内部错误", "message_en": "Internal error"}


def _depth(value: Json) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            stack.extend(
                (child, depth) for child in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def decode_body(raw: bytes) -> Json:
    """A request body → JSON (None when empty). Raises BodyTooLarge (413), InvalidJson and
    JsonTooDeep (400): Python's parser recurses, so a deep body must not reach past it."""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"最多 {MAX_BODY_BYTES} 字节 / at most {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except RecursionError:
        raise JsonTooDeep(f"最多 {MAX_JSON_DEPTH} 层 / at most {MAX_JSON_DEPTH} levels") from None
    except ValueError:  # also bytes that are not UTF-8 and numbers of over 4,300 digits
        raise InvalidJson() from None
    if _depth(body) > MAX_JSON_DEPTH:
        raise JsonTooDeep(f"最多 {MAX_JSON_DEPTH} 层 / at most {MAX_JSON_DEPTH} levels")
    return body


def _require_case_id(params: dict[str, str]) -> None:
    """A case id in a path that no case can have (too long, NUL, a lone surrogate) is an
    unknown case, answered without a query: PostgreSQL refuses NUL in text outright."""
    case_id = params.get("case_id")
    if case_id is None:
        return
    try:
        case_id.encode("utf-8")
    except UnicodeEncodeError:
        raise CaseNotFound(case_id.encode("utf-8", "replace").decode()) from None
    if len(case_id) > ID_CHARS or "\x00" in case_id:
        raise CaseNotFound(case_id[:ID_CHARS].replace("\x00", "\\0"))


def _fingerprint(method: str, path: str, body: Json) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


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
            _require_case_id(params)
            return route.handler(params, body)
        except XinfangError as err:
            status = http_status(err)
            if status == 500:  # the node's data or setup, not the client: worth a log line
                log.error("%s %s: %s", route.method, route.template, err, exc_info=err)
            return status, err.to_dict()

    def serve(
        self,
        route: Route,
        params: dict[str, str],
        raw: bytes,
        idempotency_key: str | None = None,
    ) -> tuple[int, Json]:
        """One HTTP request as the web server received it: body bytes, the Idempotency-Key
        header of a POST. Never raises: bad input is a 4xx, a bug a logged 500 XF-INTERNAL."""
        try:
            body = decode_body(raw) if route.method == "POST" else None
            if idempotency_key is not None and route.method == "POST":
                return self._once(route, params, body, idempotency_key)
            return self.call(route, params, body)
        except XinfangError as err:
            return http_status(err), err.to_dict()
        except Exception:  # a bug, not bad input: log it, answer with a stable code
            log.exception("unhandled error in %s %s", route.method, route.template)
            return 500, INTERNAL

    def serve_path(
        self, method: str, path: str, raw: bytes, idempotency_key: str | None = None
    ) -> tuple[int, Json]:
        """`serve` by method and path (for tests and adapters without a router)."""
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method == method:
                return self.serve(route, match.groupdict(), raw, idempotency_key)
        return self.dispatch(method, path, None)

    def _once(self, route: Route, params: dict[str, str], body: Json, key: str) -> tuple[int, Json]:
        """Idempotency-Key: the first answer to a key is the answer to every repetition of
        the same request; the key with another request is refused (422)."""
        if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            raise IdempotencyKeyInvalid(
                f"须为 1–{MAX_IDEMPOTENCY_KEY_CHARS} 个可见 ASCII 字符 / "
                f"1–{MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"
            )
        path = route.template.format(**params)
        fingerprint = _fingerprint(route.method, path, body)
        earlier = self.service.reserve_key(key, fingerprint)
        if earlier is not None:
            if earlier.fingerprint != fingerprint:
                raise IdempotencyKeyReused(key=key)
            if earlier.status is None:
                raise IdempotencyInterrupted(key=key)
            return earlier.status, earlier.response
        try:
            status, payload = self.call(route, params, body)
        except Exception:  # recorded like any answer: whether it took effect is unknown
            log.exception("unhandled error in %s %s", route.method, route.template)
            status, payload = 500, INTERNAL
        self.service.complete_key(key, status, payload)
        return status, payload

    def bounds(self) -> TimeBounds:
        """The plausible range of times clients give, at this node now (commands/limits.py)."""
        return TimeBounds.for_node(self.service.context().now, self.service.calendar)

    # -- handlers ---------------------------------------------------------------------
    def health(self, _p: dict[str, str], _b: Json) -> tuple[int, Json]:
        division = self.service.topology.division(self.service.division)
        return 200, {
            "status": "ok",
            "division": division.code,
            "name": division.name,
            "level": division.level.value,
            **self.service.stats(),
            **self._status(),
            "calendar": self.service.calendar_status(),  # DOMAIN.md §11: warned from 1 October
        }

    def list_cases(self, _p: dict[str, str], _b: Json) -> tuple[int, Json]:
        rows = self.service.list_cases()
        for row in rows:
            row["updated_at"] = row["updated_at"].isoformat()
            due = row["next_check_at"]
            row["next_check_at"] = due.isoformat() if due is not None else None
        return 200, {"cases": rows}

    def register(self, _p: dict[str, str], body: Json) -> tuple[int, Json]:
        if not isinstance(body, dict):
            raise InvalidInput("请求体须为 JSON 对象 / body must be a JSON object")
        office = self.service.topology.division(self.service.division).petition_office().id
        actor = inputs.actor({"actor": body.get("actor") or office})
        file = inputs.case_file(body, self.service.context().now, self.bounds())
        done = self.service.register(actor, file, inputs.backdate_reason(body))
        return 201, {"case_id": done.case_id, "query_code": done.query_code}

    def get_case(self, p: dict[str, str], _b: Json) -> tuple[int, Json]:
        service = self.service
        return 200, case_view(service.case(p["case_id"]), service.topology, service.calendar)

    def timeline(self, p: dict[str, str], _b: Json) -> tuple[int, Json]:
        topology = self.service.topology
        entries = [
            timeline_entry(event, topology, self.service.calendar)
            for _, event in self.service.history(p["case_id"])
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
        events = self.service.execute(
            p["case_id"], command.decide, command.parse(body, self.bounds())
        )
        return 200, {
            "case": case_view(
                self.service.case(p["case_id"]), self.service.topology, self.service.calendar
            ),
            "events": [{"event_id": e.header.event_id, "type": e.type} for e in events],
        }

    def sweep(self, _p: dict[str, str], _b: Json) -> tuple[int, Json]:
        """Run the deadline watcher now (it also runs on its own schedule)."""
        return 200, {"recorded": self.service.sweep_deadlines()}

    def checkpoint(self, _p: dict[str, str], body: Json) -> tuple[int, Json]:
        """Sign a checkpoint of the log head now (it also runs on its own schedule); unless
        `{"force": true}`, not when the head already is a checkpoint."""
        force = isinstance(body, dict) and body.get("force") is True
        event = self.service.checkpoint(force=force)
        if event is None:
            return 200, {"checkpointed": False, "key_id": self.service.key_id}
        return 200, {
            "checkpointed": True,
            "key_id": event.key_id,
            "event_id": event.header.event_id,
            "seq": event.header.seq,
            "head_seq": event.head_seq,
            "head_hash": event.head_hash,
        }

    def openapi(self, _p: dict[str, str], _b: Json) -> tuple[int, Json]:
        topology, own = self.service.topology, self.service.division
        places = (own, *topology.children(own))  # where petitions registered here arise
        bodies = [body.id for code in places for body in topology.division(code).bodies]
        return 200, openapi_document(own, bodies, places)

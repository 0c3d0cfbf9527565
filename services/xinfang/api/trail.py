"""Every request into the operator audit trail, after its answer (decision 027; 等保 2.0
level 3, 8.1.4.3: time, person, body, action, object, outcome, source address).

`TrailRecorder` is the outermost ASGI middleware of the node's app (api/web.py), so it sees every
answer: the routes', the body caps' (413/400), authentication's 401 and authorisation's 403. It
holds the answer back, records the request — the person, roles and body of
`scope["state"]["principal"]` (set by api/auth.py), a sign-in attempt's
`scope["state"]["sign_in"] = (person claimed, ok)`, the route's operation id, the case id, the
status and error code, the client address and user agent — and only then sends the answer,
unchanged. If the entry cannot be written, the answer is replaced by 500 `XF-TRAIL-UNRECORDED`
and the whole entry goes to the error log: an act that is not on the trail is never answered
as if all were well (its effect, if any, has committed; the log line is the record of it).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from ..identity.principal import Principal
from ..identity.trail import OperatorTrail
from ..identity.trail_record import TrailAct
from ..identity.trail_redact import redact
from .gate import App, Message, Receive, Scope, Send, send_json

log = logging.getLogger(__name__)

UNRECORDED = {
    "code": "XF-TRAIL-UNRECORDED",
    "message_zh": "操作审计记录无法写入，请求的结果未知，请联系系统管理员",
    "message_en": "The operator trail could not be written; the outcome of the request is "
    "unknown, ask the system administrator",
}
INTERNAL = {"code": "XF-INTERNAL", "message_zh": "内部错误", "message_en": "Internal error"}
# Liveness probes answered 2xx are not operator acts: a monitor polls them every few seconds,
# anonymously, and they read no case data; recorded, they would bury the acts (decision 027).
PROBES = frozenset({"health"})
AGENT_CHARS = 120
HTTP_CHARS = 200
ID_CHARS = 64
REASON_CHARS = 200

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def source_address(scope: Scope, proxies: Sequence[Network]) -> str:
    """The client's address: the peer, or — when the peer is a trusted proxy — the nearest
    address in X-Forwarded-For that is not a trusted proxy (a client can prepend anything, so
    only what trusted proxies appended counts)."""
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = [
        part.strip()
        for name, value in scope.get("headers", [])
        if bytes(name).lower() == b"x-forwarded-for"
        for part in bytes(value).decode("latin-1").split(",")
        if part.strip()
    ]
    for address in reversed(forwarded):
        if not _trusted(address, proxies):
            return address[:ID_CHARS]
    return forwarded[0][:ID_CHARS] if forwarded else peer


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _action(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:
        return ""
    return str(getattr(route, "operation_id", None) or getattr(route, "name", "") or "")[:ID_CHARS]


def _answer_json(chunks: list[bytes]) -> Any:
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        return None


def describe(
    scope: Scope, state: dict[str, Any], at_ms: int, status: int, answer: Any,
    proxies: Sequence[Network],
) -> TrailAct:  # fmt: skip
    """The trail's view of one answered request."""
    principal = state.get("principal")
    person, body, method = "", "", ""
    roles: tuple[str, ...] = ()
    if isinstance(principal, Principal):
        person, body, method = principal.person, principal.body, principal.method.value
        roles = tuple(sorted(r.value for r in principal.roles))
    sign_in = ""
    attempt = state.get("sign_in")
    if isinstance(attempt, tuple) and len(attempt) == 2:
        claimed, ok = attempt
        sign_in = "ok" if ok else "failed"
        person = person or _text(str(claimed), 200)
    case_id = str(scope.get("path_params", {}).get("case_id", ""))
    if not case_id and isinstance(answer, dict) and isinstance(answer.get("case_id"), str):
        case_id = answer["case_id"]  # registration: the case the request created
    code = answer.get("code") if status >= 400 and isinstance(answer, dict) else None
    path = str(scope.get("path", ""))
    return TrailAct(
        at_ms=at_ms,
        person=person,
        roles=roles,
        body=body,
        method=method,
        action=_action(scope),
        http=_text(f"{scope.get('method', '')} {path}", HTTP_CHARS),
        case_id=_text(case_id, ID_CHARS),
        status=status,
        code=str(code)[:ID_CHARS] if isinstance(code, str) else "",
        sign_in=sign_in,
        source=source_address(scope, proxies),
        agent=_text(_header(scope, b"user-agent"), AGENT_CHARS),
        # the reason stated for viewing personal data in full (api/personal_routes.py, 030),
        # any identity or phone number written into it masked (identity/trail_redact.py)
        reason=redact(_text(str(state.get("reason") or ""), REASON_CHARS)),
    )


def _text(value: str, limit: int) -> str:
    """What a client sent, storable and signable anywhere: lone surrogates and NUL (a path or
    a claimed name can carry them; UTF-8 and PostgreSQL refuse both) escaped, then cut."""
    clean = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return clean.replace("\x00", "\\0")[:limit]


class TrailRecorder:
    """ASGI middleware: record each HTTP request on `trail()` (None: a node without a signing
    key, test wiring only — nothing is recorded) before its answer is sent."""

    def __init__(self, app: App, trail: Callable[[], OperatorTrail | None]) -> None:
        self.app, self.trail = app, trail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        trail = self.trail() if scope["type"] == "http" else None
        if trail is None:
            await self.app(scope, receive, send)
            return
        at_ms = time.time_ns() // 1_000_000
        state: dict[str, Any] = scope.setdefault("state", {})  # shared with request.state
        held: list[Message] = []
        chunks: list[bytes] = []
        status = 500

        async def hold(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        except Exception:  # a bug below: answered 500 here, and recorded like any answer
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            held, chunks, status = [], [json.dumps(INTERNAL).encode()], 500
        if status < 400 and _action(scope) in PROBES:
            for message in held:
                await send(message)
            return
        act = describe(scope, state, at_ms, status, _answer_json(chunks), trail.trusted_proxies)
        try:
            trail.record(act)
        except Exception:
            log.exception(
                "operator trail entry NOT recorded / 操作审计记录未写入: %s",
                json.dumps(asdict(act), ensure_ascii=False),
            )
            await send_json(send, 500, UNRECORDED)
            return
        if not held:
            await send_json(send, 500, INTERNAL)
            return
        for message in held:
            await send(message)

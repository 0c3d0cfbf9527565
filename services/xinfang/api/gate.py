"""ASGI middleware in front of the routes: the body caps and the Idempotency-Key.

Every POST body is read here, at most MAX_BODY_BYTES of it (413 beyond, the rest drained so
the client reads the answer rather than a reset), and parsed with the depth cap (400): Python's
JSON parser recurses, so a deep body must never reach it unchecked. The parsed body is left in
the scope for the routes' refusals (api/validation.py). A POST with an Idempotency-Key answers
a repetition with the first answer (api/handlers.py `NodeApi.once`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..commands.input_errors import BodyTooLarge, InvalidJson, JsonTooDeep
from ..commands.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH
from ..domain.errors import XinfangError
from .errors import http_status

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

SIGN_IN_PATH = "/api/session"  # its answer holds a session token: not kept for a key
BODY_KEY = "xinfang.body"  # the parsed JSON body of a POST, in the ASGI scope
DRAIN_BYTES = 16 * MAX_BODY_BYTES
INTERNAL = {"code": "XF-INTERNAL", "message_zh": "内部错误", "message_en": "Internal error"}


def _depth(value: Any) -> int:
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


def decode_body(raw: bytes) -> Any:
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


async def read_body(receive: Receive) -> bytes:
    """The request body up to just past MAX_BODY_BYTES; the rest of a longer one is drained
    up to DRAIN_BYTES and dropped."""
    chunks: list[bytes] = []
    total, more = 0, True
    while more and total <= MAX_BODY_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunk = message.get("body", b"")
        chunks.append(chunk)
        total += len(chunk)
        more = message.get("more_body", False)
    drained = 0
    while more and drained < DRAIN_BYTES:
        message = await receive()
        drained += len(message.get("body", b""))
        more = message.get("more_body", False) and message["type"] == "http.request"
    return b"".join(chunks)


async def send_json(send: Send, status: int, payload: Any) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Gate:
    """The body caps and Idempotency-Key around the routes of `app`; `once`
    (api/handlers.py `NodeApi.once`) answers a keyed request at most once."""

    def __init__(
        self,
        app: App,
        once: Callable[[Scope, Any, str, Callable[[], Awaitable[tuple[int, Any]]]], Any],
    ) -> None:
        self.app, self.once = app, once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw = await read_body(receive)
        try:
            body = decode_body(raw)
        except XinfangError as err:
            await send_json(send, http_status(err), err.to_dict())
            return
        scope[BODY_KEY] = body
        # Read as JSON whatever the declared type, as the node always has (issue 14 decides
        # whether to refuse other types).
        scope["headers"] = [
            (k, v)
            for k, v in scope["headers"]
            if k.lower() not in (b"content-type", b"content-length")
        ] + [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(raw))]
        key = _header(scope, b"idempotency-key")
        if key is None or scope["path"] == SIGN_IN_PATH:  # never keep a session token
            await self.app(scope, _replay(raw), send)
            return

        async def answer() -> tuple[int, Any]:
            return await _captured(self.app, scope, _replay(raw))

        try:
            status, payload = await self.once(scope, body, key, answer)
        except XinfangError as err:
            status, payload = http_status(err), err.to_dict()
        await send_json(send, status, payload)


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k.lower() == name:
            return bytes(v).decode("latin-1")
    return None


def _replay(raw: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive


async def _captured(app: App, scope: Scope, receive: Receive) -> tuple[int, Any]:
    """Run the routes for one request and keep their answer (status, JSON) to send later."""
    status, chunks = 500, []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
        return status, json.loads(b"".join(chunks))
    except Exception:  # recorded like any answer: whether it took effect is unknown
        log.exception("unhandled error in POST %s", scope.get("path"))
        return 500, INTERNAL

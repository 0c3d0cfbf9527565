"""One HTTP request answered by an ASGI app in this process, synchronously: no socket, no
server. Tests and the bench drive a node's real web layer through it (NodeApi.serve_path)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any
from urllib.parse import quote


def call_asgi(
    app: Any,
    method: str,
    path: str,
    raw: bytes,
    idempotency_key: str | None = None,
    extra: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(status, JSON answer) of `method path` with body `raw` (sent as application/json);
    `extra` headers (e.g. Authorization) replace the defaults of the same name. An answer
    that is not JSON (the .xlsx of /api/stats.xlsx) comes back as its bytes."""
    path, _, query = path.partition("?")  # a query string is passed on as a server would
    given = {k.lower(): v for k, v in (extra or {}).items()}
    headers = [
        (k, v)
        for k, v in ((b"host", b"testserver"), (b"content-type", b"application/json"))
        if k.decode() not in given
    ]
    headers.append((b"content-length", str(len(raw)).encode()))
    if idempotency_key is not None:
        headers.append((b"idempotency-key", idempotency_key.encode("latin-1", "replace")))
    headers.extend((k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in given.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,  # as a server passes it: percent-decoded (it may hold any character)
        "raw_path": quote(path, safe="/", errors="surrogatepass").encode("ascii"),
        "root_path": "",
        "query_string": query.encode("latin-1", "replace"),
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    answer: dict[str, Any] = {"status": 500, "body": [], "json": True}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            types = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
            answer["json"] = not types or b"json" in types[0]
        elif message["type"] == "http.response.body":
            answer["body"].append(message.get("body", b""))

    _run(app(scope, receive, send))
    body = b"".join(answer["body"])
    if not answer["json"]:
        return answer["status"], body
    return answer["status"], json.loads(body) if body else None


def _run(coroutine: Any) -> None:
    """Run to completion, in a thread of its own when this one already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]

"""Issue 16 item 1 (serving): the node serves the built staff console at `/` from the API's
origin, with an SPA fallback for client routes that never shadows the API's own answers, and a
zh/en page saying `make web` when nothing is built (api/console.py, decision 029)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from xinfang.api import console
from xinfang.api.handlers import NodeApi
from xinfang.topology_file import load_topology

from .fakes import FakeBus

CITY = "150400"
INDEX = '<!doctype html><html lang="zh-CN"><body><div id="app"></div></body></html>'


def raw_call(app: Any, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body bytes) of one request: the console answers HTML and files,
    which NodeApi.serve_path (JSON only) cannot read."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"testserver"), (b"accept", b"text/html")],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }  # fmt: skip
    answer: dict[str, Any] = {"status": 0, "headers": {}, "body": b""}
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:  # the client stays connected until the answer is complete
            await asyncio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return answer["status"], answer["headers"], answer["body"]


@pytest.fixture
def api(tmp_path: Path) -> NodeApi:
    bus = FakeBus(load_topology(), [CITY], tmp_path)
    return NodeApi(bus.nodes[CITY])


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dist = tmp_path / "web_dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX, encoding="utf-8")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    monkeypatch.setattr(console, "DIST", dist)
    return dist


def test_the_built_console_is_served_at_root_and_for_every_client_route(
    api: NodeApi, built: Path
) -> None:
    for path in ("/", "/workbench", "/login", "/cases/150400-2026-000001"):
        status, headers, body = raw_call(api.app, "GET", path)
        assert (status, body.decode()) == (200, INDEX), path
        assert headers["content-type"].startswith("text/html")
        assert headers["cache-control"] == "no-cache"  # a new build is picked up at once

    status, headers, body = raw_call(api.app, "GET", "/assets/index-abc123.js")
    assert (status, body) == (200, b"console.log(1)")
    assert "immutable" in headers["cache-control"]  # hashed names: cached for good


def test_the_console_never_shadows_the_api(api: NodeApi, built: Path) -> None:
    status, _, body = raw_call(api.app, "GET", "/health")
    assert status == 200 and json.loads(body)["division"] == CITY
    status, _, body = raw_call(api.app, "GET", "/api/cases")  # the API's own refusal
    assert (status, json.loads(body)["code"]) == (401, "XF-AUTH-REQUIRED")
    # unknown API paths, wrong methods and missing assets keep their JSON refusals
    for method, path, code, expected in [
        ("GET", "/api/nothing-here", 404, "XF-NO-ROUTE"),
        ("GET", "/api", 404, "XF-NO-ROUTE"),
        ("GET", "/admin/sweep", 405, "XF-METHOD-NOT-ALLOWED"),
        ("DELETE", "/api/cases", 405, "XF-METHOD-NOT-ALLOWED"),
        ("GET", "/router/", 404, "XF-NO-ROUTE"),
        ("GET", "/assets/missing.js", 404, "XF-NO-ROUTE"),
        ("GET", "/assets/../index.html", 404, "XF-NO-ROUTE"),
        ("POST", "/workbench", 404, "XF-NO-ROUTE"),
    ]:
        status, headers, body = raw_call(api.app, method, path)
        assert (status, json.loads(body)["code"]) == (code, expected), (method, path)
        assert headers["content-type"] == "application/json", (method, path)


def test_without_a_build_root_says_make_web(
    api: NodeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "DIST", tmp_path / "not-built")
    status, headers, body = raw_call(api.app, "GET", "/")
    page = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "make web" in page and "尚未构建" in page and "not built" in page
    status, _, body = raw_call(api.app, "GET", "/api/cases")  # the API's own refusal
    assert (status, json.loads(body)["code"]) == (401, "XF-AUTH-REQUIRED")

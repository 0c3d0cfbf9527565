"""A small HTTP client for a node's API (stdlib only), used by the CLI, the demo and tests."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from .domain.errors import WireError


class ApiError(WireError):
    """A node answered with an error status; `code` and the messages are the node's own."""

    code = "XF-HTTP"
    zh = "节点拒绝了请求"
    en = "The node refused the request"

    def __init__(self, status: int, payload: Any) -> None:
        self.status = status
        self.payload = payload
        info = payload if isinstance(payload, dict) else {}
        if isinstance(info.get("code"), str):
            self.code = info["code"]
        super().__init__(f"HTTP {status}")
        self.args = (f"HTTP {status} {info.get('code') or ''}: {payload}",)

    def message(self, lang: str = "zh") -> str:
        info = self.payload if isinstance(self.payload, dict) else {}
        text = info.get("message_zh" if lang == "zh" else "message_en")
        return str(text) if text else super().message(lang)


class NodeClient:
    """Requests to one node; `token` (a session or OIDC access token; default
    $XINFANG_TOKEN) is sent as `Authorization: Bearer` (decision 025)."""

    def __init__(self, base_url: str, timeout: float = 15.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token if token is not None else os.environ.get("XINFANG_TOKEN") or None

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        sent = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={**sent, **(headers or {})}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = {"raw": raw.decode("utf-8", "replace")}
            raise ApiError(err.code, payload) from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

"""The staff console (issue 16, decision 029): the built single-page app served at `/` from
the same origin as the API, so its session cookie and CSRF header need no CORS.

The app is built by `make web` (web/, Vite) into `xinfang/web_dist/`, which the wheel ships as
package data. Routes added here, after every API route:

- `GET /assets/…`: the hashed bundles (immutable, cached for a year);
- `GET /` and any other client route (`/workbench`, `/cases/150400-2026-000001`): `index.html`
  (no-cache), so a reload of a client route works (SPA fallback);
- never `/api/…`, `/admin/…`, `/health`, `/openapi.json` or faust's `/router/`, `/table/`:
  those keep their own answers, 404 XF-NO-ROUTE and 405 XF-METHOD-NOT-ALLOWED included.

Without a build, `/` answers a short page (200, zh/en) saying to run `make web`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException

DIST = Path(__file__).resolve().parent.parent / "web_dist"
"""Where `make web` puts the build (services/xinfang/web_dist/; package data in a wheel)."""

RESERVED = ("api", "admin", "health", "openapi.json", "router", "table", "assets")
"""First path segments the console never answers for (the API's, faust's, the bundles')."""

NOT_BUILT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>信访工作台未构建 / console not built</title>
</head><body>
<h1>信访工作台尚未构建 / The staff console is not built</h1>
<p>在源码检出中运行 <code>make web</code> 后重启节点；接口仍在 <code>/api</code>。</p>
<p>Run <code>make web</code> in the checkout, then restart the node; the API is at
<code>/api</code> as ever.</p>
</body></html>
"""


class ClientPath(Convertor[str]):
    """A path of the console's router: any path whose first segment is not RESERVED."""

    _first = "|".join(name.replace(".", r"\.") for name in RESERVED)
    regex = rf"(?!(?:{_first})(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("xf_client_path", ClientPath())


def mount_console(app: FastAPI, dist: Path | None = None) -> None:
    """Add the console's routes to `app` (call after every API route); `dist` is the build
    folder, DIST unless given (looked up per request, so a build made later is served)."""

    def folder() -> Path:
        return dist if dist is not None else DIST

    async def asset(name: str) -> Response:
        assets = folder() / "assets"
        path = (assets / name).resolve()
        if path.parent != assets.resolve() or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})

    async def page(request: Request, path: str = "") -> Response:
        if request.method not in ("GET", "HEAD"):
            raise HTTPException(404)  # as before the console: XF-NO-ROUTE
        built = folder()
        index = built / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, headers={"Cache-Control": "no-cache"})
        top = built / path
        if path and "/" not in path and top.is_file() and top.resolve().parent == built.resolve():
            return FileResponse(top)  # favicon.svg and the like, beside index.html
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_api_route(
        "/assets/{name}", asset, methods=["GET", "HEAD"], name="console_asset",
        include_in_schema=False,
    )  # fmt: skip
    app.add_api_route(
        "/{path:xf_client_path}",
        page,
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        name="console",
        include_in_schema=False,
    )

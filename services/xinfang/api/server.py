"""The HTTP server of a node: uvicorn serving the ASGI app inside the node's own event loop
(faust's), so handlers and the node's background tasks share one loop as before (decision 019).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import uvicorn

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the faust worker owns SIGTERM/SIGINT; the server
    stops when its task is cancelled (serve_http)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_http(app: Any, host: str, port: int) -> None:
    """Serve `app` on host:port until cancelled. A port already in use ends the node (uvicorn
    logs it and exits), as faust's own web server did."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        log_config=None,  # the node's logging
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    running = asyncio.ensure_future(server.serve())
    try:
        await asyncio.shield(running)
    except asyncio.CancelledError:
        # Stop as uvicorn does on a signal: close the listener, let open requests finish
        # (timeout_graceful_shutdown), then go.
        server.should_exit = True
        await running
        raise

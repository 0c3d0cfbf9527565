"""The faust-streaming app of one node: HTTP API, inbox consumer, outbox relay, watchers.

faust runs the node's life cycle, web server and background tasks. The inbox is read by a
plain aiokafka consumer (node/inbox.py: group commit, offsets after the database commit) and
written by the outbox relay (node/relay.py); state lives in SQL, not faust tables.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import faust
from faust.web import Request, Response, View

from ..api.handlers import INTERNAL, NodeApi, Route
from ..bootstrap import node_parts
from ..commands.limits import MAX_BODY_BYTES
from ..contract.catalogue import SchemaLearner, publish_schemas
from ..kafka_security import client_security
from ..node.admin import check_topics, ensure_topics
from ..node.checkpoints import checkpoint_periodically
from ..node.inbox import InboxConsumer
from ..node.relay import OutboxRelay
from ..node.service import NodeService
from ..provisioning import provisioned_topics
from ..settings import NodeSettings

log = logging.getLogger(__name__)


@dataclass
class Node:
    settings: NodeSettings
    app: faust.App
    service: NodeService
    relay: OutboxRelay
    api: NodeApi
    schemas: SchemaLearner

    def topics_to_provision(self) -> dict[str, dict[str, str]]:
        return provisioned_topics(
            self.service.topics, self.service.topology, self.settings.division
        )

    async def provision(self) -> None:
        """Create this node's topics (plaintext development broker only) or check they exist:
        on a secured broker the node holds no CREATE, `xinfang kafka provision` runs first as
        admin (decision 018); a missing topic stops the start with its name."""
        if self.settings.creates_topics:
            await ensure_topics(self.settings.bootstrap_servers, self.topics_to_provision())
        else:
            await check_topics(self.settings.bootstrap_servers, sorted(self.topics_to_provision()))
        await publish_schemas(
            self.settings.bootstrap_servers, self.service.topics, self.settings.schema_dir
        )
        # Writer schemas of releases newer than this node's, published by upgraded nodes.
        await self.schemas.refresh()


def build_node(settings: NodeSettings) -> Node:
    """The node's parts from the one wiring place (xinfang.bootstrap), run by a faust app:
    its web server serves the API, its tasks run the inbox, the relay and the watchers."""
    wired = node_parts(settings)
    service, relay, inbox, schemas = wired.service, wired.relay, wired.inbox, wired.schemas
    chain, codec, division = wired.chain, wired.codec, wired.topology.division(settings.division)

    app = faust.App(
        f"{settings.topic_prefix}xinfang-node-{division.code}",
        broker=[f"kafka://{hp}" for hp in settings.bootstrap_servers.split(",")],
        store="memory://",
        datadir=str(settings.data_dir / "faust"),  # not the working directory
        autodiscover=False,
        web_enabled=True,
        web_bind=settings.http_host,
        web_host=settings.http_host,
        web_port=settings.http_port,
        topic_replication_factor=1,
        topic_partitions=1,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        # One node is one group member: after a crash its successor should not wait a minute
        # for the dead member's session to expire before it consumes again.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=20.0,
        producer_acks=-1,
        # faust runs the web server and tasks only: the inbox and relay use their own aiokafka
        # clients, so faust's consumer (a group and an assignor topic per node, which the ACLs
        # would have to grant) and producer are never started. Credentials all the same, in
        # case a later change starts them.
        **client_security().faust(),
    )
    app.boot_strategy = app.BootStrategy(app, enable_kafka=False)

    def node_status() -> dict[str, Any]:
        # "degraded" (overriding the handler's "ok") while the relay has set records aside or
        # is stuck, or the inbox consumer keeps failing (decision 012)
        parts = [relay.health(), inbox.health(settings.relay_stuck_after_s)]
        degraded = any(part["status"] != "ok" for part in parts)
        return {
            "relay_published": relay.published,
            "key_id": chain.key_id,
            "inbox_transactions": service.inbox_transactions,
            "inbox_records": service.inbox_records,
            "schema_catalogue_reads": schemas.reads,
            "writer_schemas_learned": codec.decoder.learned,
            **{k: v for part in parts for k, v in part.items()},
            "status": "degraded" if degraded else "ok",
        }

    api = NodeApi(service, status=node_status)
    node = Node(settings, app, service, relay, api, schemas)

    @app.task  # type: ignore[untyped-decorator]
    async def start_background() -> None:
        app.add_future(_run_inbox(inbox))
        app.add_future(_run_relay(relay))
        app.add_future(_watch_deadlines(service, settings.sweep_interval_s))
        app.add_future(checkpoint_periodically(service, settings.checkpoint_interval_s))

    _register_views(app, api)
    return node


async def _run_inbox(inbox: InboxConsumer) -> None:
    try:
        await inbox.run()
    finally:
        await inbox.stop()


async def _run_relay(relay: OutboxRelay) -> None:
    try:
        await relay.run()
    finally:
        await relay.stop()


async def _watch_deadlines(service: NodeService, interval_s: float) -> None:
    """The deadline watcher: record missed deadlines and lapsed windows of this node's bodies."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            service.sweep_deadlines()
        except Exception:  # keep watching; the next sweep retries
            log.exception("deadline sweep failed")


def _register_views(app: faust.App, api: NodeApi) -> None:
    by_template: dict[str, list[Route]] = {}
    for route in api.routes:
        by_template.setdefault(route.template, []).append(route)
    for template, routes in by_template.items():
        app.page(template, name=template)(_view_class(api, routes))


async def _read_body(request: Request) -> bytes:
    """The request body, read only up to just past MAX_BODY_BYTES (the API answers 413 for
    more). The rest of an oversize body is drained up to a bound, so the client, still
    sending, reads the 413 instead of a reset connection."""
    content = request.content  # type: ignore[attr-defined]  # aiohttp's request
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_BODY_BYTES:
        chunk = await content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    drained = 0
    while drained < 16 * MAX_BODY_BYTES and await content.read(64 * 1024) != b"":
        drained += 64 * 1024
    return b"".join(chunks)


def _view_class(api: NodeApi, routes: list[Route]) -> type[View]:
    namespace: dict[str, Any] = {}
    for route in routes:

        async def handle(
            self: View, request: Request, _route: Route = route, **params: str
        ) -> Response:
            # Everything, the JSON parsing included, happens inside NodeApi.serve, which
            # never raises: a body nested 100,000 deep is a 400, not an escaped RecursionError.
            try:
                raw = await _read_body(request) if _route.method == "POST" else b""
                key = request.headers.get("Idempotency-Key")
                status, payload = api.serve(_route, params, raw, key)
            except Exception:  # the connection, not the request: log it, answer 500
                log.exception("unhandled error in %s %s", _route.method, _route.template)
                status, payload = 500, INTERNAL
            return self.json(payload, status=status)

        namespace[route.method.lower()] = handle
    return type("NodeView", (View,), namespace)


def run_node(settings: NodeSettings) -> None:
    """Provision topics, then run the faust worker until SIGTERM/SIGINT."""
    node = build_node(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(node.provision())
    worker = faust.Worker(node.app, loop=loop, loglevel="INFO", quiet=True)
    worker.execute_from_commandline()

"""The faust-streaming app of one node: HTTP API, inbox consumer, outbox relay, watchers.

faust runs the node's life cycle and background tasks; the HTTP API is an ASGI app (api/web.py)
served by uvicorn in the same event loop, faust's own web server off (decision 019). The inbox
is read by a plain aiokafka consumer (node/inbox.py: group commit, offsets after the database
commit) and written by the outbox relay (node/relay.py); state lives in SQL, not faust tables.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import faust

from ..api.handlers import NodeApi
from ..api.server import serve_http
from ..bootstrap import node_auth, node_parts
from ..contract.catalogue import SchemaLearner, publish_schemas
from ..kafka_security import client_security
from ..node.admin import check_topics, ensure_topics
from ..node.checkpoints import checkpoint_periodically
from ..node.inbox import InboxConsumer
from ..node.relay import OutboxRelay
from ..node.service import NodeService
from ..provisioning import provisioned_topics
from ..settings import NodeSettings
from ..store.reseal import remaining, reseal
from ..store.unit_of_work import NodeStore

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
        web_enabled=False,  # the API is served by uvicorn (api/server.py); no /router/, /table/
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
        parts = [relay.health(), inbox.health(settings.relay_stuck_after_s), service.chain_health()]
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

    api = NodeApi(service, status=node_status, auth=node_auth(service, settings, wired.topology))
    node = Node(settings, app, service, relay, api, schemas)

    @app.task  # type: ignore[untyped-decorator]
    async def start_background() -> None:
        app.add_future(_run_inbox(inbox))
        app.add_future(_run_relay(relay))
        app.add_future(_watch_deadlines(service, settings.sweep_interval_s))
        if isinstance(service.store, NodeStore):  # re-encryption after a key rotation
            app.add_future(reseal_in_background(service.store, settings.sweep_interval_s))
        app.add_future(checkpoint_periodically(service, settings.checkpoint_interval_s))
        app.add_future(serve_http(api.app, settings.http_host, settings.http_port))

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


async def reseal_in_background(store: NodeStore, interval_s: float) -> None:
    """The re-encryption sweep (store/reseal.py) at start and whenever the key ring changed
    (`xinfang data-keys rotate --no-sweep`), in a worker thread; progress is logged."""
    while True:
        try:
            current = store.keys.current().current
            if any(remaining(store.engine, current).values()):
                await asyncio.to_thread(reseal, store.engine, store.columns)
        except Exception:  # e.g. a value that no longer opens: logged, retried next time
            log.exception("re-encryption sweep failed")
        await asyncio.sleep(interval_s)


def run_node(settings: NodeSettings) -> None:
    """Provision topics, then run the faust worker until SIGTERM/SIGINT."""
    node = build_node(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(node.provision())
    worker = faust.Worker(node.app, loop=loop, loglevel="INFO", quiet=True)
    worker.execute_from_commandline()

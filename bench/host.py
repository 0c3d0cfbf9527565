"""Bench-only runner: several nodes in one process, one event loop.

    python -m bench.host --bootstrap HOST:PORT --topology FILE --prefix P --data-dir DIR \\
        150000:6000 150400:6400 ...

Each node is exactly what `xinfang node run` builds (`xinfang.node.app.build_node`): its own
faust app (consumer, producer, HTTP server), outbox relay and SQLite file. Only the process is
shared, so the interpreter and the imported libraries are paid for once. The topics of all its
nodes are provisioned in one admin request; then the apps start one after another. It runs
until SIGTERM/SIGINT and stops every app it started. With `--provision-only` it creates the
nodes' topics, waits until each has a leader, and exits (used before starting node processes).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from xinfang.chain.keys import ensure_published
from xinfang.kafka_security import aiokafka_security
from xinfang.node.admin import ensure_topics
from xinfang.node.app import Node, build_node
from xinfang.settings import NodeSettings


async def wait_for_leaders(bootstrap: str, topics: list[str], timeout: float = 120.0) -> None:
    """Wait until the broker's metadata has every topic with a leader.

    A faust consumer that joins its group while its freshly created inbox topic is not yet
    in the metadata gets no partition ("Ignoring missing topic") and does not consume until
    its next metadata refresh (metadata.max.age.ms, 5 minutes). See docs/benchmarks.md.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **aiokafka_security())
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        pending = list(topics)
        while pending:
            described = await admin.describe_topics(pending)
            pending = [
                str(t["topic"])
                for t in described
                if t["error_code"] != 0
                or not t["partitions"]
                or any(p["leader"] < 0 for p in t["partitions"])
            ]
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"topics without a leader: {pending[:5]}")
            if pending:
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def serve(args: argparse.Namespace) -> None:
    nodes: list[Node] = []
    keys_dir = args.data_dir / "keys"  # every node's key published where the others read it
    for spec in args.nodes:
        division, _, port = spec.partition(":")
        ensure_published(division, args.data_dir / division / f"node-{division}.key", keys_dir)
    for spec in args.nodes:
        division, _, port = spec.partition(":")
        nodes.append(
            build_node(
                NodeSettings(
                    division=division,
                    bootstrap_servers=args.bootstrap,
                    topology_path=args.topology,
                    topic_prefix=args.prefix,
                    data_dir=args.data_dir / division,
                    http_port=int(port),
                    public_keys_dir=keys_dir,
                    publish_key=True,  # its X25519 key too: the others wrap case keys for it
                )
            )
        )
    wanted: dict[str, dict[str, str]] = {}
    for node in nodes:
        wanted.update(node.topics_to_provision())
    began = time.monotonic()
    await ensure_topics(args.bootstrap, wanted)
    await wait_for_leaders(args.bootstrap, sorted(wanted))
    if args.provision_only:
        for node in nodes:
            node.service.store.close()
        print(f"PROVISIONED {len(wanted)}", flush=True)
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    started: list[Node] = []
    try:
        for node in nodes:
            if stop.is_set():
                break
            await node.app.start()
            started.append(node)
            print(f"STARTED {node.settings.division} {time.monotonic() - began:.2f}", flush=True)
        await stop.wait()
    finally:
        for node in reversed(started):
            try:
                await asyncio.wait_for(node.app.stop(), timeout=10)
            except Exception as exc:  # keep stopping the others
                print(f"stop {node.settings.division}: {exc!r}", file=sys.stderr, flush=True)
            node.service.store.close()
        print("STOPPED", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topology", type=Path, default=None, help="default: chifeng.yaml")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--provision-only", action="store_true", help="create the topics, wait, and exit"
    )
    parser.add_argument("nodes", nargs="+", help="DIVISION:HTTP_PORT")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()

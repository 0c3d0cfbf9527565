"""`make cluster-chaos`: the chaos run (devtools/chaos.py) on a secured 3-broker KRaft cluster,
SIGKILLing one broker at a time under load (issue 13 item 4).

Topics are provisioned as admin with replicas = 3 and min.insync.replicas = 2 (kafka_admin.py),
producers stay acks=all + idempotent, so losing any one broker loses nothing. The harness is
chaos.py's own (reference run, node faults, comparison, chain check); only its broker fault is
replaced: SIGKILL broker i (round robin), keep the load running a few seconds, restart it. At the
end every partition's ISR must be back to its full replica set (under-replicated = 0).

    python -m xinfang.devtools.cluster_chaos --cases 1000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from ..kafka_security import aiokafka_security
from . import chaos
from .broker import Broker, start_deploy_broker
from .chaos_faults import FaultInjector
from .secured import use_broker


class BrokerKiller(FaultInjector):
    """The FaultInjector whose broker fault SIGKILLs one broker of the cluster at a time."""

    next_index = 0
    kills = 0

    def required_kinds(self) -> list[str]:
        """Every kill owed counts as owed (not just one), so a short run kills each broker."""
        kinds = super().required_kinds()
        if self.broker_restarts_left > 0 and "broker" not in kinds:
            kinds.append("broker")
        return kinds

    def _broker(self) -> None:
        brokers = self.broker.brokers
        index = BrokerKiller.next_index % brokers + 1
        BrokerKiller.next_index += 1
        self.broker.kill(index)
        try:
            time.sleep(self.rng.uniform(2.0, 6.0))  # the load goes on with a broker missing
        finally:
            self.broker.bring_back(index)
        BrokerKiller.kills += 1
        self.broker_restarts_left -= 1
        self.log.add("broker_restart")


async def under_replicated(bootstrap: str) -> int:
    """Partitions (every topic, internal ones included) whose ISR is short of their replicas."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **aiokafka_security())
    await admin.start()
    try:
        names = await admin.list_topics()
        short = 0
        for topic in await admin.describe_topics(names):
            for partition in topic["partitions"]:
                short += len(partition["isr"]) < len(partition["replicas"])
        return short
    finally:
        await admin.close()


def wait_fully_replicated(bootstrap: str, timeout_s: float = 180.0) -> int:
    """Under-replicated partitions once they reach 0, or the count left at the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = asyncio.run(under_replicated(bootstrap))
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(1.0)


def run_cluster_chaos(
    cases: int, workdir: Path, seed: int = 7, brokers: int = 3, kills: int | None = None
) -> tuple[chaos.ChaosResult, int, int]:
    """(chaos result, broker kills, under-replicated partitions at the end)."""
    cluster: Broker = start_deploy_broker(workdir / "kafka", secure=True, brokers=brokers)
    restore = use_broker(cluster)  # this process acts as admin; node processes as themselves
    wanted_kills = kills if kills is not None else max(brokers, cases // 100)
    BrokerKiller.next_index = BrokerKiller.kills = 0
    try:
        result = chaos.run_chaos(
            cases,
            workdir,
            seed=seed,
            broker=cluster,
            broker_restarts=wanted_kills,
            injector_class=BrokerKiller,
        )
        left = wait_fully_replicated(cluster.bootstrap_servers)
        return result, BrokerKiller.kills, left
    finally:
        cluster.stop()
        restore()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="三节点集群故障注入 / chaos on a 3-broker cluster")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--brokers", type=int, default=3)
    parser.add_argument("--kills", type=int, help="broker SIGKILLs (default max(brokers, N/100))")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="xinfang-cluster-chaos-"))
    began = time.monotonic()
    result, kills, left = run_cluster_chaos(
        args.cases, workdir, args.seed, args.brokers, args.kills
    )
    print(
        f"{result.line()} broker_kills={kills} under_replicated={left} "
        f"seconds={time.monotonic() - began:.0f}",
        flush=True,
    )
    return 0 if result.ok and left == 0 and kills >= args.brokers else 1


if __name__ == "__main__":
    raise SystemExit(main())

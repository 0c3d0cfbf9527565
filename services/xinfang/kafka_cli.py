"""`xinfang kafka provision|acls`: topics and ACLs of a topology, run as the broker's admin.

    xinfang --kafka-credentials <state>/credentials/admin.json kafka provision
    xinfang --kafka-credentials <state>/credentials/admin.json kafka acls --plan
    xinfang --kafka-credentials <state>/credentials/admin.json kafka acls --apply
    xinfang --kafka-credentials <state>/credentials/admin.json kafka principal node-150431 \
        --out <state>/credentials/node-150431.json

``acls --apply`` provisions first (topics must exist before nodes start: nodes hold no CREATE),
then adds the missing grants and removes stale ones (decision 018). ``acls --docs FILE`` writes
the grant table of the topology (docs/kafka-acls.md is the demo topology's, checked by a test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from .kafka_acls import (
    AUDITOR,
    INTEGRATOR,
    AclPlan,
    Grant,
    derive_grants,
    parse_integrators,
    render_table,
)
from .kafka_security import KafkaSecurity
from .topics import TopicNames

DOCS_TITLE = {
    "heading": "Kafka ACLs（演示拓扑 / demo topology）",
    "intro": (
        "由 `xinfang kafka acls --docs docs/kafka-acls.md` 从 `deploy/topology/chifeng.yaml` "
        "生成，勿手改 / generated from the demo topology, do not edit (a test checks it). "
        "Every grant is ALLOW, LITERAL, host `*`; `User:admin` is the broker's super user and "
        "the only principal that may CREATE, DELETE, ALTER or ALTER_CONFIGS "
        "([decision 018](decisions/018-kafka-acls.md))."
    ),
}


def add_kafka_commands(sub: Any) -> None:
    kafka = sub.add_parser("kafka", help="Kafka 主题与 ACL（admin）/ topics and ACLs as admin")
    kafka.add_argument("--bootstrap-servers", help="Kafka 地址 / KAFKA_BOOTSTRAP_SERVERS")
    kafka.add_argument("--topic-prefix", help="主题前缀 / XINFANG_TOPIC_PREFIX")
    kafka.add_argument("--topology", help="拓扑文件 / topology file (XINFANG_TOPOLOGY)")
    actions = kafka.add_subparsers(dest="kafka_cmd", required=True)
    prov = actions.add_parser("provision", help="创建拓扑的全部主题 / create the topics")
    _replication_args(prov)
    prov.set_defaults(func=cmd_provision)
    principal = actions.add_parser(
        "principal", help="新建 SCRAM 主体及其凭据文件 / add a SCRAM principal and its file"
    )
    principal.add_argument("name", help="主体名，如 node-150431 / user name, e.g. node-150431")
    principal.add_argument("--out", required=True, help="凭据文件（0600）/ credentials file")
    principal.add_argument(
        "--replace", action="store_true", help="重置已有主体的口令 / reset an existing one"
    )
    principal.set_defaults(func=cmd_principal)
    acls = actions.add_parser("acls", help="由拓扑生成 ACL / ACLs derived from the topology")
    mode = acls.add_mutually_exclusive_group(required=True)
    mode.add_argument("--plan", action="store_true", help="只列出变更 / show the changes")
    mode.add_argument("--apply", action="store_true", help="创建主题并应用 / provision + apply")
    mode.add_argument("--docs", metavar="FILE", help="写出 ACL 表 / write the ACL table")
    acls.add_argument(
        "--auditor", action="append", help=f"审计主体，可重复 / auditor principal ({AUDITOR})"
    )
    acls.add_argument(
        "--integrator",
        action="append",
        metavar="NAME[=TOPIC,…]",
        help=f"对接方主体及其主题 / integrator and its topics ({INTEGRATOR}: logs + public feed)",
    )
    _replication_args(acls)
    acls.set_defaults(func=cmd_acls)


def _replication_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--replicas", type=int, help="副本数 / replication factor (XINFANG_KAFKA_REPLICAS)"
    )
    parser.add_argument(
        "--min-insync",
        type=int,
        help="最少同步副本 / min.insync.replicas (XINFANG_KAFKA_MIN_INSYNC)",
    )


def _context(args: argparse.Namespace) -> tuple[str, TopicNames, Any, KafkaSecurity]:
    from .topology_file import load_topology

    bootstrap = args.bootstrap_servers or os.environ.get(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"
    )
    topics = TopicNames(args.topic_prefix or os.environ.get("XINFANG_TOPIC_PREFIX", ""))
    topology_path = args.topology or os.environ.get("XINFANG_TOPOLOGY")
    topology = load_topology(Path(topology_path) if topology_path else None)
    return bootstrap, topics, topology, KafkaSecurity.from_env()


def _int_setting(value: int | None, key: str) -> int | None:
    if value is not None:
        return value
    text = os.environ.get(key)
    return int(text) if text else None


def _provision(args: argparse.Namespace) -> None:
    from .kafka_admin import provision

    bootstrap, topics, topology, security = _context(args)
    replication, names = asyncio.run(
        provision(
            bootstrap,
            topology,
            topics,
            security,
            _int_setting(args.replicas, "XINFANG_KAFKA_REPLICAS"),
            _int_setting(args.min_insync, "XINFANG_KAFKA_MIN_INSYNC"),
        )
    )
    print(
        f"主题 / topics: {len(names)} (replicas={replication.replicas} "
        f"min.insync.replicas={replication.min_insync})"
    )


def cmd_provision(args: argparse.Namespace) -> int:
    _provision(args)
    return 0


def cmd_principal(args: argparse.Namespace) -> int:
    from .kafka_admin import add_principal

    bootstrap, _, _, security = _context(args)
    out = Path(args.out)
    if add_principal(bootstrap, security, args.name, out, replace=args.replace):
        print(f"User:{args.name} → {out}")
    else:
        print(f"{out} 已存在，未改动 / exists, left alone (--replace resets the password)")
    return 0


def wanted_grants(args: argparse.Namespace, topology: Any, topics: TopicNames) -> list[Grant]:
    auditors = args.auditor or [AUDITOR]
    integrators = parse_integrators(args.integrator or [INTEGRATOR])
    return derive_grants(topology, topics, auditors=auditors, integrators=integrators)


def docs_table() -> str:
    """docs/kafka-acls.md: the grants of the demo topology, no prefix, default principals."""
    from .topology_file import load_topology

    return render_table(derive_grants(load_topology(None), TopicNames("")), DOCS_TITLE)


def cmd_acls(args: argparse.Namespace) -> int:
    from .kafka_admin import apply_plan, compute_plan, wait_applied

    bootstrap, topics, topology, security = _context(args)
    wanted = wanted_grants(args, topology, topics)
    if args.docs:
        Path(args.docs).write_text(render_table(wanted, DOCS_TITLE), encoding="utf-8")
        print(f"{args.docs}: {len(wanted)} grants")
        return 0
    if args.apply:
        _provision(args)
    acl_plan = compute_plan(bootstrap, security, wanted, topics.prefix)
    _print_plan(acl_plan, len(wanted))
    if args.apply and not acl_plan.empty:
        apply_plan(bootstrap, security, acl_plan)
        wait_applied(bootstrap, security, wanted, topics.prefix)
        print(f"已应用 / applied: +{len(acl_plan.add)} -{len(acl_plan.remove)}")
    return 0


def _print_plan(acl_plan: AclPlan, total: int) -> None:
    print(f"ACL: {total} wanted, {len(acl_plan.add)} to add, {len(acl_plan.remove)} to remove")
    for sign, grants in (("+", acl_plan.add), ("-", acl_plan.remove)):
        for g in grants:
            print(f"  {sign} User:{g.principal} {g.operation} {g.resource} {g.name}  {g.why}")

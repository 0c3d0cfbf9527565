"""Provisioning as ``admin``: topics of the whole topology with their replication settings, and
the ACL set of kafka_acls.py applied idempotently (docs/decisions/018-kafka-acls.md).

Nodes hold no CREATE: ``xinfang kafka provision`` (or ``xinfang kafka acls --apply``) runs
before they start, with the admin principal's credentials (``--credentials`` or
``XINFANG_KAFKA_CREDENTIALS``). ACLs go through confluent-kafka's AdminClient: aiokafka 0.14's
admin client has no CreateAcls/DescribeAcls/DeleteAcls.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._acl import (  # re-exported by confluent_kafka.admin, without __all__
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
)
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType
from confluent_kafka.admin._scram import (
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from .domain.topology import Topology
from .kafka_acls import AclPlan, Grant, plan
from .kafka_security import KafkaSecurity
from .node.admin import LOG_CONFIG, PUBLIC_STATUS_CONFIG, SCHEMAS_CONFIG, ensure_topics
from .topics import TopicNames

_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Replication:
    """Replication factor and ``min.insync.replicas`` of provisioned topics.

    Defaults (issue 13 item 4): replicas = min(3, brokers); min ISR = 2 when replicas >= 3,
    else 1 (a single broker or a pair cannot lose one and still accept ``acks=all``)."""

    replicas: int
    min_insync: int

    @classmethod
    def for_cluster(
        cls, brokers: int, replicas: int | None = None, min_insync: int | None = None
    ) -> Replication:
        r = replicas if replicas is not None else min(3, max(brokers, 1))
        if r < 1 or r > max(brokers, 1):
            raise ValueError(
                f"副本数须在 1 与代理数 {brokers} 之间 / "
                f"replication factor must be 1..{brokers}: {r}"
            )
        m = min_insync if min_insync is not None else (2 if r >= 3 else 1)
        if m < 1 or m > r:
            raise ValueError(f"min.insync.replicas 须在 1 与 {r} 之间 / must be 1..{r}: {m}")
        return cls(r, m)


def topology_topics(topology: Topology, topics: TopicNames) -> dict[str, dict[str, str]]:
    """Every topic of the topology with its configuration (what ``provision`` creates)."""
    wanted: dict[str, dict[str, str]] = {}
    for division in topology.divisions:
        wanted[topics.log(division.code)] = LOG_CONFIG
        wanted[topics.inbox(division.code)] = {}
        wanted[topics.deadletter(division.code)] = {"retention.ms": "-1"}
    wanted[topics.schemas()] = SCHEMAS_CONFIG
    wanted[topics.public_status()] = PUBLIC_STATUS_CONFIG
    return wanted


async def broker_count(bootstrap: str, security: KafkaSecurity) -> int:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security.aiokafka())
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        return len(cluster["brokers"])
    finally:
        await admin.close()


async def provision(
    bootstrap: str,
    topology: Topology,
    topics: TopicNames,
    security: KafkaSecurity,
    replicas: int | None = None,
    min_insync: int | None = None,
) -> tuple[Replication, list[str]]:
    """Create the topology's missing topics (existing ones are left as they are); returns the
    replication used and the names of the topics."""
    replication = Replication.for_cluster(
        await broker_count(bootstrap, security), replicas, min_insync
    )
    wanted = topology_topics(topology, topics)
    await ensure_topics(
        bootstrap,
        wanted,
        replication_factor=replication.replicas,
        min_insync=replication.min_insync,
        security=security,
    )
    return replication, sorted(wanted)


def _admin(bootstrap: str, security: KafkaSecurity) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, **security.confluent()})


def _binding(grant: Grant) -> AclBinding:
    return AclBinding(
        ResourceType[grant.resource],
        grant.name,
        ResourcePatternType.LITERAL,
        f"User:{grant.principal}",
        "*",
        AclOperation[grant.operation],
        AclPermissionType.ALLOW,
    )


def present_grants(bootstrap: str, security: KafkaSecurity) -> list[Grant]:
    """Every ALLOW grant on the broker for users on topics and groups (literal names)."""
    admin = _admin(bootstrap, security)
    # None = any name, principal, host (librdkafka's filter; its type stubs say str)
    query = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY,  # type: ignore[arg-type]
        None, None, AclOperation.ANY, AclPermissionType.ANY,  # type: ignore[arg-type]
    )  # fmt: skip
    bindings = admin.describe_acls(query, request_timeout=_TIMEOUT_S).result(timeout=_TIMEOUT_S)
    out = []
    for b in bindings:
        out.append(
            Grant(
                principal=str(b.principal).removeprefix("User:"),
                resource=b.restype.name,
                name=b.name,
                operation=b.operation.name,
                why=f"{b.permission_type.name} {b.resource_pattern_type.name} host={b.host}",
            )
        )
    return out


def compute_plan(
    bootstrap: str, security: KafkaSecurity, wanted: list[Grant], prefix: str
) -> AclPlan:
    present = present_grants(bootstrap, security)
    # A DENY, a prefixed pattern or a host-bound ACL is never what we want: it counts as stale
    # (``why`` records it), so the broker ends with exactly the derived ALLOW set.
    exact = [g for g in present if g.why == "ALLOW LITERAL host=*"]
    odd = [g for g in present if g.why != "ALLOW LITERAL host=*" and g.name.startswith(prefix)]
    result = plan(wanted, exact, prefix)
    return AclPlan(result.add, tuple(sorted(result.remove + tuple(odd))))


def apply_plan(bootstrap: str, security: KafkaSecurity, acl_plan: AclPlan) -> None:
    """Delete the stale grants, then create the missing ones (in that order, so a stale
    variant of a wanted grant cannot take the new one with it); raises on a refusal."""
    admin = _admin(bootstrap, security)
    if acl_plan.remove:
        filters = [_stale_filter(g) for g in acl_plan.remove]
        for future in admin.delete_acls(filters, request_timeout=_TIMEOUT_S).values():
            future.result(timeout=_TIMEOUT_S)
    if acl_plan.add:
        bindings = [_binding(g) for g in acl_plan.add]
        for future in admin.create_acls(bindings, request_timeout=_TIMEOUT_S).values():
            future.result(timeout=_TIMEOUT_S)


def wait_applied(
    bootstrap: str,
    security: KafkaSecurity,
    wanted: list[Grant],
    prefix: str,
    timeout_s: float = _TIMEOUT_S,
) -> None:
    """Wait until the broker describes exactly the wanted grants: ACLs reach a broker's
    authoriser through the KRaft metadata log, a moment after CreateAcls returns, and a client
    that connects before then is refused (a relay would set its records aside)."""
    deadline = time.monotonic() + timeout_s
    while not compute_plan(bootstrap, security, wanted, prefix).empty:
        if time.monotonic() > deadline:
            raise TimeoutError(f"ACL 未在 {timeout_s:.0f}s 内生效 / ACLs not in effect in time")
        time.sleep(0.2)


def _stale_filter(grant: Grant) -> AclBindingFilter:
    # exactly this principal, resource, name and operation, whatever its pattern/host/permission
    return AclBindingFilter(
        ResourceType[grant.resource], grant.name, ResourcePatternType.ANY,
        f"User:{grant.principal}", None,  # type: ignore[arg-type]  # any host
        AclOperation[grant.operation], AclPermissionType.ANY,
    )  # fmt: skip


def add_principal(
    bootstrap: str, security: KafkaSecurity, name: str, out: Path, *, replace: bool = False
) -> bool:
    """Create SCRAM-SHA-512 user ``name`` with a random password and write its credentials
    file (0600, the layout of deploy/kafka/README.md). An existing file is kept (and the
    user left alone) unless ``replace``; returns True when a user was created or reset."""
    if out.exists() and not replace:
        return False
    password = secrets.token_urlsafe(24)
    admin = _admin(bootstrap, security)
    upsert = UserScramCredentialUpsertion(
        name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password.encode()
    )
    for future in admin.alter_user_scram_credentials([upsert], request_timeout=_TIMEOUT_S).values():
        future.result(timeout=_TIMEOUT_S)
    doc = {
        "username": name,
        "password": password,
        "mechanism": "SCRAM-SHA-512",
        "security_protocol": "SASL_SSL",
        "ca_file": str(security.ca_file or ""),
        "bootstrap_servers": bootstrap,
    }
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(doc, file, indent=2)
    return True

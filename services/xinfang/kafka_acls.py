"""The broker's ACL set, derived from the topology (docs/decisions/018-kafka-acls.md).

Pure: no Kafka client here (applying is ``kafka_admin.py``). Principals are ``User:<name>``:
``node-<division>`` per node, ``auditor``, ``integrator`` (or the integrators named in
settings), and ``admin``, the broker's super user, which holds no ACL and alone may create,
delete, alter and alter configs. Every grant is an ALLOW on a LITERAL resource name, so a
test run's topic prefix keeps its grants apart from other runs on the same broker.

What each principal may do (decision 002, ARCHITECTURE.md "Trust model"):

- a node WRITEs its own log, its own dead-letter topic, the public status feed, the schema
  catalogue, its parent's inbox and its children's — and further descendants' — inboxes (an
  event travels down to every division between the node and a participant,
  domain/routing.py; a node never writes a sibling's, a grandparent's or an unrelated
  division's inbox); WRITEs its own inbox too (the
  operator's dead-letter re-send, ops/deadletters.py); READs its own inbox with its own
  consumer group only, its own dead-letter topic (`xinfang deadletters`), and the schema
  catalogue (SchemaLearner, no group); it never reads its own log (chain heads come from
  its database).
- an audit administrator (``audit-admin``, 审计管理员, decision 027) READs every node's
  operator trail and nothing else; a node WRITEs its own trail.
- an auditor READs every log and inbox and the schema catalogue (no group: replay assigns
  partitions).
- an integrator READs every log, the public status feed and the schema catalogue, and its
  own consumer group ``<prefix>integrator-<name>``: only the topics listed for it when the
  settings narrow its grant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .domain.topology import Topology
from .topics import TopicNames

ADMIN = "admin"
AUDITOR = "auditor"
AUDIT_ADMIN = "audit-admin"  # reads the operator trails (三员分立: not the auditor's)
INTEGRATOR = "integrator"


def node_principal(division: str) -> str:
    """The SCRAM user name of a node (one principal, one credentials file per node)."""
    return f"node-{division}"


def inbox_group(prefix: str, division: str) -> str:
    """The node's inbox consumer group (node/app.py builds it the same way)."""
    return f"{prefix}xinfang-{division}-inbox"


def integrator_group(prefix: str, name: str) -> str:
    return f"{prefix}integrator-{name}"


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL: ``principal`` may ``operation`` on ``resource`` (TOPIC or GROUP)."""

    principal: str  # user name, without "User:"
    resource: str  # "TOPIC" | "GROUP"
    name: str  # literal resource name
    operation: str  # "READ" | "WRITE"
    why: str = ""  # shown in the plan and docs; not part of the broker's ACL

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What the broker stores (``why`` is ours)."""
        return (self.principal, self.resource, self.name, self.operation)


@dataclass(frozen=True)
class Integrator:
    """An integrator principal; ``topics`` None = every log and the public feed."""

    name: str
    topics: tuple[str, ...] | None = None


def parse_integrators(specs: Sequence[str]) -> list[Integrator]:
    """``NAME`` or ``NAME=topic,topic`` (full topic names, prefix included) per entry."""
    out = []
    for spec in specs:
        name, _, topics = spec.partition("=")
        out.append(
            Integrator(name.strip(), tuple(t for t in topics.split(",") if t) if topics else None)
        )
    return out


def derive_grants(
    topology: Topology,
    topics: TopicNames,
    *,
    auditors: Iterable[str] = (AUDITOR,),
    trail_readers: Iterable[str] = (AUDIT_ADMIN,),
    integrators: Iterable[Integrator] = (Integrator(INTEGRATOR),),
) -> list[Grant]:
    """Every ACL the broker should hold for this topology and topic prefix, sorted."""
    grants: set[Grant] = set()
    codes = [d.code for d in topology.divisions]
    for code in codes:
        me = node_principal(code)

        def add(resource: str, name: str, op: str, why: str, me: str = me) -> None:
            grants.add(Grant(me, resource, name, op, why))

        add("TOPIC", topics.log(code), "WRITE", "own log")
        add("TOPIC", topics.deadletter(code), "WRITE", "own dead letters")
        add("TOPIC", topics.trail(code), "WRITE", "own operator trail")
        add("TOPIC", topics.deadletter(code), "READ", "own dead letters (ops)")
        add("TOPIC", topics.public_status(), "WRITE", "public status feed")
        add("TOPIC", topics.schemas(), "WRITE", "schema catalogue")
        add("TOPIC", topics.schemas(), "READ", "schema catalogue (SchemaLearner)")
        add("TOPIC", topics.inbox(code), "READ", "own inbox")
        add("TOPIC", topics.inbox(code), "WRITE", "own inbox (dead-letter re-send)")
        add("GROUP", inbox_group(topics.prefix, code), "READ", "own inbox group")
        parent = topology.parent(code)
        if parent is not None:
            add("TOPIC", topics.inbox(parent), "WRITE", "parent's inbox")
        for below in codes:  # routing.recipients: events travel down to every level between
            if below != code and topology.is_within(below, code):
                why = "child's inbox" if topology.parent(below) == code else "descendant's inbox"
                add("TOPIC", topics.inbox(below), "WRITE", why)
    for auditor in auditors:
        for code in codes:
            grants.add(Grant(auditor, "TOPIC", topics.log(code), "READ", "node log"))
            grants.add(Grant(auditor, "TOPIC", topics.inbox(code), "READ", "node inbox"))
        grants.add(Grant(auditor, "TOPIC", topics.schemas(), "READ", "schema catalogue"))
    for reader in trail_readers:
        for code in codes:
            grants.add(Grant(reader, "TOPIC", topics.trail(code), "READ", "operator trail"))
    for integrator in integrators:
        wanted = (
            list(integrator.topics)
            if integrator.topics is not None
            else [topics.log(c) for c in codes] + [topics.public_status()]
        )
        for topic in wanted:
            grants.add(Grant(integrator.name, "TOPIC", topic, "READ", "subscribed topic"))
        grants.add(Grant(integrator.name, "TOPIC", topics.schemas(), "READ", "schema catalogue"))
        grants.add(
            Grant(
                integrator.name,
                "GROUP",
                integrator_group(topics.prefix, integrator.name),
                "READ",
                "own consumer group",
            )
        )
    return sorted(grants)


@dataclass(frozen=True)
class AclPlan:
    """What ``apply`` does: grants to add and stale grants (of managed resources) to remove."""

    add: tuple[Grant, ...]
    remove: tuple[Grant, ...]

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove


def plan(wanted: Iterable[Grant], present: Iterable[Grant], prefix: str) -> AclPlan:
    """Diff the wanted grants against those on the broker. Only grants on resources named
    with ``prefix`` (all of them with an empty prefix) are managed, so another deployment or
    test run sharing the broker keeps its own."""
    want = {g.key: g for g in wanted}
    have = {g.key: g for g in present if g.name.startswith(prefix)}
    return AclPlan(
        add=tuple(sorted(want[k] for k in want.keys() - have.keys())),
        remove=tuple(sorted(have[k] for k in have.keys() - want.keys())),
    )


def render_table(grants: Sequence[Grant], title: Mapping[str, str]) -> str:
    """A Markdown table of the grants (docs/kafka-acls.md), one row per grant."""
    lines = [
        f"# {title['heading']}",
        "",
        title["intro"],
        "",
        "| principal | operation | resource | name | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| User:{g.principal} | {g.operation} | {g.resource} | `{g.name}` | {g.why} |"
        for g in grants
    ]
    return "\n".join(lines) + "\n"

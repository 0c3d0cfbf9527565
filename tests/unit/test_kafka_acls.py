"""ACLs derived from the topology (kafka_acls.py, decision 018; issue 13 item 2).

Decision 002: a county writes only to its parent's inbox (and its own topics); it never writes a
sibling's inbox or its parent's log, reads only its own inbox with its own group, and nobody but
admin holds CREATE, DELETE, ALTER or ALTER_CONFIGS (admin is the broker's super user and holds
no ACL at all)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from xinfang.devtools.chaos import DIVISIONS, InProcessExecutor, drive_case
from xinfang.devtools.inprocess import InProcessBus
from xinfang.domain.topology import Topology
from xinfang.kafka_acls import (
    Grant,
    Integrator,
    derive_grants,
    inbox_group,
    node_principal,
    parse_integrators,
    plan,
)
from xinfang.kafka_admin import Replication, topology_topics
from xinfang.kafka_cli import docs_table
from xinfang.topics import TopicNames

ROOT = Path(__file__).resolve().parents[2]
T = TopicNames("p.")


def _may(grants: list[Grant], who: str, op: str, resource: str, name: str) -> bool:
    return any(g.key == (who, resource, name, op) for g in grants)


def test_a_county_writes_its_parent_inbox_but_not_a_sibling_inbox_nor_its_parent_log(
    topology: Topology,
) -> None:
    grants = derive_grants(topology, T)
    county = node_principal("150404")  # 松山区, child of 赤峰市 150400
    siblings = [c for c in topology.children("150400") if c != "150404"]
    assert siblings
    assert _may(grants, county, "WRITE", "TOPIC", T.inbox("150400"))
    assert _may(grants, county, "WRITE", "TOPIC", T.log("150404"))
    assert not _may(grants, county, "WRITE", "TOPIC", T.log("150400"))
    assert not _may(grants, county, "WRITE", "TOPIC", T.inbox("150000"))  # grandparent
    province = node_principal("150000")  # events travel down every level (routing.recipients)
    assert _may(grants, province, "WRITE", "TOPIC", T.inbox("150400"))
    assert _may(grants, province, "WRITE", "TOPIC", T.inbox("150404"))
    for sibling in siblings:
        assert not _may(grants, county, "WRITE", "TOPIC", T.inbox(sibling))
        assert not _may(grants, county, "READ", "TOPIC", T.inbox(sibling))
        assert not _may(grants, county, "READ", "GROUP", inbox_group(T.prefix, sibling))


def test_a_node_reads_only_its_own_inbox_with_its_own_group(topology: Topology) -> None:
    grants = derive_grants(topology, T)
    for division in topology.divisions:
        me = node_principal(division.code)
        mine = [g for g in grants if g.principal == me]
        reads = {g.name for g in mine if g.operation == "READ" and g.resource == "TOPIC"}
        assert reads == {T.inbox(division.code), T.deadletter(division.code), T.schemas()}
        groups = {g.name for g in mine if g.resource == "GROUP"}
        assert groups == {inbox_group(T.prefix, division.code)}
        assert not any(g.resource == "TOPIC" and g.name == T.log(division.code)
                       and g.operation == "READ" for g in mine)  # fmt: skip


def test_nobody_holds_create_delete_alter_or_cluster_rights(topology: Topology) -> None:
    grants = derive_grants(topology, T, integrators=parse_integrators(["bank", "app=p.x"]))
    assert {g.operation for g in grants} == {"READ", "WRITE"}
    assert {g.resource for g in grants} == {"TOPIC", "GROUP"}
    assert not any(g.principal == "admin" for g in grants)
    assert all(g.name.startswith("p.") for g in grants)  # every grant is the run's own


def test_auditors_read_logs_and_inboxes_integrators_logs_and_the_feed(topology: Topology) -> None:
    grants = derive_grants(
        topology, T, integrators=[Integrator("integrator"), Integrator("app", (T.public_status(),))]
    )
    codes = [d.code for d in topology.divisions]
    audited = {g.name for g in grants if g.principal == "auditor"}
    assert audited == {T.log(c) for c in codes} | {T.inbox(c) for c in codes} | {T.schemas()}
    assert not any(g.principal == "auditor" and g.operation != "READ" for g in grants)
    read = {g.name for g in grants if g.principal == "integrator" and g.resource == "TOPIC"}
    assert read == {T.log(c) for c in codes} | {T.public_status(), T.schemas()}
    narrowed = {g.name for g in grants if g.principal == "app" and g.resource == "TOPIC"}
    assert narrowed == {T.public_status(), T.schemas()}  # its grant is configurable
    assert not any(g.principal in ("integrator", "app") and "inbox" in g.name for g in grants)


def test_every_topic_a_node_writes_in_the_scenario_is_granted_to_it(
    topology: Topology, tmp_path: Path
) -> None:
    bus = InProcessBus(topology, list(DIVISIONS), tmp_path)
    try:
        ex = InProcessExecutor(bus)
        for i in range(12):  # transfers, reviews, supervision, deadlines, dead letters
            drive_case(ex, i)
        bus.clock.advance(days=120)
        for node in bus.nodes.values():
            node.sweep_deadlines()
        bus.settle()
        bus.nodes["150404"].receive(b"\x00garbage", [])
        grants = derive_grants(topology, bus.topics)
        checked: set[str] = set()
        for division, node in bus.nodes.items():
            with node.store.engine.connect() as conn:
                written = {
                    str(t) for (t,) in conn.execute(text("SELECT DISTINCT topic FROM outbox"))
                }
            me = node_principal(division)
            refused = {t for t in written if not _may(grants, me, "WRITE", "TOPIC", t)}
            assert not refused, (division, refused)
            checked |= written
        # the scenario reached the kinds of topic a node writes (the check is not vacuous)
        t = bus.topics
        assert {t.inbox("150400"), t.inbox("150404"), t.log("150404")} <= checked
        assert t.deadletter("150404") in checked and t.public_status() in checked
    finally:
        bus.close()


def test_plan_is_idempotent_and_removes_only_stale_grants_of_its_prefix(
    topology: Topology,
) -> None:
    wanted = derive_grants(topology, T)
    stale = Grant("node-150404", "TOPIC", T.inbox("150403"), "WRITE")
    other_run = Grant("node-150404", "TOPIC", "q.xinfang.150403.inbox", "WRITE")
    first = plan(wanted, [stale, other_run], T.prefix)
    assert set(first.add) == set(wanted)
    assert first.remove == (stale,)
    again = plan(wanted, [*wanted, other_run], T.prefix)
    assert again.empty


def test_provisioning_covers_every_grant_topic_with_replication_defaults(
    topology: Topology,
) -> None:
    provisioned = set(topology_topics(topology, T))
    granted = {g.name for g in derive_grants(topology, T) if g.resource == "TOPIC"}
    assert granted <= provisioned
    assert Replication.for_cluster(1) == Replication(1, 1)
    assert Replication.for_cluster(2) == Replication(2, 1)
    assert Replication.for_cluster(3) == Replication(3, 2)
    assert Replication.for_cluster(5) == Replication(3, 2)
    assert Replication.for_cluster(5, replicas=5, min_insync=3) == Replication(5, 3)


def test_docs_acl_table_is_generated_and_up_to_date() -> None:
    checked_in = (ROOT / "docs" / "kafka-acls.md").read_text(encoding="utf-8")
    assert checked_in == docs_table(), (
        "docs/kafka-acls.md 已过期 / is out of date: xinfang kafka acls --docs docs/kafka-acls.md"
    )

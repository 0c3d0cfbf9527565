"""F7: every topic a node's outbox can address is one the node provisions before it starts.

A row for a topic that does not exist would hold up the node's whole relay, so this is checked
over the chaos scenario (transfers, acceptances, opinions, reviews, supervision, deadlines) run
in-process: every topic in each node's outbox must be among that node's provisioned topics.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from xinfang.devtools.chaos_scenario import DIVISIONS, InProcessExecutor, drive_case
from xinfang.devtools.inprocess import InProcessBus
from xinfang.domain.topology import Topology
from xinfang.node.app import provisioned_topics


def test_every_topic_a_node_writes_to_is_provisioned_by_that_node(
    topology: Topology, tmp_path: Path
) -> None:
    bus = InProcessBus(topology, list(DIVISIONS), tmp_path)
    try:
        ex = InProcessExecutor(bus)
        for i in range(12):  # every 4th case is reviewed, every 5th supervised
            drive_case(ex, i)
        bus.clock.advance(days=120)  # deadlines pass: missed deadlines, supervision, closing
        for node in bus.nodes.values():
            node.sweep_deadlines()
        bus.settle()
        bus.nodes["150404"].receive(b"\x00garbage", [])  # and a dead letter
        written: set[str] = set()
        for division, node in bus.nodes.items():
            with node.store.engine.connect() as conn:
                topics = {
                    str(t) for (t,) in conn.execute(text("SELECT DISTINCT topic FROM outbox"))
                }
            provisioned = provisioned_topics(bus.topics, topology, division)
            assert topics <= set(provisioned), (division, topics - set(provisioned))
            written |= topics
        # the scenario did reach every kind of topic
        assert bus.topics.deadletter("150404") in written
        assert bus.topics.public_status() in written
        assert {bus.topics.log("150400"), bus.topics.log("150404")} <= written
    finally:
        bus.close()

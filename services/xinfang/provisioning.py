"""The topics a node provisions and their configurations (docs/integrators.md): data the node's
start-up (node/admin.py creates them) and the published AsyncAPI contract (contract/asyncapi.py)
share, so the contract describes exactly what a node creates without importing the node."""

from __future__ import annotations

from .domain.topology import Topology
from .topics import TopicNames

# The log is the auditable record: kept forever, never compacted. A node writes a few hundred
# records a week, so the broker's weekly segment roll would leave ~52 tiny segment files (and
# their indexes) per log per year: roll once a year instead (docs/benchmarks.md, F6).
LOG_SEGMENT_MS = str(365 * 24 * 3600 * 1000)
LOG_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete", "segment.ms": LOG_SEGMENT_MS}
# Shared topics, latest value per key kept forever (docs/integrators.md).
SCHEMAS_CONFIG = {"cleanup.policy": "compact"}  # key = schema fingerprint
PUBLIC_STATUS_CONFIG = {"cleanup.policy": "compact"}  # key = case id
# One partition per topic: a log's order is its hash chain, an inbox's order is its sources'.
PARTITIONS = 1


def provisioned_topics(
    names: TopicNames, topology: Topology, own: str
) -> dict[str, dict[str, str]]:
    """Every topic a node may publish to, with its configuration: the node creates them before
    it starts, because one outbox row for a missing topic would hold up its relay (F7)."""
    wanted = {
        names.log(own): LOG_CONFIG,
        names.inbox(own): {},
        names.deadletter(own): {"retention.ms": "-1"},
    }
    for neighbour in topology.neighbours(own):
        wanted.setdefault(names.inbox(neighbour), {})
    wanted[names.schemas()] = SCHEMAS_CONFIG
    wanted[names.public_status()] = PUBLIC_STATUS_CONFIG
    return wanted

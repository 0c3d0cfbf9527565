"""The topics a node provisions and their configurations (docs/integrators.md): data the node's
start-up (node/admin.py creates them) and the published AsyncAPI contract (contract/asyncapi.py)
share, so the contract describes exactly what a node creates without importing the node."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .domain.topology import Topology
from .settings import SettingsError
from .topics import TopicNames

# The log is the auditable record: kept forever, never compacted. A node writes a few hundred
# records a week, so the broker's weekly segment roll would leave ~52 tiny segment files (and
# their indexes) per log per year: roll once a year instead (docs/benchmarks.md, F6).
LOG_SEGMENT_MS = str(365 * 24 * 3600 * 1000)
LOG_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete", "segment.ms": LOG_SEGMENT_MS}
# Shared topics, latest value per key kept forever (docs/integrators.md).
SCHEMAS_CONFIG = {"cleanup.policy": "compact"}  # key = schema fingerprint
PUBLIC_STATUS_CONFIG = {"cleanup.policy": "compact"}  # key = case id
# The operator trail (decision 027): 网络安全法 Art. 21 asks at least six months; the topic keeps
# XINFANG_TRAIL_RETENTION_DAYS (default a year), never fewer than RETENTION_FLOOR_DAYS.
RETENTION_FLOOR_DAYS = 180  # 15 552 000 000 ms; nothing deletes a trail entry earlier
TRAIL_RETENTION_ENV = "XINFANG_TRAIL_RETENTION_DAYS"
TRAIL_RETENTION_DEFAULT_DAYS = 365


def trail_retention_days(env: Mapping[str, str] | None = None) -> int:
    """Days the trail topic keeps entries: $XINFANG_TRAIL_RETENTION_DAYS, at least 180.
    Raises SettingsError for a value that is not a whole number of days or is below the floor."""
    text = (os.environ if env is None else env).get(TRAIL_RETENTION_ENV) or ""
    if not text:
        return TRAIL_RETENTION_DEFAULT_DAYS
    if not text.isdigit() or int(text) < RETENTION_FLOOR_DAYS:
        raise SettingsError(
            f"{TRAIL_RETENTION_ENV} 须为不少于 {RETENTION_FLOOR_DAYS} 的天数（网络安全法"
            "第二十一条）"
            f" / must be a number of days, at least {RETENTION_FLOOR_DAYS}: {text!r}"
        )
    return int(text)


def trail_config(days: int | None = None) -> dict[str, str]:
    kept = trail_retention_days() if days is None else max(days, RETENTION_FLOOR_DAYS)
    return {"retention.ms": str(kept * 24 * 3600 * 1000), "cleanup.policy": "delete"}


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
        names.trail(own): trail_config(),
    }
    for neighbour in topology.neighbours(own):
        wanted.setdefault(names.inbox(neighbour), {})
    wanted[names.schemas()] = SCHEMAS_CONFIG
    wanted[names.public_status()] = PUBLIC_STATUS_CONFIG
    return wanted

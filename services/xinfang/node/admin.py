"""Topic provisioning: create missing topics (admin, or a node on a plaintext broker), or check
that a node's topics exist (a node on a secured broker holds no CREATE)."""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ..domain.errors import ConfigurationError
from ..kafka_security import KafkaSecurity, client_security

log = logging.getLogger(__name__)

# The log is the auditable record: kept forever, never compacted. A node writes a few hundred
# records a week, so the broker's weekly segment roll would leave ~52 tiny segment files (and
# their indexes) per log per year: roll once a year instead (docs/benchmarks.md, F6).
LOG_SEGMENT_MS = str(365 * 24 * 3600 * 1000)
LOG_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete", "segment.ms": LOG_SEGMENT_MS}
# Shared topics, latest value per key kept forever (docs/integrators.md).
SCHEMAS_CONFIG = {"cleanup.policy": "compact"}  # key = schema fingerprint
PUBLIC_STATUS_CONFIG = {"cleanup.policy": "compact"}  # key = case id


async def ensure_topics(
    bootstrap_servers: str,
    topics: dict[str, dict[str, str]],
    partitions: int = 1,
    *,
    replication_factor: int = 1,
    min_insync: int | None = None,
    security: KafkaSecurity | None = None,
) -> None:
    """Create the missing topics (existing ones are left alone). Needs CREATE: on a secured
    broker only ``admin`` holds it (``xinfang kafka provision``, kafka_admin.py)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, **(security or client_security()).aiokafka()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        isr = {} if min_insync is None else {"min.insync.replicas": str(min_insync)}
        missing = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs={**cfg, **isr},
            )
            for name, cfg in topics.items()
            if name not in existing
        ]
        if not missing:
            return
        response = await admin.create_topics(missing)
        for topic_error in response.topic_errors:
            name, code = topic_error[0], topic_error[1]
            # Another node may have created it between our listing and our request.
            if code not in (0, TopicAlreadyExistsError.errno):
                raise RuntimeError(
                    f"cannot create topic {name}: error code {code} {topic_error[2:]}"
                )
        log.info("created topics: %s", ", ".join(t.name for t in missing))
        # A consumer that joins before its new topic is in the broker's metadata ignores the
        # topic until the next metadata refresh (minutes): wait until every topic is listed.
        for _ in range(60):
            if set(topics) <= set(await admin.list_topics()):
                break
            await asyncio.sleep(0.5)
    finally:
        await admin.close()


class MissingTopics(ConfigurationError, RuntimeError):
    """Topics a node needs are not on the broker (or not visible to its principal)."""

    code = "XF-TOPICS-MISSING"
    zh = "主题不存在，请先以 admin 运行 `xinfang kafka provision`"
    en = "Topics are missing: run `xinfang kafka provision` as admin first"

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(", ".join(missing), missing=", ".join(missing))


async def check_topics(bootstrap_servers: str, names: list[str]) -> None:
    """Raise MissingTopics naming every topic of ``names`` the broker does not show us."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_security().aiokafka())
    await admin.start()
    try:
        listed = set(await admin.list_topics())
    finally:
        await admin.close()
    missing = sorted(set(names) - listed)
    if missing:
        raise MissingTopics(missing)

"""Topic provisioning: a node creates its own topics and its neighbours' inboxes."""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

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
    bootstrap_servers: str, topics: dict[str, dict[str, str]], partitions: int = 1
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=name, num_partitions=partitions, replication_factor=1, topic_configs=cfg)
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

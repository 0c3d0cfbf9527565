"""Topic provisioning: a node creates its own topics and its neighbours' inboxes (which ones,
with which configuration: xinfang.provisioning)."""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ..provisioning import PARTITIONS

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap_servers: str, topics: dict[str, dict[str, str]], partitions: int = PARTITIONS
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

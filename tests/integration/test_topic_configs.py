"""Provisioned topics carry the configuration the design relies on, read back from the broker."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from xinfang.devtools.broker import Broker
from xinfang.kafka_security import aiokafka_security
from xinfang.node.admin import LOG_CONFIG, LOG_SEGMENT_MS, ensure_topics
from xinfang.topics import TopicNames

pytestmark = pytest.mark.integration


async def _configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **aiokafka_security())
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [resource] = response.resources
        return {str(entry[0]): str(entry[1]) for entry in resource[4]}
    finally:
        await admin.close()


def test_a_log_topic_is_kept_forever_and_rolls_a_segment_once_a_year(
    kafka: Broker, topic_prefix: str
) -> None:
    topic = TopicNames(topic_prefix).log("150404")
    asyncio.run(ensure_topics(kafka.bootstrap_servers, {topic: LOG_CONFIG}))
    configs = asyncio.run(_configs(kafka.bootstrap_servers, topic))
    assert configs["retention.ms"] == "-1"
    assert configs["cleanup.policy"] == "delete"
    assert configs["segment.ms"] == LOG_SEGMENT_MS  # not the broker's 7 days (F6)

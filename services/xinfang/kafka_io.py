"""Reading a topic to its end: the one reader behind the schema catalogue, `audit verify`,
the dead-letter tools, the chaos checker and the integration tests.

A partition is read from its beginning (or from the first record at or after a time) to the end
offset it had when reading began, with no consumer group, so nothing is committed and records
written meanwhile are left for the next read. Every wait is bounded: a partition that makes no
progress for `stall_s` seconds raises TimeoutError.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from .kafka_security import aiokafka_security


def partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions in order (metadata must be loaded, e.g. by `consumer.topics()`)."""
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0})]


async def read_partition(
    consumer: AIOKafkaConsumer,
    tp: TopicPartition,
    *,
    since_ms: int | None = None,
    batch: int = 5000,
    stall_s: float = 30.0,
    on_span: Callable[[int, int], None] | None = None,
) -> AsyncIterator[list[ConsumerRecord]]:
    """Batches of `tp`'s records in offset order, up to its end offset at the start; assigns
    the consumer to `tp` alone. `on_span(start, end)` is told the offsets first (progress).
    Raises TimeoutError after `stall_s` seconds without a record."""
    consumer.assign([tp])
    end = (await consumer.end_offsets([tp]))[tp]
    start = (await consumer.beginning_offsets([tp]))[tp]
    if since_ms is not None:
        found = (await consumer.offsets_for_times({tp: since_ms}))[tp]
        start = found.offset if found is not None else end
    consumer.seek(tp, start)
    if on_span is not None:
        on_span(start, end)
    loop = asyncio.get_running_loop()
    last_progress = loop.time()
    while start < end and await consumer.position(tp) < end:
        got = (await consumer.getmany(tp, timeout_ms=1000, max_records=batch)).get(tp, [])
        records = [r for r in got if r.offset < end]
        if not got:
            if loop.time() - last_progress > stall_s:
                raise TimeoutError(f"{tp.topic}[{tp.partition}]: 读取停滞 / no progress")
            continue
        last_progress = loop.time()
        if records:
            yield records
        if len(records) < len(got):
            return  # reached the end offset


async def read_to_end(
    bootstrap_servers: str, topic_names: list[str], timeout_s: float = 30.0
) -> list[ConsumerRecord]:
    """Every record of the topics, partition by partition in offset order, from the beginning
    to their end offsets. Raises LookupError naming a topic that does not exist, TimeoutError
    when a partition makes no progress for `timeout_s` seconds."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **aiokafka_security(),
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        missing = set(topic_names) - set(await consumer.topics())
        if missing:
            raise LookupError(f"主题不存在 / no such topic: {', '.join(sorted(missing))}")
        for topic in topic_names:
            for tp in partitions(consumer, topic):
                async for got in read_partition(consumer, tp, stall_s=timeout_s):
                    records.extend(got)
        return records
    finally:
        await consumer.stop()


async def read_topic(
    bootstrap_servers: str, topic: str, timeout_s: float = 120.0
) -> list[ConsumerRecord]:
    """`read_to_end` of one topic; [] when it does not exist (nothing written to it yet)."""
    try:
        return await read_to_end(bootstrap_servers, [topic], timeout_s)
    except LookupError:
        return []

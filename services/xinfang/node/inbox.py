"""The inbox consumer: a plain aiokafka consumer that hands each fetch to the node service.

Why not a faust agent: faust passes every record through its stream machinery and a consumer
thread, which capped a node near 1,500 records/s before any work was done, and its batching
(`take_events`) waits out a time window even when a backlog is queued. `getmany` returns what
the fetcher already holds, so a backlog is applied 500 records per transaction (group commit)
and a lone record is applied as soon as it arrives (docs/benchmarks.md, F1).

Exactly once, as before: the records' effects and inbox entries commit in one transaction,
and the offset is committed to Kafka only after that; a redelivery after a crash or a
rebalance finds the inbox entries and changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer

from ..contract.catalogue import SchemaLearner
from ..kafka_security import aiokafka_security
from ..store.records import Headers
from .retry import BROKER_TROUBLE, Backoff, stop_quietly
from .service import NodeService

log = logging.getLogger(__name__)


def record_headers(raw: Iterable[tuple[str, bytes | None]] | None) -> Headers:
    return [(k, v if v is not None else b"") for k, v in raw or ()]


class InboxConsumer:
    def __init__(
        self,
        service: NodeService,
        bootstrap_servers: str,
        topic: str,
        group_id: str,
        client_id: str,
        max_records: int = 500,
        schemas: SchemaLearner | None = None,
    ) -> None:
        self.service = service
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.group_id = group_id
        self.client_id = client_id
        self.max_records = max_records
        self.schemas = schemas  # learns writer schemas of newer releases before decoding
        self._consumer: AIOKafkaConsumer | None = None
        self.failing_since: float | None = None  # monotonic time of the first failure in a row
        self.last_error = ""

    async def _start(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            client_id=self.client_id,
            enable_auto_commit=False,
            **aiokafka_security(),
            auto_offset_reset="earliest",
            # One node is one group member: after a crash its successor should not wait long
            # for the dead member's session to expire before it consumes again.
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            rebalance_timeout_ms=20_000,
            metadata_max_age_ms=30_000,
        )
        await consumer.start()
        self._consumer = consumer
        return consumer

    async def apply_fetched(self, consumer: AIOKafkaConsumer) -> int:
        """Apply one fetch (waiting up to a second for it); returns the records applied."""
        fetched = await consumer.getmany(timeout_ms=1_000, max_records=self.max_records)
        applied = 0
        for tp, messages in fetched.items():
            records = [(bytes(m.value or b""), record_headers(m.headers)) for m in messages]
            origins = [f"{m.topic}:{m.partition}:{m.offset}" for m in messages]
            if self.schemas is not None:
                await self.schemas.before(records)
            self.service.receive_batch(records, origins)  # commits before the offset below
            await consumer.commit({tp: messages[-1].offset + 1})
            applied += len(records)
        return applied

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                consumer = self._consumer or await self._start()
                await self.apply_fetched(consumer)
                backoff.reset()
                self.failing_since = None
            except BROKER_TROUBLE as exc:  # the records stay uncommitted: they come again
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                self.last_error = repr(exc)
                log.warning("inbox consumer: %r; restarting in %.1fs", exc, backoff.delay_s)
                await self.stop()
                await backoff.pause()

    def health(self, stuck_after_s: float) -> dict[str, object]:
        """The consumer's part of /health: `status` "degraded" once it has failed without a
        success for longer than `stuck_after_s` (e.g. a topic or group it is not authorised to
        read: retried like an outage, but it will not pass), with the last error (中英)."""
        failing_s = 0.0 if self.failing_since is None else time.monotonic() - self.failing_since
        stuck = self.failing_since is not None and failing_s > stuck_after_s
        alarms = (
            [
                f"收件箱消费已连续失败 {failing_s:.0f} 秒 / the inbox consumer has failed for "
                f"{failing_s:.0f} s: {self.last_error}"
            ]
            if stuck
            else []
        )
        return {
            "status": "degraded" if stuck else "ok",
            "inbox_consumer": {
                "failing_for_s": round(failing_s, 1),
                "last_error": self.last_error,
                "alarms": alarms,
            },
        }

    async def stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        await stop_quietly(consumer, "consumer")

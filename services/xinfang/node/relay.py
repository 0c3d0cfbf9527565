"""Outbox relay: publishes committed outbox rows in order, then marks them sent.

The producer is idempotent with acks=all, so a broker retry never duplicates or
reorders a record. A crash after publishing but before marking re-publishes the
rows on restart; receivers deduplicate by event id. While the broker is away the
rows simply wait; the backlog goes out in order when it is back.

A row the broker will never accept (node/publish_errors.py: too large, unauthorised, unknown
topic) is set aside with its reason instead of being retried for ever, and the rows after it go
out (docs/decisions/012-relay-sets-aside-refused-records.md). Later events of the same case are
not held back: receivers park them until the set-aside one is re-sent (`xinfang outbox resend`),
and /health says so (`status: degraded`, `relay.set_aside`).

An inbox copy whose recipient's encryption key is not known is written set aside
(`recipient-key-missing`, node/key_wait.py): the relay releases it, wrapped, before each batch
once the key is published (docs/decisions/038-copies-wait-for-the-recipients-key.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from ..kafka_security import aiokafka_security
from ..store.protocols import Store
from ..store.records import OutboxRow
from .faults import CrashPoints
from .key_wait import KEY_MISSING, KeyWait, key_alarms
from .publish_errors import UNKNOWN_TOPIC_GRACE_S, is_unknown_topic, never_succeeds
from .retry import BROKER_TROUBLE, Backoff, stop_quietly

log = logging.getLogger(__name__)

# The relay's producer settings (the raw baseline in bench/ uses the same). Idempotent with
# acks=all: a retry never duplicates or reorders. Batches up to 512 KiB: a backlog of ~600-byte
# records goes out in a few requests instead of one per 16 KiB default batch.
PRODUCER_SETTINGS: dict[str, object] = {
    "enable_idempotence": True,
    "acks": "all",
    "linger_ms": 2,
    "max_batch_size": 512 * 1024,
}


# A relay whose oldest waiting row is older than this (seconds) is reported stuck on /health:
# also what shows an error the idempotent producer retries internally for ever (a topic deleted
# under it, a partition without leader), since its acknowledgement never comes.
STUCK_AFTER_S = 300.0


@dataclass(frozen=True)
class BatchRefused:
    """The broker's error for the whole batch a row was sent in (not necessarily its fault)."""

    error: BaseException


class NotSent:
    """A row not sent because an earlier one failed for a transient reason."""


# What became of one row: acknowledged (None), refused before sending (the error, about this
# record alone), its batch refused, or not sent.
Outcome = BaseException | BatchRefused | NotSent | None


class OutboxRelay:
    def __init__(
        self,
        store: Store,
        bootstrap_servers: str,
        client_id: str,
        batch_size: int = 500,
        idle_poll_s: float = 0.5,
        stuck_after_s: float = STUCK_AFTER_S,
        unknown_topic_grace_s: float = UNKNOWN_TOPIC_GRACE_S,
        producer_settings: dict[str, object] | None = None,
        crash_points: CrashPoints | None = None,
        key_wait: KeyWait | None = None,
    ) -> None:
        self.store = store
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.batch_size = batch_size
        self.idle_poll_s = idle_poll_s
        self.stuck_after_s = stuck_after_s
        self.unknown_topic_grace_s = unknown_topic_grace_s
        self.producer_settings = {**PRODUCER_SETTINGS, **(producer_settings or {})}
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self.published = 0
        self.set_aside = 0  # rows this process set aside (the store has the lasting count)
        self.failures = 0  # failed attempts in a row (0 after a success)
        self.last_error = ""
        self._unknown_since: dict[int, float] = {}  # row id -> first "unknown topic" (monotonic)
        self.crash_points = crash_points or CrashPoints()  # inert unless a drill sets them
        self.key_wait = key_wait  # inbox copies held for a recipient's key (decision 038)

    def wake(self) -> None:
        """Called after a commit that may have added outbox rows (thread-unsafe by design:
        commits happen on the event loop)."""
        self._wake.set()

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                client_id=self.client_id,
                **aiokafka_security(),
                **{"request_timeout_ms": 15000, **self.producer_settings},
            )
            await producer.start()
            self._producer = producer
        return self._producer

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published or set aside.

        Rows are marked sent up to the first transient failure, which is then raised
        (BROKER_TROUBLE) unless rows before it went out; the rest are retried from it later. A
        row refused for good is set aside, after one more try alone when the broker refused
        its whole batch (a batch the broker finds too large may hold only small records).
        """
        held = 0
        if self.key_wait is not None:
            self.key_wait.release()  # before reading the queue: released rows go first
        rows = self.store.outbox.pending(self.batch_size)
        if self.key_wait is not None:
            ready = self.key_wait.prepare(rows)
            held, rows = len(rows) - len(ready), ready
        if not rows:
            return held
        self.crash_points.at_before_publish()
        outcomes = await self._send(rows)
        self.crash_points.at_before_mark()
        sent: list[OutboxRow] = []
        refused: list[tuple[OutboxRow, str, BaseException]] = []
        transient: BaseException | None = None
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome is None:
                sent.append(row)
                continue
            if isinstance(outcome, NotSent):
                break
            error = outcome.error if isinstance(outcome, BatchRefused) else outcome
            reason = self._reason(row, error)
            if reason is None:
                transient = error
                break
            if isinstance(outcome, BatchRefused):
                await self._reset_producer()  # a refused batch leaves the sequence behind
                [alone] = await self._send([row])
                if alone is None:  # innocent: the broker refused its batch for another record
                    sent.append(row)
                    continue
                again = alone.error if isinstance(alone, BatchRefused) else alone
                if isinstance(again, NotSent):  # cannot happen for a single row
                    again = error
                reason = self._reason(row, again)
                if reason is None:
                    transient = again
                    break
                error = again
            refused.append((row, reason, error))
        self.store.outbox.mark_sent([row.id for row in sent])
        self.published += len(sent)
        for row in sent:
            self._unknown_since.pop(row.id, None)
        for row, reason, exc in refused:
            self._set_aside(row, reason, exc)
        if refused:
            await self._reset_producer()
        handled = len(sent) + len(refused) + held
        if transient is not None and handled == 0:
            raise transient
        return handled

    async def _send(self, rows: Sequence[OutboxRow]) -> list[Outcome]:
        """Send rows in order and wait for every acknowledgement: one outcome per row."""
        producer = await self._ensure_producer()
        futures: list[Outcome | asyncio.Future[object]] = []
        for row in rows:
            try:
                futures.append(
                    await producer.send(
                        row.topic, value=row.value, key=row.key.encode(), headers=row.headers
                    )
                )
            except BROKER_TROUBLE as exc:  # refused before sending: this record alone
                futures.append(exc)
                if self._reason(row, exc) is None:
                    break  # transient (so far): the rows after it wait for the retry
        pending = [f for f in futures if isinstance(f, asyncio.Future)]
        acks = iter(await asyncio.gather(*pending, return_exceptions=True))
        outcomes: list[Outcome] = []
        for sent in futures:
            if not isinstance(sent, asyncio.Future):
                outcomes.append(sent)
                continue
            ack = next(acks)
            if isinstance(ack, BaseException):
                if not isinstance(ack, BROKER_TROUBLE):
                    raise ack  # a bug, not the broker
                outcomes.append(BatchRefused(ack))
            else:
                outcomes.append(None)
        outcomes += [NotSent() for _ in range(len(rows) - len(outcomes))]
        return outcomes

    def _reason(self, row: OutboxRow, exc: BaseException) -> str | None:
        unknown_for = 0.0
        if is_unknown_topic(exc):
            since = self._unknown_since.setdefault(row.id, time.monotonic())
            unknown_for = time.monotonic() - since
        return never_succeeds(exc, unknown_for, self.unknown_topic_grace_s)

    def _set_aside(self, row: OutboxRow, reason: str, exc: BaseException) -> None:
        self.store.outbox.set_aside(row.id, reason)
        self._unknown_since.pop(row.id, None)
        self.set_aside += 1
        self.last_error = f"{reason}: {exc!r}"
        log.error(
            "outbox relay: row %d (%s, key %s, %d bytes) set aside: %s (%r)",
            row.id, row.topic, row.key, len(row.value), reason, exc,
        )  # fmt: skip

    def health(self) -> dict[str, object]:
        """The relay's part of /health: `status` "degraded" when rows are set aside or the
        oldest waiting row is older than `stuck_after_s`, with counts and reasons (中英)."""
        backlog = self.store.outbox.backlog()
        oldest_s = (
            (datetime.now(UTC) - backlog.oldest_pending_at).total_seconds()
            if backlog.oldest_pending_at is not None
            else 0.0
        )
        set_aside = sum(backlog.set_aside.values())
        stuck = oldest_s > self.stuck_after_s
        alarms = []
        # Held for a recipient's key: their own alarm, naming the division (decision 038).
        refused = {r: n for r, n in backlog.set_aside.items() if r != KEY_MISSING}
        waiting: dict[str, int] = {}
        if KEY_MISSING in backlog.set_aside:
            waiting = (
                self.key_wait.health() if self.key_wait else {"?": backlog.set_aside[KEY_MISSING]}
            )
            alarms += key_alarms(waiting)
        if refused:
            n_refused = sum(refused.values())
            reasons = ", ".join(f"{r} ×{n}" for r, n in sorted(refused.items()))
            alarms.append(
                f"{n_refused} 条记录被代理搁置（{reasons}），相关事项的后续事件在接收方等待，"
                f"排除原因后执行 xinfang outbox resend / {n_refused} records set aside by the "
                f"relay ({reasons}); later events of those cases wait at their receivers until "
                "re-sent with `xinfang outbox resend`"
            )
        if stuck:
            alarms.append(
                f"最早的待发布记录已等待 {oldest_s:.0f} 秒 / the oldest unsent record has waited "
                f"{oldest_s:.0f} s (last error: {self.last_error or '-'})"
            )
        return {
            "status": "degraded" if alarms else "ok",
            "relay": {
                "pending": backlog.pending,
                "oldest_pending_s": round(oldest_s, 1),
                "stuck": stuck,
                "failures_in_a_row": self.failures,
                "last_error": self.last_error,
                "set_aside": set_aside,
                "set_aside_reasons": backlog.set_aside,
                "waiting_for_keys": waiting,  # division -> rows held for its key (038)
                "alarms": alarms,
            },
        }

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                sent = await self.publish_pending()
                backoff.reset()
                self.failures = 0
            except BROKER_TROUBLE as exc:
                self.failures += 1
                self.last_error = repr(exc)
                log.warning(
                    "outbox relay: broker unavailable (%r); retrying in %.1fs", exc, backoff.delay_s
                )
                await self._reset_producer()
                await backoff.pause()
                continue
            if sent == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.idle_poll_s)

    async def _reset_producer(self) -> None:
        producer, self._producer = self._producer, None
        await stop_quietly(producer, "producer")

    async def stop(self) -> None:
        await self._reset_producer()

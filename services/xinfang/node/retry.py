"""What the inbox consumer and the outbox relay share when the broker is away: a doubling
pause between attempts, and stopping a Kafka client that may already be broken."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

# What a lost broker connection raises: aiokafka's errors, or the socket's own.
BROKER_TROUBLE: tuple[type[BaseException], ...] = (KafkaError, OSError)


class Backoff:
    """0.5 s, 1 s, 2 s … up to 10 s between failed attempts; back to 0.5 s after a success."""

    def __init__(self, first_s: float = 0.5, cap_s: float = 10.0) -> None:
        self.first_s, self.cap_s = first_s, cap_s
        self.delay_s = first_s

    def reset(self) -> None:
        self.delay_s = self.first_s

    async def pause(self) -> None:
        await asyncio.sleep(self.delay_s)
        self.delay_s = min(self.delay_s * 2, self.cap_s)


async def stop_quietly(client: Any, what: str) -> None:
    """Stop a producer or consumer; one whose connection is already gone may fail to stop."""
    if client is None:
        return
    try:
        await client.stop()
    except Exception:
        log.debug("%s stop failed", what, exc_info=True)

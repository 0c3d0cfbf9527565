"""Dead letters: list a node's refused records and re-drive one into its inbox after a fix.

A dead letter keeps the original bytes and headers, plus `xinfang_dlq_reason`,
`xinfang_dlq_detail`, `xinfang_dlq_node` and `xinfang_dlq_origin` (where the node read the
record: "topic:partition:offset"). A record refused again after a redelivery (a crash before
the offset commit) or re-published by the relay (a crash before mark-sent) is the same dead
letter: listings show it once. Re-driving produces the original record
(without the dlq headers) to the node's inbox again; the inbox deduplicates, so
re-driving something that was meanwhile applied changes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from ..chain.record_signing import DLQ_ORIGINAL_SIG, SIG_HEADER
from ..domain.errors import WireError
from ..kafka_io import read_topic
from ..kafka_security import aiokafka_security
from ..topics import TopicNames

DLQ_HEADERS = ("xinfang_dlq_reason", "xinfang_dlq_detail", "xinfang_dlq_node", "xinfang_dlq_origin")


class NoSuchDeadLetter(WireError, LookupError):
    """The dead-letter topic has no record at the offset asked for."""

    code = "XF-NO-DEAD-LETTER"
    zh = "死信主题中没有该记录"
    en = "No dead letter at that offset"


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    reason: str
    detail: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    timestamp_ms: int

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        """The refused record's own headers: without the dead-letter headers and the refusing
        node's signature, with the author's signature restored (decision 021)."""
        return [
            (SIG_HEADER if k == DLQ_ORIGINAL_SIG else k, v)
            for k, v in self.headers
            if k not in DLQ_HEADERS and k != SIG_HEADER
        ]

    @property
    def identity(self) -> tuple[str, str] | None:
        """(origin, reason): equal for repeats of one refusal; None for letters without origin."""
        origin = self.header("xinfang_dlq_origin")
        return (origin, self.reason) if origin else None

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return ""


def distinct(letters: list[DeadLetter]) -> list[DeadLetter]:
    """The letters in offset order, each repeat of an earlier refusal left out."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for letter in sorted(letters, key=lambda x: x.offset):
        identity = letter.identity
        if identity is not None:
            if identity in seen:
                continue
            seen.add(identity)
        kept.append(letter)
    return kept


async def read_dead_letters(bootstrap: str, topics: TopicNames, division: str) -> list[DeadLetter]:
    """The node's dead letters, oldest first, repeats left out (no consumer group)."""
    records = await read_topic(bootstrap, topics.deadletter(division))
    return distinct([_letter(r) for r in records])


def _letter(record: Any) -> DeadLetter:
    headers = [(str(k), bytes(v)) for k, v in (record.headers or ())]
    found = dict(headers)
    return DeadLetter(
        offset=int(record.offset),
        reason=found.get("xinfang_dlq_reason", b"").decode("utf-8", "replace"),
        detail=found.get("xinfang_dlq_detail", b"").decode("utf-8", "replace"),
        key=record.key,
        value=bytes(record.value or b""),
        headers=headers,
        timestamp_ms=int(record.timestamp),
    )


async def redrive(bootstrap: str, topics: TopicNames, division: str, offset: int) -> DeadLetter:
    letters = await read_dead_letters(bootstrap, topics, division)
    chosen = next((x for x in letters if x.offset == offset), None)
    if chosen is None:
        raise NoSuchDeadLetter(f"死信主题中没有偏移量 {offset} / no dead letter at offset {offset}")
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", **aiokafka_security()
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.inbox(division),
            value=chosen.value,
            key=chosen.key,
            headers=[*chosen.original_headers, ("xinfang_redriven_from", str(offset).encode())],
        )
    finally:
        await producer.stop()
    return chosen


def list_sync(bootstrap: str, topics: TopicNames, division: str) -> list[DeadLetter]:
    return asyncio.run(read_dead_letters(bootstrap, topics, division))


def redrive_sync(bootstrap: str, topics: TopicNames, division: str, offset: int) -> DeadLetter:
    return asyncio.run(redrive(bootstrap, topics, division, offset))

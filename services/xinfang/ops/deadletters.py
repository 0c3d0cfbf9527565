"""Dead letters: list a node's refused records and re-drive one into its inbox after a fix.

A dead letter keeps the original bytes and headers, plus `xinfang_dlq_reason`,
`xinfang_dlq_detail`, `xinfang_dlq_node` and `xinfang_dlq_origin` (where the node read the
record: "topic:partition:offset"). A record refused again after a redelivery (a crash before
the offset commit) or re-published by the relay (a crash before mark-sent) is the same dead
letter: listings show it once. Re-driving produces the original record (without the dlq
headers and the refusing node's signature, with its author's signature restored) to the node's
inbox again; the inbox deduplicates, so re-driving something that was meanwhile applied changes
nothing. A record that would be refused again is not re-driven, and the operator is told why
(`judge`): one its author did not sign (decision 021), or one behind its source's chain in the
node's database (decision 022).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from ..chain.record_signing import DLQ_ORIGINAL_SIG, SIG_HEADER, previous_sent_to
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


NEVER_AGAIN = frozenset(
    {"unsigned", "bad-signature", "header-mismatch", "not-addressed", "conflicting-duplicate"}
)
"""Refusals about the record itself (decision 021): its bytes and headers cannot change, so a
re-drive would be refused again."""

CHAIN_BEHIND = frozenset({"chain-seq-regressed", "chain-broken"})
"""Refusals against a source's chain that only moves forward (decision 022): such a record
fits again only if the node's chain of that source is still before it."""


@dataclass(frozen=True)
class Verdict:
    """Whether a dead letter is re-driven, and why not (中英)."""

    letter: DeadLetter
    redrive: bool
    zh: str = ""
    en: str = ""


def judge(letter: DeadLetter, division: str, head: ChainHead | None) -> Verdict:
    """Whether re-driving `letter` into `division`'s inbox can do anything.

    `head`: (last seq applied) from the letter's source as the node's database has it, if the
    caller could read it (None: not known, then chain refusals are not re-driven)."""
    if letter.reason in NEVER_AGAIN:
        return Verdict(
            letter, False,
            f"{letter.reason}：记录本身不变，重新投递仍会被拒绝",
            f"{letter.reason}: the record cannot change, it would be refused again",
        )  # fmt: skip
    if letter.reason in CHAIN_BEHIND:
        fits = _fits(letter, division, head)
        if not fits:
            return Verdict(
                letter, False,
                "链上已有该来源更新的记录，重新投递仍会被拒绝（重放或伪造）",
                "the node already applied a later record of this source: it would be refused "
                "again (replayed or forged)",
            )  # fmt: skip
    return Verdict(letter, True)


def _fits(letter: DeadLetter, division: str, head: ChainHead | None) -> bool:
    if head is None:
        return False
    prev = previous_sent_to(letter.original_headers, division)
    seq = _seq(letter)
    return prev is not None and seq is not None and prev >= head and seq > head


def _seq(letter: DeadLetter) -> int | None:
    from ..codec.wire import EventCodec

    try:
        return EventCodec().decode(letter.value).event.header.seq
    except ValueError:
        return None


ChainHead = int


async def redrive(
    bootstrap: str,
    topics: TopicNames,
    division: str,
    offsets: list[int],
    heads: Callable[[str], ChainHead | None] = lambda _source: None,
) -> list[Verdict]:
    """Re-drive the dead letters at `offsets` that can do something; a verdict per offset.

    `heads(source)`: the last seq the node applied from `source` (its database), if known.
    Raises NoSuchDeadLetter for an offset without a dead letter (nothing is sent then)."""
    letters = {x.offset: x for x in await read_dead_letters(bootstrap, topics, division)}
    missing = [o for o in offsets if o not in letters]
    if missing:
        raise NoSuchDeadLetter(
            f"死信主题中没有偏移量 {missing} / no dead letter at offset {missing}"
        )
    verdicts = [
        judge(letters[o], division, heads(letters[o].header("ce_source"))) for o in offsets
    ]
    chosen = [v.letter for v in verdicts if v.redrive]
    if not chosen:
        return verdicts
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", **aiokafka_security()
    )
    await producer.start()
    try:
        for letter in chosen:
            await producer.send_and_wait(
                topics.inbox(division),
                value=letter.value,
                key=letter.key,
                headers=[
                    *letter.original_headers,
                    ("xinfang_redriven_from", str(letter.offset).encode()),
                ],
            )
    finally:
        await producer.stop()
    return verdicts


def list_sync(bootstrap: str, topics: TopicNames, division: str) -> list[DeadLetter]:
    return asyncio.run(read_dead_letters(bootstrap, topics, division))


def redrive_sync(
    bootstrap: str,
    topics: TopicNames,
    division: str,
    offsets: list[int],
    heads: Callable[[str], ChainHead | None] = lambda _source: None,
) -> list[Verdict]:
    return asyncio.run(redrive(bootstrap, topics, division, offsets, heads))


def chain_heads(database_url: str) -> Callable[[str], ChainHead | None]:
    """`heads` read from a node's database: the last seq applied per direct source."""
    from ..store.unit_of_work import NodeStore

    def head(source: str) -> ChainHead | None:
        store = NodeStore(database_url)
        try:
            with store.transaction() as tx:
                state = tx.inbox.chain_source(source)
            return state.last_seq if state is not None else 0
        finally:
            store.close()

    return head

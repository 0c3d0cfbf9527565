"""What the chaos run checks when everything has settled: every node's store holds exactly
the reference's case events (`snapshot`, `compare`), and every node's log on the broker is an
unbroken chain (`check_log_chain`, the chain package's verifier: an exact re-publication is
harmless, two different records at one position are not), and no forged record was applied
or forwarded anywhere (`forged_applied`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, select

from ..chain.links import record_hash
from ..chain.verifier import Entry, LogChain, Placed
from ..codec.wire import EventCodec
from ..kafka_io import read_topic
from ..store.protocols import Store
from ..store.tables import parked


@dataclass
class NodeSnapshot:
    events: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)  # title -> events
    states: dict[str, tuple[Any, ...]] = field(default_factory=dict)


def snapshot(store: Store, codec: EventCodec) -> NodeSnapshot:
    snap = NodeSnapshot()
    for row in store.cases.list_cases():
        title = str(row["title"])
        history = store.cases.history(str(row["case_id"]))
        kinds: Counter[tuple[str, str]] = Counter()
        for stored in history:
            event = codec.decode(stored.payload).event
            kinds[(event.type, event.header.source)] += 1
        snap.events[title] = snap.events.get(title, Counter()) + kinds
        snap.states[title] = (row["status"], row["holder"], row["outcome"])
    return snap


@dataclass
class Comparison:
    lost: int = 0
    duplicated: int = 0
    mismatched_states: list[str] = field(default_factory=list)


def compare(reference: dict[str, NodeSnapshot], actual: dict[str, NodeSnapshot]) -> Comparison:
    result = Comparison()
    for division, expected in reference.items():
        got = actual[division]
        for title, events in expected.events.items():
            have = got.events.get(title, Counter())
            result.lost += sum((events - have).values())
            result.duplicated += sum((have - events).values())
            if got.states.get(title) != expected.states[title]:
                result.mismatched_states.append(
                    f"{division} {title}: {got.states.get(title)} != {expected.states[title]}"
                )
        for title in set(got.events) - set(expected.events):
            result.duplicated += sum(got.events[title].values())  # a case the reference never had
    return result


# -- log chains on the broker -------------------------------------------------------------------
def check_log_chain(bootstrap: str, topic: str, codec: EventCodec) -> tuple[int, int, int]:
    """(records, harmless re-publications, violations) of one node log: conflicting records at
    one seq, missing sequence numbers (counted once) and broken hash links."""
    records = asyncio.run(read_topic(bootstrap, topic))
    chain = LogChain()
    violations = 0
    for record in records:
        value = bytes(record.value or b"")
        event = codec.decode(value).event
        h = event.header
        entry = Entry(
            h.seq, record_hash(value), h.prev_hash, record.topic, record.partition,
            record.offset, h.event_id, event.type, record.timestamp,
        )
        if chain.add(entry).placed is Placed.CONFLICT:
            violations += 1
    if chain.missing():
        violations += 1
    violations += len(chain.broken_links())
    return len(records), chain.redeliveries, violations


# -- forged records ----------------------------------------------------------------------------
def applied_digests(store: Store) -> set[str]:
    """`record_hash` of every case event a node's store holds (the bytes it applied)."""
    return {
        record_hash(stored.payload)
        for row in store.cases.list_cases()
        for stored in store.cases.history(str(row["case_id"]))
    }


def parked_digests(database_url: str) -> set[str]:
    """`record_hash` of the records a node keeps parked (waiting for their predecessor), read
    from its database while it runs (SQLite in WAL mode serves a reader beside the node)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            payloads = conn.execute(select(parked.c.payload)).scalars()
            return {record_hash(bytes(p)) for p in payloads}
    finally:
        engine.dispose()


def forwarded_digests(bootstrap: str, topics: list[str]) -> Counter[str]:
    """How often each record's bytes occur in `topics` (inboxes and logs)."""
    seen: Counter[str] = Counter()
    for topic in topics:
        for record in asyncio.run(read_topic(bootstrap, topic)):
            seen[record_hash(bytes(record.value or b""))] += 1
    return seen


def forged_applied(
    forged: dict[str, tuple[str, str]], applied: set[str], seen: Counter[str], sent_to: Counter[str]
) -> int:
    """Forged records (digest -> (kind, the inbox it was produced into)) found applied in a
    node's store or carried further than the inbox they were produced into. Replayed genuine
    records are the genuine bytes: they are judged by `compare` (applied twice = duplicated)."""
    count = 0
    for digest, (kind, _) in forged.items():
        if kind == "replay":
            continue
        if digest in applied or seen[digest] > sent_to[digest]:
            count += 1
    return count

"""The attacker's toolkit (issue 12 item 5): forged records made with public material only.

What an outsider with broker access has: the released `.avsc` schemas (the codec), the
claimed source's log topic (readable by every auditor and parent), and at most a key that is
not the source's valid one (a wrong key, or a stolen key that was revoked or expired) — or, for
`illegal_act`, the source's genuine key used for an act its body may not do. Each function
returns `(value, headers)`: the Kafka record value (Avro single-object bytes) and headers to
produce into a node's inbox (`produce`). The receivers must refuse every one (decisions 021,
022, 023) and `audit verify` must name it where it was found (decision 024).

Kinds (`KINDS`, the chaos run's names):
- `impersonation`: a valid link — seq = the source's head + 1, prev_hash = SHA-256 of its last
  log record, `xinfang_prev_to` as the log's own headers give it — unsigned or signed by a
  wrong key;
- `seq-gap`: seq two (or more) ahead of the head with a bogus prev_hash;
- `altered`: a genuine record with its payload changed, the value's hashes recomputed, its
  genuine signature kept (or re-signed with a wrong key);
- `replay`: an old genuine record, byte for byte, delivered again;
- `revoked-key`: a valid link signed by a key the source published once but revoked (or let
  expire);
- `illegal-act`: a valid link signed by the source's genuine key, for an act its body may not
  do on that case (e.g. a county closing a case its city holds).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..chain.keys import NodeKey
from ..chain.links import record_hash
from ..chain.record_signing import CASE_EVENT_COVERED, SIG_HEADER, sign_record
from ..codec.wire import EventCodec, cloudevents_headers
from ..domain.events import Event

Headers = list[tuple[str, bytes]]
Record = tuple[bytes, Headers]
"""(value, headers) of one Kafka record."""

TO_HEADER = "xinfang_to"
PREV_TO_HEADER = "xinfang_prev_to"
KINDS = ("impersonation", "seq-gap", "altered", "replay", "revoked-key", "illegal-act")

_CODEC = EventCodec()


def head(log: Sequence[Record], codec: EventCodec = _CODEC) -> tuple[int, str]:
    """(seq, record hash) of the last record of a source's log as read from its topic; (0, "")
    for an empty log."""
    if not log:
        return 0, ""
    value = log[-1][0]
    return codec.decode(value).event.header.seq, record_hash(value)


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    found = [v for k, v in headers if k == name]
    return found[-1].decode() if found else None


def prev_to(log: Sequence[Record], to: str, codec: EventCodec = _CODEC) -> int:
    """The seq of the source's last record sent to `to`, read from the log's `xinfang_to`
    headers (what the receiver's per-destination pointer expects); 0 if none."""
    for value, headers in reversed(log):
        sent = _header(headers, TO_HEADER)
        if sent and to in sent.split(","):
            return codec.decode(value).event.header.seq
    return 0


def encode(
    event: Event,
    *,
    to: str | None = None,
    prev: int = 0,
    key: NodeKey | None = None,
    codec: EventCodec = _CODEC,
) -> Record:
    """`event` as a node would publish it: CloudEvents headers, the routing headers naming `to`
    (with `prev` as its previous seq there), signed by `key` (None: unsigned)."""
    value = codec.encode(event)
    headers: Headers = cloudevents_headers(event, codec.catalogue.get(event.type).fingerprint_hex)
    covered = list(CASE_EVENT_COVERED)
    if to is not None:
        headers += [(TO_HEADER, to.encode()), (PREV_TO_HEADER, f"{to}:{prev}".encode())]
        covered += [TO_HEADER, PREV_TO_HEADER]
    if key is not None:
        headers = sign_record(key, value, headers, covered)
    return value, headers


def _positioned(event: Event, seq: int, prev_hash: str) -> Event:
    header = replace(event.header, event_id=str(uuid.uuid4()), seq=seq, prev_hash=prev_hash)
    return replace(event, header=header)


def impersonation(
    log: Sequence[Record], event: Event, to: str, key: NodeKey | None = None
) -> Record:
    """`event` claiming the log's source, linked validly after its head; unsigned, or signed by
    `key` (a key the source never published)."""
    seq, last = head(log)
    return encode(_positioned(event, seq + 1, last), to=to, prev=prev_to(log, to), key=key)


def seq_gap(
    log: Sequence[Record], event: Event, to: str, gap: int = 2, key: NodeKey | None = None
) -> Record:
    """`event` with seq = head + `gap` and a prev_hash of all `f`: a link nobody can check."""
    seq, _ = head(log)
    forged = _positioned(event, seq + gap, "f" * 64)
    return encode(forged, to=to, prev=prev_to(log, to) + gap - 1, key=key)


def altered(
    record: Record, change: Callable[[Event], Event], key: NodeKey | None = None
) -> Record:
    """A genuine record with its payload changed by `change` (event id, seq and link kept) and
    re-encoded (so its value hash is recomputed); the genuine signature header is kept, or the
    record is re-signed by `key` over the same headers."""
    value, headers = record
    event = change(_CODEC.decode(value).event)
    forged = _CODEC.encode(event)
    if key is None:
        return forged, list(headers)
    sig = _header(headers, SIG_HEADER)
    covered = sig.split(".")[3].split("+") if sig else list(CASE_EVENT_COVERED)
    return forged, sign_record(key, forged, headers, covered)


def replay(record: Record) -> Record:
    """An old genuine record, byte for byte (value and headers)."""
    value, headers = record
    return value, list(headers)


def revoked_key(log: Sequence[Record], event: Event, to: str, key: NodeKey) -> Record:
    """A valid link signed by `key`: a key the source published once and revoked, or let
    expire, before `event`'s time."""
    return impersonation(log, event, to, key)


def illegal_act(log: Sequence[Record], event: Event, to: str, key: NodeKey) -> Record:
    """A valid link signed by the source's genuine `key`, for an act its body may not do on
    that case (the receiver's deciders must refuse it: `unauthorised-act`)."""
    return impersonation(log, event, to, key)


async def read_records(bootstrap: str, topic: str) -> list[Record]:
    """Every record of `topic` as (value, headers), in offset order: a log is public."""
    from ..kafka_io import read_topic

    return [
        (bytes(r.value or b""), [(k, bytes(v or b"")) for k, v in (r.headers or ())])
        for r in await read_topic(bootstrap, topic)
    ]


async def produce(bootstrap: str, topic: str, records: Sequence[Record]) -> list[int]:
    """Produce `records` (keyed by their case id, as nodes key them) into `topic`; returns the
    offsets they were written at."""
    from aiokafka import AIOKafkaProducer

    from ..kafka_security import aiokafka_security

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", request_timeout_ms=10000, **aiokafka_security()
    )
    await producer.start()
    try:
        offsets = []
        for value, headers in records:
            case_id = _header(headers, "ce_subject") or ""
            meta = await producer.send_and_wait(
                topic, value=value, key=case_id.encode(), headers=headers
            )
            offsets.append(meta.offset)
        return offsets
    finally:
        await producer.stop()


def produce_sync(bootstrap: str, topic: str, records: Sequence[Record]) -> list[int]:
    return asyncio.run(produce(bootstrap, topic, records))

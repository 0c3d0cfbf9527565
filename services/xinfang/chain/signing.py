"""Signed checkpoints of a node's log head and their countersignature by the parent node.

The signed message of an event is the UTF-8 text `xinfang-checkpoint/v1` (or
`xinfang-countersign/v1`), a newline, and the JSON object of every header field and every
field of the event except `signature` — keys sorted, no spaces, bytes as lowercase hex,
`occurred_at` as milliseconds since the epoch. Changing any field of a signed record therefore
breaks its signature, even when the record is the last of its log (no successor hashes it).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain.events import (
    CHAIN_CASE_ID,
    ChainCheckpointed,
    CheckpointCountersigned,
    EventHeader,
)
from .keys import NodeKey, key_id, verify_signature

CHECKPOINT_CONTEXT = b"xinfang-checkpoint/v1\n"
COUNTERSIGN_CONTEXT = b"xinfang-countersign/v1\n"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def millis(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return millis(value)
    return value


def _message(context: bytes, event: ChainCheckpointed | CheckpointCountersigned) -> bytes:
    fields: dict[str, Any] = {
        f"header.{f.name}": _plain(getattr(event.header, f.name))
        for f in dataclasses.fields(EventHeader)
    }
    for f in dataclasses.fields(event):
        if f.name not in ("header", "signature"):
            fields[f.name] = _plain(getattr(event, f.name))
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return context + text.encode("utf-8")


def checkpoint_message(event: ChainCheckpointed) -> bytes:
    return _message(CHECKPOINT_CONTEXT, event)


def countersign_message(event: CheckpointCountersigned) -> bytes:
    return _message(COUNTERSIGN_CONTEXT, event)


def sign_checkpoint(key: NodeKey, header: EventHeader) -> ChainCheckpointed:
    """The checkpoint of the log head just before `header.seq` (header already positioned)."""
    unsigned = ChainCheckpointed(
        header=header,
        head_seq=header.seq - 1,
        head_hash=header.prev_hash,
        key_id=key.key_id,
        public_key=key.public_raw,
        signature=b"",
    )
    return replace(unsigned, signature=key.sign(checkpoint_message(unsigned)))


def sign_countersign(
    key: NodeKey, header: EventHeader, checkpoint: ChainCheckpointed, checkpoint_hash: str
) -> CheckpointCountersigned:
    """The parent's countersignature of a child's checkpoint (header already positioned)."""
    unsigned = CheckpointCountersigned(
        header=header,
        division=checkpoint.header.source,
        checkpoint_event_id=checkpoint.header.event_id,
        checkpoint_seq=checkpoint.header.seq,
        checkpoint_hash=checkpoint_hash,
        head_seq=checkpoint.head_seq,
        head_hash=checkpoint.head_hash,
        key_id=key.key_id,
        public_key=key.public_raw,
        signature=b"",
    )
    return replace(unsigned, signature=key.sign(countersign_message(unsigned)))


@dataclass(frozen=True)
class Problem:
    """What is wrong with a signed record: a stable code and a message in Chinese and English."""

    code: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.code}: {self.zh} / {self.en}"


def _common(
    event: ChainCheckpointed | CheckpointCountersigned, expected_key: bytes | None
) -> Problem | None:
    h = event.header
    if h.case_id != CHAIN_CASE_ID or h.causation_id:
        return Problem(
            "signed-record-invalid",
            f"签名记录的事项编号须为 {CHAIN_CASE_ID}",
            f"a signed record must have case id {CHAIN_CASE_ID} and no causation",
        )
    if key_id(event.public_key) != event.key_id:
        return Problem(
            "signed-record-invalid",
            "公钥标识与公钥不符",
            "key_id does not match public_key",
        )
    if expected_key is not None and event.public_key != expected_key:
        return Problem(
            "key-mismatch",
            f"签名公钥 {event.key_id} 不是 {h.source} 已发布（或此前使用）的公钥 "
            f"{key_id(expected_key)}",
            f"signed with key {event.key_id}, not {h.source}'s published (or earlier) key "
            f"{key_id(expected_key)}",
        )
    return None


def checkpoint_problem(event: ChainCheckpointed, expected_key: bytes | None) -> Problem | None:
    """None if `event` is a well-formed checkpoint signed by `expected_key` (or, when None, by
    the key it names). Does not look at the log: the caller checks head_hash against it."""
    problem = _common(event, expected_key)
    if problem is not None:
        return problem
    h = event.header
    if event.head_seq != h.seq - 1 or event.head_hash != h.prev_hash:
        return Problem(
            "checkpoint-invalid",
            f"检查点覆盖的链头 ({event.head_seq}) 不是其前一条日志 ({h.seq - 1})",
            f"checkpoint head ({event.head_seq}) is not the record before it ({h.seq - 1})",
        )
    if not verify_signature(event.public_key, event.signature, checkpoint_message(event)):
        return Problem("bad-signature", "检查点签名无效", "the checkpoint's signature is invalid")
    return None


def countersign_problem(
    event: CheckpointCountersigned, expected_key: bytes | None
) -> Problem | None:
    """None if `event` is well formed and signed by `expected_key` (or the key it names)."""
    problem = _common(event, expected_key)
    if problem is not None:
        return problem
    if not verify_signature(event.public_key, event.signature, countersign_message(event)):
        return Problem(
            "bad-countersignature", "会签签名无效", "the countersignature is invalid"
        )
    return None

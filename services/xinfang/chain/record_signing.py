"""Per-record signatures: every record a node publishes is signed by its author (issue 12,
docs/decisions/021-record-signatures.md).

A signed record carries one header, `xinfang_sig`, whose value is ASCII:

    1.<suite>.<key id>.<covered header names, joined by "+">.<signature, base64url, no padding>

e.g. `1.ed25519.3f9a0c2b7d1e4a55.ce_id+ce_source+ce_type+ce_subject+xinfang_to.Mw3…`.
The signature is over the *signed message*, built from bytes only (no parsing, no JSON), so a
subscriber can rebuild it with any language's standard library:

    b"xinfang-record/1\\n"
    for each covered header name, in the order listed:
        u16be(len(name)) + name + u32be(len(value)) + value
    + b"\\x00" * 2 + SHA-256(record value bytes)             (32 bytes)

A covered header must occur exactly once on the record (a repeated or missing one fails).
`suite` names the algorithm set (DOMAIN.md §10 "keep the crypto suite selectable"): `ed25519`
(Ed25519 over the message above; SHA-256 for the value digest). The key id is
`chain.keys.key_id` of the raw public key (first 16 hex digits of its SHA-256).

Receivers verify *before* acting on anything the record claims (decision 021): the key must be
one the claimed source published for that time (`KeyLookup`), and the signature must hold.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .keys import NodeKey, verify_signature
from .signing import Problem

SIG_HEADER = "xinfang_sig"
"""The header carrying a record's signature."""

SUITE_ED25519 = "ed25519"
FORMAT_VERSION = "1"
_DOMAIN = b"xinfang-record/1\n"

CASE_EVENT_COVERED: tuple[str, ...] = ("ce_id", "ce_source", "ce_type", "ce_subject")
"""What a receiver acts on besides the value: the CloudEvents identity of the record. Signers
add their own routing headers (e.g. `xinfang_to`) after these."""

TO_HEADER = "xinfang_to"
"""The divisions whose inboxes a record was sent to: sorted, comma-separated ("" for none)."""

PREV_TO_HEADER = "xinfang_prev_to"
"""For each division in `xinfang_to`, the `seq` of the previous record of the same source sent
to that division: `150400:17,150000:12` (0: none before), decision 022."""

RECORD_COVERED: tuple[str, ...] = (*CASE_EVENT_COVERED, TO_HEADER, PREV_TO_HEADER)
"""What a node signs on every record it authors (log topic and inbox copies alike)."""

Headers = Sequence[tuple[str, bytes]]

DLQ_ORIGINAL_SIG = "xinfang_dlq_original_sig"
"""On a dead letter: the refused record's own `xinfang_sig`, kept aside so the letter carries
the refusing node's signature and a re-drive can restore the original."""

DLQ_COVERED: tuple[str, ...] = ("xinfang_dlq_reason", "xinfang_dlq_node", "xinfang_dlq_origin")


def dead_letter_covered(headers: Headers) -> tuple[str, ...]:
    """What a node signs on a dead letter it writes: its reason, node and origin, and the
    original identity headers the refused record carried exactly once."""
    names = [k for k, _ in headers]
    return tuple(n for n in (*DLQ_COVERED, *CASE_EVENT_COVERED) if names.count(n) == 1)


def addressing(pointers: Sequence[tuple[str, int]]) -> list[tuple[str, bytes]]:
    """The `xinfang_to` and `xinfang_prev_to` headers for (destination, previous seq) pairs."""
    ordered = sorted(pointers)
    return [
        (TO_HEADER, ",".join(d for d, _ in ordered).encode()),
        (PREV_TO_HEADER, ",".join(f"{d}:{p}" for d, p in ordered).encode()),
    ]


def previous_sent_to(headers: Headers, division: str) -> int | None:
    """The `seq` the record names as the previous one its source sent to `division`; None if
    the record was not addressed to `division` (or its addressing headers are malformed)."""
    to, prev = _one(headers, TO_HEADER), _one(headers, PREV_TO_HEADER)
    if to is None or prev is None:
        return None
    try:
        pairs = dict(item.split(":") for item in prev.decode("ascii").split(",") if item)
        if sorted(pairs) != [d for d in to.decode("ascii").split(",") if d]:
            return None
        found = pairs.get(division)
        return int(found) if found is not None and int(found) >= 0 else None
    except ValueError:
        return None

KeyLookup = Callable[[str, str], bytes | None]
"""(claimed source division, key id) -> the raw 32-byte public key, if that source published
that key and it may sign now (valid, not revoked); else None."""


def _one(headers: Headers, name: str) -> bytes | None:
    found = [v for k, v in headers if k == name]
    return found[0] if len(found) == 1 else None


def signed_message(value: bytes, headers: Headers, covered: Sequence[str]) -> bytes | None:
    """The bytes a record's signature is over; None if a covered header is missing or repeated.

    `value`: the Kafka record value (Avro single-object bytes); `headers`: the record's headers
    as (name, bytes) pairs; `covered`: the header names the signature covers, in order."""
    parts = [_DOMAIN]
    for name in covered:
        raw = _one(headers, name)
        if raw is None:
            return None
        encoded = name.encode()
        parts.append(struct.pack(">H", len(encoded)) + encoded)
        parts.append(struct.pack(">I", len(raw)) + raw)
    parts.append(b"\x00\x00" + hashlib.sha256(value).digest())
    return b"".join(parts)


def sign_record(
    key: NodeKey, value: bytes, headers: Headers, covered: Sequence[str] = CASE_EVENT_COVERED
) -> list[tuple[str, bytes]]:
    """`headers` with `xinfang_sig` added (any earlier one removed), signed by `key`.

    Raises ValueError if a covered header is missing or repeated (a programming error: the
    signer builds its own headers)."""
    rest = [(k, v) for k, v in headers if k != SIG_HEADER]
    message = signed_message(value, rest, covered)
    if message is None or any("+" in n or "." in n for n in covered):
        raise ValueError(f"cannot sign: covered headers {list(covered)} not each present once")
    signature = base64.urlsafe_b64encode(key.sign(message)).rstrip(b"=").decode()
    field = ".".join(
        (FORMAT_VERSION, SUITE_ED25519, key.key_id, "+".join(covered), signature)
    )
    return [*rest, (SIG_HEADER, field.encode())]


@dataclass(frozen=True, slots=True)
class RecordSignature:
    """A parsed `xinfang_sig` header."""

    suite: str
    key_id: str
    covered: tuple[str, ...]
    signature: bytes


def parse_signature(headers: Headers) -> RecordSignature | Problem:
    """The record's signature header, or why there is none usable (`unsigned`, `bad-signature`)."""
    raw = [v for k, v in headers if k == SIG_HEADER]
    if not raw:
        return Problem("unsigned", "记录未签名", "the record is not signed")
    if len(raw) > 1:
        return _bad("签名头重复", "more than one signature header")
    try:
        version, suite, kid, covered, sig = raw[0].decode("ascii").split(".")
        signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except (UnicodeDecodeError, ValueError):
        return _bad("签名头格式不对", "malformed signature header")
    if version != FORMAT_VERSION or suite != SUITE_ED25519:
        return _bad(f"不支持的签名格式 {version}.{suite}", f"unsupported suite {version}.{suite}")
    names = tuple(covered.split("+")) if covered else ()
    return RecordSignature(suite, kid, names, signature)


def _bad(zh: str, en: str) -> Problem:
    return Problem("bad-signature", zh, en)


def record_signature_problem(
    value: bytes,
    headers: Headers,
    source: str,
    keys: KeyLookup,
    required: Sequence[str] = CASE_EVENT_COVERED,
) -> Problem | None:
    """None if the record is signed by a key `source` published (per `keys`) over its value and
    at least the `required` headers; else the problem (code `unsigned` or `bad-signature`).

    `source`: the division the record claims as its author (for case events, its `ce_source`;
    the receiver checks that it agrees with the decoded value)."""
    parsed = parse_signature(headers)
    if isinstance(parsed, Problem):
        return parsed
    missing = [n for n in required if n not in parsed.covered]
    if missing:
        return _bad(f"签名未覆盖 {missing}", f"the signature does not cover {missing}")
    public = keys(source, parsed.key_id)
    if public is None:
        return _bad(
            f"{source} 没有发布有效的密钥 {parsed.key_id}（未知、过期或已撤销）",
            f"{source} published no valid key {parsed.key_id} (unknown, expired or revoked)",
        )
    message = signed_message(value, [(k, v) for k, v in headers if k != SIG_HEADER],
                             parsed.covered)
    if message is None:
        return _bad("签名覆盖的头缺失或重复", "a covered header is missing or repeated")
    if not verify_signature(public, parsed.signature, message):
        return _bad(
            f"签名与 {source} 的密钥 {parsed.key_id} 不符",
            f"the signature does not verify with {source}'s key {parsed.key_id}",
        )
    return None

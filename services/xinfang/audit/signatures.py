"""Which keys the auditor trusts, and the per-record signature check it makes (issue 12 item 4,
docs/decisions/024-auditor-trusts-only-keys.md).

The auditor trusts only published keys: a record counts as its source's only if its
`xinfang_sig` (chain/record_signing.py, decision 021) verifies with a key that source published
and that was valid when the record says it was written (`occurred_at`, covered by the signature
through the value's SHA-256). Keys come through `RecordKeys`: today from the published
`<division>.pub` files (`KeyTable.from_keyring`, no validity period); the key sets with validity
and revocation (decision 021) plug in through `KeyTable.add` or any object with the same two
methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ..chain.keys import Keyring, key_id
from ..chain.record_signing import CASE_EVENT_COVERED, SIG_HEADER, Headers, KeyLookup
from ..chain.record_signing import record_signature_problem as _problem
from ..chain.signing import Problem
from ..codec.schemas import NAMESPACE


class RecordKeys(Protocol):
    """The published keys, as the auditor asks about them."""

    def lookup(self, division: str, kid: str, at_ms: int) -> bytes | None:
        """The raw 32-byte public key `kid` of `division` if it was valid (published, not yet
        expired, not revoked) at `at_ms` (ms since the epoch); else None."""

    def publishes(self, division: str) -> bool:
        """True if `division` published any key (else its records cannot be checked at all)."""


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """One published key with its validity (ms since the epoch; None: unbounded)."""

    division: str
    public: bytes
    not_before_ms: int | None = None
    not_after_ms: int | None = None
    revoked_at_ms: int | None = None

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def valid_at(self, at_ms: int) -> bool:
        """not_before <= at < not_after, and not revoked at or before `at` (decision 021)."""
        if self.not_before_ms is not None and at_ms < self.not_before_ms:
            return False
        if self.not_after_ms is not None and at_ms >= self.not_after_ms:
            return False
        return self.revoked_at_ms is None or at_ms < self.revoked_at_ms


class KeyTable:
    """Published keys by (division, key id): the auditor's `RecordKeys`."""

    def __init__(self, keys: Iterable[PublishedKey] = ()) -> None:
        self.keys: dict[tuple[str, str], PublishedKey] = {}
        for key in keys:
            self.add(key)

    @classmethod
    def from_keyring(cls, keyring: Keyring) -> KeyTable:
        """Every key of the keyring's published key sets (`keyring.sets`, decision 021: old
        keys with their `not_after`, revoked ones with `revoked_at`), and for a division
        without a set its one key (`<division>.pub`), valid at all times."""
        table = cls()
        sets: dict[str, Any] = getattr(keyring, "sets", None) or {}
        for division, key_set in sets.items():
            for k in key_set.keys:
                table.add(PublishedKey(
                    division, k.public_raw, _ms(k.not_before), _ms(k.not_after),
                    _ms(k.revoked_at),
                ))
        for division, raw in keyring.keys.items():
            if division not in sets:
                table.add(PublishedKey(division, raw))
        return table

    def add(self, key: PublishedKey) -> None:
        self.keys[(key.division, key.key_id)] = key

    def lookup(self, division: str, kid: str, at_ms: int) -> bytes | None:
        key = self.keys.get((division, kid))
        return key.public if key is not None and key.valid_at(at_ms) else None

    def publishes(self, division: str) -> bool:
        return any(d == division for d, _ in self.keys)


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


class Timeless:
    """A `record_signing.KeyLookup` (valid-now keys, as a node asks) used as `RecordKeys`;
    `divisions`: the divisions it knows keys of."""

    def __init__(self, lookup: KeyLookup, divisions: Iterable[str]) -> None:
        self._lookup, self.divisions = lookup, frozenset(divisions)

    def lookup(self, division: str, kid: str, at_ms: int) -> bytes | None:
        return self._lookup(division, kid)

    def publishes(self, division: str) -> bool:
        return division in self.divisions


def is_signed(headers: Headers) -> bool:
    return any(k == SIG_HEADER for k, _ in headers)


def record_problem(
    value: bytes, headers: Headers, header: dict[str, Any], name: str, keys: RecordKeys
) -> Problem | None:
    """None if the record is signed by its claimed source with a key valid when it was written
    and its CloudEvents identity headers say what its value says; else the problem (codes
    `unsigned`, `bad-signature`, `header-mismatch`).

    `header`: the decoded Avro `header` of the value (source, event_id, case_id, occurred_at);
    `name`: its record name (the event type)."""
    source = str(header["source"])
    at = header["occurred_at"]
    at_ms = at if isinstance(at, int) else int(at.timestamp() * 1000)
    problem = _problem(value, headers, source, lambda d, k: keys.lookup(d, k, at_ms))
    if problem is not None:
        return problem
    claimed = {k: v for k, v in headers if k in CASE_EVENT_COVERED}
    wanted = {
        "ce_id": str(header["event_id"]).encode(),
        "ce_source": source.encode(),
        "ce_type": f"{NAMESPACE}.{name}".encode(),
        "ce_subject": str(header["case_id"]).encode(),
    }
    wrong = sorted(k for k, v in wanted.items() if claimed.get(k) != v)
    if wrong:
        return Problem(
            "header-mismatch",
            f"已签名的头 {wrong} 与记录内容不符",
            f"the signed headers {wrong} disagree with the record's value",
        )
    return None


class SignatureChecks:
    """`record_problem` once per distinct record: an inbox copy, a forwarded copy and the log
    record carry the same bytes and headers (decision 021), and an Ed25519 verification is
    most of what checking a record costs (docs/benchmarks.md)."""

    def __init__(self, keys: RecordKeys) -> None:
        self.keys = keys
        self._done: dict[tuple[str, Headers], Problem | None] = {}

    def problem(
        self, value: bytes, digest: str, headers: Headers, header: dict[str, Any], name: str
    ) -> Problem | None:
        """`record_problem` of the record whose value hashes to `digest` (links.record_hash)."""
        key = (digest, tuple(headers))
        if key not in self._done:
            self._done[key] = record_problem(value, headers, header, name, self.keys)
        return self._done[key]

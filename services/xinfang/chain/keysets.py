"""Published key sets: every key a node signs with, its validity period, and rotation
(issue 12 item 1, docs/decisions/021-record-signatures.md).

A node's key set is the JSON file `keys/<division>.keys.json` beside the topology:

    {"format": "xinfang-keyset/1", "division": "150404", "version": 2,
     "keys": [{"key_id": "3f9a…", "suite": "ed25519", "public_key": "<base64 raw 32 bytes>",
               "not_before": "2026-11-29T08:00:00+00:00", "not_after": null,
               "revoked_at": null}, …],
     "endorsements": [{"division": "150404", "key_id": "3f9a…", "signature": "<base64>"}]}

A key may sign at time t if not_before <= t < not_after (open ends allowed) and it was not
revoked at or before t. Old keys stay in the set with a `not_after`, so old records stay
verifiable by auditors. The first set (version 1) is trusted because the operator placed it in
`keys/` (the trust anchor). A later version replaces the one a running node holds only if it is
*endorsed*: an Ed25519 signature over `ENDORSE_CONTEXT + canonical JSON of the set without
"endorsements"` by a key of the previous set, or of the parent's set, valid at that moment.
A legacy `<division>.pub` (one PEM key) reads as a version-0 set with one unbounded key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .keys import KeyFileError, NodeKey, key_id, verify_signature

FORMAT = "xinfang-keyset/1"
ENDORSE_CONTEXT = b"xinfang-keyset/1\n"
SUITE = "ed25519"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _time(raw: object) -> datetime | None:
    if raw is None:
        return None
    moment = datetime.fromisoformat(str(raw))
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {raw}")
    return moment


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True)
class PublishedKey:
    """One key of a set: raw 32-byte Ed25519 public key and when it may sign."""

    public_raw: bytes
    not_before: datetime | None = None
    not_after: datetime | None = None
    revoked_at: datetime | None = None
    suite: str = SUITE

    @property
    def key_id(self) -> str:
        return key_id(self.public_raw)

    def valid_at(self, moment: datetime) -> bool:
        if self.not_before is not None and moment < self.not_before:
            return False
        if self.not_after is not None and moment >= self.not_after:
            return False
        return self.revoked_at is None or moment < self.revoked_at

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "suite": self.suite,
            "public_key": _b64(self.public_raw),
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "revoked_at": _iso(self.revoked_at),
        }


@dataclass(frozen=True)
class Endorsement:
    division: str  # whose key endorsed the set: the node itself or its parent
    key_id: str
    signature: bytes


@dataclass(frozen=True)
class KeySet:
    """A division's published keys, newest last."""

    division: str
    version: int
    keys: tuple[PublishedKey, ...]
    endorsements: tuple[Endorsement, ...] = field(default=())

    def key(self, kid: str) -> PublishedKey | None:
        return next((k for k in self.keys if k.key_id == kid), None)

    def valid(self, kid: str, moment: datetime) -> bytes | None:
        """The raw key `kid` if it may sign at `moment`, else None."""
        found = self.key(kid)
        return found.public_raw if found is not None and found.valid_at(moment) else None

    def current(self, moment: datetime | None = None) -> PublishedKey | None:
        """The newest key valid at `moment` (None: the newest key not revoked)."""
        for k in reversed(self.keys):
            if k.valid_at(moment) if moment is not None else k.revoked_at is None:
                return k
        return None

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "division": self.division,
            "version": self.version,
            "keys": [k.to_json() for k in self.keys],
        }

    def endorsed_message(self) -> bytes:
        text = json.dumps(self.body(), sort_keys=True, separators=(",", ":"))
        return ENDORSE_CONTEXT + text.encode()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.body(),
            "endorsements": [
                {"division": e.division, "key_id": e.key_id, "signature": _b64(e.signature)}
                for e in self.endorsements
            ],
        }

    def endorse(self, by_division: str, key: NodeKey) -> KeySet:
        """This set with an endorsement by `key` of `by_division` (the node or its parent)."""
        signed = Endorsement(by_division, key.key_id, key.sign(self.endorsed_message()))
        return replace(self, endorsements=(*self.endorsements, signed))

    def endorsed_by(self, signer: KeySet, moment: datetime) -> bool:
        """True if an endorsement verifies with a key of `signer` valid at `moment`."""
        message = self.endorsed_message()
        for e in self.endorsements:
            public = signer.valid(e.key_id, moment) if e.division == signer.division else None
            if public is not None and verify_signature(public, e.signature, message):
                return True
        return False


def accepts_update(held: KeySet, new: KeySet, parent: KeySet | None, moment: datetime) -> bool:
    """Whether a running node replaces `held` by `new`: a later version of the same division,
    endorsed by a key of `held` or of the parent's set valid at `moment`."""
    if new.division != held.division or new.version <= held.version:
        return False
    return new.endorsed_by(held, moment) or (parent is not None and new.endorsed_by(parent, moment))


def parse_key_set(raw: dict[str, Any], where: str = "") -> KeySet:
    """A key set from its JSON object; KeyFileError naming `where` if malformed."""
    try:
        if raw.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        keys = tuple(
            PublishedKey(
                base64.b64decode(k["public_key"], validate=True),
                _time(k.get("not_before")),
                _time(k.get("not_after")),
                _time(k.get("revoked_at")),
                str(k.get("suite", SUITE)),
            )
            for k in raw["keys"]
        )
        for k, given in zip(keys, raw["keys"], strict=True):
            if len(k.public_raw) != 32 or k.suite != SUITE or given.get("key_id") != k.key_id:
                raise ValueError(f"key {given.get('key_id')} is not a valid {SUITE} key")
        endorsements = tuple(
            Endorsement(str(e["division"]), str(e["key_id"]), base64.b64decode(e["signature"]))
            for e in raw.get("endorsements", ())
        )
        return KeySet(str(raw["division"]), int(raw["version"]), keys, endorsements)
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyFileError(f"密钥集无法读取 / malformed key set {where}: {exc}") from exc


def read_key_set(path: Path) -> KeySet:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"密钥集无法读取 / cannot read key set {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise KeyFileError(f"密钥集须为 JSON 对象 / key set must be a JSON object: {path}")
    return parse_key_set(raw, str(path))


def write_key_set(key_set: KeySet, folder: Path) -> Path:
    """Write `<folder>/<division>.keys.json` atomically (0644); returns the path."""
    from .keys import _write_atomically

    path = folder / f"{key_set.division}.keys.json"
    text = json.dumps(key_set.to_json(), ensure_ascii=False, indent=2) + "\n"
    _write_atomically(path, text.encode(), 0o644)
    return path


def single_key_set(division: str, public_raw: bytes, since: datetime | None = None) -> KeySet:
    """Version 1 with one key (what `xinfang keys generate` publishes)."""
    return KeySet(division, 1, (PublishedKey(public_raw, not_before=since),))

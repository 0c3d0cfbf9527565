"""One entry of the operator audit trail (操作审计记录) and its bytes, chain and signature.

GB/T 22239-2019 (等保 2.0) level 3, 8.1.4.3 安全审计: every operator action is recorded with
time, person, body, action, object, outcome and source address, protected against alteration
and deletion. docs/decisions/027-operator-trail.md.

The record on the wire (topic `xinfang.<division>.trail`) and in the node database is the UTF-8
JSON object of every field below — keys sorted, no spaces, non-ASCII kept — so anyone with a
JSON parser, SHA-256 and Ed25519 can check it:

- chained like the log (chain/links.py): `seq` 1, 2, 3 … per node, `prev_hash` the SHA-256 (hex)
  of the exact bytes of the entry before ("" for seq 1);
- signed: `signature` (hex) is the node key's Ed25519 signature (chain/keys.py) of
  `xinfang-trail/v1` + newline + the JSON of every field except `signature`; `key_id` names the
  key. A changed entry fails its signature; a removed one leaves a gap in `seq` and breaks the
  successor's `prev_hash`;
- `reason` (decision 030): the reason a person stated for an act that needs one (viewing
  personal data in full). The key is present only on entries that carry a reason, so entries
  written before it existed keep their exact bytes, hashes and signatures; on those that carry
  one it is signed like every other field (removing or changing it breaks the signature).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..chain.keys import NodeKey, key_id, verify_signature
from ..chain.links import record_hash
from ..domain.errors import WireError

TRAIL_CONTEXT = b"xinfang-trail/v1\n"
VERSION = 1


class TrailFormatError(WireError, ValueError):
    """Bytes that are not a trail entry (not JSON, a field missing or of the wrong type)."""

    code = "XF-TRAIL-FORMAT"
    zh = "不是操作审计记录"
    en = "Not an operator trail entry"


@dataclass(frozen=True, slots=True)
class TrailAct:
    """What one request did, as the web layer saw it after answering.

    - `at_ms`: when the request arrived, milliseconds since the epoch (UTC).
    - `person`: the signed-in person's id ("" when nobody is signed in; for a sign-in attempt
      the person claimed); `roles` (sorted role names), `body`, `method` (account | oidc | "")
      of the Principal (identity/principal.py).
    - `action`: the route's operation id (e.g. `caseAccept`, `listCases`), or "" when no route
      matched; `http` is "METHOD path" (at most 200 characters).
    - `case_id`: the case the request was about ("" if none).
    - `status`: the HTTP status answered; `code`: the refusal's error code (XF-…) or "".
    - `sign_in`: "ok" / "failed" for a sign-in attempt, else "".
    - `source`: the client's address (X-Forwarded-For only from trusted proxies);
      `agent`: the User-Agent, at most 120 characters.
    - `reason`: the reason the person stated (viewing personal data in full), or "".
    """

    at_ms: int
    person: str
    roles: tuple[str, ...]
    body: str
    method: str
    action: str
    http: str
    case_id: str
    status: int
    code: str
    sign_in: str
    source: str
    agent: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """A `TrailAct` placed in a node's trail: `node` (division), `seq`, `prev_hash`, and signed
    by the node key (`key_id`, `signature` hex; "" while unsigned)."""

    v: int
    node: str
    seq: int
    prev_hash: str
    at_ms: int
    person: str
    roles: tuple[str, ...]
    body: str
    method: str
    action: str
    http: str
    case_id: str
    status: int
    code: str
    sign_in: str
    source: str
    agent: str
    key_id: str
    signature: str
    reason: str = ""  # only entries with a reason carry the key (module docstring)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["roles"] = list(self.roles)
        if not self.reason:
            del out["reason"]  # the bytes of an entry without one, as before decision 030
        return out

    def to_bytes(self) -> bytes:
        """The entry's bytes: what is stored, published and hashed."""
        return _canonical(self.as_dict())

    @property
    def digest(self) -> str:
        """What the next entry's `prev_hash` must be."""
        return record_hash(self.to_bytes())


_FIELDS = {f.name: f for f in fields(TrailEntry)}
_OPTIONAL = {"reason"}  # present only when not empty
_INTS = {"v", "seq", "at_ms", "status"}


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_message(entry: TrailEntry) -> bytes:
    """The bytes the node signs: the context line and every field but `signature`."""
    fields_ = entry.as_dict()
    del fields_["signature"]
    return TRAIL_CONTEXT + _canonical(fields_)


def place(act: TrailAct, node: str, seq: int, prev_hash: str, key: NodeKey) -> TrailEntry:
    """The signed entry of `act` at `seq` after the entry whose hash is `prev_hash`."""
    unsigned = TrailEntry(
        v=VERSION, node=node, seq=seq, prev_hash=prev_hash, key_id=key.key_id, signature="",
        **{f.name: getattr(act, f.name) for f in fields(TrailAct)},
    )  # fmt: skip
    return replace(unsigned, signature=key.sign(signed_message(unsigned)).hex())


def decode(data: bytes) -> TrailEntry:
    """Bytes → entry. Raises TrailFormatError (the caller reports where)."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TrailFormatError(f"not JSON: {exc}") from None
    if not isinstance(raw, dict) or not set(_FIELDS) - _OPTIONAL <= set(raw) <= set(_FIELDS):
        got = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise TrailFormatError(f"fields {got} are not a trail entry's")
    for name, value in raw.items():
        if name == "roles":
            ok = isinstance(value, list) and all(isinstance(r, str) for r in value)
        elif name in _INTS:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise TrailFormatError(f"field {name} has the wrong type")
    if raw.get("reason") == "":
        raise TrailFormatError("field reason is present but empty")  # bytes not canonical
    raw["roles"] = tuple(raw["roles"])
    return TrailEntry(**raw)


def signature_valid(entry: TrailEntry, public_raw: bytes) -> bool:
    """True if `entry` is signed by `public_raw` and names that key."""
    if entry.key_id != key_id(public_raw):
        return False
    try:
        signature = bytes.fromhex(entry.signature)
    except ValueError:
        return False
    return verify_signature(public_raw, signature, signed_message(entry))

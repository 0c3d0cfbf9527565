"""Keyed hashes for matching without clear text (issue 15 item 3; R11/R12 matching).

`blind_index(key, normalised)` = HMAC-SHA256(index key, domain tag + normalised value), hex.
Equal normalised values give equal indexes on one node (its index key); without the key the
index says nothing (no dictionary attack on names or phone numbers)."""

from __future__ import annotations

import hashlib
import hmac


def blind_index(key: bytes, purpose: str, normalised: str) -> str:
    """Hex HMAC-SHA256 of `purpose` + NUL + `normalised` under `key` (≥ 32 bytes)."""
    message = purpose.encode() + b"\x00" + normalised.encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()

"""How a record is linked into its source's log (docs/decisions/006-audit-chain-checkpoints.md).

Each record a node writes to its log carries `seq` (1, 2, 3 … without gaps) and `prev_hash`:
the SHA-256 (lowercase hex) of the exact bytes of the record before it, "" for seq 1. Changing
or removing any record therefore breaks the link of the record after it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def record_hash(data: bytes) -> str:
    """The hash a successor's `prev_hash` must carry: SHA-256 of the record bytes, hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Head:
    """The last record of a source's log known to a verifier: its `seq` and `record_hash`."""

    seq: int
    hash: str

    def next_link(self) -> tuple[int, str]:
        """(seq, prev_hash) of the record written after this head."""
        return self.seq + 1, self.hash


GENESIS = Head(0, "")
"""The head before a log's first record: seq 1 must carry prev_hash ""."""

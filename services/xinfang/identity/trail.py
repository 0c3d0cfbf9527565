"""The node's operator audit trail (等保 2.0 level 3, 8.1.4.3 安全审计; decision 027).

`OperatorTrail.record(act)` places one `TrailAct` after the trail's head, signs it with the
node key and stores it with its outbox row in one transaction: the relay publishes it to
`xinfang.<division>.trail`. `read` serves the audit administrators' queries. Nothing changes
or removes an entry (store/trail.py); the entry format is identity/trail_record.py.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from ..chain.keys import NodeKey
from ..store.protocols import OperatorTrailStore
from ..store.trail import TrailQuery, TrailRow
from ..topics import TopicNames
from .trail_record import TrailAct, TrailEntry, decode, place

CONTENT_TYPE = b"application/json"
ENTRY_TYPE = b"xinfang.trail.OperatorAct"


class OperatorTrail:
    """One node's trail: `store` (the database role), the node `key` that signs each entry,
    the trail topic of `division`, and `committed` (wakes the outbox relay)."""

    def __init__(
        self,
        store: OperatorTrailStore,
        division: str,
        key: NodeKey,
        topics: TopicNames,
        committed: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.division = division
        self.key = key
        self.topic = topics.trail(division)
        self.committed = committed
        self._lock = threading.Lock()  # one head at a time in this process
        # whose X-Forwarded-For the web layer believes (XINFANG_TRUSTED_PROXIES, api/trail.py)
        self.trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def record(self, act: TrailAct) -> TrailEntry:
        """Append `act`; returns the signed entry. A database failure raises (the caller must
        not answer as if the act were recorded)."""
        placed: list[TrailEntry] = []

        def make(seq: int, prev_hash: str) -> TrailRow:
            entry = place(act, self.division, seq, prev_hash, self.key)
            placed.append(entry)
            record = entry.to_bytes()
            return TrailRow(
                seq=seq,
                at=datetime.fromtimestamp(act.at_ms / 1000, UTC),
                person=act.person,
                action=act.action,
                case_id=act.case_id,
                status=act.status,
                record=record,
                hash=entry.digest,
                topic=self.topic,
                key=act.person or "-",
                headers=[
                    ("content-type", CONTENT_TYPE),
                    ("ce_type", ENTRY_TYPE),
                    ("ce_source", self.division.encode()),
                ],
            )

        with self._lock:
            self.store.append(make)
        self.committed()
        return placed[-1]

    def read(self, query: TrailQuery) -> list[TrailEntry]:
        """The entries `query` selects, in seq order."""
        return [decode(record) for record in self.store.read(query)]

    def head(self) -> tuple[int, str]:
        return self.store.head()

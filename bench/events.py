"""Real wire records made without a node: domain decisions, encoded with the project's codec.

`LogWriter` positions events exactly as `NodeService._commit` does (seq + 1, prev_hash =
SHA-256 of the previous record's bytes, causation = the case's last event), so the records
are what that division's node would have published: to its log, and to its parent's inbox.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from xinfang.api.inputs import case_file
from xinfang.codec.wire import EventCodec, cloudevents_headers
from xinfang.domain.case import Case, evolve
from xinfang.domain.commands import (
    Context,
    RegisterPetition,
    TransferCase,
    decide_register,
    decide_transfer,
)
from xinfang.domain.events import Event
from xinfang.domain.topology import Topology

Headers = list[tuple[str, bytes]]

# The same petition the demo registers, addressed to any county (`place`).
PETITION: dict[str, Any] = {
    "title": "某小区冬季供暖长期不达标",
    "channel": "ONLINE",
    "category": "APPEAL",
    "petitioner": {"name": "王某某", "address": "某小区 3 号楼", "contact": "13900000000"},
    "request": "请求督促供热企业整改，保障室温达标",
    "facts": "2026 年 11 月以来室内温度长期低于 16℃，多次向物业和供热企业反映未果",
    "reasons": "供热企业未履行供热合同约定的室温标准",
    "accused": "某供热有限公司",
}


def petition(place: str) -> dict[str, Any]:
    return {**PETITION, "place": place}


@dataclass(frozen=True)
class Record:
    case_id: str
    event_id: str
    type: str
    seq: int
    value: bytes
    headers: Headers


@dataclass
class LogWriter:
    """The decisions of one division's node, positioned in its hash-chained log."""

    division: str
    topology: Topology
    codec: EventCodec = field(default_factory=EventCodec)
    seq: int = 0
    prev_hash: str = ""
    serial: int = 0

    def _context(self) -> Context:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # Avro millis
        return Context(self.division, self.topology, now, lambda: str(uuid.uuid4()))

    def _commit(self, case: Case | None, events: list[Event]) -> tuple[Case, list[Record]]:
        records: list[Record] = []
        for event in events:
            self.seq += 1
            event = event.positioned(self.seq, self.prev_hash, case.last_event_id if case else "")
            data = self.codec.encode(event)
            self.prev_hash = hashlib.sha256(data).hexdigest()
            case = evolve(case, event)
            schema = self.codec.catalogue.get(event.type)
            records.append(
                Record(
                    event.case_id,
                    event.header.event_id,
                    event.type,
                    self.seq,
                    data,
                    cloudevents_headers(event, schema.fingerprint_hex),
                )
            )
        assert case is not None
        return case, records

    def register_and_transfer(self, to_body: str | None = None) -> list[Record]:
        """登记 by this division's petition office, then 转送 to `to_body` (default: its own
        住房和城乡建设局). Two records; the second follows the first (causation_id)."""
        office = self.topology.division(self.division).petition_office().id
        ctx = self._context()
        self.serial += 1
        case_id = f"{self.division}-{ctx.now.year}-{self.serial:06d}"
        command = RegisterPetition(
            actor=office,
            case_id=case_id,
            query_code=uuid.uuid4().hex[:8].upper(),
            file=case_file(petition(self.division), ctx.now),
        )
        case, first = self._commit(None, decide_register(ctx, None, command))
        target = to_body or f"{self.division}.zj"
        _, second = self._commit(
            case, decide_transfer(self._context(), case, TransferCase(office, target, "请依法处理"))
        )
        return first + second

"""Real wire records made without a running node: a division's own application service over an
in-memory store decides them, so they are byte for byte what that division's node publishes.

`LogWriter(division).register_and_transfer()` registers a petition at the division's petition
office and transfers it to one of its bodies, through the node's HTTP handlers (the stable
contract: `NodeApi.dispatch`), then collects the records the service put in its outbox: its
hash-chained log records and the copies addressed to other nodes' inboxes (upward reporting).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xinfang.api.handlers import NodeApi
from xinfang.bootstrap import service_for
from xinfang.chain.keys import write_public_key
from xinfang.codec.wire import EventCodec
from xinfang.devtools.staff import InProcessStaff
from xinfang.domain.topology import Topology
from xinfang.store.unit_of_work import NodeStore
from xinfang.topics import TopicNames

Headers = list[tuple[str, bytes]]

# Like the demo's petition; `petition(place, n)` makes the n-th one a different petitioner and
# matter, so that no two bench cases count as the same matter (repeat-petition rules).
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
_serial = itertools.count(1)


def petition(place: str, n: int | None = None) -> dict[str, Any]:
    n = next(_serial) if n is None else n
    return {
        **PETITION,
        "title": f"{PETITION['title']}（{n} 号）",
        "petitioner": {**PETITION["petitioner"], "name": f"王某{n}", "contact": f"139{n:08d}"},
        "request": f"{PETITION['request']}（第 {n} 户）",
        "place": place,
    }


@dataclass(frozen=True)
class Record:
    topic: str  # with an empty prefix: xinfang.<division>.log / .inbox
    case_id: str
    value: bytes
    headers: Headers


class DecisionRefused(RuntimeError):
    pass


@dataclass
class LogWriter:
    """The decisions of one division's node, as its outbox would publish them."""

    division: str
    topology: Topology
    codec: EventCodec = field(default_factory=EventCodec)
    keys_dir: Path | None = None  # publish the writer's key there, for the nodes it feeds

    def __post_init__(self) -> None:
        self.topics = TopicNames("")
        self.store = NodeStore("sqlite://")  # in memory: the records, not this store, matter
        self.service = service_for(
            self.division, self.topology, self.store, codec=self.codec, topics=self.topics
        )  # it signs its records (decision 021) with a key of its own
        if self.keys_dir is not None and self.service.chain.signer is not None:
            write_public_key(
                self.service.chain.signer.public_raw, self.keys_dir / f"{self.division}.pub"
            )
        self.api = InProcessStaff(NodeApi(self.service))  # signed-in staff
        self.office = self.topology.division(self.division).petition_office().id

    def _call(self, path: str, body: dict[str, Any]) -> Any:
        status, payload = self.api.dispatch("POST", path, body)
        if status >= 300:
            raise DecisionRefused(f"{path}: {status} {payload}")
        return payload

    def register_and_transfer(self, to_body: str | None = None) -> list[Record]:
        """登记 by the petition office, 转送 to `to_body` (default: the division's
        住房和城乡建设局); returns every outbox record those decisions produced, in order."""
        case_id = self._call("/api/cases", {"actor": self.office, **petition(self.division)})[
            "case_id"
        ]
        self._call(
            f"/api/cases/{case_id}/transfer",
            {
                "actor": self.office,
                "to_body": to_body or f"{self.division}.zj",
                "note": "请依法处理",
            },
        )
        rows = self.store.outbox.pending(10_000)
        self.store.outbox.mark_sent([row.id for row in rows])
        return [Record(row.topic, row.key, row.value, row.headers) for row in rows]

    def log_topic(self) -> str:
        return self.topics.log(self.division)

    def inbox_topic(self, division: str) -> str:
        return self.topics.inbox(division)

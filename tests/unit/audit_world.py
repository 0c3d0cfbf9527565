"""An in-process world of three nodes with signing keys, for the audit tests (no broker)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from xinfang.audit.records import LogRecord
from xinfang.chain.keys import Keyring, NodeKey
from xinfang.chain.record_signing import sign_record
from xinfang.codec.wire import DecodeError, EventCodec, cloudevents_headers
from xinfang.domain.commands import AcceptCase, IssueOpinion, TransferCase
from xinfang.domain.deciders import decide_accept, decide_opinion, decide_transfer
from xinfang.domain.events import Event
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import Outcome
from xinfang.node.checkpoints import ChainKeeper

from .fakes import FakeBus
from .test_slice_in_memory import sample_file

PROVINCE, CITY, COUNTY = "150000", "150400", "150404"
CODEC = EventCodec()


class World:
    def __init__(self, topology: Topology, tmp: Path) -> None:
        self.topology = topology
        self.bus = FakeBus(topology, [PROVINCE, CITY, COUNTY], tmp)
        self.keys = {d: NodeKey.generate() for d in self.bus.nodes}
        self.keyring = Keyring({d: k.public_raw for d, k in self.keys.items()})
        for d, node in self.bus.nodes.items():
            node.chain = ChainKeeper(d, topology, signer=self.keys[d], keyring=self.keyring)

    def handled_case(self, outcome: Outcome = Outcome.SUPPORTED) -> str:
        city, county = self.bus.nodes[CITY], self.bus.nodes[COUNTY]
        reg = city.register("150400.xfj", sample_file(self.bus))
        city.execute(reg.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj"))
        self.bus.settle()
        county.execute(reg.case_id, decide_accept, AcceptCase("150404.zj"))
        county.execute(
            reg.case_id, decide_opinion, IssueOpinion("150404.zj", outcome, "经调查属实")
        )
        self.bus.settle()
        return reg.case_id

    def checkpoint_all(self) -> None:
        """Bottom up, so every checkpoint but the root's is countersigned and covered."""
        for division in (COUNTY, CITY, PROVINCE):
            node = self.bus.nodes[division]
            node.chain.checkpoint(node)
            self.bus.settle()

    def values(self, division: str, kind: str = "log") -> list[bytes]:
        topics = self.bus.topics
        topic = topics.log(division) if kind == "log" else topics.inbox(division)
        return list(self.bus.published.get(topic, []))

    def records(
        self, division: str, kind: str = "log", values: list[bytes] | None = None
    ) -> list[LogRecord]:
        """The records as the broker holds them: each signed by its author (decision 021), as
        every node signs what it publishes."""
        topics = self.bus.topics
        topic = topics.log(division) if kind == "log" else topics.inbox(division)
        values = self.values(division, kind) if values is None else values
        return [
            LogRecord(topic, 0, i, 1_767_000_000_000 + i, b"k", v, self.signed_headers(v))
            for i, v in enumerate(values)
        ]

    def signed_headers(self, value: bytes) -> tuple[tuple[str, bytes], ...]:
        """The CloudEvents headers of `value`, signed by its source's key (none if undecodable
        or the source has no key here)."""
        try:
            event = CODEC.decode(value).event
        except DecodeError:
            return ()
        key = self.keys.get(event.header.source)
        if key is None:
            return ()
        fingerprint = CODEC.catalogue.get(event.type).fingerprint_hex
        return tuple(sign_record(key, value, cloudevents_headers(event, fingerprint)))


def decode(value: bytes) -> Event:
    return CODEC.decode(value).event


def digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def rechain(values: list[bytes], start: int = 0) -> list[bytes]:
    """Renumber and re-hash `values` from index `start` on, as a forger with no key would."""
    out = list(values[:start])
    for value in values[start:]:
        event = decode(value)
        seq = len(out) + 1
        prev = digest(out[-1]) if out else ""
        moved = replace(event, header=replace(event.header, seq=seq, prev_hash=prev))
        out.append(CODEC.encode(moved))
    return out


def seq_of(value: bytes) -> int:
    return decode(value).header.seq

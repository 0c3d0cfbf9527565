"""The node's side of the audit chain (docs/decisions/006-audit-chain-checkpoints.md).

- **Checkpoints**: the node signs its log head (`ChainCheckpointed`) periodically and on
  demand, and sends it to its parent's inbox.
- **Countersignatures**: a parent that receives a valid checkpoint from a child records its own
  signed `CheckpointCountersigned` in its log (and sends it to its own parent), so the child
  can no longer rewrite that part of its log unnoticed.
- **Record signatures** (decision 021): every record the node authors carries its addressing
  (`xinfang_to`, `xinfang_prev_to`) and its signature; every inbound record must be signed by
  a key its source published, valid now, before anything of it is stored.
- **Strict per-source chains** (decision 022): a direct source's record applies only after
  the record it names as previously sent to this node; a later one parks until the gap fills,
  an earlier one (a replay) is refused. A refusal touches no chain state.
  Events of grandchildren arrive forwarded, out of their log order; their author's signature
  is checked, and auditors check the author's full log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ..chain.keys import Keyring, NodeKey
from ..chain.links import GENESIS, Head, record_hash
from ..chain.record_signing import (
    CASE_EVENT_COVERED,
    RECORD_COVERED,
    addressing,
    previous_sent_to,
    record_signature_problem,
    sign_record,
)
from ..chain.signing import Problem, sign_checkpoint, sign_countersign
from ..chain.verifier import sequence_problem, signature_problem
from ..codec.schemas import NAMESPACE
from ..domain.clock import Clock
from ..domain.events import (
    CHAIN_CASE_ID,
    ChainCheckpointed,
    CheckpointCountersigned,
    Event,
    EventHeader,
    is_chain_event,
)
from ..domain.topology import Topology
from ..store.protocols import UnitOfWork
from ..store.records import ChainSource, Headers, ParkedRecord
from ..topics import TopicNames

if TYPE_CHECKING:
    from .published_keys import PublishedKeys
    from .service import NodeService

log = logging.getLogger(__name__)

__all__ = ["ChainHost", "ChainKeeper", "checkpoint_periodically", "sequence_problem"]


class ChainHost(Protocol):
    """What the chain keeper needs from the node it keeps the chain of (`NodeService`)."""

    @property
    def topics(self) -> TopicNames: ...

    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...

    def new_header(self, case_id: str, actor: str) -> EventHeader: ...

    def encode_record(self, event: Event) -> tuple[bytes, Headers]: ...

    def committed(self) -> None: ...

    @property
    def clock(self) -> Clock: ...

    def dead_letter(
        self,
        tx: UnitOfWork,
        data: bytes,
        headers: Headers,
        reason: str,
        detail: str,
        origin: str = "",
    ) -> None: ...


def _head(state: ChainSource | None) -> Head | None:
    return Head(state.last_seq, state.last_hash) if state is not None else None


PARK_LIMIT = 10_000
"""Records parked per direct source on a chain gap before further ones are dead-lettered
(`chain-gap-overflow`): bounds what a source that skipped a record can make this node hold."""


class ChainKeeper:
    """The node's signing key, the published keys it checks others' records with, and what it
    has applied of each direct source's chain (decisions 006, 021, 022).

    `published`, if given, is asked for the current keyring at each check (it re-reads the
    keys folder when it changed, accepting endorsed rotations); else `keyring` is fixed."""

    def __init__(
        self,
        division: str,
        topology: Topology,
        signer: NodeKey | None = None,
        keyring: Keyring | None = None,
        *,
        published: PublishedKeys | None = None,
        park_limit: int = PARK_LIMIT,
    ) -> None:
        self.division = division
        self.topology = topology
        self.signer = signer
        self.keyring = keyring or Keyring.empty()
        self.published = published
        self.park_limit = park_limit

    @classmethod
    def ephemeral(cls, division: str, topology: Topology) -> ChainKeeper:
        """A keeper with a new key that only it publishes (tests of a single node)."""
        key = NodeKey.generate()
        return cls(division, topology, signer=key, keyring=Keyring({division: key.public_raw}))

    @property
    def key_id(self) -> str | None:
        return self.signer.key_id if self.signer is not None else None

    @property
    def actor(self) -> str:
        return self.topology.division(self.division).petition_office().id

    def ring(self) -> Keyring:
        return self.published.current() if self.published is not None else self.keyring

    def is_direct(self, source: str) -> bool:
        """True if events of `source` reach this node straight from their source (an ancestor or
        a child), in that source's log order; a grandchild's events arrive forwarded."""
        return self.topology.is_within(self.division, source) or (
            self.topology.has_division(source) and self.topology.parent(source) == self.division
        )

    # -- signing what this node publishes (decision 021) ---------------------------------
    def authored(
        self, tx: UnitOfWork, seq: int, data: bytes, headers: Headers, to: Sequence[str]
    ) -> Headers:
        """The headers of an own log record `seq` sent to the inboxes of `to`: its addressing
        (`xinfang_to`, `xinfang_prev_to`, the per-destination pointers moved in `tx`) and its
        signature. The log topic copy carries the same headers."""
        pointers = [(d, tx.log.last_sent_to(d)) for d in to]
        for d in to:
            tx.log.sent_to(d, seq)
        return self.sign([*headers, *addressing(pointers)], data, RECORD_COVERED)

    def sign(self, headers: Headers, data: bytes, covered: Sequence[str]) -> Headers:
        """`headers` signed by the node's key over `data` and `covered` (unsigned without key)."""
        if self.signer is None:
            return list(headers)
        return sign_record(self.signer, data, headers, covered)

    # -- checking what arrives (decision 021) -------------------------------------------
    def record_problem(
        self, event: Event, data: bytes, headers: Headers, now: datetime
    ) -> Problem | None:
        """Why a decoded inbound record must be refused before anything of it is stored: not
        signed by a key its source published valid `now` (`unsigned`, `bad-signature`), headers
        that disagree with the value (`header-mismatch`), or a direct source's record not
        addressed to this node (`not-addressed`). Forwarded records keep their author's
        signature and addressing (to the child that forwarded them)."""
        h = event.header
        ring = self.ring()
        problem = record_signature_problem(
            data, headers, h.source, lambda d, kid: ring.lookup(d, kid, now)
        )
        if problem is not None:
            return problem
        claimed = {k: v for k, v in headers if k in CASE_EVENT_COVERED}
        actual = {
            "ce_id": h.event_id.encode(),
            "ce_source": h.source.encode(),
            "ce_type": f"{NAMESPACE}.{event.type}".encode(),
            "ce_subject": h.case_id.encode(),
        }
        if claimed != actual:
            return Problem(
                "header-mismatch",
                "记录头（ce_id/ce_source/ce_type/ce_subject）与内容不符",
                "the record's headers (ce_id/ce_source/ce_type/ce_subject) disagree with its value",
            )
        if self.is_direct(h.source) and previous_sent_to(headers, self.division) is None:
            return Problem(
                "not-addressed",
                f"{h.source} 的这条记录不是发给本节点 {self.division} 的",
                f"this record of {h.source} was not addressed to this node {self.division}",
            )
        return None

    # -- emitting ---------------------------------------------------------------------
    def checkpoint(self, host: ChainHost, *, force: bool = False) -> ChainCheckpointed | None:
        """Sign the current log head; None without a key, with an empty log, or when the head is
        already a checkpoint (unless `force`)."""
        if self.signer is None:
            return None
        header = host.new_header(CHAIN_CASE_ID, self.actor)
        with host.transaction() as tx:
            seq, head = tx.log.head()
            if seq == 0 or (not force and tx.log.entry_type(seq) == ChainCheckpointed.TYPE):
                return None
            event = sign_checkpoint(self.signer, _positioned(header, seq, head))
            self._append(host, tx, event)
        host.committed()
        log.info("checkpoint %s seq %d head %s", self.division, event.header.seq, head[:12])
        return event

    def _append(self, host: ChainHost, tx: UnitOfWork, event: Event) -> None:
        """Record a chain event in the own log; it goes to the log topic and the parent only."""
        data, headers = host.encode_record(event)
        tx.log.append(event, data, record_hash(data))
        parent = self.topology.parent(self.division)
        to = [parent] if parent is not None else []
        headers = self.authored(tx, event.header.seq, data, headers, to)
        tx.log.enqueue(host.topics.log(self.division), event.case_id, data, headers)
        for division in to:
            tx.log.enqueue(host.topics.inbox(division), event.case_id, data, headers)

    def _countersign(
        self, host: ChainHost, tx: UnitOfWork, checkpoint: ChainCheckpointed, digest: str
    ) -> None:
        if self.signer is None:
            return
        seq, head = tx.log.head()
        header = _positioned(host.new_header(CHAIN_CASE_ID, self.actor), seq, head)
        self._append(host, tx, sign_countersign(self.signer, header, checkpoint, digest))

    # -- receiving (decision 022) ---------------------------------------------------------
    def receive(
        self,
        host: ChainHost,
        tx: UnitOfWork,
        event: Event,
        data: bytes,
        headers: Headers,
        origin: str = "",
    ) -> str | None:
        """Place a new (not duplicate), signature-checked inbound event in its source's chain.

        A direct source's record applies only if the `seq` it names as the previous one sent
        to this node (`xinfang_prev_to`) is the last one applied from that source: then None
        for a case event (the caller applies it), "applied" for a chain event (handled here).
        Naming a later one: "parked" until the gap fills (at most `park_limit` per source, then
        `chain-gap-overflow`). Naming an earlier one, or a `seq` not above the last: refused
        (`chain-seq-regressed`), "dead_lettered"; so is a broken hash link to the record before.
        A refusal changes no chain state. Forwarded records (a grandchild's, via the child) have
        no pointer here: their completeness is the auditor's check of the author's log."""
        source = event.header.source
        if not self.is_direct(source):
            if is_chain_event(event):
                return self._refuse(host, tx, event, data, headers, _misrouted(event), origin)
            return None
        prev = previous_sent_to(headers, self.division)
        assert prev is not None  # record_problem refused it otherwise
        state = tx.inbox.chain_source(source)
        head = _head(state) or GENESIS
        h = event.header
        refused = state.refused_before if state is not None else None
        if refused is not None and h.seq == head.seq and prev == refused[0]:
            # The record at head.seq was refused by the rules (a stolen key's act, or a
            # concurrent one): this record of the source, at the same place, takes its place.
            head = Head(*refused)
        if prev == 0 < head.seq < h.seq:
            # signed by the source, later than anything applied, and naming nothing before: its
            # pointers restarted (an upgrade to migration 0008, or a restored database).
            # Refusing it would park every later record of the source for ever.
            log.warning("%s restarted its pointers at seq %d (last applied %d)", source, h.seq,
                        head.seq)  # fmt: skip
            prev = head.seq
        if h.seq <= head.seq or prev < head.seq:
            return self._refuse(host, tx, event, data, headers, _regressed(h, head, prev), origin)
        if prev > head.seq:
            if tx.inbox.chain_parked_count(source) >= self.park_limit:
                overflow = _overflow(h, self.park_limit)
                return self._refuse(host, tx, event, data, headers, overflow, origin)
            tx.inbox.park_chain(
                ParkedRecord(source, h.seq, prev, data, list(headers), origin, host.clock())
            )
            return "parked"
        problem = sequence_problem(head, h)  # seq = last + 1: the hash link must hold too
        if problem is None and is_chain_event(event):
            problem = self._chain_event_problem(event, host.clock())
        if problem is not None:
            return self._refuse(host, tx, event, data, headers, problem, origin)
        digest = record_hash(data)
        tx.inbox.save_chain_source(
            ChainSource(
                source,
                h.seq,
                digest,
                None,
                h.seq
                if isinstance(event, ChainCheckpointed)
                else (state.checkpoint_seq if state else None),
            )
        )
        if not is_chain_event(event):
            return None
        if isinstance(event, ChainCheckpointed):
            self._countersign(host, tx, event, digest)
        return "applied"

    def refused_by_rules(
        self, tx: UnitOfWork, event: Event, before: ChainSource | None
    ) -> None:
        """`event`, just placed in its source's chain, was refused by the rules
        (`unauthorised-act`): keep the chain at it (the source's next record may follow it)
        but remember the head `before` it, so that the source's genuine record at the same
        seq is not refused as a replay — what a stolen key signed must not block it."""
        source = event.header.source
        state = tx.inbox.chain_source(source)
        if not self.is_direct(source) or state is None or state.last_seq != event.header.seq:
            return
        head = _head(before) or GENESIS
        tx.inbox.save_chain_source(replace(state, refused_before=(head.seq, head.hash)))

    def next_parked(self, tx: UnitOfWork, source: str) -> ParkedRecord | None:
        """The parked record of `source` that now fits its chain, taken out of `chain_parked`."""
        state = tx.inbox.chain_source(source)
        if state is None:
            return None
        found = tx.inbox.chain_parked_after(source, state.last_seq)
        if found is not None:
            tx.inbox.unpark_chain(source, found.seq)
        return found

    def _chain_event_problem(self, event: Event, now: datetime) -> Problem | None:
        source = event.header.source
        if self.topology.parent(source) != self.division:
            return _misrouted(event)
        assert isinstance(event, ChainCheckpointed | CheckpointCountersigned)
        expected = self.ring().lookup(source, event.key_id, now)
        if expected is None:
            return Problem(
                "key-mismatch",
                f"{source} 没有发布有效的密钥 {event.key_id}",
                f"{source} published no valid key {event.key_id}",
            )
        return signature_problem(event, expected)

    def _refuse(
        self,
        host: ChainHost,
        tx: UnitOfWork,
        event: Event,
        data: bytes,
        headers: Headers,
        problem: Problem,
        origin: str = "",
    ) -> str:
        h = event.header
        detail = f"{h.source} seq {h.seq} ({event.type} {h.event_id}): {problem.zh} / {problem.en}"
        host.dead_letter(tx, data, headers, problem.code, detail, origin)
        return "dead_lettered"


def _regressed(h: EventHeader, head: Head, prev: int) -> Problem:
    return Problem(
        "chain-seq-regressed",
        f"{h.source} 的序号 {h.seq}（前一条 {prev}）不在此前已收到的 {head.seq} 之后（重放或伪造）",
        f"seq {h.seq} of {h.source} (previous {prev}) does not follow {head.seq} already "
        "received (replayed or forged)",
    )


def _overflow(h: EventHeader, limit: int) -> Problem:
    return Problem(
        "chain-gap-overflow",
        f"{h.source} 已有 {limit} 条记录在等待缺失的前序记录",
        f"{limit} records of {h.source} already wait for a missing earlier record",
    )


def _positioned(header: EventHeader, head_seq: int, head_hash: str) -> EventHeader:
    seq, prev_hash = Head(head_seq, head_hash).next_link()
    return replace(header, seq=seq, prev_hash=prev_hash)


def _misrouted(event: Event) -> Problem:
    return Problem(
        "chain-event-misrouted",
        f"{event.type} 只应由直接下级发送给上级",
        f"{event.type} may only come from a direct child",
    )


async def checkpoint_periodically(service: NodeService, interval_s: float) -> None:
    """Sign a checkpoint every `interval_s` seconds when the log head moved (0: never)."""
    if interval_s <= 0:
        return
    while True:
        await asyncio.sleep(interval_s)
        try:
            service.chain.checkpoint(service)
        except Exception:  # keep going; the next round retries
            log.exception("checkpoint failed")

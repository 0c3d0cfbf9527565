"""The node's side of the audit chain (docs/decisions/006-audit-chain-checkpoints.md).

- **Checkpoints**: the node signs its log head (`ChainCheckpointed`) periodically and on
  demand, and sends it to its parent's inbox.
- **Countersignatures**: a parent that receives a valid checkpoint from a child records its own
  signed `CheckpointCountersigned` in its log (and sends it to its own parent), so the child
  can no longer rewrite that part of its log unnoticed.
- **Inbound checks**: a node sees only the part of a neighbour's log addressed to it, so it
  checks what that part allows — per source, sequence numbers only grow, a record that follows
  the last one received must hash-link to it, and signed records must verify against the
  published (or first seen) key of their source. Anything else goes to the dead-letter topic.
  Events of grandchildren arrive forwarded, out of their log order; the child that received
  them directly has checked them, and auditors check the full logs.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from ..chain.keys import Keyring, NodeKey
from ..chain.links import Head, record_hash
from ..chain.signing import Problem, sign_checkpoint, sign_countersign
from ..chain.verifier import Step, is_resent, sequence_problem, signature_problem, step
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
from ..store.records import ChainSource, Headers
from ..topics import TopicNames

if TYPE_CHECKING:
    from ..settings import NodeSettings
    from .service import NodeService

log = logging.getLogger(__name__)

__all__ = ["ChainHost", "ChainKeeper", "checkpoint_periodically", "keeper_for", "sequence_problem"]


class ChainHost(Protocol):
    """What the chain keeper needs from the node it keeps the chain of (`NodeService`)."""

    @property
    def topics(self) -> TopicNames: ...

    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...

    def new_header(self, case_id: str, actor: str) -> EventHeader: ...

    def encode_record(self, event: Event) -> tuple[bytes, Headers]: ...

    def committed(self) -> None: ...

    def dead_letter(
        self, tx: UnitOfWork, data: bytes, headers: Headers, reason: str, detail: str
    ) -> None: ...


def _head(state: ChainSource | None) -> Head | None:
    return Head(state.last_seq, state.last_hash) if state is not None else None


class ChainKeeper:
    def __init__(
        self,
        division: str,
        topology: Topology,
        signer: NodeKey | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        self.division = division
        self.topology = topology
        self.signer = signer
        self.keyring = keyring or Keyring.empty()

    @property
    def key_id(self) -> str | None:
        return self.signer.key_id if self.signer is not None else None

    @property
    def actor(self) -> str:
        return self.topology.division(self.division).petition_office().id

    def is_direct(self, source: str) -> bool:
        """True if events of `source` reach this node straight from their source (an ancestor or
        a child), in that source's log order; a grandchild's events arrive forwarded."""
        return self.topology.is_within(self.division, source) or (
            self.topology.has_division(source) and self.topology.parent(source) == self.division
        )

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
        tx.log.enqueue(host.topics.log(self.division), event.case_id, data, headers)
        parent = self.topology.parent(self.division)
        if parent is not None:
            tx.log.enqueue(host.topics.inbox(parent), event.case_id, data, headers)

    def _countersign(
        self, host: ChainHost, tx: UnitOfWork, checkpoint: ChainCheckpointed, digest: str
    ) -> None:
        if self.signer is None:
            return
        seq, head = tx.log.head()
        header = _positioned(host.new_header(CHAIN_CASE_ID, self.actor), seq, head)
        self._append(host, tx, sign_countersign(self.signer, header, checkpoint, digest))

    # -- receiving ----------------------------------------------------------------------
    def receive(
        self,
        host: ChainHost,
        tx: UnitOfWork,
        event: Event,
        data: bytes,
        headers: Headers,
    ) -> str | None:
        """Check a new (not duplicate) inbound event against what this node has seen of its
        source's log. Returns None when a case event may be applied as usual, "applied" for a
        chain event (handled here) and "dead_lettered" after refusing the record."""
        source = event.header.source
        chain_event = is_chain_event(event)
        if not self.is_direct(source):
            if chain_event:
                return self._refuse(host, tx, event, data, headers, _misrouted(event))
            return None
        state = tx.inbox.chain_source(source)
        h = event.header
        placed = step(_head(state), h.seq, h.prev_hash, resent=is_resent(headers))
        if placed is Step.RESENT and _never_received(tx, event):
            return None  # applied as usual; the chain state stays at the later record
        problem = sequence_problem(_head(state), h)
        pinned = bytes.fromhex(state.public_key) if state and state.public_key else None
        expected = self.keyring.get(source) or pinned
        if problem is None and chain_event:
            if self.topology.parent(source) != self.division:
                problem = _misrouted(event)
            else:
                problem = signature_problem(event, expected)
        if problem is not None:
            return self._refuse(host, tx, event, data, headers, problem)
        digest = record_hash(data)
        key = expected
        if key is None and isinstance(event, ChainCheckpointed | CheckpointCountersigned):
            key = event.public_key  # first signed record of this source: pin its key
        tx.inbox.save_chain_source(
            ChainSource(
                source,
                event.header.seq,
                digest,
                key.hex() if key is not None else None,
                event.header.seq
                if isinstance(event, ChainCheckpointed)
                else (state.checkpoint_seq if state else None),
            )
        )
        if not chain_event:
            return None
        if isinstance(event, ChainCheckpointed):
            self._countersign(host, tx, event, digest)
        return "applied"

    def _refuse(
        self,
        host: ChainHost,
        tx: UnitOfWork,
        event: Event,
        data: bytes,
        headers: Headers,
        problem: Problem,
    ) -> str:
        h = event.header
        detail = f"{h.source} seq {h.seq} ({event.type} {h.event_id}): {problem.zh} / {problem.en}"
        host.dead_letter(tx, data, headers, problem.code, detail)
        return "dead_lettered"


def _positioned(header: EventHeader, head_seq: int, head_hash: str) -> EventHeader:
    seq, prev_hash = Head(head_seq, head_hash).next_link()
    return replace(header, seq=seq, prev_hash=prev_hash)


def _never_received(tx: UnitOfWork, event: Event) -> bool:
    """A case event its source set aside and re-sent after later records (decision 012), at a
    sequence number never received from that source. Accepted like a record after a gap (whose
    hash link cannot be checked either); a replay of a sequence number already received is
    still refused, and audit verify compares the copy with the source's log."""
    h = event.header
    return not is_chain_event(event) and not tx.cases.has_event_from(h.source, h.seq)


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


def keeper_for(settings: NodeSettings, topology: Topology) -> ChainKeeper:
    """The node's chain keeper with its signing key: the key file given, or the one in its data
    folder (created on first start). Refuses (SettingsError) a key that does not match the
    public key published for the division."""
    from ..chain.keys import KeyFileError, load_or_create_private_key, published_keys_dir
    from ..settings import SettingsError

    folder = settings.public_keys_dir or published_keys_dir(settings.topology_path)
    try:
        keyring = Keyring.from_dir(folder)
        published = keyring.get(settings.division)
        if not settings.key_path.exists() and (settings.key_file or published):
            pub = folder / f"{settings.division}.pub"
            where = f"（已发布公钥 / published: {pub}）" if published else ""
            raise KeyFileError(  # a published key needs its private key: never make a new one
                f"私钥文件不存在 / key file not found: {settings.key_path}{where}"
            )
        key, created = load_or_create_private_key(settings.key_path)
    except KeyFileError as err:
        raise SettingsError(str(err)) from err
    if published is not None and published != key.public_raw:
        raise SettingsError(
            f"节点 {settings.division} 的私钥（{key.key_id}，{settings.key_path}）与已发布的公钥"
            f"（{folder}/{settings.division}.pub）不符，拒绝启动 / the private key of node "
            f"{settings.division} ({key.key_id}) does not match its published public key; "
            "refusing to start"
        )
    if created:
        log.info("generated node key %s in %s", key.key_id, settings.key_path)
    return ChainKeeper(settings.division, topology, signer=key, keyring=keyring)

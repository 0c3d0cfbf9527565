"""The one chain verifier (docs/decisions/006, 012, 013): per-source sequence, hash link and
signature checks, used by the node's receiver (`node/checkpoints.py`), `audit verify`
(`audit/verify.py`) and the chaos checker (`devtools/chaos_check.py`).

Two views of one rule set:

- `step` places one record against what is known of its source (a `Head`): it follows and
  links (`NEXT`), follows but does not link (`BROKEN`), leaves a gap (`GAP`), is at or below
  the head (`BEHIND`), is a re-sent record below the head (`RESENT`, decision 012), or there is
  nothing to link to yet (`FIRST`). The caller decides what a step means for it (today the node
  accepts a gap; strict per-source chains would park it) — the verifier itself changes no state.
- `LogChain` holds every distinct record of one log read in offset order (the auditor's and the
  chaos checker's view): exact re-publications, conflicting records at one `seq`, event ids
  written twice, late records, links that do not hold and missing sequence numbers.

Signed records (checkpoints, countersignatures) are checked by `signature_problem` against the
key their source must use (`keys.Keyring` / `keys.KeyBook`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..domain.events import ChainCheckpointed, CheckpointCountersigned, Event, EventHeader
from ..topics import RESENT_HEADER
from .links import GENESIS, Head
from .signing import Problem, checkpoint_problem, countersign_problem

SIGNED_TYPES = frozenset({ChainCheckpointed.TYPE, CheckpointCountersigned.TYPE})


class Step(StrEnum):
    """Where a record stands relative to the last known record of its source."""

    FIRST = "first"  # nothing known of the source: nothing to link to
    NEXT = "next"  # seq = head + 1 and prev_hash = the head's hash
    BROKEN = "broken"  # seq = head + 1 but prev_hash is not the head's hash
    GAP = "gap"  # seq > head + 1: the records between are unseen, the link cannot be checked
    BEHIND = "behind"  # seq <= head: replayed, forged, or a second copy
    RESENT = "resent"  # seq < head, marked re-sent by its source (decision 012)


def is_resent(headers: Iterable[tuple[str, bytes]]) -> bool:
    """True if the record carries the re-sent header (`topics.RESENT_HEADER`)."""
    return any(k == RESENT_HEADER for k, _ in headers)


def step(head: Head | None, seq: int, prev_hash: str, *, resent: bool = False) -> Step:
    """Place a record (`seq`, `prev_hash`) after `head` (None: nothing known; `links.GENESIS`:
    the log is read from its start, so seq 1 must carry prev_hash "")."""
    if head is None:
        return Step.FIRST
    if seq <= head.seq:
        return Step.RESENT if resent and seq < head.seq else Step.BEHIND
    if seq > head.seq + 1:
        return Step.GAP
    return Step.NEXT if prev_hash == head.hash else Step.BROKEN


def sequence_problem(head: Head | None, header: EventHeader) -> Problem | None:
    """What the node's receiver refuses in a record from a source whose log it last saw at
    `head`: a sequence number not above the head, or a broken link to it. A gap is accepted
    (its link cannot be checked); the re-sent rule is the caller's (it needs the store)."""
    placed = step(head, header.seq, header.prev_hash)
    if placed is Step.BEHIND:
        assert head is not None
        return Problem(
            "chain-seq-regressed",
            f"序号 {header.seq} 不大于此前从 {header.source} 收到的 {head.seq}（重放或伪造）",
            f"seq {header.seq} is not above {head.seq} already received from "
            f"{header.source} (replayed or forged)",
        )
    if placed is Step.BROKEN:
        assert head is not None
        return Problem(
            "chain-broken",
            f"序号 {header.seq} 的 prev_hash 与此前收到的序号 {head.seq} 的哈希不符",
            f"prev_hash of seq {header.seq} does not match the hash of seq {head.seq} "
            "received before",
        )
    return None


def signature_problem(event: Event, expected_key: bytes | None) -> Problem | None:
    """None if `event` is unsigned, or signed well by `expected_key` (or, when None, by the key
    it names); else what is wrong (codes: signing.py)."""
    if isinstance(event, ChainCheckpointed):
        return checkpoint_problem(event, expected_key)
    if isinstance(event, CheckpointCountersigned):
        return countersign_problem(event, expected_key)
    return None


@dataclass(slots=True)
class Entry:
    """One distinct record of a node log, located on the broker."""

    seq: int
    digest: str  # links.record_hash of its bytes
    prev: str
    topic: str
    partition: int
    offset: int
    event_id: str
    type: str
    timestamp_ms: int


class Placed(StrEnum):
    NEW = "new"  # the first record seen at its seq
    REPUBLISHED = "republished"  # the same bytes again (a relay re-publication): harmless
    CONFLICT = "conflict"  # different bytes at a seq already seen


@dataclass(frozen=True, slots=True)
class Added:
    """What `LogChain.add` found: how the record was placed, the seq where its event id was
    first written (if elsewhere: a replay), and the highest record it comes after (if late)."""

    placed: Placed
    replay_of: int | None = None
    behind: Entry | None = None


class LogChain:
    """Every distinct record of one log, fed in offset order; link checks that cannot be done
    yet (predecessor unseen or itself contested) are deferred to `broken_links`.

    `anchored`: the log is read from a point in time, not from its start, so the first record
    read has no predecessor to link to."""

    def __init__(self, *, anchored: bool = False) -> None:
        self.anchored = anchored
        self.by_seq: dict[int, Entry] = {}
        self.alts: dict[int, list[Entry]] = {}
        self.ids: dict[str, int] = {}
        self.deferred: list[Entry] = []
        self.chosen: dict[int, Entry] = {}  # for a seq with several records: the one on the chain
        self.redeliveries = 0
        self.floor: int | None = None  # lowest seq read (anchor when reading from a time)
        self.max_seq = 0
        self._max_entry: Entry | None = None

    def add(self, entry: Entry) -> Added:
        seq = entry.seq
        known = self.by_seq.get(seq)
        if known is not None:
            if known.digest == entry.digest or any(
                a.digest == entry.digest for a in self.alts.get(seq, ())
            ):
                self.redeliveries += 1
                return Added(Placed.REPUBLISHED)
            self.alts.setdefault(seq, []).append(entry)
            self._link(entry)
            return Added(Placed.CONFLICT)
        if self.floor is None or seq < self.floor:
            self.floor = seq
        self.by_seq[seq] = entry
        first = self.ids.setdefault(entry.event_id, seq)
        behind: Entry | None = None
        if seq < self.max_seq and self._max_entry is not None:
            behind = self._max_entry
        elif seq > self.max_seq:
            self.max_seq, self._max_entry = seq, entry
        self._link(entry)
        return Added(Placed.NEW, first if first != seq else None, behind)

    def _head_before(self, seq: int) -> Head | None:
        if seq == 1 and not self.anchored:
            return GENESIS
        pred = self.by_seq.get(seq - 1)
        return Head(pred.seq, pred.digest) if pred is not None else None

    def _link(self, entry: Entry) -> None:
        """Check the hash link to the predecessor now if possible, else at the end."""
        if step(self._head_before(entry.seq), entry.seq, entry.prev) is not Step.NEXT:
            self.deferred.append(entry)  # predecessor unknown yet, altered, or an alternative

    def candidates(self, seq: int) -> list[Entry]:
        first = self.by_seq.get(seq)
        if first is None:
            return []
        return [first, *self.alts.get(seq, ())]

    def canonical(self, seq: int) -> Entry | None:
        """The record at `seq` on the chain (after conflicts are resolved)."""
        return self.chosen.get(seq) or self.by_seq.get(seq)

    def broken_links(self) -> list[tuple[Entry, Entry | None]]:
        """(record, its predecessor) for every first record at its seq whose link holds to no
        record at seq - 1; (record, None) for a seq 1 whose prev_hash is not "". Gaps and
        alternative records are left to `missing` and the conflicts."""
        broken: list[tuple[Entry, Entry | None]] = []
        for entry in self.deferred:
            s = entry.seq
            if s == 1 and not self.anchored:
                if step(GENESIS, s, entry.prev) is not Step.NEXT:
                    broken.append((entry, None))
                continue
            if self.anchored and s == self.floor:
                continue  # the record before the time range was not read
            preds = self.candidates(s - 1)
            if not preds or any(step(Head(p.seq, p.digest), s, entry.prev) is Step.NEXT
                                for p in preds):
                continue  # a gap, or linked after all
            if entry is not self.by_seq.get(s):
                continue  # an alternative record with a known seq: a conflict
            broken.append((entry, preds[0]))
        return broken

    def missing(self) -> list[int]:
        """Sequence numbers below the highest read that no record carries."""
        lo = (self.floor or 1) if self.anchored else 1
        return [s for s in range(lo, self.max_seq + 1) if s not in self.by_seq]

"""Inbox copies held until their recipient's encryption key is known (decision 038).

An inbox copy of a case that has a data key must carry the key wrapped for its recipient
(`xinfang_dk`, node/case_sealer.py): without it the recipient refuses the record
(`data-key-missing`) and every later event of the case parks behind it. When the recipient has
not (yet) published its X25519 key (keys/<division>.x25519.json), the copy is therefore written
to the outbox *set aside* with the reason `recipient-key-missing` and the header
`xinfang_dk_wait: <division>`, instead of going out unreadable. So are the later copies to that
division, wrap or not, while any is held: they keep their order and the recipient's chain from
this source stays without gaps (decision 022).

The relay asks `release()` before each batch: once the division's key file is there (the node
re-reads it when its mtime changes), its held rows are wrapped with the case's current key and
put back in the queue, oldest first, at most `batch` per pass, in one transaction each pass (the
stored row is the wrapped one: a crash after it re-publishes the same bytes, which the
recipient's inbox recognises by event id). A held row an operator re-sent
(`xinfang outbox resend`) still carries the wait header: `prepare()` wraps it, or holds it
again while the key is still unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Final

from ..store.protocols import Outbox, UnitOfWork
from ..store.records import Headers, OutboxRow
from ..topics import TopicNames
from .case_sealer import WRAP_HEADER, CaseKey, CaseSealer, without_wrap

log = logging.getLogger(__name__)

KEY_MISSING: Final = "recipient-key-missing"  # the set-aside reason (store, /health, CLI)
WAIT_HEADER: Final = "xinfang_dk_wait"  # on a held row: the division whose key it waits for
RELEASE_BATCH: Final = 500


def needs_wrap(case_key: CaseKey) -> bool:
    """Whether a copy of the case must carry its data key: the case has one (its sealed fields,
    now or later, open only with it). No key yet, or erased (fields read ERASED): nothing to
    send."""
    return isinstance(case_key, bytes)


def must_hold(needs: bool, key_known: bool, earlier_held: bool) -> bool:
    """Whether a copy to a division is held: it needs a wrap the division's key is not known
    for, or an earlier copy to that division is still held (order, decision 038)."""
    return earlier_held or (needs and not key_known)


def _strip(headers: Headers) -> Headers:
    return [(k, v) for k, v in without_wrap(headers) if k != WAIT_HEADER]


class KeyWait:
    """One node's held inbox copies: decides at enqueue, releases when keys appear.

    `unit()` opens a transaction to read case keys in (the node's store); `divisions` are the
    topology's division codes (to tell an inbox topic's division)."""

    def __init__(
        self,
        sealer: CaseSealer,
        outbox: Outbox,
        unit: Callable[[], AbstractContextManager[UnitOfWork]],
        topics: TopicNames,
        divisions: Sequence[str],
        batch: int = RELEASE_BATCH,
    ) -> None:
        self.sealer = sealer
        self.outbox = outbox
        self.unit = unit
        self.topics = topics
        self.batch = batch
        self._division_of = {topics.inbox(d): d for d in divisions}
        # divisions with held rows (read at start: a restarted node goes on holding/releasing)
        held = outbox.held_by_topic(KEY_MISSING)
        self._waiting = {self._division_of[t] for t in held if t in self._division_of}
        self.released = 0  # rows this process released (for logs and tests)

    # -- the decision at enqueue (NodeService._record, forwarding) ------------------------------
    def waiting(self) -> set[str]:
        """Divisions with held rows (added as rows are held, dropped once all are released)."""
        return self._waiting

    def copy_for(
        self, tx: UnitOfWork, headers: Headers, case_id: str, division: str
    ) -> tuple[Headers, bool]:
        """The headers of an inbox copy to `division`, and whether it is held (set aside with
        KEY_MISSING, marked WAIT_HEADER) rather than queued."""
        earlier = division in self.waiting()
        wrap = None if earlier else self._wrap(tx, case_id, division)
        if wrap is not None:
            return [*_strip(headers), *wrap], False
        if not earlier:
            log.warning(
                "%s 未发布加密公钥：发往它的记录（案件 %s 起）暂缓发送，公钥发布后自动补发 / %s "
                "has no published encryption key: records to it (from case %s on) are held "
                "until it is", division, case_id, division, case_id,
            )  # fmt: skip
        self.waiting().add(division)
        return [*_strip(headers), (WAIT_HEADER, division.encode())], True

    def _wrap(self, tx: UnitOfWork, case_id: str, division: str) -> Headers | None:
        """The wrap header a copy of `case_id` to `division` carries now ([] when it needs
        none); None when it needs one and `division`'s key is not known."""
        needs = needs_wrap(self.sealer.key(tx, case_id)) if case_id else False
        known = self.sealer.published(division) is not None
        if must_hold(needs, known, earlier_held=False):
            return None
        wrap = self.sealer.wrap_for(tx, case_id, division) if needs else []
        if needs and not any(k == WRAP_HEADER for k, _ in wrap):
            return None  # the key file went away between the two reads
        return wrap

    # -- the relay's side --------------------------------------------------------------------------
    def release(self) -> int:
        """Put back in the queue, wrapped, the held rows of divisions whose key is now known
        (oldest first, at most `batch`). Returns how many."""
        ready = sorted(d for d in self.waiting() if self.sealer.published(d) is not None)
        done = 0
        for division in ready:
            rows = self.outbox.held_rows(KEY_MISSING, self.topics.inbox(division), self.batch)
            wrapped = self._wrapped(rows)
            if wrapped is None:
                continue  # the key went away again: try at the next pass
            self.outbox.requeue(wrapped)
            done += len(wrapped)
            if len(rows) < self.batch:
                self.waiting().discard(division)
            log.info(
                "%s 的加密公钥已发布：补发 %d 条暂缓的记录 / %s published its encryption key: "
                "%d held records re-queued", division, len(rows), division, len(rows),
            )  # fmt: skip
        self.released += done
        return done

    def prepare(self, rows: Sequence[OutboxRow]) -> list[OutboxRow]:
        """`rows` as the relay sends them: a re-sent held row (WAIT_HEADER) wrapped now (and so
        stored), or held again with the rows after it to its division; the others as they are."""
        out: list[OutboxRow] = []
        holding: set[str] = set()
        for row in rows:
            division = dict(row.headers).get(WAIT_HEADER, b"").decode()
            if not division:
                division = self._division_of.get(row.topic, "")
                if division in holding:  # behind a row held again: keep their order
                    self.outbox.set_aside(row.id, KEY_MISSING)
                    continue
                out.append(row)
                continue
            wrapped = None if division in holding else self._wrapped([row])
            if wrapped is None:
                holding.add(division)
                self.waiting().add(division)
                self.outbox.set_aside(row.id, KEY_MISSING)
                continue
            self.outbox.requeue(wrapped)
            out.append(replace(row, headers=wrapped[0][1]))
        return out

    def _wrapped(self, rows: Sequence[OutboxRow]) -> list[tuple[int, Headers]] | None:
        """(id, headers wrapped with the case's current key) per row; None if any still waits."""
        out = []
        with self.unit() as tx:
            for row in rows:
                division = self._division_of.get(row.topic, "")
                wrap = self._wrap(tx, row.key, division)
                if wrap is None:
                    return None
                out.append((row.id, [*_strip(row.headers), *wrap]))
        return out

    def health(self) -> dict[str, int]:
        """Held rows per division waiting for its key (for /health)."""
        held = self.outbox.held_by_topic(KEY_MISSING)
        return {self._division_of.get(t, t): n for t, n in sorted(held.items())}


def key_alarms(held: dict[str, int]) -> list[str]:
    """/health alarms (中英) for rows held per division waiting for its encryption key."""
    return [
        f"{n} 条发往 {d} 的记录等待其加密公钥（{d}.x25519.json）发布，发布后自动补发 / {n} "
        f"records to {d} wait for its encryption key ({d}.x25519.json) to be published; they "
        "go out by themselves once it is"
        for d, n in sorted(held.items())
    ]

"""The published keys a running node checks records with, re-read when `keys/` changes
(docs/decisions/021-record-signatures.md, "Rotation").

Why re-read the folder rather than announce keys on the wire: `keys/` is the trust anchor
auditors read too, so a rotation is one file change that every node and auditor sees the same
way; a node started before another node's key was published learns it without a restart. The
folder is looked at (one `stat` per file) at most every `check_every_s` seconds. A new version
of a set the node already holds replaces it only if endorsed by a key of the held set or of the
parent's set (`keysets.accepts_update`); otherwise the held set stays and an error is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..chain.keys import KeyFileError, Keyring
from ..chain.keysets import KeySet, accepts_update
from ..domain.clock import Clock, system_clock
from ..domain.topology import Topology

log = logging.getLogger(__name__)


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return ()
    found = []
    for path in entries:
        if path.name.endswith((".pub", ".keys.json")):
            try:
                st = path.stat()
            except OSError:
                continue
            found.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(found)


class PublishedKeys:
    """The current keyring of a keys folder, with endorsed rotations applied."""

    def __init__(
        self,
        folder: Path,
        topology: Topology,
        *,
        clock: Clock = system_clock,
        check_every_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.topology = topology
        self.clock = clock
        self.check_every_s = check_every_s
        self._monotonic = monotonic
        self._seen = _signature(folder)
        self._ring = Keyring.from_dir(folder)  # at start: the folder is the anchor
        self._checked = monotonic()

    def current(self) -> Keyring:
        """The keyring, after re-reading the folder if it changed (at most every few seconds)."""
        now = self._monotonic()
        if now - self._checked >= self.check_every_s:
            self._checked = now
            seen = _signature(self.folder)
            if seen != self._seen:
                self._seen = seen
                self._reload(self.clock())
        return self._ring

    def _reload(self, moment: datetime) -> None:
        try:
            fresh = Keyring.from_dir(self.folder)
        except KeyFileError:
            log.exception("published keys changed but cannot be read; keeping the keys held")
            return
        held = self._ring
        sets: dict[str, KeySet] = {}
        for division in sorted(set(held.sets) | set(fresh.sets)):
            old, new = held.key_set(division), fresh.key_set(division)
            sets[division] = self._choose(division, old, new, held, moment)
        self._ring = Keyring.of([s for s in sets.values()], self.folder)

    def _choose(
        self, division: str, old: KeySet | None, new: KeySet | None, held: Keyring, at: datetime
    ) -> KeySet:
        if old is None:
            assert new is not None
            log.info("published key set of %s learnt (version %d)", division, new.version)
            return new  # a division first published now: the folder is the anchor
        if new is None or new == old:
            return old
        parent = self.topology.parent(division) if self.topology.has_division(division) else None
        parent_set = held.key_set(parent) if parent is not None else None
        if accepts_update(old, new, parent_set, at):
            log.info("key set of %s rotated to version %d", division, new.version)
            return new
        log.error(
            "密钥集 %s 第 %d 版未经原密钥或上级密钥背书，不予接受 / key set of %s version %d is "
            "not endorsed by its held keys or its parent's: ignored",
            division, new.version, division, new.version,
        )  # fmt: skip
        return old

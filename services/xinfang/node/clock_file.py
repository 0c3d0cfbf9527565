"""A clock that runs ahead of the system clock by an offset kept in a file.

For tests and drills only (XINFANG_CLOCK_FILE): several node processes share one
file, so moving it moves "now" for all of them and a 60-day deadline passes in a
second. The file holds JSON: {"offset_seconds": 5184000}. A missing or unreadable
file means no offset.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path


class FileClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._offset = timedelta(0)

    def offset(self) -> timedelta:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return timedelta(0)
        if mtime != self._mtime:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._offset = timedelta(seconds=float(data.get("offset_seconds", 0)))
            except (OSError, ValueError, AttributeError):
                return self._offset
            self._mtime = mtime
        return self._offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset()


def write_offset(path: Path, offset: timedelta) -> None:
    """Move the shared clock (atomically, so readers never see half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"offset_seconds": offset.total_seconds()}), encoding="utf-8")
    tmp.replace(path)

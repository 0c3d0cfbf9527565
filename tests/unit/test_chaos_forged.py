"""The chaos run's forged-record count (devtools/chaos_check.py): a forged record found applied
in a node store, or carried beyond the inbox it was produced into, counts; a refused one and a
replayed genuine record (judged as a duplicate by `compare`) do not."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from sqlalchemy import create_engine, insert

from xinfang.chain.links import record_hash
from xinfang.devtools.chaos import _genuine_parked
from xinfang.devtools.chaos_check import forged_applied, parked_digests
from xinfang.devtools.processes import NodeProcess
from xinfang.store.tables import parked
from xinfang.store.unit_of_work import NodeStore


def test_forged_records_applied_or_forwarded_are_counted() -> None:
    forged = {
        "refused": ("impersonation", "t.xinfang.150400.inbox"),
        "applied": ("seq-gap", "t.xinfang.150400.inbox"),
        "forwarded": ("altered", "t.xinfang.150400.inbox"),
        "replayed": ("replay", "t.xinfang.150400.inbox"),
    }
    sent = Counter({"refused": 1, "applied": 1, "forwarded": 1})
    seen = Counter({"refused": 1, "applied": 1, "forwarded": 2, "replayed": 3})
    assert forged_applied(forged, {"applied", "replayed"}, seen, sent) == 2
    assert forged_applied(forged, set(), Counter(sent), sent) == 0


def test_settling_waits_the_long_window_only_for_parked_records_not_known_forged(
    tmp_path: Path,
) -> None:
    """`make chaos` settles after the short quiet window when every parked record is a forgery
    it sent (it waits for good), and after the long one when a parked record may be genuine."""
    url = f"sqlite:///{tmp_path / 'node.sqlite3'}"
    NodeStore(url).close()  # the newest schema
    engine = create_engine(url)
    with engine.begin() as conn:
        row = {"event_id": "e1", "case_id": "c1", "payload": b"forged bytes", "headers": []}
        conn.execute(insert(parked), [{**row, "parked_at": datetime.now(UTC)}])
    engine.dispose()
    digest = record_hash(b"forged bytes")
    assert parked_digests(url) == {digest}
    node = cast(NodeProcess, SimpleNamespace(database_url=url))
    nodes = {"150400": node}
    assert _genuine_parked(nodes, lambda: {digest, record_hash(b"other")}) is False
    assert _genuine_parked(nodes, lambda: {record_hash(b"other")}) is True
    assert _genuine_parked(nodes, None) is True
    # a database that cannot be read (here: no tables) counts as holding a genuine one
    unreadable = cast(NodeProcess, SimpleNamespace(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    assert _genuine_parked({**nodes, "150404": unreadable}, lambda: {digest}) is True

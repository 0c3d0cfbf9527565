"""The chaos run's forged-record count (devtools/chaos_check.py): a forged record found applied
in a node store, or carried beyond the inbox it was produced into, counts; a refused one and a
replayed genuine record (judged as a duplicate by `compare`) do not."""

from __future__ import annotations

from collections import Counter

from xinfang.devtools.chaos_check import forged_applied


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

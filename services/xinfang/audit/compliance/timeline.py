"""A case's events from all node logs in causal order (the cross-level timeline)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from datetime import datetime

from .model import Located


def order_case(events: Iterable[Located]) -> list[Located]:
    """Causal order: after the event it follows (causation_id) and after the earlier events of
    the same source; ties by event time, source and sequence number."""
    items = {e.event.header.event_id: e for e in events}
    preds: dict[str, set[str]] = {i: set() for i in items}
    by_source: dict[str, list[Located]] = {}
    for e in items.values():
        by_source.setdefault(e.event.header.source, []).append(e)
        after = e.event.header.causation_id
        if after in items:
            preds[e.event.header.event_id].add(after)
    for chain in by_source.values():
        chain.sort(key=lambda e: e.seq)
        for a, b in itertools.pairwise(chain):
            preds[b.event.header.event_id].add(a.event.header.event_id)
    succ: dict[str, list[str]] = {i: [] for i in items}
    for i, ps in preds.items():
        for p in ps:
            succ[p].append(i)

    def key(i: str) -> tuple[datetime, str, int, str]:
        e = items[i]
        return (e.event.header.occurred_at, e.event.header.source, e.seq, i)

    ready = [key(i) for i, ps in preds.items() if not ps]
    heapq.heapify(ready)
    remaining = {i: len(ps) for i, ps in preds.items()}
    ordered: list[Located] = []
    while ready:
        i = heapq.heappop(ready)[3]
        ordered.append(items[i])
        for s in succ[i]:
            remaining[s] -= 1
            if remaining[s] == 0:
                heapq.heappush(ready, key(s))
    if len(ordered) < len(items):  # a cycle: only forged causation can make one
        done = {e.event.header.event_id for e in ordered}
        ordered += sorted((items[i] for i in items if i not in done), key=lambda e: key(
            e.event.header.event_id))
    return ordered

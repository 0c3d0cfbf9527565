"""Who learns of an event: the addressee, and the level above (上报).

Each node reports the case events of its territory to its parent, which
applies them to its own store and passes them on, so the province sees the
outcome of a case handled two levels down without reading anyone's database.
Events never travel down except to their addressee.
"""

from __future__ import annotations

from .case import Case
from .events import CaseTransferred, Event
from .topology import Topology


def recipients(event: Event, case: Case, own: str, topology: Topology) -> tuple[str, ...]:
    """Divisions (other than `own`) whose inbox must receive `event`."""
    targets: list[str] = []
    if isinstance(event, CaseTransferred):
        targets.append(event.to_division)
    elif case.routed_from is not None and case.holder_division == own:
        targets.append(case.routed_from)  # report back to the office that routed it
    parent = topology.parent(own)
    if parent is not None:
        targets.append(parent)
    seen: list[str] = []
    for division in targets:
        if division != own and division not in seen:
            seen.append(division)
    return tuple(seen)


def forward_upward(event: Event, own: str, topology: Topology) -> str | None:
    """The parent to pass an inbound event on to, if it came from below."""
    source = event.header.source
    if source != own and topology.is_within(source, own):
        return topology.parent(own)
    return None

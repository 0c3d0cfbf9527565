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
        # the addressee, and every level between us and it: they answer for their territory
        path = topology.ancestors(event.to_division)
        targets += [d for d in reversed(path) if topology.is_within(d, own) and d != own]
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


def complete_stream_expected(event: Event, own: str, topology: Topology) -> bool:
    """True if this node receives every earlier event of the case from the event's source.

    Nodes hear everything their descendants decide (upward reporting), so an event
    from below is applied only after its predecessor. Events from above are addressed
    to us without their history (we learn of a case by its transfer), and come in order
    from the single partition of our inbox.
    """
    source = event.header.source
    return source != own and topology.is_within(source, own)

"""Who learns of an event: the parent (上报), the divisions below that take part, never the accused.

Each node reports the case events of its territory to its parent, which applies
them to its own store and passes them on, so the province sees the outcome of a
case handled two levels down without reading anyone's database. Events travel
down only to divisions that take part in the case (and the levels between),
and never — for an accusation — to the accused unit's division (R17).
"""

from __future__ import annotations

from .accusations import accused_division
from .case import Case
from .events import Event
from .topology import Topology


def _path_down(topology: Topology, own: str, target: str) -> list[str]:
    """Divisions strictly below `own` down to `target` (inclusive), top first."""
    chain = [target, *topology.ancestors(target)]
    below = [d for d in chain if d != own and topology.is_within(d, own)]
    return list(reversed(below))


def recipients(event: Event, case: Case, own: str, topology: Topology) -> tuple[str, ...]:
    """Divisions (other than `own`) whose inbox must receive `event`."""
    targets: list[str] = []
    parent = topology.parent(own)
    if parent is not None:
        targets.append(parent)
    for division in case.participants:
        if division != own and topology.is_within(division, own):
            targets += _path_down(topology, own, division)
    excluded = accused_division(case.file)
    seen: list[str] = []
    for division in targets:
        if division == own or division in seen:
            continue
        if excluded is not None and topology.is_within(division, excluded):
            continue  # R17: never to the accused unit's division
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


def sender_refusal(event: Event, own: str, topology: Topology) -> str | None:
    """Why this node must not accept `event` from the wire, or None if it may.

    Only the node's ancestors address it, and only its descendants report to it (directly or
    forwarded); a sibling, an unrelated division, itself, or a body that does not belong to the
    stated source division may not send it anything.
    """
    source = event.header.source
    if source == own:
        return "own-event-echoed"
    if not topology.has_division(source):
        return "unknown-source"
    if not (topology.is_within(own, source) or topology.is_within(source, own)):
        return "source-not-related"
    actor = event.header.actor
    if not topology.has_body(actor) or topology.body(actor).division != source:
        return "actor-not-of-source"
    return None

"""The document number (文号), e.g. 松山区受〔2026〕第37号 (decision 033).

Deterministic from the case's act, so a reprint carries the same number: the issuing node's
division name, the kind's word, the Beijing year of the act and the act's position in the
issuing node's log (`header.seq`). A node's log numbers its events once and for all, in
order, so the numbers of one division rise with time and never repeat — a register of
outgoing documents kept by the log itself, the same at every node that holds the event.
"""

from __future__ import annotations

from ..domain.calendar import local_date
from ..domain.errors import XinfangError
from ..domain.events import Event
from ..domain.topology import Topology
from .kinds import DocumentKind


def document_number(kind: DocumentKind, act: Event, topology: Topology) -> str:
    """文号 of the document of `kind` resting on `act` (an event committed to its log)."""
    source = act.header.source
    try:
        division = topology.division(source).name
    except XinfangError:
        division = source
    year = local_date(act.header.occurred_at).year
    return f"{division}{kind.word}〔{year}〕第{act.header.seq}号"

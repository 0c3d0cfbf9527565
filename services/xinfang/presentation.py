"""How events read to people: labels and one-line summaries, Chinese first."""

from __future__ import annotations

from typing import Any

from .domain.case import Case
from .domain.events import (
    CaseAccepted,
    CaseTransferred,
    Event,
    HandlingOpinionIssued,
    NoticeServed,
    PetitionRegistered,
)
from .domain.topology import Topology
from .domain.vocabulary import zh

LABELS: dict[str, tuple[str, str]] = {
    "PetitionRegistered": ("登记", "registered"),
    "CaseTransferred": ("转送", "transferred"),
    "CaseAccepted": ("受理", "accepted"),
    "NoticeServed": ("送达", "notice served"),
    "HandlingOpinionIssued": ("处理意见", "handling opinion"),
}


def _name(topology: Topology, body_or_division: str) -> str:
    if topology.has_body(body_or_division):
        return topology.body(body_or_division).name
    if topology.has_division(body_or_division):
        return topology.division(body_or_division).name
    return body_or_division


def summary_zh(event: Event, topology: Topology) -> str:
    if isinstance(event, PetitionRegistered):
        f = event.file
        return f"{zh(f.channel.value)}渠道登记「{f.title}」，类别：{zh(f.category.value)}"
    if isinstance(event, CaseTransferred):
        return f"转送至 {_name(topology, event.to_body)}（{event.to_division}）"
    if isinstance(event, CaseAccepted):
        return f"{_name(topology, event.body)} 受理，办理期限至 {event.handling_due:%Y-%m-%d}"
    if isinstance(event, NoticeServed):
        return f"{zh(event.kind.value)}，{zh(event.method.value)}，{zh(event.receipt.value)}"
    if isinstance(event, HandlingOpinionIssued):
        return f"{zh(event.outcome.value)}：{event.opinion}"
    return event.type


def timeline_entry(event: Event, topology: Topology) -> dict[str, Any]:
    label_zh, label_en = LABELS.get(event.type, (event.type, event.type))
    h = event.header
    return {
        "event_id": h.event_id,
        "type": event.type,
        "label_zh": label_zh,
        "label_en": label_en,
        "occurred_at": h.occurred_at.isoformat(),
        "division": h.source,
        "division_name": _name(topology, h.source),
        "actor": h.actor,
        "actor_name": _name(topology, h.actor),
        "seq": h.seq,
        "summary_zh": summary_zh(event, topology),
    }


def case_view(case: Case, topology: Topology) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "query_code": case.query_code,
        "title": case.file.title,
        "category": case.file.category.value,
        "category_zh": zh(case.file.category.value),
        "status": case.status.value,
        "status_zh": zh(case.status.value),
        "origin": case.origin,
        "holder": case.holder,
        "holder_name": _name(topology, case.holder),
        "place": case.file.place,
        "acceptance_due": case.acceptance_due.isoformat() if case.acceptance_due else None,
        "handling_due": case.handling_due.isoformat() if case.handling_due else None,
        "outcome": case.outcome.value if case.outcome else None,
        "outcome_zh": zh(case.outcome.value) if case.outcome else None,
        "version": case.version,
    }

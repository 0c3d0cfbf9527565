"""The audit report as a JSON document (`xinfang audit --json`, report.json)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ...domain.topology import Topology
from ...domain.vocabulary import zh as vocab_zh
from ...presentation import LABELS
from ..compliance import CaseReport, Located, ObligationRecord
from ..run import AuditOutcome
from .common import STATUS_ZH, local, name_of, summary_of, title_of


def timeline_json(item: Located, topology: Topology) -> dict[str, Any]:
    e = item.event
    label_zh, label_en = LABELS.get(e.type, (e.type, e.type))
    return {
        "event_id": e.header.event_id,
        "type": e.type,
        "label_zh": label_zh,
        "label_en": label_en,
        "occurred_at": e.header.occurred_at.isoformat(),
        "occurred_at_local": local(e.header.occurred_at),
        "division": e.header.source,
        "division_name": name_of(topology, e.header.source),
        "actor": e.header.actor,
        "actor_name": name_of(topology, e.header.actor),
        "summary_zh": summary_of(e, topology),
        "log": {"node": item.node, "seq": item.seq, "topic": item.topic, "offset": item.offset},
    }


def obligation_json(o: ObligationRecord, now: datetime) -> dict[str, Any]:
    return {
        "rule": o.rule_id,
        "obligation": o.obligation.value,
        "obligation_zh": o.obligation.zh,
        "obligation_en": o.obligation.en,
        "body": o.body,
        "division": o.division,
        "opened_at": o.opened_at.isoformat(),
        "due": o.due.isoformat(),
        "discharged_at": o.discharged_at.isoformat() if o.discharged_at else None,
        "discharged_by": o.discharged_by,
        "status": o.status,
        "status_zh": STATUS_ZH[o.status],
        "days_late": round(o.days_late(now), 2),
    }


def case_json(report: CaseReport, topology: Topology, now: datetime) -> dict[str, Any]:
    case = report.case
    file = report.file
    return {
        "case_id": report.case_id,
        "title": title_of(file) if file else None,
        "category": file.category.value if file else None,
        "status": case.status.value if case else None,
        "status_zh": vocab_zh(case.status) if case else None,
        "holder": case.holder if case else None,
        "final": case.final if case else None,
        "simplified": report.simplified,
        "participants": list(case.participants) if case else [],
        "error": report.error,
        "obligations": [obligation_json(o, now) for o in report.obligations],
        "timeline": [timeline_json(i, topology) for i in report.timeline],
    }


def outcome_json(outcome: AuditOutcome, with_cases: bool = True) -> dict[str, Any]:
    result = outcome.integrity
    payload: dict[str, Any] = {
        "about": outcome.about,
        "integrity": {
            "ok": result.ok,
            "violations": [f.as_dict() for f in result.violations],
            "forged": [
                {"location": f.location, "code": f.code, "node": f.node, "seq": f.seq,
                 "event_id": f.evidence.get("event_id"), "held_in": f.evidence.get("held_in")}
                for f in result.forged
            ],
            "warnings": [f.as_dict() for f in result.warnings],
            "nodes": result.nodes,
            "inboxes": {
                d: {"records": n, "undecodable": result.inbox_undecodable.get(d, 0)}
                for d, n in sorted(result.inbox_records.items())
            },
        },
    }
    report = outcome.compliance
    if report is not None:
        payload["compliance"] = {
            "now": report.now.isoformat(),
            "cases": len(report.cases),
            "findings": [f.as_dict() for f in report.findings],
            "metrics": {d: m.as_dict() for d, m in report.metrics.items()},
            "overdue": [
                {"case_id": c.case_id, **obligation_json(o, report.now)}
                for c in report.cases
                for o in c.overdue
            ],
        }
        if with_cases:
            payload["cases"] = [case_json(c, outcome.topology, report.now) for c in report.cases]
    return payload


def dumps(outcome: AuditOutcome) -> str:
    return json.dumps(outcome_json(outcome), ensure_ascii=False, indent=2, default=str)

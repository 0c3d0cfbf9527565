"""One case rebuilt from the logs alone: its events folded with the nodes' own
`xinfang.domain.case.evolve`, the obligations the domain says are open after each event
(`open_obligations`) turned into records with their discharge, and a finding for each
obligation discharged late or still overdue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...domain.case import Case, evolve
from ...domain.deadlines import Obligation
from ...domain.errors import DomainError
from ...domain.events import DeadlineMissed, ReReviewRequested, ReviewRequested
from ...domain.obligations import Reporting, open_obligations, reporting
from ...domain.topology import Topology
from .checks import RuleChecks
from .model import ONE_SECOND, CaseReport, Located, ObligationRecord, finding
from .timeline import order_case


def rebuild_case(
    case_id: str, items: list[Located], now: datetime, checks: RuleChecks, topology: Topology
) -> CaseReport:
    """The case's timeline, final state and obligation records as of `now`; rule findings go
    to `checks.findings`. A case that cannot be folded keeps what was folded and says why."""
    timeline = order_case(items)
    report = CaseReport(case_id, timeline, None)
    case: Case | None = None
    open_: dict[tuple[str, ...], ObligationRecord] = {}
    for item in timeline:
        event = item.event
        before = case
        try:
            case = checks.rules.restate(event.header.source, before, evolve(case, event))
        except (DomainError, TypeError, ValueError) as exc:
            report.error = (
                f"{event.type}（{item.node} seq {item.seq}）无法应用 / cannot be applied: {exc}"
            )
            break
        checks.check_event(report, before, case, item)
        when = event.header.occurred_at
        current = {_key(d): d for d in open_obligations(case)}
        for k, record in list(open_.items()):
            if k not in current:
                record.discharged_at, record.discharged_by = when, event.type
                record.discharged_event = item
                record.status = "on_time" if when <= record.due + ONE_SECOND else "late"
                report.obligations.append(record)
                del open_[k]
            else:
                record.due = current[k].due  # an extension moves it
        for k, d in current.items():
            if k not in open_:
                open_[k] = ObligationRecord(
                    case_id, d.obligation, d.rule_id, d.body, when, d.due
                )
        taken_up_late = _late_on_recording(case_id, item)
        if taken_up_late is not None:
            report.obligations.append(taken_up_late)
    for record in open_.values():
        record.status = "overdue" if record.due < now else "pending"
        report.obligations.append(record)
    report.case = case
    report.obligations.sort(key=lambda o: o.opened_at)
    for o in report.obligations:
        if o.status in ("late", "overdue"):
            days = o.days_late(now)
            state_zh = "逾期履行" if o.status == "late" else "至今未履行"
            state_en = "discharged late" if o.status == "late" else "still not discharged"
            checks.findings.append(finding(
                o.rule_id, f"deadline-{o.status}", case_id, o.division,
                f"{_name(topology, o.body)}「{o.zh}」期限 {o.due:%Y-%m-%d}，{state_zh}"
                f"（超期 {days:.1f} 日）",
                f"{o.body}: {o.obligation.en} ({o.obligation.value}) due "
                f"{o.due:%Y-%m-%d}, {state_en} "
                f"({days:.1f} days late)",
                o.discharged_event,
            ))  # fmt: skip
    if report.error:
        checks.findings.append(finding(
            "-", "case-not-reconstructed", case_id, case_id.split("-", 1)[0],
            f"无法仅凭日志重建事项：{report.error}",
            f"the case cannot be rebuilt from the logs alone: {report.error}",
        ))  # fmt: skip
    return report


def _name(topology: Topology, body_or_division: str) -> str:
    if topology.has_body(body_or_division):
        return topology.body(body_or_division).name
    if topology.has_division(body_or_division):
        return topology.division(body_or_division).name
    return body_or_division


def _late_on_recording(case_id: str, item: Located) -> ObligationRecord | None:
    """An obligation discharged by recording the act itself (R19: the take-up of a 复查/复核
    request) is never open; the node reports a late one at once, and the report counts it
    as discharged late by the event it follows."""
    event = item.event
    if not isinstance(event, DeadlineMissed):
        return None
    if reporting(event.obligation) is not Reporting.ON_RECORDING:
        return None
    when = event.header.occurred_at
    return ObligationRecord(
        case_id, event.obligation, event.obligation.rule_id, event.body, when, event.due,
        discharged_at=when, discharged_by=(
            ReviewRequested.TYPE
            if event.obligation is Obligation.REVIEW_TAKE_UP
            else ReReviewRequested.TYPE
        ),
        discharged_event=item,
        status="late",
    )  # fmt: skip


def _key(d: Any) -> tuple[str, ...]:
    if d.obligation is Obligation.SUPERVISION_ANSWER:
        return (d.obligation.value, d.body, d.due.isoformat())
    return (d.obligation.value, d.body)

"""统计 (assessment, issue 16): the §7 metrics of DOMAIN.md for this node's division and its
children over a period, computed from the case events the node holds with the compliance
auditor's own code (audit/compliance: rebuild each case, then `division_metrics`), so the
console's figures and `xinfang audit compliance`'s are the same computation.

The period: the petitions registered (a case's first event here) in [from, to), as they stood
at `to` (events after it are left out; an obligation still open at `to` and due before it is
overdue). Times are Beijing dates; `to` is exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..audit.compliance import ComplianceAuditor, DivisionMetrics, Located
from ..domain.errors import InvalidInput
from ..node.service import NodeService

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 3660  # ten years: longer periods are refused (a typo, not an assessment)
RATES = DivisionMetrics.RATES  # (key, 中文, English) of each rate


@dataclass(frozen=True)
class Period:
    """[start, end) in Beijing dates; `since`/`until` the same as aware datetimes."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), BEIJING)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end, time(), BEIJING)


def _date(name: str, text: str | None, default: date) -> date:
    if text is None or text == "":
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{name} 须为日期 YYYY-MM-DD / {name} must be a date YYYY-MM-DD", field=name
        ) from None


def period(start: str | None, end: str | None, today: date) -> Period:
    """The period of `?from=&to=` (YYYY-MM-DD, Beijing; `to` exclusive). Default: the current
    year up to and including today. 422 XF-INVALID-INPUT if a date is malformed, `to` is not
    after `from`, or the period is longer than ten years."""
    first = _date("from", start, date(today.year, 1, 1))
    last = _date("to", end, today + timedelta(days=1))
    if last <= first:
        raise InvalidInput("to 须晚于 from / to must be after from", field="to")
    if (last - first).days > MAX_DAYS:
        raise InvalidInput(
            f"统计期间不得超过 {MAX_DAYS} 日 / the period may not exceed {MAX_DAYS} days",
            field="to",
        )
    return Period(first, last)


def assessment(service: NodeService, span: Period) -> dict[str, Any]:
    """The figures of `span` at this node: `divisions` lists its own division first, then
    its children (every one, with zeros where nothing counted); each row is
    DivisionMetrics.as_dict() (rates as {numerator, denominator, rate}); `cases` is the number
    of cases of the period; `as_of` the moment the figures stand at (ISO 8601)."""
    now = service.context().now
    as_of = min(now, span.until)
    auditor = ComplianceAuditor(service.topology)
    cases = 0
    for row in service.list_cases():
        events = [event for _, event in service.history(row["case_id"])]
        first = min((e.header.occurred_at for e in events), default=None)
        if first is None or not span.since <= first < span.until:
            continue
        cases += 1
        for event in events:
            if event.header.occurred_at < span.until:
                auditor.add(Located(event, event.header.source, event.header.seq, "", 0, 0))
    report = auditor.run(now=as_of)
    topology, own = service.topology, service.division
    rows = []
    for code in (own, *topology.children(own)):
        division = topology.division(code)
        metrics = report.metrics.get(code) or DivisionMetrics(
            code, division.name, division.level.value
        )
        rows.append(metrics.as_dict())
    return {
        "division": own,
        "name": topology.division(own).name,
        "from": span.start.isoformat(),
        "to": span.end.isoformat(),
        "as_of": as_of.isoformat(),
        "cases": cases,
        "rates": [{"key": k, "zh": zh, "en": en} for k, zh, en in RATES],
        "divisions": rows,
    }

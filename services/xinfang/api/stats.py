"""统计 (assessment, issue 16): the §7 metrics of DOMAIN.md for this node's division and its
children (each child with the divisions below it) over a period, computed from the case
events the node holds with the compliance auditor's own code (audit/compliance: rebuild each
case, then `division_metrics`), so the console's figures and `xinfang audit compliance`'s are
the same computation.

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
from ..domain.topology import Topology
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


def _subtree(topology: Topology, code: str) -> tuple[str, ...]:
    """`code` and every division below it."""
    out = [code]
    for child in topology.children(code):
        out.extend(_subtree(topology, child))
    return tuple(out)


def _rolled_up(
    metrics: dict[str, DivisionMetrics], topology: Topology, code: str, codes: tuple[str, ...]
) -> DivisionMetrics:
    """The figures of `codes` summed under `code`'s name: a child division's row covers its
    whole area (a city with its counties), as an assessment of that division does."""
    division = topology.division(code)
    total = DivisionMetrics(code, division.name, division.level.value)
    for part in (metrics[c] for c in codes if c in metrics):
        for key in ("registered", "received", "supervisions_issued", "overdue_open", "late"):
            setattr(total, key, getattr(total, key) + getattr(part, key))
        for key, _, _ in RATES:
            ratio, add = getattr(total, key), getattr(part, key)
            ratio.numerator += add.numerator
            ratio.denominator += add.denominator
        for level, n in part.supervised.items():
            total.supervised[level] = total.supervised.get(level, 0) + n
    return total


def assessment(service: NodeService, span: Period) -> dict[str, Any]:
    """The figures of `span` at this node: `divisions` lists its own division first (its own
    bodies), then each child division with everything below it (every child, with zeros
    where nothing counted); each row is
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
    rows = [_rolled_up(report.metrics, topology, own, (own,)).as_dict()]
    for code in topology.children(own):
        rows.append(_rolled_up(report.metrics, topology, code, _subtree(topology, code)).as_dict())
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

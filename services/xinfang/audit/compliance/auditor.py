"""The compliance auditor: gathers the case events of every node log, rebuilds each case
(cases.py, with the per-event rule checks of checks.py), checks R17 over logs and inbox copies
(confidentiality.py) and computes the §7 metrics (metrics.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ...domain.events import is_chain_event
from ...domain.topology import Topology
from ..verify import InboxCopy
from .cases import rebuild_case
from .checks import RuleChecks
from .confidentiality import confidentiality
from .metrics import DivisionMetrics, division_metrics
from .model import CaseReport, ComplianceFinding, Located
from .rulebook import RuleBook


@dataclass
class ComplianceReport:
    """The whole run: every case rebuilt, the findings in rule order, §7 metrics per division."""

    now: datetime
    cases: list[CaseReport]
    findings: list[ComplianceFinding]
    metrics: dict[str, DivisionMetrics]


class ComplianceAuditor:
    def __init__(self, topology: Topology, rules: RuleBook | None = None) -> None:
        self.topology = topology
        self.rules = rules or RuleBook()
        self.events: dict[str, Located] = {}
        self.findings: list[ComplianceFinding] = []

    def add(self, item: Located) -> None:
        if is_chain_event(item.event):
            return
        self.events.setdefault(item.event.header.event_id, item)

    def run(
        self, copies: Iterable[InboxCopy] = (), now: datetime | None = None
    ) -> ComplianceReport:
        latest = max((e.event.header.occurred_at for e in self.events.values()), default=None)
        now = now or max(datetime.now(UTC), latest or datetime.now(UTC))
        by_case: dict[str, list[Located]] = {}
        for item in self.events.values():
            by_case.setdefault(item.event.case_id, []).append(item)
        checks = RuleChecks(self.rules, self.findings)
        cases = [
            rebuild_case(case_id, items, now, checks, self.topology)
            for case_id, items in sorted(by_case.items())
        ]
        self.findings += confidentiality(self.topology, cases, list(copies))
        metrics = division_metrics(self.topology, cases, now)
        order = {f"R{i}": i for i in range(1, 20)}
        self.findings.sort(key=lambda f: (order.get(f.rule_id, 99), f.case_id, f.division))
        return ComplianceReport(now, cases, self.findings, metrics)

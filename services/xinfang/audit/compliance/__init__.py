"""Cases and compliance from the logs alone: cross-level timelines, deadlines, R17, metrics.

Every case event is in exactly one node log — the log of the node that decided it. The auditor
gathers them from all logs, orders each case's events causally (`header.causation_id`, and the
source's log order) and folds them with the same `xinfang.domain.case.evolve` the nodes use.
After every event it asks the domain which obligations are open (`open_obligations`), so an
obligation's start, deadline and discharge come from the same rules the deadline watcher uses;
the auditor then checks them against the rule table (DOMAIN.md §9) and recomputes the
deadlines the nodes stated, with the province's rules and holiday calendar, so that a node
cannot grant itself more time. Metrics follow DOMAIN.md §7.

Modules: model (shapes), timeline (causal order), rulebook (the auditor's rules and
calendars), cases (one case rebuilt, obligation records), checks (per-event rule checks),
confidentiality (R17), metrics (§7), auditor (the whole run).
"""

from .auditor import ComplianceAuditor, ComplianceReport
from .metrics import DivisionMetrics, Ratio
from .model import (
    CaseReport,
    ComplianceFinding,
    DueStatus,
    Located,
    ObligationRecord,
)
from .rulebook import RuleBook
from .timeline import order_case

__all__ = [
    "CaseReport",
    "ComplianceAuditor",
    "ComplianceFinding",
    "ComplianceReport",
    "DivisionMetrics",
    "DueStatus",
    "Located",
    "ObligationRecord",
    "Ratio",
    "RuleBook",
    "order_case",
]

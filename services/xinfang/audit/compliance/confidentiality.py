"""R17 (Art. 6 of the 信访工作条例, DOMAIN.md §9): an accusation (检举控告) must not reach the
accused unit or its division — neither in that division's log nor in its inbox."""

from __future__ import annotations

from ...domain.accusations import accused_division
from ...domain.topology import Topology
from ..verify import InboxCopy
from .model import CaseReport, ComplianceFinding, finding


def confidentiality(
    topology: Topology, cases: list[CaseReport], copies: list[InboxCopy]
) -> list[ComplianceFinding]:
    """R17 findings: each log record and inbox copy of an accusation held within the accused
    unit's division, in case and log order."""
    found: list[ComplianceFinding] = []
    accused: dict[str, str] = {}
    for report in cases:
        file = report.file
        if file is not None and (division := accused_division(file)) is not None:
            accused[report.case_id] = division
    if not accused:
        return found
    for report in cases:
        division = accused.get(report.case_id)
        if division is None:
            continue
        for item in report.timeline:
            if topology.is_within(item.node, division):
                found.append(finding(
                    "R17", "accusation-in-accused-log", report.case_id, item.node,
                    f"检举控告事项出现在被检举单位所在地 {item.node} 的日志中",
                    f"an accusation appears in the log of {item.node}, the accused unit's "
                    "division",
                    item,
                ))  # fmt: skip
    for copy in copies:
        if copy.kind != "inbox":
            continue  # a dead letter: the node refused it (its inbox copy is counted)
        division = accused.get(copy.case_id)
        if division is not None and topology.has_division(copy.node) and (
            topology.is_within(copy.node, division)
        ):
            found.append(
                ComplianceFinding(
                    "R17", "accusation-in-accused-inbox", copy.case_id, copy.node,
                    f"检举控告事项被发送到被检举单位所在地 {copy.node} 的收件箱"
                    f"（{copy.type}，来自 {copy.source}）",
                    f"an accusation was sent to the inbox of {copy.node}, the accused "
                    f"unit's division ({copy.type} from {copy.source})",
                    copy.source, copy.seq, copy.topic, copy.offset,
                )
            )
    return found

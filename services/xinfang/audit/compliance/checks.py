"""Per-event rule checks against the rule table (DOMAIN.md §9): deadlines the nodes stated
are recomputed with the province's rules and holiday calendar (R1, R3–R5, R8, R10, R16), and
the acts themselves are checked (R4 objection in time, R5 extensions, R7/R9 request windows,
R17 supervision of an accusation, R18 simplified handling)."""

from __future__ import annotations

from datetime import datetime

from ...domain.accusations import accused_division
from ...domain.case import Case
from ...domain.events import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseTransferred,
    HandlingExtended,
    PetitionRegistered,
    ReReviewRequested,
    ReviewRequested,
    SupervisionIssued,
    TransferObjected,
)
from ...domain.rules import LimitName
from ...domain.vocabulary import CloseReason
from ...privacy.sealing import shown
from .model import ONE_SECOND, CaseReport, ComplianceFinding, Located, finding
from .rulebook import RuleBook


class RuleChecks:
    """Checks each case event as it is folded; appends what it finds to `findings`."""

    def __init__(self, rules: RuleBook, findings: list[ComplianceFinding]) -> None:
        self.rules = rules
        self.findings = findings

    def _finding(
        self, rule: str, code: str, case_id: str, division: str, zh: str, en: str,
        at: Located | None = None,
    ) -> None:
        self.findings.append(finding(rule, code, case_id, division, zh, en, at))

    def _late_due(
        self, report: CaseReport, item: Located, rule: str, what: str, stated: datetime,
        limit_name: LimitName, start: datetime,
    ) -> datetime | None:
        """Report a deadline the node set later than the rule allows; returns the rule's."""
        source = item.event.header.source
        expected = self.rules.due(source, limit_name, start)
        stated = self.rules.recount(source, (limit_name,), start, stated)  # provisional: §11
        if expected is not None and stated > expected + ONE_SECOND:
            self._finding(
                rule, "deadline-extended", report.case_id, source,
                f"{what}期限定为 {stated:%Y-%m-%d}，规则只允许到 {expected:%Y-%m-%d}",
                f"{what}: deadline set to {stated:%Y-%m-%d}, the rule allows "
                f"{expected:%Y-%m-%d}",
                item,
            )
        return expected

    def check_event(
        self, report: CaseReport, before: Case | None, after: Case, item: Located
    ) -> None:
        event, when = item.event, item.event.header.occurred_at
        src = event.header.source
        if isinstance(event, PetitionRegistered):
            self._late_due(
                report, item, "R1", "登记转送", event.route_due, "route", event.file.received_at
            )
        elif isinstance(event, CaseTransferred | CaseAssigned):
            self._late_due(
                report, item, "R3", "受理告知", event.acceptance_due, "acceptance_notice", when
            )
            self._late_due(report, item, "R4", "提出异议", event.objection_due, "objection", when)
        elif isinstance(event, CaseAccepted):
            normal = self.rules.due(src, "handling", when)
            simple = self.rules.due(src, "simplified_opinion", when)
            stated = self.rules.recount(
                src, ("handling", "simplified_opinion"), when, event.handling_due
            )
            if simple is not None and abs((stated - simple).total_seconds()) < 1:
                report.simplified = True
                self._simplified(report, before, item)
            elif normal is not None and stated > normal + ONE_SECOND:
                self._late_due(report, item, "R5", "办理", event.handling_due, "handling", when)
        elif isinstance(event, HandlingExtended):
            rules = self.rules.rules(src)
            if rules is not None and after.extension_days > rules.handling_extension_max.amount:
                self._finding(
                    "R5", "extension-too-long", report.case_id, src,
                    f"累计延期 {after.extension_days} 日，超过 {rules.handling_extension_max.zh}",
                    f"extended by {after.extension_days} days in all, more than "
                    f"{rules.handling_extension_max.amount}",
                    item,
                )
            if not event.approved_by.strip():
                self._finding(
                    "R5", "extension-not-approved", report.case_id, src,
                    "延期未载明批准人", "extension without an approver", item,
                )
        elif isinstance(event, TransferObjected):
            if before and before.objection_due and when > before.objection_due + ONE_SECOND:
                self._finding(
                    "R4", "objection-late", report.case_id, src,
                    f"异议于 {when:%Y-%m-%d} 提出，期限为 {before.objection_due:%Y-%m-%d}",
                    f"objection raised {when:%Y-%m-%d}, due {before.objection_due:%Y-%m-%d}",
                    item,
                )
        elif isinstance(event, ReviewRequested | ReReviewRequested):
            names: tuple[str, LimitName, LimitName] = (
                ("R7", "review_request_window", "review_decision")
                if isinstance(event, ReviewRequested)
                else ("R9", "re_review_request_window", "re_review_decision")
            )
            rule, window_name, limit = names
            served = (
                before.opinion_served_at
                if isinstance(event, ReviewRequested) and before
                else (before.review_served_at if before else None)
            )
            window = self.rules.due(src, window_name, served) if served else None
            if window is not None and when > window + ONE_SECOND:
                given = shown(event.backdate_reason or "")  # sealed: the auditor has no key
                why = f"；补录理由：{given}" if given else ""
                why_en = f"; stated reason: {given}" if why else ""
                self._finding(
                    rule, "request-after-window", report.case_id, src,
                    f"请求于 {when:%Y-%m-%d} 记录，请求期限至 {window:%Y-%m-%d}"
                    f"（须核实是否按期提出{why}）",
                    f"request recorded {when:%Y-%m-%d}, window closed {window:%Y-%m-%d} "
                    f"(check that it was made in time{why_en})",
                    item,
                )
            self._late_due(
                report, item, "R8" if rule == "R7" else "R10", "复查/复核",
                event.decision_due, limit, when,
            )
        elif isinstance(event, CaseClosed) and event.reason is CloseReason.WINDOW_LAPSED:
            served = before.opinion_served_at or before.review_served_at if before else None
            lapsed: LimitName = (
                "review_request_window"
                if before and before.opinion_served_at
                else "re_review_request_window"
            )
            window = self.rules.due(src, lapsed, served) if served else None
            if window is not None and when < window - ONE_SECOND:
                self._finding(
                    "R7" if lapsed == "review_request_window" else "R9",
                    "closed-before-window", report.case_id, src,
                    f"请求期限至 {window:%Y-%m-%d}，却于 {when:%Y-%m-%d} 以期满为由终结",
                    f"closed as lapsed on {when:%Y-%m-%d}, but the window runs to "
                    f"{window:%Y-%m-%d}",
                    item,
                )
        elif isinstance(event, SupervisionIssued):
            self._late_due(
                report, item, "R16", "督办反馈", event.answer_due, "supervision_answer", when
            )
            if accused_division(after.file) == event.to_body.split(".", 1)[0]:
                # never delivered, so it owes no answer (open_obligations); the office erred
                self._finding(
                    "R17", "supervision-to-accused", report.case_id, src,
                    f"检举控告事项的督办发给了被检举单位或其所在地的 {event.to_body}",
                    f"a supervision of an accusation was addressed to {event.to_body}, the "
                    "accused unit or its division",
                    item,
                )

    def _simplified(self, report: CaseReport, before: Case | None, item: Located) -> None:
        """R18: a simplified case must have been relayed (≤1 working day per level) and
        accepted (≤3 working days of receipt) quickly."""
        src, when = item.event.header.source, item.event.header.occurred_at
        received = (before.transfer_received_at or before.registered_at) if before else None
        accept_due = self.rules.due(src, "simplified_accept", received) if received else None
        if accept_due is not None and when > accept_due + ONE_SECOND:
            self._finding(
                "R18", "simplified-accept-late", report.case_id, src,
                f"简易办理事项于 {when:%Y-%m-%d} 受理，应不迟于 {accept_due:%Y-%m-%d}",
                f"simplified case accepted {when:%Y-%m-%d}, due {accept_due:%Y-%m-%d}",
                item,
            )
        previous: datetime | None = None
        for earlier in report.timeline:
            e = earlier.event
            if e is item.event:
                break
            if isinstance(e, PetitionRegistered):
                previous = e.file.received_at
            elif isinstance(e, CaseTransferred | CaseAssigned) and previous is not None:
                relay_due = self.rules.due(e.header.source, "simplified_relay", previous)
                if relay_due is not None and e.header.occurred_at > relay_due + ONE_SECOND:
                    self._finding(
                        "R18", "simplified-relay-late", report.case_id, e.header.source,
                        f"简易办理事项转送用时超过 1 个工作日（期限 {relay_due:%Y-%m-%d}）",
                        f"simplified case relayed after more than one working day "
                        f"(due {relay_due:%Y-%m-%d})",
                        earlier,
                    )
                previous = e.header.occurred_at

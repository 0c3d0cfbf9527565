"""Cases and compliance from the logs alone: cross-level timelines, deadlines, R17, metrics.

Every case event is in exactly one node log — the log of the node that decided it. The auditor
gathers them from all logs, orders each case's events causally (`header.causation_id`, and the
source's log order) and folds them with the same `xinfang.domain.case.evolve` the nodes use.
After every event it asks the domain which obligations are open (`open_obligations`), so an
obligation's start, deadline and discharge come from the same rules the deadline watcher uses;
the auditor then checks them against the rule table (DOMAIN.md §9) and recomputes the
deadlines the nodes stated, with the province's rules and holiday calendar, so that a node
cannot grant itself more time. Metrics follow DOMAIN.md §7.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ..domain.accusations import accused_division
from ..domain.calendar import HolidayCalendar
from ..domain.case import Case, evolve
from ..domain.deadlines import Obligation, due
from ..domain.errors import DomainError, XinfangError
from ..domain.events import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseDiverted,
    CaseFile,
    CaseNotAccepted,
    CaseTransferred,
    DeadlineMissed,
    Event,
    HandlingExtended,
    HandlingOpinionIssued,
    NoticeServed,
    PetitionRegistered,
    ReReviewRequested,
    ReviewRequested,
    SatisfactionEvaluated,
    SupervisionIssued,
    TransferObjected,
    is_chain_event,
)
from ..domain.matter import matter_key, same_matter
from ..domain.obligations import Reporting, open_obligations, reporting
from ..domain.restate import changed_fields, recount, restate
from ..domain.rules import Limit, LimitName, RuleSet
from ..domain.topology import Topology
from ..domain.vocabulary import CloseReason, NoticeKind, Rating
from .verify import InboxCopy

DECISIONS = (CaseAccepted.TYPE, CaseNotAccepted.TYPE, CaseDiverted.TYPE)
ACCEPTANCE_NOTICES = {NoticeKind.ACCEPTANCE, NoticeKind.NON_ACCEPTANCE, NoticeKind.DIVERSION}
SATISFIED = {Rating.SATISFIED, Rating.BASICALLY_SATISFIED}
ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Located:
    """A case event and where the auditor read it."""

    event: Event
    node: str
    seq: int
    topic: str
    partition: int
    offset: int


DueStatus = Literal["on_time", "late", "overdue", "pending"]  # how an obligation stands


@dataclass
class ObligationRecord:
    case_id: str
    obligation: Obligation
    rule_id: str
    body: str
    opened_at: datetime
    due: datetime
    discharged_at: datetime | None = None
    discharged_by: str | None = None
    discharged_event: Located | None = None
    status: DueStatus = "pending"

    @property
    def division(self) -> str:
        return self.body.split(".", 1)[0]

    def days_late(self, now: datetime) -> float:
        end = self.discharged_at or now
        return max(0.0, (end - self.due).total_seconds() / 86400)

    @property
    def zh(self) -> str:
        return self.obligation.zh


@dataclass(frozen=True)
class ComplianceFinding:
    rule_id: str
    code: str
    case_id: str
    division: str
    zh: str
    en: str
    node: str | None = None
    seq: int | None = None
    topic: str | None = None
    offset: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "code": self.code,
            "case_id": self.case_id,
            "division": self.division,
            "message_zh": self.zh,
            "message_en": self.en,
            "node": self.node,
            "seq": self.seq,
            "topic": self.topic,
            "offset": self.offset,
        }


@dataclass
class CaseReport:
    case_id: str
    timeline: list[Located]
    case: Case | None
    obligations: list[ObligationRecord] = field(default_factory=list)
    error: str | None = None
    simplified: bool = False

    @property
    def file(self) -> CaseFile | None:
        if self.case is not None:
            return self.case.file
        for item in self.timeline:
            file = getattr(item.event, "file", None)
            if isinstance(file, CaseFile):
                return file
        return None

    @property
    def overdue(self) -> list[ObligationRecord]:
        return [o for o in self.obligations if o.status in ("late", "overdue")]


@dataclass
class Ratio:
    numerator: int = 0
    denominator: int = 0

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def add(self, hit: bool) -> None:
        self.denominator += 1
        self.numerator += int(hit)

    def as_dict(self) -> dict[str, Any]:
        return {"numerator": self.numerator, "denominator": self.denominator, "rate": self.value}


@dataclass
class DivisionMetrics:
    division: str
    name: str
    level: str
    registered: int = 0
    received: int = 0  # transfers and assignments to its bodies
    timely_acceptance: Ratio = field(default_factory=Ratio)  # 及时受理率
    on_time_completion: Ratio = field(default_factory=Ratio)  # 按期办结率
    satisfaction: Ratio = field(default_factory=Ratio)  # 满意率
    participation: Ratio = field(default_factory=Ratio)  # 参评率
    repeat: Ratio = field(default_factory=Ratio)  # 重复信访率
    supervised: dict[str, int] = field(default_factory=dict)  # level -> count, to its bodies
    supervisions_issued: int = 0  # by its petition office
    supervision_answers: Ratio = field(default_factory=Ratio)  # answered within R16
    overdue_open: int = 0
    late: int = 0

    RATES = (
        ("timely_acceptance", "及时受理率", "timely acceptance"),
        ("on_time_completion", "按期办结率", "on-time completion"),
        ("satisfaction", "满意率", "satisfaction"),
        ("participation", "参评率", "evaluation participation"),
        ("repeat", "重复信访率", "repeat petitions"),
        ("supervision_answers", "督办按期反馈率", "supervision answered on time"),
    )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "division": self.division,
            "name": self.name,
            "level": self.level,
            "registered": self.registered,
            "received": self.received,
            "supervised": dict(self.supervised),
            "supervisions_issued": self.supervisions_issued,
            "overdue_open": self.overdue_open,
            "late": self.late,
        }
        for key, _, _ in self.RATES:
            out[key] = getattr(self, key).as_dict()
        return out


@dataclass
class ComplianceReport:
    now: datetime
    cases: list[CaseReport]
    findings: list[ComplianceFinding]
    metrics: dict[str, DivisionMetrics]


class RuleBook:
    """Rule sets and holiday calendars per province, loaded once (deploy/rules)."""

    def __init__(self, rules_dir: str | None = None) -> None:
        self.rules_dir = rules_dir  # default deploy/rules
        self._rules: dict[str, RuleSet | None] = {}
        self._calendars: dict[str, HolidayCalendar | None] = {}

    def rules(self, division: str) -> RuleSet | None:
        key = division[:2]
        if key not in self._rules:
            from ..rules_file import load_ruleset

            try:
                self._rules[key] = load_ruleset(division, self.rules_dir)
            except (XinfangError, OSError, ValueError):  # e.g. RulesInvalid
                self._rules[key] = None
        return self._rules[key]

    def calendar(self, division: str) -> HolidayCalendar | None:
        key = division[:2]
        if key not in self._calendars:
            from ..rules_file import load_calendar

            try:
                self._calendars[key] = load_calendar(division, self.rules_dir)
            except (XinfangError, OSError, ValueError):  # e.g. RulesInvalid
                self._calendars[key] = None
        return self._calendars[key]

    def due(self, division: str, limit_name: LimitName, start: datetime) -> datetime | None:
        rules, calendar = self.rules(division), self.calendar(division)
        if rules is None or calendar is None:
            return None
        limit = getattr(rules, limit_name, None)
        if not isinstance(limit, Limit):
            return None
        try:
            return due(limit, start, calendar)
        except DomainError:  # no calendar for that year
            return None

    def restate(self, division: str, before: Case | None, after: Case) -> Case:
        """`after` with the deadlines the event just set re-derived on the official schedule
        where they were counted provisionally (domain/restate.py), as the nodes see them."""
        rules, calendar = self.rules(division), self.calendar(division)
        if rules is None or calendar is None:
            return after
        return restate(after, rules, calendar, changed_fields(before, after))

    def recount(
        self, division: str, limit_names: tuple[str, ...], start: datetime, stated: datetime
    ) -> datetime:
        """`stated` as the official schedule counts it, if it was counted provisionally."""
        rules, calendar = self.rules(division), self.calendar(division)
        if rules is None or calendar is None:
            return stated
        limits = tuple(v for n in limit_names if isinstance(v := getattr(rules, n, None), Limit))
        return recount(stated, start, limits, calendar)


def order_case(events: Iterable[Located]) -> list[Located]:
    """Causal order: after the event it follows (causation_id) and after the earlier events of
    the same source; ties by event time, source and sequence number."""
    items = {e.event.header.event_id: e for e in events}
    preds: dict[str, set[str]] = {i: set() for i in items}
    by_source: dict[str, list[Located]] = {}
    for e in items.values():
        by_source.setdefault(e.event.header.source, []).append(e)
        after = e.event.header.causation_id
        if after in items:
            preds[e.event.header.event_id].add(after)
    for chain in by_source.values():
        chain.sort(key=lambda e: e.seq)
        for a, b in itertools.pairwise(chain):
            preds[b.event.header.event_id].add(a.event.header.event_id)
    succ: dict[str, list[str]] = {i: [] for i in items}
    for i, ps in preds.items():
        for p in ps:
            succ[p].append(i)

    def key(i: str) -> tuple[datetime, str, int, str]:
        e = items[i]
        return (e.event.header.occurred_at, e.event.header.source, e.seq, i)

    ready = [key(i) for i, ps in preds.items() if not ps]
    heapq.heapify(ready)
    remaining = {i: len(ps) for i, ps in preds.items()}
    ordered: list[Located] = []
    while ready:
        i = heapq.heappop(ready)[3]
        ordered.append(items[i])
        for s in succ[i]:
            remaining[s] -= 1
            if remaining[s] == 0:
                heapq.heappush(ready, key(s))
    if len(ordered) < len(items):  # a cycle: only forged causation can make one
        done = {e.event.header.event_id for e in ordered}
        ordered += sorted((items[i] for i in items if i not in done), key=lambda e: key(
            e.event.header.event_id))
    return ordered


def _notice_owed(file: CaseFile) -> bool:
    p = file.petitioner
    return not p.anonymous and bool(p.name) and bool(p.address)


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

    # -- the whole run ------------------------------------------------------------------------
    def run(
        self, copies: Iterable[InboxCopy] = (), now: datetime | None = None
    ) -> ComplianceReport:
        latest = max((e.event.header.occurred_at for e in self.events.values()), default=None)
        now = now or max(datetime.now(UTC), latest or datetime.now(UTC))
        by_case: dict[str, list[Located]] = {}
        for item in self.events.values():
            by_case.setdefault(item.event.case_id, []).append(item)
        cases = [self._case(case_id, items, now) for case_id, items in sorted(by_case.items())]
        self._confidentiality(cases, list(copies))
        metrics = self._metrics(cases, now)
        order = {f"R{i}": i for i in range(1, 20)}
        self.findings.sort(key=lambda f: (order.get(f.rule_id, 99), f.case_id, f.division))
        return ComplianceReport(now, cases, self.findings, metrics)

    def _finding(
        self, rule: str, code: str, case_id: str, division: str, zh: str, en: str,
        at: Located | None = None,
    ) -> None:
        self.findings.append(
            ComplianceFinding(
                rule, code, case_id, division, zh, en,
                at.node if at else None, at.seq if at else None,
                at.topic if at else None, at.offset if at else None,
            )
        )

    # -- one case -------------------------------------------------------------------------------
    def _case(self, case_id: str, items: list[Located], now: datetime) -> CaseReport:
        timeline = order_case(items)
        report = CaseReport(case_id, timeline, None)
        case: Case | None = None
        open_: dict[tuple[str, ...], ObligationRecord] = {}
        for item in timeline:
            event = item.event
            before = case
            try:
                case = self.rules.restate(event.header.source, before, evolve(case, event))
            except (DomainError, TypeError, ValueError) as exc:
                report.error = (
                    f"{event.type}（{item.node} seq {item.seq}）无法应用 / cannot be applied: {exc}"
                )
                break
            self._check_event(report, before, case, item)
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
                self._finding(
                    o.rule_id, f"deadline-{o.status}", case_id, o.division,
                    f"{self._name(o.body)}「{o.zh}」期限 {o.due:%Y-%m-%d}，{state_zh}"
                    f"（超期 {days:.1f} 日）",
                    f"{o.body}: {o.obligation.en} ({o.obligation.value}) due "
                    f"{o.due:%Y-%m-%d}, {state_en} "
                    f"({days:.1f} days late)",
                    o.discharged_event,
                )
        if report.error:
            self._finding(
                "-", "case-not-reconstructed", case_id, case_id.split("-", 1)[0],
                f"无法仅凭日志重建事项：{report.error}",
                f"the case cannot be rebuilt from the logs alone: {report.error}",
            )
        return report

    def _name(self, body_or_division: str) -> str:
        if self.topology.has_body(body_or_division):
            return self.topology.body(body_or_division).name
        if self.topology.has_division(body_or_division):
            return self.topology.division(body_or_division).name
        return body_or_division

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

    def _check_event(
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
                why = f"；补录理由：{event.backdate_reason}" if event.backdate_reason else ""
                why_en = f"; stated reason: {event.backdate_reason}" if why else ""
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

    # -- R17 ---------------------------------------------------------------------------------
    def _confidentiality(self, cases: list[CaseReport], copies: list[InboxCopy]) -> None:
        accused: dict[str, str] = {}
        for report in cases:
            file = report.file
            if file is not None and (division := accused_division(file)) is not None:
                accused[report.case_id] = division
        if not accused:
            return
        for report in cases:
            division = accused.get(report.case_id)
            if division is None:
                continue
            for item in report.timeline:
                if self.topology.is_within(item.node, division):
                    self._finding(
                        "R17", "accusation-in-accused-log", report.case_id, item.node,
                        f"检举控告事项出现在被检举单位所在地 {item.node} 的日志中",
                        f"an accusation appears in the log of {item.node}, the accused unit's "
                        "division",
                        item,
                    )
        for copy in copies:
            division = accused.get(copy.case_id)
            if division is not None and self.topology.has_division(copy.node) and (
                self.topology.is_within(copy.node, division)
            ):
                self.findings.append(
                    ComplianceFinding(
                        "R17", "accusation-in-accused-inbox", copy.case_id, copy.node,
                        f"检举控告事项被发送到被检举单位所在地 {copy.node} 的收件箱"
                        f"（{copy.type}，来自 {copy.source}）",
                        f"an accusation was sent to the inbox of {copy.node}, the accused "
                        f"unit's division ({copy.type} from {copy.source})",
                        copy.source, copy.seq, copy.topic, copy.offset,
                    )
                )

    # -- §7 metrics ------------------------------------------------------------------------------
    def _metrics(self, cases: list[CaseReport], now: datetime) -> dict[str, DivisionMetrics]:
        metrics: dict[str, DivisionMetrics] = {}

        def of(division: str) -> DivisionMetrics:
            if division not in metrics:
                known = self.topology.has_division(division)
                d = self.topology.division(division) if known else None
                metrics[division] = DivisionMetrics(
                    division, d.name if d else division, d.level.value if d else ""
                )
            return metrics[division]

        seen_matters: dict[str, list[CaseFile]] = {}  # key -> files registered before
        registrations = sorted(
            (
                (item.event.header.occurred_at, item.event)
                for report in cases
                for item in report.timeline
                if isinstance(item.event, PetitionRegistered)
            ),
            key=lambda pair: pair[0],
        )
        for _, registered in registrations:
            assert isinstance(registered, PetitionRegistered)
            m = of(registered.header.source)
            m.registered += 1
            key = matter_key(registered.file)
            earlier = seen_matters.get(key, []) if key is not None else []
            repeated = bool(registered.file.repeat_of) or any(
                same_matter(e, registered.file) for e in earlier
            )
            m.repeat.add(repeated)
            if key is not None:
                seen_matters.setdefault(key, []).append(registered.file)
        for report in cases:
            self._case_metrics(report, of, now)
        return dict(sorted(metrics.items()))

    def _case_metrics(self, report: CaseReport, of: Any, now: datetime) -> None:
        timeline = report.timeline
        file = report.file
        for item in timeline:
            e = item.event
            if isinstance(e, CaseTransferred | CaseAssigned):
                of(e.to_division).received += 1
            elif isinstance(e, SupervisionIssued):
                if file is not None and accused_division(file) == e.to_body.split(".", 1)[0]:
                    of(e.header.source).supervisions_issued += 1
                    continue  # R17: never delivered to the accused (a finding, not a charge)
                target = of(e.to_body.split(".", 1)[0])
                target.supervised[e.level.value] = target.supervised.get(e.level.value, 0) + 1
                of(e.header.source).supervisions_issued += 1
            elif isinstance(e, SatisfactionEvaluated):
                handling = of(e.handling_body.split(".", 1)[0])
                handling.satisfaction.add(e.handling_rating in SATISFIED)
                of(e.office.split(".", 1)[0]).satisfaction.add(e.office_rating in SATISFIED)
        for o in report.obligations:
            m = of(o.division)
            if o.status == "overdue":
                m.overdue_open += 1
            elif o.status == "late":
                m.late += 1
            due_now = o.status != "pending"
            if o.obligation is Obligation.ACCEPTANCE_NOTICE and due_now:
                if o.discharged_by == TransferObjected.TYPE:
                    continue  # outside its remit: not an acceptance item
                timely = o.status == "on_time" and o.discharged_by in DECISIONS
                if timely and file is not None and _notice_owed(file):
                    timely = any(
                        isinstance(i.event, NoticeServed)
                        and i.event.kind in ACCEPTANCE_NOTICES
                        and i.event.header.source == o.division
                        and i.event.served_at <= o.due + ONE_SECOND
                        for i in timeline
                    )
                m.timely_acceptance.add(timely)
            elif o.obligation is Obligation.HANDLING and due_now:
                m.on_time_completion.add(o.status == "on_time")
            elif o.obligation is Obligation.SUPERVISION_ANSWER and due_now:
                m.supervision_answers.add(o.status == "on_time")
        opinions = [i for i in timeline if isinstance(i.event, HandlingOpinionIssued)]
        if opinions:
            first = opinions[0].event
            assert isinstance(first, HandlingOpinionIssued)
            evaluated = any(isinstance(i.event, SatisfactionEvaluated) for i in timeline)
            of(first.body.split(".", 1)[0]).participation.add(evaluated)

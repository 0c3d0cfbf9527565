"""The metrics of DOMAIN.md §7 per division, from the rebuilt cases: 及时受理率, 按期办结率,
满意率, 参评率, 重复信访率, supervision counts (received, issued, answered on time) and the
late and overdue obligations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...domain.accusations import accused_division
from ...domain.deadlines import Obligation
from ...domain.events import (
    CaseAccepted,
    CaseAssigned,
    CaseDiverted,
    CaseFile,
    CaseNotAccepted,
    CaseTransferred,
    HandlingOpinionIssued,
    NoticeServed,
    PetitionRegistered,
    SatisfactionEvaluated,
    SupervisionIssued,
    TransferObjected,
)
from ...domain.matter import matter_parts, same_matter
from ...domain.notices import notice_owed
from ...domain.topology import Topology
from ...domain.vocabulary import NoticeKind, Rating
from .model import ONE_SECOND, CaseReport

DECISIONS = (CaseAccepted.TYPE, CaseNotAccepted.TYPE, CaseDiverted.TYPE)
ACCEPTANCE_NOTICES = {NoticeKind.ACCEPTANCE, NoticeKind.NON_ACCEPTANCE, NoticeKind.DIVERSION}
SATISFIED = {Rating.SATISFIED, Rating.BASICALLY_SATISFIED}


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



Tally = Callable[[str], DivisionMetrics]  # the metrics of a division, created on first use


def division_metrics(
    topology: Topology, cases: list[CaseReport], now: datetime
) -> dict[str, DivisionMetrics]:
    """§7 metrics per division code, sorted by code; divisions appear once something counts."""
    metrics: dict[str, DivisionMetrics] = {}

    def of(division: str) -> DivisionMetrics:
        if division not in metrics:
            known = topology.has_division(division)
            d = topology.division(division) if known else None
            metrics[division] = DivisionMetrics(
                division, d.name if d else division, d.level.value if d else ""
            )
        return metrics[division]

    _registrations(cases, of)
    for report in cases:
        _case_metrics(report, of, now)
    return dict(sorted(metrics.items()))


def _registrations(cases: list[CaseReport], of: Tally) -> None:
    """Registered petitions and 重复信访率, in registration order across all cases."""
    seen_matters: dict[tuple[str, ...], list[CaseFile]] = {}  # parts -> files registered before
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
        key = matter_parts(registered.file)
        earlier = seen_matters.get(key, []) if key is not None else []
        repeated = bool(registered.file.repeat_of) or any(
            same_matter(e, registered.file) for e in earlier
        )
        m.repeat.add(repeated)
        if key is not None:
            seen_matters.setdefault(key, []).append(registered.file)


def _case_metrics(report: CaseReport, of: Tally, now: datetime) -> None:
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
            if timely and file is not None and notice_owed(file):
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

"""How events read to people: labels and one-line summaries, Chinese first."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, assert_never

from .domain.calendar import BEIJING, HolidayCalendar
from .domain.case import Case
from .domain.events import (
    EVENT_TYPES,
    AnyEvent,
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseDiverted,
    CaseNotAccepted,
    CaseTransferred,
    ChainCheckpointed,
    CheckpointCountersigned,
    CompletionReported,
    DeadlineMissed,
    Event,
    HandlingExtended,
    HandlingOpinionIssued,
    NoticeServed,
    PersonalDataErased,
    Petitioner,
    PetitionRegistered,
    ReReviewDecided,
    ReReviewRequested,
    ReviewDecided,
    ReviewRequested,
    SatisfactionEvaluated,
    SupervisionAnswered,
    SupervisionIssued,
    TransferObjected,
    TransferReturned,
    UrgentReported,
    is_case_event,
    is_chain_event,
)
from .domain.personal.masking import mask_petitioner
from .domain.topology import Topology
from .domain.vocabulary import zh
from .privacy.sealing import ERASED


def labels(cls: type[AnyEvent]) -> tuple[str, str]:
    """(Chinese, English) label of an event type. One branch per type: `assert_never` makes
    mypy name a type without one."""
    if issubclass(cls, PetitionRegistered):
        return "登记", "registered"
    if issubclass(cls, CaseTransferred):
        return "转送", "transferred"
    if issubclass(cls, CaseAccepted):
        return "受理", "accepted"
    if issubclass(cls, NoticeServed):
        return "送达", "notice served"
    if issubclass(cls, HandlingOpinionIssued):
        return "处理意见", "handling opinion"
    if issubclass(cls, CaseAssigned):
        return "交办", "assigned"
    if issubclass(cls, CaseDiverted):
        return "诉访分离", "diverted"
    if issubclass(cls, UrgentReported):
        return "紧急报告", "urgent report"
    if issubclass(cls, TransferObjected):
        return "异议", "objection"
    if issubclass(cls, TransferReturned):
        return "退回", "returned"
    if issubclass(cls, CaseNotAccepted):
        return "不予受理", "not accepted"
    if issubclass(cls, HandlingExtended):
        return "延期", "extended"
    if issubclass(cls, CompletionReported):
        return "办结报告", "completion report"
    if issubclass(cls, ReviewRequested):
        return "请求复查", "review requested"
    if issubclass(cls, ReviewDecided):
        return "复查意见", "review decided"
    if issubclass(cls, ReReviewRequested):
        return "请求复核", "re-review requested"
    if issubclass(cls, ReReviewDecided):
        return "复核意见", "re-review decided"
    if issubclass(cls, CaseClosed):
        return "终结", "closed"
    if issubclass(cls, DeadlineMissed):
        return "超期", "deadline missed"
    if issubclass(cls, SupervisionIssued):
        return "督办", "supervision"
    if issubclass(cls, SupervisionAnswered):
        return "督办反馈", "supervision answered"
    if issubclass(cls, SatisfactionEvaluated):
        return "满意度评价", "evaluated"
    if issubclass(cls, PersonalDataErased):
        return "个人信息删除", "personal data erased"
    if issubclass(cls, ChainCheckpointed):
        return "日志检查点", "log checkpoint"
    if issubclass(cls, CheckpointCountersigned):
        return "检查点会签", "checkpoint countersigned"
    assert_never(cls)


LABELS: dict[str, tuple[str, str]] = {name: labels(cls) for name, cls in EVENT_TYPES.items()}


def _name(topology: Topology, body_or_division: str) -> str:
    if topology.has_body(body_or_division):
        return topology.body(body_or_division).name
    if topology.has_division(body_or_division):
        return topology.division(body_or_division).name
    return body_or_division


def summary_zh(event: Event, topology: Topology) -> str:
    """One line in Chinese saying what `event` decided, naming bodies as people know them."""
    if is_case_event(event) or is_chain_event(event):
        return _summary(event, topology)
    return event.type  # not a type of the contract


def _summary(event: AnyEvent, topology: Topology) -> str:
    # One branch per event type: `assert_never` makes mypy name a type without one.
    n = _name
    if isinstance(event, PetitionRegistered):
        f = event.file
        return f"{zh(f.channel)}渠道登记「{f.title}」，类别：{zh(f.category)}"
    if isinstance(event, CaseTransferred):
        return f"转送至 {n(topology, event.to_body)}（{event.to_division}）"
    if isinstance(event, CaseAccepted):
        return f"{n(topology, event.body)} 受理，办理期限至 {event.handling_due:%Y-%m-%d}"
    if isinstance(event, NoticeServed):
        return f"{zh(event.kind)}，{zh(event.method)}，{zh(event.receipt)}"
    if isinstance(event, HandlingOpinionIssued):
        return f"{zh(event.outcome)}：{event.opinion}"
    if isinstance(event, CaseAssigned):
        return f"交办至 {n(topology, event.to_body)}，办结报告期限 {event.report_due:%Y-%m-%d}"
    if isinstance(event, CaseDiverted):
        target = f"移交 {n(topology, event.to_body)}" if event.to_body else "导入其他法定程序"
        return f"{zh(event.route)}：{target}；{event.guidance}"
    if isinstance(event, UrgentReported):
        return "报告 " + "、".join(event.reported_to)
    if isinstance(event, TransferObjected):
        return f"{n(topology, event.body)} 提出异议：{event.reasons}"
    if isinstance(event, TransferReturned):
        return f"{n(topology, event.body)} 同意退回"
    if isinstance(event, CaseNotAccepted):
        return f"{n(topology, event.body)} 不予受理：{event.reasons}"
    if isinstance(event, HandlingExtended):
        return (
            f"延长 {event.days} 日（{event.approved_by}批准），期限至 {event.handling_due:%Y-%m-%d}"
        )
    if isinstance(event, CompletionReported):
        return f"向 {n(topology, event.to_body)} 报送办结报告：{event.summary}"
    if isinstance(event, ReviewRequested | ReReviewRequested):
        return f"{n(topology, event.reviewer)} 收到请求，期限 {event.decision_due:%Y-%m-%d}"
    if isinstance(event, ReviewDecided | ReReviewDecided):
        return f"{n(topology, event.reviewer)} {zh(event.result)}：{event.opinion}"
    if isinstance(event, CaseClosed):
        return zh(event.reason)
    if isinstance(event, DeadlineMissed):
        duty = event.obligation.zh
        return (
            f"{n(topology, event.body)} 未在 {event.due:%Y-%m-%d} 前履行「{duty}」({event.rule_id})"
        )
    if isinstance(event, SupervisionIssued):
        target = n(topology, event.to_body)
        return (
            f"{zh(event.level)} {target}「{event.obligation.zh}」，"
            f"反馈期限 {event.answer_due:%Y-%m-%d}"
        )
    if isinstance(event, SupervisionAnswered):
        return f"{n(topology, event.body)} 反馈：{event.answer}"
    if isinstance(event, SatisfactionEvaluated):
        return (
            f"办理机关 {zh(event.handling_rating)}，信访部门 {zh(event.office_rating)}"
        )
    if isinstance(event, PersonalDataErased):
        return f"保存期限（{event.retention_days} 日）届满，删除本节点的个人信息密钥"
    if isinstance(event, ChainCheckpointed):
        return f"签署日志检查点，至第 {event.head_seq} 条"
    if isinstance(event, CheckpointCountersigned):
        return f"会签 {n(topology, event.division)} 的日志检查点，至第 {event.head_seq} 条"
    assert_never(event)


PROVISIONAL_ZH = "（暂定期限，待国务院节假日安排发布后重新计算 / provisional deadline）"
_CASE_DEADLINES = (
    "route_due",
    "acceptance_due",
    "objection_due",
    "report_due",
    "handling_due",
    "review_due",
    "re_review_due",
)


def stated_deadlines(event: Event) -> list[datetime]:
    """The deadlines an event states (its `*_due` and `due` fields)."""
    return [
        value
        for f in dataclasses.fields(event)
        if (f.name == "due" or f.name.endswith("_due"))
        and isinstance(value := getattr(event, f.name), datetime)
    ]


def _provisional(calendar: HolidayCalendar | None, due: datetime | None) -> bool:
    return calendar is not None and due is not None and calendar.is_provisional(due)


def timeline_entry(
    event: Event, topology: Topology, calendar: HolidayCalendar | None = None
) -> dict[str, Any]:
    """One line of a case's timeline. With the node's `calendar`, `provisional` says whether a
    deadline the event states lies in a year without an official holiday schedule (DOMAIN.md
    §11), and the summary says so."""
    label_zh, label_en = LABELS.get(event.type, (event.type, event.type))
    h = event.header
    provisional = any(_provisional(calendar, due) for due in stated_deadlines(event))
    summary = summary_zh(event, topology) + (PROVISIONAL_ZH if provisional else "")
    return {
        "event_id": h.event_id,
        "type": event.type,
        "label_zh": label_zh,
        "label_en": label_en,
        "occurred_at": h.occurred_at.isoformat(),
        "occurred_at_local": h.occurred_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        "division": h.source,
        "division_name": _name(topology, h.source),
        "actor": h.actor,
        "actor_name": _name(topology, h.actor),
        "person": h.person,  # the signed-in person who decided ("" the node itself; 025)
        "seq": h.seq,
        "summary_zh": summary,
        "provisional": provisional,
        # why a client-given time lies well before the event (DOMAIN.md §11), if back-dated
        "backdate_reason": getattr(event, "backdate_reason", None),
        **_obligation(event),
    }


def _obligation(event: Event) -> dict[str, str]:
    """The obligation a missed deadline or a supervision is about, with its names (zh, en)."""
    if not isinstance(event, DeadlineMissed | SupervisionIssued):
        return {}
    o = event.obligation
    return {"obligation": o.value, "obligation_zh": o.zh, "obligation_en": o.en, "rule": o.rule_id}


def petitioner_masked(petitioner: Petitioner) -> dict[str, Any]:
    """What every list and view shows of the petitioner (DOMAIN.md §10, decision 030):
    `{"petitioner": {name, address, contact, id_number, anonymous} masked,
    "personal_masked": True}`. The full values only through the reveal route, with a reason."""
    p = petitioner
    shown = mask_petitioner(p.name, p.address, p.contact, p.id_number, p.anonymous)
    for name in ("name", "address", "contact", "id_number"):
        if getattr(p, name) == ERASED:  # crypto-shredded (decision 028): say so, not "已***"
            shown[name] = ERASED
    return {"petitioner": shown, "personal_masked": True}


def petitioner_in_full(petitioner: Petitioner) -> dict[str, Any]:
    """The petitioner unmasked: for the reveal route only (api/personal_routes.py)."""
    p = petitioner
    return {
        "name": p.name,
        "address": p.address,
        "contact": p.contact,
        "id_number": p.id_number,
        "anonymous": p.anonymous,
    }


def case_view(
    case: Case, topology: Topology, calendar: HolidayCalendar | None = None
) -> dict[str, Any]:
    """The case as the API shows it. With the node's `calendar`, `provisional_deadlines` names
    the deadline fields counted into a year without an official holiday schedule (they may
    move when it is installed, DOMAIN.md §11), and each supervision says the same of its
    `answer_due`."""
    return {
        "case_id": case.case_id,
        "query_code": case.query_code,
        "title": case.file.title,
        "category": case.file.category.value,
        "category_zh": zh(case.file.category),
        "status": case.status.value,
        "status_zh": zh(case.status),
        "origin": case.origin,
        "holder": case.holder,
        "holder_name": _name(topology, case.holder),
        "place": case.file.place,
        "received_at": case.file.received_at.isoformat(),
        "route_due": case.route_due.isoformat() if case.route_due else None,
        "acceptance_due": case.acceptance_due.isoformat() if case.acceptance_due else None,
        "handling_due": case.handling_due.isoformat() if case.handling_due else None,
        "provisional_deadlines": [
            name for name in _CASE_DEADLINES if _provisional(calendar, getattr(case, name))
        ],
        "outcome": case.outcome.value if case.outcome else None,
        "outcome_zh": zh(case.outcome) if case.outcome else None,
        "version": case.version,
        "final": case.final,
        "closed_reason": case.closed_reason.value if case.closed_reason else None,
        "handling_body": case.handling_body,
        "reviewer": case.reviewer,
        "re_reviewer": case.re_reviewer,
        "review_result": case.review_result.value if case.review_result else None,
        "completion_reported": case.completion_reported,
        "supervisions": [
            {
                "supervision_id": sv.supervision_id,
                "by": sv.by,
                "to_body": sv.to_body,
                "level": sv.level.value,
                "level_zh": zh(sv.level),
                "obligation": sv.obligation.value,
                "obligation_zh": sv.obligation.zh,
                "obligation_en": sv.obligation.en,
                "answer_due": sv.answer_due.isoformat(),
                "answer_due_provisional": _provisional(calendar, sv.answer_due),
                "answered": sv.answered,
            }
            for sv in case.supervisions
        ],
        "evaluations": [
            {
                "handling_body": ev.handling_body,
                "handling_rating": ev.handling_rating.value,
                "office": ev.office,
                "office_rating": ev.office_rating.value,
            }
            for ev in case.evaluations
        ],
        "participants": list(case.participants),
        **petitioner_masked(case.file.petitioner),
    }

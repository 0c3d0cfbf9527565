"""Deadlines: a time limit applied to a start instant on a province's calendar.

`due` is the only place a Limit becomes a datetime; see calendar.py for the
counting conventions (start day not counted, end of the due day in Beijing
time, calendar-day periods ending on a non-working day run to the next
working day). Deadlines only ever move later: `not_earlier` guards every
change, and `extended` is the one sanctioned way to move the R5 handling
deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import assert_never

from .calendar import HolidayCalendar, end_of_day, local_date, require_aware
from .errors import InvalidInput
from .rule_errors import DeadlineMovesBackwards, ExtensionTooLong
from .rules import Limit, LimitName, RuleSet


class Obligation(StrEnum):
    """Obligations that run against a clock, with the rule they come from.

    The values are the symbols of `DeadlineMissed.obligation` and
    `SupervisionIssued.obligation` on the wire (Avro strings): renaming one is a
    breaking change of the public contract. Every member has a branch in `_spec`
    (exhaustive: mypy names a member without one), so a new obligation cannot lack its
    rule, its names or its limit.
    """

    ROUTE = "ROUTE"  # R1 转送、交办
    ACCEPTANCE_NOTICE = "ACCEPTANCE_NOTICE"  # R3 受理告知
    OBJECTION = "OBJECTION"  # R4 异议
    HANDLING = "HANDLING"  # R5 办理
    ASSIGNMENT_REPORT = "ASSIGNMENT_REPORT"  # R6 交办反馈、办结报告
    REVIEW_REQUEST_WINDOW = "REVIEW_REQUEST_WINDOW"  # R7 请求复查
    REVIEW_DECISION = "REVIEW_DECISION"  # R8 复查
    RE_REVIEW_REQUEST_WINDOW = "RE_REVIEW_REQUEST_WINDOW"  # R9 请求复核
    RE_REVIEW_DECISION = "RE_REVIEW_DECISION"  # R10 复核
    SUPERVISION_ANSWER = "SUPERVISION_ANSWER"  # R16 督办反馈
    REVIEW_TAKE_UP = "REVIEW_TAKE_UP"  # R19 决定是否受理复查请求（山东）
    RE_REVIEW_TAKE_UP = "RE_REVIEW_TAKE_UP"  # R19 决定是否受理复核请求（山东）

    @property
    def rule_id(self) -> str:
        return _spec(self).rule_id

    @property
    def zh(self) -> str:
        return _spec(self).zh

    @property
    def en(self) -> str:
        return _spec(self).en

    def limit(self, rules: RuleSet) -> Limit | None:
        """The limit `rules` set for this obligation; None for R6, which the assigning
        office sets case by case, and for R19 where the province has no such rule."""
        name = _spec(self).limit
        if name is None:
            return None
        value = getattr(rules, name)
        assert value is None or isinstance(value, Limit)
        return value


@dataclass(frozen=True)
class _Spec:
    rule_id: str
    zh: str
    en: str
    limit: LimitName | None


def _spec(obligation: Obligation) -> _Spec:
    """Rule, names and limit of each obligation. Exhaustive: mypy names a member left out."""
    match obligation:
        case Obligation.ROUTE:
            return _Spec("R1", "登记并转送、交办", "register and route", "route")
        case Obligation.ACCEPTANCE_NOTICE:
            return _Spec(
                "R3",
                "决定是否受理并书面告知",
                "decide on acceptance and notify",
                "acceptance_notice",
            )
        case Obligation.OBJECTION:
            return _Spec("R4", "提出异议", "object to the transfer", "objection")
        case Obligation.HANDLING:
            return _Spec("R5", "办结", "complete the handling", "handling")
        case Obligation.ASSIGNMENT_REPORT:
            return _Spec(
                "R6", "反馈办理结果、提交办结报告", "report the result of an assigned item", None
            )
        case Obligation.REVIEW_REQUEST_WINDOW:
            return _Spec("R7", "请求复查", "request a review", "review_request_window")
        case Obligation.REVIEW_DECISION:
            return _Spec("R8", "提出复查意见", "decide the review", "review_decision")
        case Obligation.RE_REVIEW_REQUEST_WINDOW:
            return _Spec("R9", "请求复核", "request a re-review", "re_review_request_window")
        case Obligation.RE_REVIEW_DECISION:
            return _Spec("R10", "提出复核意见", "decide the re-review", "re_review_decision")
        case Obligation.SUPERVISION_ANSWER:
            return _Spec(
                "R16", "书面反馈督办意见", "answer the supervision in writing", "supervision_answer"
            )
        case Obligation.REVIEW_TAKE_UP:
            return _Spec(
                "R19",
                "决定是否受理复查请求",
                "decide whether to take up the review",
                "review_take_up",
            )
        case Obligation.RE_REVIEW_TAKE_UP:
            return _Spec(
                "R19",
                "决定是否受理复核请求",
                "decide whether to take up the re-review",
                "review_take_up",
            )
        case _:
            assert_never(obligation)


def due(limit: Limit, start: datetime, calendar: HolidayCalendar) -> datetime:
    """The deadline of `limit` counted from `start` (tz-aware), in UTC.

    Working-day limits end at the end of the n-th working day after the start
    day; calendar-day limits at the end of start day + n, moved to the next
    working day if that day is a holiday or weekend. Raises CalendarMissing
    when the calendar has no data for a year the period touches.
    """
    if limit.unit == "working":
        return calendar.add_working_days(start, limit.amount)
    return calendar.add_calendar_days(start, limit.amount)


def not_earlier(current: datetime | None, proposed: datetime) -> datetime:
    """`proposed` if it does not move the deadline `current` earlier; else refuse."""
    require_aware(proposed)
    if current is not None and proposed < require_aware(current):
        raise DeadlineMovesBackwards(
            f"{current.isoformat()} → {proposed.isoformat()}",
            current=current.isoformat(),
            proposed=proposed.isoformat(),
        )
    return proposed


def extended(
    handling_due: datetime,
    extension_days: int,
    rules: RuleSet,
    *,
    already: int = 0,
    calendar: HolidayCalendar | None = None,
) -> datetime:
    """R5: the handling deadline after an approved extension of `extension_days`.

    The extension counts from the current due day (that day not counted), in
    the unit of `rules.handling_extension_max` — calendar days nationally. With
    a `calendar`, a calendar-day extension ending on a holiday runs to the next
    working day (a working-day maximum requires the calendar). `already` is the
    extension granted before; the total may not exceed the maximum
    (ExtensionTooLong, XF-EXTENSION-TOO-LONG). The result is never earlier than
    `handling_due` (a negative extension is refused).
    """
    require_aware(handling_due)
    maximum = rules.handling_extension_max
    if extension_days < 0 or already < 0:
        raise DeadlineMovesBackwards(
            f"延长天数不能为负: {extension_days}", extension_days=extension_days
        )
    total = already + extension_days
    if total > maximum.amount:
        raise ExtensionTooLong(
            f"累计延长 {total} 日，最长 {maximum.zh}（{maximum.basis}）",
            extension_days=extension_days,
            already=already,
            maximum=maximum.amount,
            rule="R5",
        )
    if calendar is not None:
        new_due = due(
            Limit(extension_days, maximum.unit, maximum.rule_id, maximum.basis),
            handling_due,
            calendar,
        )
    elif maximum.unit == "working":
        raise InvalidInput("以工作日计算的延长期限需要节假日日历")
    else:
        new_due = end_of_day(local_date(handling_due) + timedelta(days=extension_days))
    return max(new_due, handling_due)  # never earlier than the deadline it extends

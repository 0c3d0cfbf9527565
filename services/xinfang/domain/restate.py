"""Re-deriving deadlines that were counted on a provisional calendar (DOMAIN.md §11).

A deadline is stated in the event that starts its clock, on the calendar the deciding node
held then. When the State Council's schedule for a year is installed later, the open
deadlines counted provisionally into that year follow it: every node re-derives them the same
way when it folds the case (NodeService._load), so the events stay as they were written.

A stated deadline is re-derived only when it provably came from a provisional count: its start
and limit are known from the case, and counting them on the calendar as it was before the
schedule of some year of the period was installed (HolidayCalendar.before) gives exactly the
stated deadline. Anything else — an extension, a re-handling period set case by case, a
request time the client gave — is left as stated.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import datetime

from .calendar import HolidayCalendar, local_date
from .case import Case
from .deadlines import due
from .errors import DomainError
from .rules import Limit, RuleSet
from .vocabulary import CaseStatus, ReviewResult

_Basis = tuple[str, datetime | None, tuple[Limit, ...]]

FIELDS = (
    "route_due",
    "acceptance_due",
    "objection_due",
    "handling_due",
    "review_due",
    "re_review_due",
    "supervisions",
)


def changed_fields(before: Case | None, after: Case) -> list[str]:
    """The deadline fields (of FIELDS) an event set: the only ones a received event can have
    stated on another node's calendar."""
    return [f for f in FIELDS if before is None or getattr(before, f) != getattr(after, f)]


def _bases(case: Case, rules: RuleSet) -> Iterator[_Basis]:
    """(field of Case, start instant, the limits it may have been counted with)."""
    if case.status is CaseStatus.REGISTERED:
        yield "route_due", case.file.received_at, (rules.route,)
    yield "acceptance_due", case.transfer_received_at, (rules.acceptance_notice,)
    yield "objection_due", case.transfer_received_at, (rules.objection,)
    if case.extension_days == 0 and case.review_result is not ReviewResult.REVOKE:
        yield "handling_due", case.accepted_at, (rules.handling, rules.simplified_opinion)
    yield "review_due", case.review_requested_at, (rules.review_decision,)
    yield "re_review_due", case.re_review_requested_at, (rules.re_review_decision,)


def recount(
    stated: datetime, start: datetime, limits: tuple[Limit, ...], calendar: HolidayCalendar
) -> datetime:
    """`stated` re-counted on `calendar` if it was counted from `start` with one of `limits`
    while a year of the period had no official schedule; else `stated` unchanged."""
    first, last = local_date(start).year, local_date(stated).year
    for year in range(first, last + 1):
        if year not in calendar.official_years:
            continue
        earlier = calendar.before(year)
        for limit in limits:
            if earlier.covers(local_date(start)) and _count(limit, start, earlier) == stated:
                return _count(limit, start, calendar) or stated
    return stated


def _count(limit: Limit, start: datetime, calendar: HolidayCalendar) -> datetime | None:
    try:
        return due(limit, start, calendar)
    except DomainError:  # a period the calendar cannot count: not this basis
        return None


def restate(
    case: Case,
    rules: RuleSet,
    calendar: HolidayCalendar,
    fields: Collection[str] = FIELDS,
) -> Case:
    """`case` with its open deadlines (of `fields`) that were counted provisionally
    re-counted on `calendar` (see the module docstring). Idempotent; a closed case is
    returned as is."""
    if case.closed or not fields:
        return case
    changes: dict[str, object] = {}
    for name, start, limits in _bases(case, rules):
        if name not in fields:
            continue
        stated = getattr(case, name)
        if stated is not None and start is not None:
            new = recount(stated, start, limits, calendar)
            if new != stated:
                changes[name] = new
    if "supervisions" not in fields:
        return replace(case, **changes) if changes else case  # type: ignore[arg-type]
    supervisions = tuple(
        replace(
            s,
            answer_due=recount(s.answer_due, s.issued_at, (rules.supervision_answer,), calendar),
        )
        if s.issued_at is not None and not s.answered
        else s
        for s in case.supervisions
    )
    if supervisions != case.supervisions:
        changes["supervisions"] = supervisions
    return replace(case, **changes) if changes else case  # type: ignore[arg-type]

"""Re-deriving deadlines that were counted on a provisional calendar (DOMAIN.md §11).

A deadline is stated in the event that starts its clock, on the calendar the deciding node
held then. When the State Council's schedule for a year is installed later, the open
deadlines counted provisionally into that year follow it: every node re-derives them the same
way when it folds the case (NodeService._load, and the auditor), so the events stay as they
were written.

A stated deadline is re-derived only when it provably came from a provisional count: its start
is known from the case, and counting with the limits it may have come from on the calendar as
it was before the schedule of some year of the period was installed
(HolidayCalendar.before) gives exactly the stated deadline — and every such count gives the
same new deadline. Covered: R1 route, R3 acceptance, R4 objection, R5 handling (also after
one extension, and R18 simplified), R6 report (any number of days), R8/R10 review decisions
and R16 supervision answers. Anything else — several extensions, a re-handling period after a
revoked opinion, a request time the client gave — is left as stated.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from .calendar import HolidayCalendar, local_date
from .case import Case
from .deadlines import due
from .errors import DomainError
from .rules import Limit, RuleSet
from .vocabulary import CaseStatus, ReviewResult

Count = Callable[[HolidayCalendar], datetime]  # a deadline counted on a calendar

FIELDS = (
    "route_due",
    "acceptance_due",
    "objection_due",
    "report_due",
    "handling_due",
    "review_due",
    "re_review_due",
    "supervisions",
)


def changed_fields(before: Case | None, after: Case) -> list[str]:
    """The deadline fields (of FIELDS) an event set: the only ones a received event can have
    stated on another node's calendar."""
    return [f for f in FIELDS if before is None or getattr(before, f) != getattr(after, f)]


def _limit(start: datetime, limit: Limit) -> Count:
    return lambda cal: due(limit, start, cal)


def _limits(start: datetime, limits: Sequence[Limit]) -> list[Count]:
    return [_limit(start, limit) for limit in limits]


def _days(start: datetime, n: int) -> Count:
    return lambda cal: cal.add_calendar_days(start, n)


def _extended(start: datetime, base: Limit, extension: Limit) -> Count:
    def count(cal: HolidayCalendar) -> datetime:
        first = due(base, start, cal)
        return max(due(extension, first, cal), first)  # deadlines.extended

    return count


def _handling(case: Case, rules: RuleSet) -> list[Count]:
    start = case.accepted_at
    if start is None or case.review_result is ReviewResult.REVOKE:
        return []
    bases = (rules.handling, rules.simplified_opinion)
    if case.extension_days == 0:
        return _limits(start, bases)
    m = rules.handling_extension_max
    extension = Limit(case.extension_days, m.unit, m.rule_id, m.basis)
    return [_extended(start, base, extension) for base in bases]


def _report(case: Case) -> list[Count]:
    """R6: calendar days the assigning office chose; any number up to the stated day."""
    start, stated = case.transfer_received_at, case.report_due
    if start is None or stated is None:
        return []
    days = (local_date(stated) - local_date(start)).days
    return [_days(start, n) for n in range(max(days, 0) + 1)]


def _bases(case: Case, rules: RuleSet) -> Iterator[tuple[str, datetime | None, list[Count]]]:
    """(field of Case, start instant, the counts it may have come from)."""
    if case.status is CaseStatus.REGISTERED:
        yield "route_due", case.file.received_at, _limits(case.file.received_at, [rules.route])
    received = case.transfer_received_at
    if received is not None:
        yield "acceptance_due", received, _limits(received, [rules.acceptance_notice])
        yield "objection_due", received, _limits(received, [rules.objection])
        if case.assigned and not case.completion_reported:
            yield "report_due", received, _report(case)
    yield "handling_due", case.accepted_at, _handling(case, rules)
    requested = case.review_requested_at
    if requested is not None:
        yield "review_due", requested, _limits(requested, [rules.review_decision])
    requested = case.re_review_requested_at
    if requested is not None:
        yield "re_review_due", requested, _limits(requested, [rules.re_review_decision])


def _try(count: Count, calendar: HolidayCalendar) -> datetime | None:
    try:
        return count(calendar)
    except DomainError:  # a period the calendar cannot count: not this basis
        return None


def recount_counts(
    stated: datetime, start: datetime, counts: Sequence[Count], calendar: HolidayCalendar
) -> datetime:
    """`stated` counted again on `calendar` if it provably came from one of `counts` on the
    calendar as it was before the schedule of a year from `start` to `stated` was installed
    (and every count that reproduces it agrees on the new deadline); else `stated`."""
    for year in range(local_date(start).year, local_date(stated).year + 1):
        if year not in calendar.official_years:
            continue
        earlier = calendar.before(year)
        if not earlier.covers(local_date(start)):
            continue
        found = {_try(c, calendar) for c in counts if _try(c, earlier) == stated}
        if len(found) == 1 and None not in found:
            return found.pop() or stated
    return stated


def recount(
    stated: datetime, start: datetime, limits: Sequence[Limit], calendar: HolidayCalendar
) -> datetime:
    """recount_counts for a deadline `limits` may have given from `start`."""
    return recount_counts(stated, start, _limits(start, limits), calendar)


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
    for name, start, counts in _bases(case, rules):
        stated = getattr(case, name)
        if name in fields and stated is not None and start is not None and counts:
            new = recount_counts(stated, start, counts, calendar)
            if new != stated:
                changes[name] = new
    if "supervisions" in fields:
        answer = [rules.supervision_answer]
        supervisions = tuple(
            replace(s, answer_due=recount(s.answer_due, s.issued_at, answer, calendar))
            if s.issued_at is not None and not s.answered
            else s
            for s in case.supervisions
        )
        if supervisions != case.supervisions:
            changes["supervisions"] = supervisions
    return replace(case, **changes) if changes else case  # type: ignore[arg-type]

"""The working-day calendar (domain/calendar.py) and the holiday data (deploy/rules/holidays)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinfang.domain import calendar as cal
from xinfang.domain.calendar import BEIJING, HolidayCalendar, end_of_day, local_date, province_code
from xinfang.domain.errors import InvalidInput
from xinfang.domain.rule_errors import CalendarMissing, RulesInvalid
from xinfang.rules_file import default_rules_dir, load_calendar, parse_holiday_year

CALENDAR = load_calendar("15")  # 内蒙古: the national schedule, no regional extra days


def bj(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """An instant given in Beijing time."""
    return datetime(y, m, d, hh, mm, tzinfo=BEIJING)


def due_day(deadline: datetime) -> date:
    return local_date(deadline)


# -- conventions ----------------------------------------------------------------------
def test_deadline_is_end_of_beijing_day_returned_in_utc() -> None:
    deadline = CALENDAR.add_working_days(bj(2026, 3, 2), 1)  # Monday → Tuesday
    assert deadline.tzinfo is UTC
    assert deadline == datetime(2026, 3, 3, 15, 59, 59, 999000, tzinfo=UTC)
    assert deadline.astimezone(BEIJING).time().isoformat() == "23:59:59.999000"


def test_start_day_is_not_counted() -> None:
    # Monday 2026-03-02: the 5th working day after it is Monday 2026-03-09.
    assert due_day(CALENDAR.add_working_days(bj(2026, 3, 2, 8), 5)) == date(2026, 3, 9)
    assert due_day(CALENDAR.add_calendar_days(bj(2026, 3, 2, 8), 15)) == date(2026, 3, 17)


def test_start_date_is_the_beijing_date_not_the_utc_date() -> None:
    # 17:00 UTC on Monday is 01:00 Tuesday in Beijing: counting starts Wednesday.
    start = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert local_date(start) == date(2026, 3, 3)
    assert due_day(CALENDAR.add_working_days(start, 1)) == date(2026, 3, 4)


def test_start_on_a_weekend_counts_from_the_next_working_day() -> None:
    # Saturday 2026-03-07: Monday 03-09 is working day 1.
    assert due_day(CALENDAR.add_working_days(bj(2026, 3, 7), 1)) == date(2026, 3, 9)


def test_zero_days_means_end_of_the_start_day() -> None:
    assert due_day(CALENDAR.add_working_days(bj(2026, 3, 2), 0)) == date(2026, 3, 2)


def test_naive_start_is_refused() -> None:
    with pytest.raises(InvalidInput):
        CALENDAR.add_working_days(datetime(2026, 3, 2, 10), 5)


def test_negative_days_are_refused() -> None:
    with pytest.raises(InvalidInput):
        CALENDAR.add_working_days(bj(2026, 3, 2), -1)
    with pytest.raises(InvalidInput):
        CALENDAR.add_calendar_days(bj(2026, 3, 2), -1)


# -- working days (R4, R18, R19) -------------------------------------------------------
@pytest.mark.rule("R4")
def test_R4_objection_window_is_five_working_days_across_national_day() -> None:
    # Received Wed 2026-09-30. 10-01..10-07 off; 10-08 Thu (1), 10-09 Fri (2),
    # 10-10 Sat is a 调休 working day (3), 10-12 Mon (4), 10-13 Tue (5).
    deadline = CALENDAR.add_working_days(bj(2026, 9, 30), 5)
    assert due_day(deadline) == date(2026, 10, 13)


@pytest.mark.rule("R4")
def test_R4_objection_window_counts_the_adjusted_saturday_before_spring_festival() -> None:
    # Received Fri 2026-02-13: Sat 02-14 is a working day (1); 02-15..02-23 off;
    # 02-24 (2), 02-25 (3), 02-26 (4), 02-27 (5).
    assert due_day(CALENDAR.add_working_days(bj(2026, 2, 13), 5)) == date(2026, 2, 27)


def test_shipped_2026_schedule_is_consistent() -> None:
    assert not CALENDAR.is_working_day(date(2026, 1, 1))
    assert CALENDAR.is_working_day(date(2026, 1, 4))  # Sunday, 调休 for 元旦
    assert not CALENDAR.is_working_day(date(2026, 2, 17))  # 春节
    assert CALENDAR.is_working_day(date(2026, 2, 28))  # Saturday, 调休 for 春节
    assert not CALENDAR.is_working_day(date(2026, 10, 7))
    assert CALENDAR.is_working_day(date(2026, 10, 10))
    assert not CALENDAR.is_working_day(date(2026, 3, 7))  # ordinary Saturday
    assert all(d.weekday() >= 5 for d in CALENDAR.working_days)
    # 365 days − 104 weekend days − 19 weekday holidays + 6 调休 Saturdays/Sundays.
    days = [date(2026, 1, 1) + timedelta(days=k) for k in range(365)]
    assert sum(CALENDAR.is_working_day(d) for d in days) == 248


def test_datetime_is_taken_as_its_beijing_date() -> None:
    # 2026-10-09 20:00 UTC is Saturday 10-10 04:00 in Beijing, a 调休 working day.
    assert CALENDAR.is_working_day(datetime(2026, 10, 9, 20, 0, tzinfo=UTC))


# -- calendar days and the 节假日 rule ----------------------------------------------------
@pytest.mark.rule("R1")
def test_R1_calendar_period_ending_in_national_day_runs_to_first_working_day() -> None:
    # 2026-09-16 + 15 days = 10-01 (holiday) → the first working day after is 10-08.
    assert due_day(CALENDAR.add_calendar_days(bj(2026, 9, 16), 15)) == date(2026, 10, 8)


def test_calendar_period_ending_on_an_ordinary_sunday_runs_to_monday() -> None:
    # 2026-02-28 (Sat) + 15 = 03-15 (Sun) → Mon 03-16.
    assert due_day(CALENDAR.add_calendar_days(bj(2026, 2, 28), 15)) == date(2026, 3, 16)


def test_calendar_period_ending_on_an_adjusted_working_saturday_ends_that_day() -> None:
    # 2026-09-25 + 15 = 10-10, a Saturday that is a working day.
    assert due_day(CALENDAR.add_calendar_days(bj(2026, 9, 25), 15)) == date(2026, 10, 10)


@pytest.mark.rule("R5")
def test_R5_sixty_days_from_acceptance_on_a_plain_day() -> None:
    # Accepted Mon 2026-01-05: + 60 = Fri 2026-03-06.
    assert due_day(CALENDAR.add_calendar_days(bj(2026, 1, 5), 60)) == date(2026, 3, 6)


def test_period_from_late_december_2025_crosses_into_2026() -> None:
    # Wed 2025-12-31: 01-01..01-03 off, Sun 01-04 is 调休 working (1), Mon 01-05 (2).
    assert due_day(CALENDAR.add_working_days(bj(2025, 12, 31), 2)) == date(2026, 1, 5)


# -- missing years (DOMAIN.md §11: counted provisionally, never refused) -------------------
def test_a_year_before_the_earliest_calendar_still_raises_calendar_missing() -> None:
    with pytest.raises(CalendarMissing) as info:
        CALENDAR.add_working_days(bj(2024, 6, 3), 5)
    err = info.value
    assert err.code == "XF-CALENDAR-MISSING"
    assert "2024" in err.message("zh") and "节假日" in err.message("zh")
    assert "holiday" in err.message("en")
    assert err.context["year"] == 2024


def test_a_year_beyond_the_provisional_table_raises_calendar_missing() -> None:
    with pytest.raises(CalendarMissing):
        CALENDAR.is_working_day(date(2100, 1, 4))


def test_a_later_year_without_a_file_is_counted_provisionally() -> None:
    # 2029 has no file: statutory days and Art. 6 make-up days, weekends; no 调休.
    assert not CALENDAR.is_working_day(date(2029, 1, 1))  # 元旦, Monday
    assert CALENDAR.is_working_day(date(2029, 1, 2))
    assert CALENDAR.is_provisional(date(2029, 1, 2))
    assert not CALENDAR.is_provisional(date(2026, 1, 5))
    # Tue 2029-01-02 + 5 working days: 01-03, 04, 05, 08, 09.
    assert due_day(CALENDAR.add_working_days(bj(2029, 1, 2), 5)) == date(2029, 1, 9)


def test_calendar_period_into_a_missing_year_is_counted() -> None:
    # 2027-12-01 + 60 = 2028-01-30, a Sunday: the period runs to Monday 01-31.
    assert due_day(CALENDAR.add_calendar_days(bj(2027, 12, 1), 60)) == date(2028, 1, 31)


def test_missing_years_are_warned_about_from_1_october_of_the_year_before() -> None:
    assert CALENDAR.missing_years(date(2026, 9, 30)) == []
    assert CALENDAR.missing_years(date(2026, 10, 1)) == [2027]  # the 2027 file is provisional
    assert CALENDAR.missing_years(date(2027, 9, 30)) == [2027]
    assert CALENDAR.missing_years(date(2027, 10, 1)) == [2027, 2028]


# -- province codes and provincial extra days -----------------------------------------------
def test_province_code_accepts_two_or_six_digit_codes() -> None:
    assert province_code("15") == "15"
    assert province_code("150000") == "15"
    assert province_code("150404") == "15"
    assert province_code("CN") == "CN"
    for bad in ("1", "1504", "abcdef", "000000"):
        with pytest.raises(InvalidInput):
            province_code(bad)


def test_calendar_is_the_same_for_any_division_of_the_province() -> None:
    assert load_calendar("150404") == load_calendar("150000") == CALENDAR
    assert CALENDAR.province == "15"


def _rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def test_province_may_add_its_own_holidays(tmp_path: Path) -> None:
    rules = _rules_copy(tmp_path)
    (rules / "holidays" / "45-2026.yaml").write_text(
        "region: '45'\nyear: 2026\nholidays:\n"
        "  - {name: 地方节日, from: 2026-04-20, to: 2026-04-21}\n",
        encoding="utf-8",
    )
    guangxi = load_calendar("450000", rules)
    assert not guangxi.is_working_day(date(2026, 4, 20))
    assert not guangxi.is_working_day(date(2026, 4, 21))
    assert load_calendar("15", rules).is_working_day(date(2026, 4, 20))
    # Mon 04-20 received: 04-21 off, so day 1 is Wed 04-22.
    assert due_day(guangxi.add_working_days(bj(2026, 4, 17), 1)) == date(2026, 4, 22)


def test_provincial_file_without_national_year_is_refused(tmp_path: Path) -> None:
    rules = _rules_copy(tmp_path)
    (rules / "holidays" / "45-2030.yaml").write_text(
        "region: '45'\nyear: 2030\nholidays: [2030-04-09]\n", encoding="utf-8"
    )
    with pytest.raises(RulesInvalid):
        load_calendar("45", rules)
    assert load_calendar("15", rules) == CALENDAR  # other provinces are not affected


def test_holiday_file_with_unknown_key_fails_naming_it() -> None:
    with pytest.raises(RulesInvalid) as info:
        parse_holiday_year({"region": "CN", "year": 2026, "holidayz": []}, "CN-2026.yaml")
    assert "holidayz" in info.value.message("zh")


def test_holiday_file_with_date_of_another_year_is_refused() -> None:
    with pytest.raises(RulesInvalid):
        parse_holiday_year({"region": "CN", "year": 2026, "holidays": ["2025-10-01"]})


def test_holiday_file_name_must_match_its_content(tmp_path: Path) -> None:
    rules = _rules_copy(tmp_path)
    (rules / "holidays" / "CN-2027.yaml").write_text(
        "region: CN\nyear: 2028\nholidays: []\n", encoding="utf-8"
    )
    with pytest.raises(RulesInvalid):
        load_calendar("15", rules)


def test_a_day_cannot_be_both_holiday_and_working_day() -> None:
    with pytest.raises(RulesInvalid):
        HolidayCalendar(
            "15",
            frozenset({2026}),
            holidays=frozenset({date(2026, 10, 10)}),
            working_days=frozenset({date(2026, 10, 10)}),
        )


def test_adjusted_working_day_must_be_a_weekend_day() -> None:
    with pytest.raises(RulesInvalid):
        HolidayCalendar("15", frozenset({2026}), working_days=frozenset({date(2026, 3, 4)}))


def test_fixed_utc_plus_8_fallback_without_tzdata(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(key: str) -> None:
        raise ZoneInfoNotFoundError(key)

    monkeypatch.setattr(cal, "ZoneInfo", missing)
    fallback = cal._beijing()
    assert fallback.utcoffset(None) == timedelta(hours=8)
    assert isinstance(fallback, timezone)
    same = datetime.combine(date(2026, 5, 6), cal.END_OF_DAY, tzinfo=fallback).astimezone(UTC)
    assert same == end_of_day(date(2026, 5, 6))


# -- properties -------------------------------------------------------------------------------
STARTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 31), timezones=st.just(UTC)
)


@given(start=STARTS, n=st.integers(min_value=1, max_value=30))
def test_working_day_deadline_lands_on_a_working_day_after_exactly_n(
    start: datetime, n: int
) -> None:
    deadline = CALENDAR.add_working_days(start, n)
    last = local_date(deadline)
    assert CALENDAR.is_working_day(last)
    assert last > local_date(start)
    between = [
        local_date(start) + timedelta(days=k) for k in range(1, (last - local_date(start)).days + 1)
    ]
    assert sum(CALENDAR.is_working_day(d) for d in between) == n


@given(start=STARTS, n=st.integers(min_value=0, max_value=29))
def test_adding_working_days_is_monotonic_in_n(start: datetime, n: int) -> None:
    assert CALENDAR.add_working_days(start, n) < CALENDAR.add_working_days(start, n + 1)


@given(a=STARTS, b=STARTS, n=st.integers(min_value=0, max_value=30))
def test_adding_working_days_is_monotonic_in_start(a: datetime, b: datetime, n: int) -> None:
    early, late = sorted((a, b))
    assert CALENDAR.add_working_days(early, n) <= CALENDAR.add_working_days(late, n)


@given(start=STARTS, n=st.integers(min_value=0, max_value=60))
def test_calendar_day_deadline_never_precedes_start_plus_n_days(start: datetime, n: int) -> None:
    deadline = CALENDAR.add_calendar_days(start, n)
    assert deadline >= start + timedelta(days=n)
    assert CALENDAR.is_working_day(local_date(deadline))
    # The roll-forward only skips a holiday run: never more than the longest break.
    assert local_date(deadline) - (local_date(start) + timedelta(days=n)) <= timedelta(days=9)


@given(a=STARTS, b=STARTS, n=st.integers(min_value=0, max_value=60))
def test_calendar_day_deadlines_are_monotonic_in_start(a: datetime, b: datetime, n: int) -> None:
    early, late = sorted((a, b))
    assert CALENDAR.add_calendar_days(early, n) <= CALENDAR.add_calendar_days(late, n)

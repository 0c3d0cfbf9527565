"""Every shipped holiday year and the provisional calendar, against an independent source.

The PyPI `holidays` package (test dependency only) keeps China's calendar from the State
Council's notices (its China class cites each notice) and computes later years from the
statutory days and Art. 6. Official years must agree with it day by day (holidays and 调休
working days); provisional years on their statutory days, and the provisional calendar code
with its statutory days and make-up days for every year it can compute.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from xinfang.domain import provisional
from xinfang.rules_file import (
    default_rules_dir,
    load_calendar,
    parse_holiday_year,
    render_provisional_year,
)

HOLIDAY_FILES = sorted((default_rules_dir() / "holidays").glob("CN-*.yaml"))
CALENDAR = load_calendar("CN")


def _year(path: Path) -> int:
    return int(path.stem.split("-")[1])


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=k) for k in range((date(year + 1, 1, 1) - first).days)]


def _statutory(year: int) -> set[date]:
    """The package's statutory days of `year`: not its observed or substituted days."""
    found = holidays.country_holidays("CN", years=year, observed=False)
    return {day for day, name in found.items() if not name.startswith("Day off")}


def test_the_shipped_years_include_an_official_one_and_the_provisional_2027() -> None:
    years = {_year(p) for p in HOLIDAY_FILES}
    assert {2025, 2026, 2027} <= years
    assert 2026 in CALENDAR.official_years and CALENDAR.provisional_years == {2027}


@pytest.mark.parametrize("path", HOLIDAY_FILES, ids=lambda p: p.name)
def test_every_shipped_year_agrees_with_the_holidays_package(path: Path) -> None:
    import yaml

    year = _year(path)
    item = parse_holiday_year(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    if item.provisional:
        # Only the statutory days can be known before the notice: each on its date.
        assert _statutory(year) <= item.holidays
        assert not item.working_days
        return
    reference = holidays.country_holidays("CN", years=year)
    wrong = [
        f"{day} ours={CALENDAR.is_working_day(day)} holidays={reference.is_working_day(day)}"
        for day in _days(year)
        if CALENDAR.is_working_day(day) != reference.is_working_day(day)
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("path", [p for p in HOLIDAY_FILES if "provisional: true" in p.read_text(
    encoding="utf-8")], ids=lambda p: p.name)  # fmt: skip
def test_a_provisional_file_is_what_the_code_generates(path: Path) -> None:
    # Byte for byte: the file and the calendar of a year without any file cannot disagree.
    assert path.read_text(encoding="utf-8") == render_provisional_year(_year(path))


def test_the_provisional_2027_file_holds_13_statutory_days_and_6_make_up_days() -> None:
    statutory = provisional.statutory_days(2027)
    made = provisional.make_up_days(2027)
    assert len(statutory) == 13
    assert sorted(made) == [
        date(2027, 2, 9), date(2027, 2, 10),  # 春节 Sat 02-06, Sun 02-07
        date(2027, 5, 3), date(2027, 5, 4),  # 劳动节 Sat 05-01, Sun 05-02
        date(2027, 10, 4), date(2027, 10, 5),  # 国庆节 Sat 10-02, Sun 10-03
    ]  # fmt: skip
    # Not days off: the old file's 02-11, 05-05, 10-06 and 10-07.
    for day in (date(2027, 2, 11), date(2027, 5, 5), date(2027, 10, 6), date(2027, 10, 7)):
        assert CALENDAR.is_working_day(day), day


@pytest.mark.parametrize("year", range(provisional.FIRST_YEAR + 1, provisional.LAST_YEAR + 1))
def test_the_provisional_calendar_agrees_with_the_holidays_package(year: int) -> None:
    # Statutory days (lunar dates and 清明 included) for every year; Art. 6 make-up days for
    # the years after the last published notice, which the package computes the same way.
    assert set(provisional.statutory_days(year)) == _statutory(year)
    if year > max(CALENDAR.official_years):
        observed = holidays.country_holidays("CN", years=year)
        assert {d for d in provisional.days_off(year) if d.weekday() < 5} == {
            d for d in observed if d.weekday() < 5
        }


def test_two_festivals_on_one_weekend_day_give_two_make_up_days() -> None:
    # 2039: 国庆节 Sat 10-01, Sun 10-02 (also 中秋节), Mon 10-03 → 10-04, 10-05, 10-06.
    assert sorted(d for d in provisional.make_up_days(2039) if d.month == 10) == [
        date(2039, 10, 4), date(2039, 10, 5), date(2039, 10, 6),
    ]  # fmt: skip

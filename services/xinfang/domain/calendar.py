"""Working days and calendar days as Chinese administrative law counts them.

The Regulations count most time limits in 日 (calendar days) and some in 工作日
(working days). Which days are working days depends on the State Council's
yearly holiday schedule (法定节假日 and 调休: weekend days that become working
days) and, for a few provinces, on local holidays. That schedule is *data*
(deploy/rules/holidays/*.yaml, loaded by xinfang.rules_file); this module only
counts.

Conventions (used everywhere a deadline is computed):

* Dates are Beijing dates. A tz-aware instant is turned into its date in
  Asia/Shanghai (UTC+8, no daylight saving since 1991); deadlines are returned
  as tz-aware datetimes in UTC.
* The day of the triggering event is not counted (期间开始的当日不计算在期间内):
  counting starts on the following day.
* A deadline is the end of its due day: 23:59:59.999 Beijing time
  (15:59:59.999 UTC the same date).
* Working days: day 1 is the first working day *after* the start day; the
  deadline is the end of the n-th working day. A start on a holiday or weekend
  does not shift anything else: the next working day is still day 1.
  ``n == 0`` means "the same day": the end of the start day.
* Calendar days: the due day is the start day + n. If that day is not a working
  day (a weekend that is not a 调休 working day, or a public holiday), the period
  ends on the first working day after it (期间届满的最后一日是法定节假日的，以节假日后
  的第一日为期间届满的日期 — the rule of 民事诉讼法 Art. 85 and 行政复议法 Art. 88,
  where 法定休假日 includes weekends). So a calendar-day deadline is never earlier
  than start + n days, and it always ends on a working day.
* A calendar knows which years it has an official schedule for. A later year
  without one (the State Council publishes next year's schedule as late as
  December) is counted on the provisional calendar of domain/provisional.py —
  statutory holidays, Art. 6 make-up days, weekends — and deadlines that reach
  into it are provisional (`is_provisional`); a missing calendar never blocks
  an act (DOMAIN.md §11). Only a day before the earliest year the calendar
  holds, or beyond the provisional table (2099), raises CalendarMissing
  (XF-CALENDAR-MISSING) instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import provisional
from .errors import InvalidInput
from .rule_errors import CalendarMissing, RulesInvalid

NATIONAL = "CN"


def _beijing() -> tzinfo:
    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:  # no tzdata on this host: China has had no DST since 1991
        return timezone(timedelta(hours=8), "UTC+08:00")


BEIJING: tzinfo = _beijing()
END_OF_DAY = time(23, 59, 59, 999000)


def province_code(code: str) -> str:
    """The 2-digit province prefix of a division code ("33", "330000", "330102" → "33").

    "CN" (the national calendar) is returned unchanged.
    """
    code = str(code).strip()
    if code.upper() == NATIONAL:
        return NATIONAL
    if code.isdigit() and len(code) in (2, 6) and code[:2] != "00":
        return code[:2]
    raise InvalidInput(f"不是省级行政区划代码: {code!r}", province=code)


def require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise InvalidInput(f"时间必须带时区: {moment.isoformat()}")
    return moment


def local_date(moment: datetime) -> date:
    """The Beijing date of a tz-aware instant."""
    return require_aware(moment).astimezone(BEIJING).date()


def end_of_day(day: date) -> datetime:
    """23:59:59.999 Beijing time on `day`, as an aware datetime in UTC."""
    return datetime.combine(day, END_OF_DAY, tzinfo=BEIJING).astimezone(UTC)


@dataclass(frozen=True)
class HolidayCalendar:
    """The working-day calendar of one province for the years it has data for.

    `holidays` are the days off of the national schedule plus the province's
    own (放假日, weekend days inside a holiday included); `working_days` are
    weekend days that are working days (调休上班日). `years` are the years
    with data; `provisional_years` those of them whose data is itself only
    provisional (a file marked `provisional: true`). Years after the earliest
    of `years` without data are counted on provisional.days_off. Build it with
    xinfang.rules_file.load_calendar, or directly in tests.
    """

    province: str
    years: frozenset[int]
    holidays: frozenset[date] = field(default=frozenset(), repr=False)
    working_days: frozenset[date] = field(default=frozenset(), repr=False)
    provisional_years: frozenset[int] = frozenset()
    _computed: dict[int, frozenset[date]] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )
    _before: dict[int, HolidayCalendar] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "province", province_code(self.province))
        both = self.holidays & self.working_days
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise RulesInvalid(f"既是节假日又是调休上班日: {days}", province=self.province)
        for day in self.holidays | self.working_days:
            if day.year not in self.years:
                raise RulesInvalid(
                    f"{day.isoformat()} 不在日历覆盖的年度内", province=self.province
                )
        weekdays = sorted(d.isoformat() for d in self.working_days if d.weekday() < 5)
        if weekdays:
            raise RulesInvalid(
                f"调休上班日必须是周末: {', '.join(weekdays)}", province=self.province
            )

    # -- years ----------------------------------------------------------------
    @property
    def official_years(self) -> frozenset[int]:
        """Years counted on an official (published) schedule."""
        return self.years - self.provisional_years

    def covers(self, day: date) -> bool:
        """True if `day` can be counted (officially or provisionally)."""
        return day.year in self.years or self._computable(day.year)

    def is_provisional(self, day: date) -> bool:
        """True if `day` lies in a year without an official schedule: a deadline on it
        may move when the schedule is installed."""
        if isinstance(day, datetime):
            day = local_date(day)
        return day.year not in self.official_years

    def missing_years(self, today: date) -> list[int]:
        """Years without an official schedule that operators must be warned about on
        `today` (a Beijing date): the current year, and from 1 October the next one."""
        due = [today.year] + ([today.year + 1] if today >= date(today.year, 10, 1) else [])
        return [year for year in due if year not in self.official_years]

    def before(self, year: int) -> HolidayCalendar:
        """This calendar as it was before the schedules of `year` and later were installed:
        those years counted provisionally. Deadlines stated then are re-derived from it."""
        found = self._before.get(year)
        if found is None:
            kept = frozenset(y for y in self.years if y < year)
            found = self._before[year] = HolidayCalendar(
                self.province,
                kept,
                frozenset(d for d in self.holidays if d.year < year),
                frozenset(d for d in self.working_days if d.year < year),
                self.provisional_years & kept,
            )
        return found

    def _computable(self, year: int) -> bool:
        return bool(self.years) and min(self.years) < year and provisional.covers(year)

    def _computed_off(self, year: int) -> frozenset[date]:
        off = self._computed.get(year)
        if off is None:
            off = self._computed[year] = frozenset(provisional.days_off(year))
        return off

    def _check(self, day: date) -> None:
        if day.year not in self.years and not self._computable(day.year):
            years = ", ".join(str(y) for y in sorted(self.years)) or "无"
            raise CalendarMissing(
                f"{day.year} 年（省份 {self.province}；已有 {years}）",
                year=day.year,
                province=self.province,
            )

    def is_working_day(self, day: date) -> bool:
        """True on working days: weekdays that are not holidays, and 调休上班日.

        A datetime is taken as its Beijing date. A later year without data is
        counted provisionally; an earlier one raises CalendarMissing.
        """
        if isinstance(day, datetime):
            day = local_date(day)
        if day.year not in self.years:
            self._check(day)
            return day.weekday() < 5 and day not in self._computed_off(day.year)
        if day in self.holidays:
            return False
        if day in self.working_days:
            return True
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    # -- periods --------------------------------------------------------------
    def add_working_days(self, start: datetime, n: int) -> datetime:
        """End of the n-th working day after the (Beijing) day of `start`, in UTC.

        The start day itself is never counted, whether or not it is a working
        day; n == 0 gives the end of the start day.
        """
        if n < 0:
            raise InvalidInput(f"工作日数不能为负: {n}")
        day = local_date(start)
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return end_of_day(day)

    def add_calendar_days(self, start: datetime, n: int) -> datetime:
        """End of the day n calendar days after the (Beijing) day of `start`, in UTC.

        If that last day is not a working day (holiday, or weekend that is not a
        调休 working day), the period ends at the end of the next working day.
        """
        if n < 0:
            raise InvalidInput(f"天数不能为负: {n}")
        last = local_date(start) + timedelta(days=n)
        return end_of_day(self.next_working_day(last))


def calendar_status(calendar: HolidayCalendar, today: date) -> dict[str, Any]:
    """What operators must know on `today` (a Beijing date), as /health and `xinfang calendar
    status` show it: {"status": "ok"|"warning", "missing_years": [int], "official_years",
    "provisional_years", and with a warning "message_zh", "message_en"}."""
    missing = calendar.missing_years(today)
    status: dict[str, Any] = {
        "status": "warning" if missing else "ok",
        "missing_years": missing,
        "official_years": sorted(calendar.official_years),
        "provisional_years": sorted(calendar.provisional_years),
    }
    if missing:
        years = "、".join(str(y) for y in missing)
        files = ", ".join(f"deploy/rules/holidays/CN-{y}.yaml" for y in missing)
        status["message_zh"] = (
            f"缺少 {years} 年国务院节假日安排：涉及该年度的期限按暂定日历（法定节假日及补假，"
            f"无调休）计算并标注为暂定；通知发布后请安装 {files}，节点将重新计算未到期的期限"
        )
        status["message_en"] = (
            f"No official holiday schedule for {', '.join(str(y) for y in missing)}: "
            "deadlines into it are counted on a provisional calendar (statutory holidays and "
            f"make-up days, no swaps) and marked provisional; install {files} when the "
            "State Council publishes it, and open deadlines are re-derived"
        )
    return status

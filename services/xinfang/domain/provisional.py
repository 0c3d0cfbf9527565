"""The provisional national calendar of a year whose official schedule is not yet published.

《全国年节及纪念日放假办法》 as amended in 2024 (国务院令第 795 号, in force 2025-01-01) gives
all citizens 13 statutory days off (Art. 2): 元旦 (1 January), 春节 (农历除夕 and 正月初一 to
初三), 清明节 (the day of the solar term), 劳动节 (1–2 May), 端午节 (农历五月初五), 中秋节
(农历八月十五) and 国庆节 (1–3 October). Art. 6: a holiday of all citizens that falls on a
Saturday or Sunday is made up (补假) on a working day. The State Council's yearly notice adds
调休 (weekend working days swapped for bridge days); nobody can know those in advance, so a
provisional year holds only the statutory days, the Art. 6 make-up days and weekends.

Lunar dates come from a table (春节, 端午, 中秋 for 2024–2099, checked against two independent
libraries in tests/unit/test_provisional_calendar.py); 清明 from the usual solar-term formula.
"""

from __future__ import annotations

from datetime import date, timedelta

# year: "MMDD MMDD MMDD" = Gregorian dates of 正月初一, 五月初五, 八月十五.
# fmt: off
_LUNAR: dict[int, str] = {
    2024: "0210 0610 0917", 2025: "0129 0531 1006", 2026: "0217 0619 0925",
    2027: "0206 0609 0915", 2028: "0126 0528 1003", 2029: "0213 0616 0922",
    2030: "0203 0605 0912", 2031: "0123 0624 1001", 2032: "0211 0612 0919",
    2033: "0131 0601 0908", 2034: "0219 0620 0927", 2035: "0208 0610 0916",
    2036: "0128 0530 1004", 2037: "0215 0618 0924", 2038: "0204 0607 0913",
    2039: "0124 0527 1002", 2040: "0212 0614 0920", 2041: "0201 0603 0910",
    2042: "0122 0622 0928", 2043: "0210 0611 0917", 2044: "0130 0531 1005",
    2045: "0217 0619 0925", 2046: "0206 0608 0915", 2047: "0126 0529 1004",
    2048: "0214 0615 0922", 2049: "0202 0604 0911", 2050: "0123 0623 0930",
    2051: "0211 0613 0919", 2052: "0201 0601 0907", 2053: "0219 0620 0926",
    2054: "0208 0610 0916", 2055: "0128 0530 1005", 2056: "0215 0617 0924",
    2057: "0204 0606 0913", 2058: "0124 0625 1002", 2059: "0212 0614 0921",
    2060: "0202 0603 0909", 2061: "0121 0622 0928", 2062: "0209 0611 0917",
    2063: "0129 0601 1006", 2064: "0217 0619 0925", 2065: "0205 0608 0915",
    2066: "0126 0528 1003", 2067: "0214 0616 0923", 2068: "0203 0604 0911",
    2069: "0123 0623 0929", 2070: "0211 0613 0919", 2071: "0131 0602 0908",
    2072: "0219 0620 0926", 2073: "0207 0610 0916", 2074: "0127 0530 1005",
    2075: "0215 0617 0924", 2076: "0205 0606 0912", 2077: "0124 0624 1001",
    2078: "0212 0614 0920", 2079: "0202 0604 0910", 2080: "0122 0622 0928",
    2081: "0209 0611 0917", 2082: "0129 0601 1006", 2083: "0217 0619 0926",
    2084: "0206 0607 0914", 2085: "0126 0527 1003", 2086: "0214 0615 0922",
    2087: "0203 0605 0911", 2088: "0124 0623 0929", 2089: "0210 0613 0918",
    2090: "0130 0602 0908", 2091: "0218 0621 0927", 2092: "0207 0609 0916",
    2093: "0127 0529 1005", 2094: "0215 0617 0924", 2095: "0205 0606 0913",
    2096: "0125 0624 0930", 2097: "0212 0614 0920", 2098: "0201 0604 0909",
    2099: "0121 0623 0929",
}
# fmt: on

FIRST_YEAR = min(_LUNAR)
LAST_YEAR = max(_LUNAR)


def covers(year: int) -> bool:
    """True if a provisional calendar can be computed for `year` (2024–2099)."""
    return FIRST_YEAR <= year <= LAST_YEAR


def _lunar(year: int, index: int) -> date:
    mmdd = _LUNAR[year].split()[index]
    return date(year, int(mmdd[:2]), int(mmdd[2:]))


def qingming(year: int) -> date:
    """清明 (sun at 15° longitude) in Beijing time, 2000–2099: the 寿星 formula, C = 4.81."""
    y = year % 100
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def statutory_days(year: int) -> dict[date, str]:
    """The 13 statutory days off of `year` (Art. 2 of the 2024 amendment), date → festival.

    Raises KeyError for a year outside covers().
    """
    if not covers(year):
        raise KeyError(year)
    spring = _lunar(year, 0)
    days = {date(year, 1, 1): "元旦"}
    days.update({spring + timedelta(days=k): "春节" for k in range(-1, 3)})
    days[qingming(year)] = "清明节"
    days.update({date(year, 5, 1): "劳动节", date(year, 5, 2): "劳动节"})
    days[_lunar(year, 1)] = "端午节"
    days.update({date(year, 10, d): "国庆节" for d in (1, 2, 3)})
    mid_autumn = _lunar(year, 2)
    days[mid_autumn] = "中秋节、国庆节" if mid_autumn in days else "中秋节"
    return days


def make_up_days(year: int) -> dict[date, str]:
    """Art. 6 补假: for each statutory holiday on a Saturday or Sunday, the first weekday after
    it that is neither a statutory day nor already a make-up day, date → festival.

    Art. 6 gives a make-up day to each holiday (假日) on a weekend, so 中秋节 on a weekend day
    of 国庆节 gives two. It gives none when they meet on a weekday (the State Council's
    notice has added a day in such years, e.g. 2020; a provisional calendar cannot know).
    """
    statutory = statutory_days(year)
    made: dict[date, str] = {}
    for day in sorted(statutory):
        if day.weekday() < 5:
            continue
        for festival in statutory[day].split("、"):
            other = day + timedelta(days=1)
            while other.weekday() >= 5 or other in statutory or other in made:
                other += timedelta(days=1)
            made[other] = f"{festival}（补假）"
    return made


def days_off(year: int) -> dict[date, str]:
    """Every weekday-or-weekend day off of the provisional `year`: statutory days and 补假."""
    return {**statutory_days(year), **make_up_days(year)}

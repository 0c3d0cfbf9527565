"""Loading rule data from disk: holiday calendars, provincial time limits, review hierarchy.

Layout (deploy/rules/):

* holidays/CN-<year>.yaml — the State Council's schedule for one year: `holidays`
  (days off) and `working_days` (调休上班日). The years with a national file are
  the years a calendar covers.
  A file with `provisional: true` holds a provisional year (render_provisional_year
  writes one: statutory days and Art. 6 make-up days, no 调休); a year after the
  earliest file with no file at all is counted the same way (domain/provisional.py).
* holidays/<province>-<year>.yaml — optional extra days of one province
  (2-digit code), added to the national ones of that year.
* provinces/<province>.yaml — overrides of RuleSet.national() and the 复查/复核
  hierarchy options. Unknown keys are errors naming the key, never ignored.

The domain stays pure: this adapter turns YAML into HolidayCalendar, RuleSet and
ReviewHierarchy values.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from .domain import provisional
from .domain.calendar import NATIONAL, HolidayCalendar, province_code
from .domain.errors import InvalidInput
from .domain.hierarchy import ReviewHierarchy
from .domain.rule_errors import RulesInvalid
from .domain.rules import LIMIT_RULES, UNITS, Limit, RuleSet
from .domain.topology import Topology
from .resources import data_dir

_HOLIDAY_FILE = re.compile(r"^(CN|\d{2})-(\d{4})\.ya?ml$")
_HOLIDAY_KEYS = {"region", "year", "source", "note", "provisional", "holidays", "working_days"}
_HOLIDAY_ENTRY_KEYS = {"name", "from", "to", "date", "dates", "note"}
_WORKING_ENTRY_KEYS = {"date", "for", "note"}
_PROVINCE_KEYS = {
    "jurisdiction",
    "name",
    "regulation",
    "limits",
    "representatives",
    "re_review_excludes_hearing",
    "review",
}
_LIMIT_KEYS = {"amount", "unit", "basis", "rule_id"}
_OPTIONAL_LIMITS = {"review_take_up"}
_REPRESENTATIVE_KEYS = {
    "max": "representatives_max",
    "small_group_size": "representatives_small_group_size",
    "small_group_max": "representatives_small_group_max",
    "basis": "representatives_basis",
}


def default_rules_dir() -> Path:
    """deploy/rules of a checkout or its copy shipped in the wheel (xinfang.resources): the
    folder used when no `rules_dir` is given. A node's XINFANG_RULES_DIR (e.g. a mounted folder
    with an official holiday file the image does not have yet) is read once by
    settings.NodeSettings and passed here by bootstrap as `rules_dir`."""
    return data_dir("rules")


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _unknown(keys: Iterable[object], allowed: Iterable[str], where: str) -> None:
    extra = sorted(str(k) for k in keys if k not in set(allowed))
    if extra:
        raise RulesInvalid(f"{where} 中有未知的键: {', '.join(extra)}", keys=", ".join(extra))


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RulesInvalid(f"{where} 必须是映射（键: 值）")
    return value


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RulesInvalid(f"{where} 必须是列表")
    return value


def _date(value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise RulesInvalid(f"{where} 不是日期 (YYYY-MM-DD): {value!r}")


# -- holidays ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class HolidayYear:
    """The content of one holiday file."""

    region: str  # "CN" or a 2-digit province code
    year: int
    holidays: frozenset[date]
    working_days: frozenset[date]
    provisional: bool = False


def parse_holiday_year(data: Mapping[str, Any], where: str = "holiday data") -> HolidayYear:
    """Parse one holiday file's mapping (see deploy/rules/holidays/CN-2026.yaml)."""
    data = _mapping(data, where)
    _unknown(data, _HOLIDAY_KEYS, where)
    region = str(data.get("region", ""))
    try:
        region = province_code(region)
    except InvalidInput as exc:
        raise RulesInvalid(f"{where}: region 必须是 CN 或省级代码: {region!r}") from exc
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        raise RulesInvalid(f"{where}: year 必须是整数年份: {year!r}")
    days_off: set[date] = set()
    for i, entry in enumerate(_list(data.get("holidays"), f"{where}.holidays")):
        at = f"{where}.holidays[{i}]"
        if not isinstance(entry, Mapping):
            days_off.add(_date(entry, at))
            continue
        _unknown(entry, _HOLIDAY_ENTRY_KEYS, at)
        if "from" in entry or "to" in entry:
            first = _date(entry.get("from"), f"{at}.from")
            last = _date(entry.get("to", entry.get("from")), f"{at}.to")
            if last < first:
                raise RulesInvalid(f"{at}: to 早于 from")
            days_off.update(first + timedelta(days=k) for k in range((last - first).days + 1))
        if "date" in entry:
            days_off.add(_date(entry["date"], f"{at}.date"))
        for j, d in enumerate(_list(entry.get("dates"), f"{at}.dates")):
            days_off.add(_date(d, f"{at}.dates[{j}]"))
    working: set[date] = set()
    for i, entry in enumerate(_list(data.get("working_days"), f"{where}.working_days")):
        at = f"{where}.working_days[{i}]"
        if isinstance(entry, Mapping):
            _unknown(entry, _WORKING_ENTRY_KEYS, at)
            working.add(_date(entry.get("date"), f"{at}.date"))
        else:
            working.add(_date(entry, at))
    stray = sorted(d.isoformat() for d in days_off | working if d.year != year)
    if stray:
        raise RulesInvalid(f"{where}: 日期不在 {year} 年内: {', '.join(stray)}")
    flag = data.get("provisional", False)
    if not isinstance(flag, bool):
        raise RulesInvalid(f"{where}: provisional 必须是 true/false")
    return HolidayYear(region, year, frozenset(days_off), frozenset(working), flag)


def build_calendar(province: str, years: Iterable[HolidayYear]) -> HolidayCalendar:
    """Merge national years and the province's extra days into one calendar.

    The national files define the covered years; a provincial file for a year
    without a national file is an error.
    """
    code = province_code(province)
    items = list(years)
    national = {y.year: y for y in items if y.region == NATIONAL}
    off: set[date] = set()
    working: set[date] = set()
    for item in items:
        if item.region not in (NATIONAL, code):
            continue
        if item.year not in national:
            raise RulesInvalid(
                f"{item.region}-{item.year}: 缺少同年的全国节假日安排 CN-{item.year}"
            )
        off |= item.holidays
        working |= item.working_days
    return HolidayCalendar(
        province=code,
        years=frozenset(national),
        holidays=frozenset(off),
        working_days=frozenset(working),
        provisional_years=frozenset(y for y, item in national.items() if item.provisional),
    )


def holidays_signature(rules_dir: Path | str | None = None) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime_ns) of every holiday file: changes when a file is installed,
    replaced or removed, so a running node notices a newly published schedule."""
    directory = (Path(rules_dir) if rules_dir else default_rules_dir()) / "holidays"
    return tuple(
        (path.name, stat.st_size, stat.st_mtime_ns)
        for path in sorted(directory.glob("*.y*ml"))
        for stat in (path.stat(),)
    )


@dataclasses.dataclass(frozen=True)
class HolidayFolder:
    """The holiday files of `rules_dir` (None: the shipped deploy/rules) as the calendar of
    `province`: the adapter of node.calendar_source.CalendarSource."""

    province: str
    rules_dir: Path | None = None

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        return holidays_signature(self.rules_dir)

    def current(self) -> tuple[tuple[tuple[str, int, int], ...], HolidayCalendar]:
        files = holidays_signature(self.rules_dir)  # before reading: a later change is seen
        return files, load_calendar(self.province, self.rules_dir)


def render_provisional_year(year: int) -> str:
    """The text of holidays/CN-<year>.yaml for a year whose schedule is not yet published:
    the 13 statutory days of the 2024 amendment of 《全国年节及纪念日放假办法》 on their dates
    and the Art. 6 make-up days (补假), marked provisional, no 调休. KeyError beyond 2099."""
    statutory = provisional.statutory_days(year)
    made = provisional.make_up_days(year)
    lines = [
        f"# {year} 年全国法定节假日（暂定）/ National public holidays {year} — PROVISIONAL.",
        "#",
        f"# Generated by `xinfang calendar provisional {year}` (xinfang.domain.provisional): the",
        "# 13 statutory days of 《全国年节及纪念日放假办法》 as amended in 2024 (Art. 2) on their",
        f"# {year} dates, plus the weekday make-up days (补假) Art. 6 gives for a holiday on a",
        "# Saturday or Sunday. NO 调休: the State Council's yearly notice adds bridge days and",
        "# weekend working days that cannot be known in advance, so deadlines counted on this",
        "# file are marked provisional. REPLACE IT WITH THE OFFICIAL NOTICE WHEN PUBLISHED",
        f"# (《国务院办公厅关于{year}年部分节假日安排的通知》); a running node",
        "# re-derives the open deadlines at its next sweep.",
        "region: CN",
        f"year: {year}",
        "provisional: true",
        "source: 暂定：《全国年节及纪念日放假办法》第二条法定假日及第六条补假（无调休）",
        "holidays:",
    ]
    for day in sorted(statutory):
        lines.append(f"  - {{name: {statutory[day]}, date: {day.isoformat()}}}")
    for day in sorted(made):
        lines.append(f"  - {{name: {made[day]}, date: {day.isoformat()}}}")
    lines.append("working_days: []")
    return "\n".join(lines) + "\n"


def load_calendar(province: str, rules_dir: Path | str | None = None) -> HolidayCalendar:
    """The working-day calendar of `province` ("15", "150000", "150404" or "CN")."""
    directory = (Path(rules_dir) if rules_dir else default_rules_dir()) / "holidays"
    code = province_code(province)
    years: list[HolidayYear] = []
    for path in sorted(directory.glob("*.y*ml")):
        match = _HOLIDAY_FILE.match(path.name)
        if match is None:
            raise RulesInvalid(f"节假日文件名应为 CN-<年>.yaml 或 <省代码>-<年>.yaml: {path.name}")
        region, year = match.group(1), int(match.group(2))
        if region not in (NATIONAL, code):
            continue
        item = parse_holiday_year(_read(path), path.name)
        if (item.region, item.year) != (region, year):
            raise RulesInvalid(
                f"{path.name}: 文件内容 region={item.region}, year={item.year} 与文件名不符"
            )
        years.append(item)
    return build_calendar(code, years)


# -- time limits ------------------------------------------------------------------
def _limit(name: str, value: object, where: str) -> Limit | None:
    if value is None:
        if name in _OPTIONAL_LIMITS:
            return None
        raise RulesInvalid(f"{where}: {name} 不能为空")
    raw = _mapping(value, where)
    _unknown(raw, _LIMIT_KEYS, where)
    missing = sorted({"amount", "unit", "basis"} - set(raw))
    if missing:
        raise RulesInvalid(f"{where}: 缺少 {', '.join(missing)}")
    rule_id = str(raw.get("rule_id", LIMIT_RULES[name]))
    if rule_id != LIMIT_RULES[name]:
        raise RulesInvalid(f"{where}: {name} 属于规则 {LIMIT_RULES[name]}，不是 {rule_id}")
    amount, unit = raw["amount"], raw["unit"]
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise RulesInvalid(f"{where}.amount 必须是整数: {amount!r}")
    if unit not in UNITS:
        raise RulesInvalid(f"{where}.unit 必须是 {' 或 '.join(UNITS)}: {unit!r}")
    return Limit(amount=amount, unit=unit, rule_id=rule_id, basis=str(raw["basis"]))


def merge_overrides(
    base: RuleSet, data: Mapping[str, Any], where: str = "province rules"
) -> RuleSet:
    """`base` with the overrides of one province file applied.

    Every key must be known: a typo ("handeling") fails loudly, naming the key.
    """
    data = _mapping(data, where)
    _unknown(data, _PROVINCE_KEYS, where)
    changes: dict[str, Any] = {}
    if "jurisdiction" in data:
        changes["jurisdiction"] = province_code(str(data["jurisdiction"]))
    if "name" in data:
        changes["name"] = str(data["name"])
    limits = _mapping(data.get("limits"), f"{where}.limits")
    _unknown(limits, LIMIT_RULES, f"{where}.limits")
    for name, value in limits.items():
        changes[name] = _limit(name, value, f"{where}.limits.{name}")
    reps = _mapping(data.get("representatives"), f"{where}.representatives")
    _unknown(reps, _REPRESENTATIVE_KEYS, f"{where}.representatives")
    for key, value in reps.items():
        field = _REPRESENTATIVE_KEYS[key]
        if key == "basis":
            changes[field] = str(value)
        elif value is None and key != "max":
            changes[field] = None
        elif isinstance(value, bool) or not isinstance(value, int):
            raise RulesInvalid(f"{where}.representatives.{key} 必须是整数: {value!r}")
        else:
            changes[field] = value
    if "re_review_excludes_hearing" in data:
        flag = data["re_review_excludes_hearing"]
        if not isinstance(flag, bool):
            raise RulesInvalid(f"{where}.re_review_excludes_hearing 必须是 true/false")
        changes["re_review_excludes_hearing"] = flag
    if "review" in data:  # validated by load_review_hierarchy; only its shape here
        _unknown(
            _mapping(data["review"], f"{where}.review"), {"prefer", "overrides"}, f"{where}.review"
        )
    return dataclasses.replace(base, **changes)


def _province_file(province: str, rules_dir: Path | str | None) -> Path:
    directory = (Path(rules_dir) if rules_dir else default_rules_dir()) / "provinces"
    code = province_code(province)
    path = directory / f"{code}.yaml"
    if not path.is_file():
        raise RulesInvalid(f"没有省份 {code} 的规则文件 {path}", province=code)
    return path


def load_ruleset(province: str, rules_dir: Path | str | None = None) -> RuleSet:
    """National defaults with the province's overrides ("CN" gives the national set)."""
    code = province_code(province)
    base = RuleSet.national()
    if code == NATIONAL:
        return base
    path = _province_file(code, rules_dir)
    data = _mapping(_read(path), path.name)
    ruleset = merge_overrides(dataclasses.replace(base, jurisdiction=code), data, path.name)
    if ruleset.jurisdiction != code:
        raise RulesInvalid(f"{path.name}: jurisdiction {ruleset.jurisdiction} 与文件名不符")
    return ruleset


def load_review_hierarchy(
    topology: Topology, province: str, rules_dir: Path | str | None = None
) -> ReviewHierarchy:
    """The 复查/复核 hierarchy over `topology` with the province file's `review` options."""
    code = province_code(province)
    if code == NATIONAL:
        return ReviewHierarchy(topology)
    path = _province_file(code, rules_dir)
    data = _mapping(_read(path), path.name)
    return ReviewHierarchy.from_mapping(topology, _mapping(data.get("review"), "review"))

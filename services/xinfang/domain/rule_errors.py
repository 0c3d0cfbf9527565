"""Refusals of the deadline layer: calendars, time limits, the review hierarchy.

Kept apart from errors.py so the rule data layer can grow without touching the
case errors. Codes are stable once released, like every DomainError code.
"""

from __future__ import annotations

from .errors import ConfigurationError, DomainError


class CalendarMissing(DomainError):
    """No holiday schedule is loaded for a year a deadline has to cross.

    Raised instead of silently treating every weekday as a working day.
    """

    code = "XF-CALENDAR-MISSING"
    zh = "缺少该年度的法定节假日和调休安排，无法计算期限"
    en = "No public holiday schedule is loaded for that year; the deadline cannot be computed"


class ExtensionTooLong(DomainError):
    """R5: the handling period may be extended by at most the configured maximum."""

    code = "XF-EXTENSION-TOO-LONG"
    zh = "延长办理期限超过规定的最长延长期限"
    en = "The extension of the handling period exceeds the maximum allowed"


class DeadlineMovesBackwards(DomainError):
    """A deadline, once set, is only ever moved later."""

    code = "XF-DEADLINE-BACKWARDS"
    zh = "期限只能延后，不能提前"
    en = "A deadline may only move later, never earlier"


class NoHigherLevel(DomainError):
    """There is no body one level above to review (复查/复核) the decision."""

    code = "XF-NO-HIGHER-LEVEL"
    zh = "拓扑中没有可以复查、复核的上一级机关、单位"
    en = "There is no body one level above to review the decision"


class RulesInvalid(ConfigurationError):
    """A rules or holiday data file is malformed (unknown key, bad value, overlap)."""

    code = "XF-RULES-INVALID"
    zh = "规则数据文件有误"
    en = "The rules data is invalid"

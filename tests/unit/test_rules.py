"""Time limits as data (domain/rules.py, deploy/rules/provinces) and due dates (deadlines.py)."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinfang.domain.calendar import BEIJING, local_date
from xinfang.domain.deadlines import Obligation, due, extended, not_earlier
from xinfang.domain.errors import DomainError, InvalidInput
from xinfang.domain.rule_errors import (
    DeadlineMovesBackwards,
    ExtensionTooLong,
    RulesInvalid,
)
from xinfang.domain.rules import LIMIT_RULES, Limit, RuleSet
from xinfang.rules_file import default_rules_dir, load_calendar, load_ruleset, merge_overrides

NATIONAL = RuleSet.national()
ZHEJIANG = load_ruleset("33")
SHANDONG = load_ruleset("370000")
NEI_MONGOL = load_ruleset("150404")
CALENDAR = load_calendar("15")


def bj(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=BEIJING)


# -- national defaults -------------------------------------------------------------------
@pytest.mark.rule("R1")
def test_R1_route_within_15_days() -> None:
    assert NATIONAL.route == Limit(15, "calendar", "R1", "《信访工作条例》第二十二条第一款")


@pytest.mark.rule("R2")
@pytest.mark.rule("R3")
def test_R2_R3_notice_within_15_days() -> None:
    assert (NATIONAL.direct_notice.amount, NATIONAL.direct_notice.unit) == (15, "calendar")
    assert (NATIONAL.acceptance_notice.amount, NATIONAL.acceptance_notice.unit) == (15, "calendar")
    assert "第二十三条" in NATIONAL.acceptance_notice.basis


@pytest.mark.rule("R4")
def test_R4_objection_within_5_working_days() -> None:
    assert NATIONAL.objection == Limit(5, "working", "R4", "《信访工作条例》第二十三条第三款")
    assert NATIONAL.objection.zh == "5个工作日"


@pytest.mark.rule("R5")
def test_R5_handling_60_days_extension_at_most_30() -> None:
    assert (NATIONAL.handling.amount, NATIONAL.handling.unit) == (60, "calendar")
    assert NATIONAL.handling_extension_max.amount == 30
    assert NATIONAL.handling.basis == "《信访工作条例》第三十四条"


@pytest.mark.rule("R7")
@pytest.mark.rule("R8")
@pytest.mark.rule("R9")
@pytest.mark.rule("R10")
def test_R7_to_R10_review_windows_and_decisions_30_days() -> None:
    for limit, rule_id in (
        (NATIONAL.review_request_window, "R7"),
        (NATIONAL.review_decision, "R8"),
        (NATIONAL.re_review_request_window, "R9"),
        (NATIONAL.re_review_decision, "R10"),
    ):
        assert (limit.amount, limit.unit, limit.rule_id) == (30, "calendar", rule_id)
    assert NATIONAL.re_review_excludes_hearing
    assert "第三十五条" in NATIONAL.review_decision.basis
    assert "第三十六条" in NATIONAL.re_review_decision.basis


@pytest.mark.rule("R14")
def test_R14_at_most_5_representatives_nationally() -> None:
    assert NATIONAL.max_representatives(3) == 5
    assert NATIONAL.max_representatives(10) == 5
    assert NATIONAL.max_representatives(200) == 5
    with pytest.raises(InvalidInput):
        NATIONAL.max_representatives(0)


@pytest.mark.rule("R16")
def test_R16_supervision_answer_30_days_configurable() -> None:
    assert (NATIONAL.supervision_answer.amount, NATIONAL.supervision_answer.unit) == (
        30,
        "calendar",
    )
    assert "第四十条" in NATIONAL.supervision_answer.basis


@pytest.mark.rule("R18")
def test_R18_simplified_handling_in_working_days() -> None:
    assert (NATIONAL.simplified_accept.amount, NATIONAL.simplified_accept.unit) == (3, "working")
    assert (NATIONAL.simplified_opinion.amount, NATIONAL.simplified_opinion.unit) == (10, "working")
    assert (NATIONAL.simplified_relay.amount, NATIONAL.simplified_relay.unit) == (1, "working")


@pytest.mark.rule("R19")
def test_R19_take_up_decision_is_not_a_national_rule() -> None:
    assert NATIONAL.review_take_up is None


def test_every_limit_carries_its_rule_id_and_a_basis() -> None:
    for ruleset in (NATIONAL, ZHEJIANG, SHANDONG, NEI_MONGOL):
        for name, limit in ruleset.limits().items():
            assert limit.rule_id == LIMIT_RULES[name]
            assert limit.basis.startswith("《")


# -- provinces ---------------------------------------------------------------------------
@pytest.mark.rule("R1")
@pytest.mark.rule("R3")
def test_R1_R3_zhejiang_routes_and_accepts_within_5_working_days() -> None:
    assert ZHEJIANG.jurisdiction == "33"
    assert ZHEJIANG.route == Limit(5, "working", "R1", "《浙江省信访条例》第二十条第一款")
    assert ZHEJIANG.acceptance_notice == Limit(
        5, "working", "R3", "《浙江省信访条例》第二十条第二款"
    )
    assert ZHEJIANG.direct_notice.unit == "working"


@pytest.mark.rule("R5")
def test_R5_zhejiang_handles_within_30_days_extension_up_to_60() -> None:
    assert ZHEJIANG.handling == Limit(30, "calendar", "R5", "《浙江省信访条例》第二十三条第一款")
    assert ZHEJIANG.handling_extension_max.amount == 60


@pytest.mark.rule("R14")
def test_R14_zhejiang_3_representatives_for_10_people_or_fewer() -> None:
    assert ZHEJIANG.max_representatives(1) == 3
    assert ZHEJIANG.max_representatives(10) == 3
    assert ZHEJIANG.max_representatives(11) == 5
    assert "第十五条" in ZHEJIANG.representatives_basis


def test_zhejiang_keeps_national_limits_it_does_not_change() -> None:
    assert ZHEJIANG.objection == NATIONAL.objection
    assert ZHEJIANG.review_decision == NATIONAL.review_decision
    assert ZHEJIANG.supervision_answer == NATIONAL.supervision_answer
    assert ZHEJIANG.review_take_up is None


@pytest.mark.rule("R19")
def test_R19_shandong_decides_on_taking_up_review_in_3_working_days() -> None:
    assert SHANDONG.review_take_up == Limit(
        3, "working", "R19", "《山东省信访条例》第四十三条第一款、第四十四条第一款"
    )


@pytest.mark.rule("R16")
def test_R16_shandong_supervision_answer_30_days_art_59() -> None:
    assert SHANDONG.supervision_answer == Limit(
        30, "calendar", "R16", "《山东省信访条例》第五十九条第二款"
    )


@pytest.mark.rule("R5")
def test_R5_shandong_keeps_60_plus_30_citing_its_own_article() -> None:
    assert (SHANDONG.handling.amount, SHANDONG.handling_extension_max.amount) == (60, 30)
    assert SHANDONG.handling.basis == "《山东省信访条例》第四十二条第一款"
    assert SHANDONG.route.amount == SHANDONG.acceptance_notice.amount == 15
    assert SHANDONG.max_representatives(3) == 5


def test_nei_mongol_uses_the_national_defaults() -> None:
    assert NEI_MONGOL.jurisdiction == "15"
    assert NEI_MONGOL.limits() == NATIONAL.limits()
    assert NEI_MONGOL.max_representatives(4) == 5


def test_national_ruleset_by_code_cn() -> None:
    assert load_ruleset("CN") == NATIONAL


# -- loader strictness ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"handeling": {}}, "handeling"),
        ({"limits": {"handeling": {"amount": 30, "unit": "calendar", "basis": "x"}}}, "handeling"),
        ({"limits": {"route": {"amount": 5, "unit": "working", "basis": "x", "days": 3}}}, "days"),
        ({"representatives": {"maximum": 3}}, "maximum"),
        ({"review": {"prefered": "government"}}, "prefered"),
    ],
)
def test_unknown_keys_fail_loudly_naming_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(RulesInvalid) as info:
        merge_overrides(NATIONAL, data)
    assert key in info.value.message("zh")
    assert info.value.code == "XF-RULES-INVALID"


@pytest.mark.parametrize(
    "limit",
    [
        {"amount": 5, "unit": "working"},  # basis missing
        {"amount": 5, "unit": "hours", "basis": "x"},
        {"amount": "5", "unit": "working", "basis": "x"},
        {"amount": -1, "unit": "working", "basis": "x"},
        {"amount": 5, "unit": "working", "basis": "x", "rule_id": "R4"},  # route is R1
    ],
)
def test_malformed_limit_overrides_are_refused(limit: dict[str, object]) -> None:
    with pytest.raises(RulesInvalid):
        merge_overrides(NATIONAL, {"limits": {"route": limit}})


def test_only_optional_limits_may_be_unset() -> None:
    assert merge_overrides(SHANDONG, {"limits": {"review_take_up": None}}).review_take_up is None
    with pytest.raises(RulesInvalid):
        merge_overrides(NATIONAL, {"limits": {"handling": None}})


def test_missing_province_file_is_an_error_not_silent_defaults(tmp_path: Path) -> None:
    with pytest.raises(RulesInvalid):
        load_ruleset("44")


def test_province_file_jurisdiction_must_match_its_name(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "provinces" / "31.yaml").write_text("jurisdiction: '33'\n", encoding="utf-8")
    with pytest.raises(RulesInvalid):
        load_ruleset("31", rules)


def test_limit_validates_itself() -> None:
    with pytest.raises(RulesInvalid):
        Limit(-1, "calendar", "R1", "x")
    with pytest.raises(RulesInvalid):
        Limit(1, "weeks", "R1", "x")  # type: ignore[arg-type]
    with pytest.raises(RulesInvalid):
        dataclasses.replace(NATIONAL, route=Limit(15, "calendar", "R2", "x"))


# -- obligations and due dates -----------------------------------------------------------------
def test_obligations_carry_rule_ids_and_chinese_names() -> None:
    assert {o.rule_id for o in Obligation} == {
        "R1", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R16", "R19",
    }  # fmt: skip
    assert Obligation.OBJECTION.zh == "提出异议"
    assert Obligation.HANDLING.zh == "办结"
    assert all(o.zh and o.en for o in Obligation)
    assert Obligation.HANDLING.limit(ZHEJIANG) == ZHEJIANG.handling


@pytest.mark.rule("R19")
def test_R19_take_up_obligations_use_the_provincial_limit() -> None:
    for take_up in (Obligation.REVIEW_TAKE_UP, Obligation.RE_REVIEW_TAKE_UP):
        assert take_up.rule_id == "R19"
        assert take_up.limit(SHANDONG) == SHANDONG.review_take_up
        assert take_up.limit(NATIONAL) is None  # not a national rule


@pytest.mark.rule("R6")
def test_R6_assignment_report_has_no_default_limit() -> None:
    assert Obligation.ASSIGNMENT_REPORT.limit(NATIONAL) is None
    set_by_office = Limit(20, "calendar", "R6", "交办单 2026-001")
    assert local_date(due(set_by_office, bj(2026, 3, 2), CALENDAR)) == date(2026, 3, 23)


@pytest.mark.rule("R3")
def test_R3_zhejiang_acceptance_across_spring_festival() -> None:
    # Received Fri 2026-02-13: 02-14 (调休) 1, 02-24 2, 02-25 3, 02-26 4, 02-27 5.
    deadline = due(ZHEJIANG.acceptance_notice, bj(2026, 2, 13), CALENDAR)
    assert local_date(deadline) == date(2026, 2, 27)
    national = due(NATIONAL.acceptance_notice, bj(2026, 2, 13), CALENDAR)
    # 02-13 + 15 = Sat 02-28, a 调休 working day: the period ends that day.
    assert local_date(national) == date(2026, 2, 28)


@pytest.mark.rule("R5")
def test_R5_handling_due_sixty_days_after_acceptance() -> None:
    deadline = due(NATIONAL.handling, bj(2026, 1, 5), CALENDAR)
    assert deadline == datetime(2026, 3, 6, 15, 59, 59, 999000, tzinfo=UTC)


@pytest.mark.rule("R19")
def test_R19_shandong_take_up_deadline_across_labour_day() -> None:
    take_up = SHANDONG.review_take_up
    assert take_up is not None
    # Received Thu 2026-04-30: 05-01..05-05 off; 05-06 (1), 05-07 (2), 05-08 (3).
    assert local_date(due(take_up, bj(2026, 4, 30), CALENDAR)) == date(2026, 5, 8)


# -- extension (R5) --------------------------------------------------------------------------
@pytest.mark.rule("R5")
def test_R5_extension_of_30_days_is_allowed() -> None:
    handling_due = due(NATIONAL.handling, bj(2026, 1, 5), CALENDAR)  # 2026-03-06
    assert local_date(extended(handling_due, 30, NATIONAL)) == date(2026, 4, 5)


@pytest.mark.rule("R5")
def test_R5_extension_beyond_30_days_is_refused() -> None:
    handling_due = due(NATIONAL.handling, bj(2026, 1, 5), CALENDAR)
    with pytest.raises(ExtensionTooLong) as info:
        extended(handling_due, 31, NATIONAL)
    err = info.value
    assert isinstance(err, DomainError)
    assert err.code == "XF-EXTENSION-TOO-LONG"
    assert err.context["rule"] == "R5"
    assert "延长" in err.message("zh") and "extension" in err.message("en")


@pytest.mark.rule("R5")
def test_R5_repeated_extensions_count_together() -> None:
    handling_due = due(NATIONAL.handling, bj(2026, 1, 5), CALENDAR)
    assert extended(handling_due, 10, NATIONAL, already=20) > handling_due
    with pytest.raises(ExtensionTooLong):
        extended(handling_due, 11, NATIONAL, already=20)


@pytest.mark.rule("R5")
def test_R5_zhejiang_allows_up_to_60_days_extension() -> None:
    handling_due = due(ZHEJIANG.handling, bj(2026, 1, 5), CALENDAR)
    assert extended(handling_due, 60, ZHEJIANG) > extended(handling_due, 30, ZHEJIANG)
    with pytest.raises(ExtensionTooLong):
        extended(handling_due, 61, ZHEJIANG)


@pytest.mark.rule("R5")
def test_R5_extension_with_calendar_ending_on_a_holiday_runs_to_next_working_day() -> None:
    handling_due = due(NATIONAL.handling, bj(2026, 7, 3), CALENDAR)  # 07-03 + 60 = Tue 09-01
    assert local_date(handling_due) == date(2026, 9, 1)
    plain = extended(handling_due, 30, NATIONAL)  # 10-01, National Day
    assert local_date(plain) == date(2026, 10, 1)
    rolled = extended(handling_due, 30, NATIONAL, calendar=CALENDAR)
    assert local_date(rolled) == date(2026, 10, 8)


def test_negative_extension_would_move_the_deadline_backwards() -> None:
    handling_due = due(NATIONAL.handling, bj(2026, 1, 5), CALENDAR)
    with pytest.raises(DeadlineMovesBackwards) as info:
        extended(handling_due, -1, NATIONAL)
    assert info.value.code == "XF-DEADLINE-BACKWARDS"


def test_not_earlier_refuses_to_move_a_deadline_back() -> None:
    current = datetime(2026, 3, 6, 15, 59, 59, 999000, tzinfo=UTC)
    assert not_earlier(current, current + timedelta(days=1)) == current + timedelta(days=1)
    assert not_earlier(None, current) == current
    with pytest.raises(DeadlineMovesBackwards):
        not_earlier(current, current - timedelta(seconds=1))


@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2026, 8, 31), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=0, max_value=30),
    already=st.integers(min_value=0, max_value=30),
    with_calendar=st.booleans(),
)
def test_extension_never_moves_the_handling_deadline_backwards(
    start: datetime, days: int, already: int, with_calendar: bool
) -> None:
    handling_due = due(NATIONAL.handling, start, CALENDAR)
    calendar = CALENDAR if with_calendar else None
    if days + already > NATIONAL.handling_extension_max.amount:
        with pytest.raises(ExtensionTooLong):
            extended(handling_due, days, NATIONAL, already=already, calendar=calendar)
        return
    new_due = extended(handling_due, days, NATIONAL, already=already, calendar=calendar)
    assert new_due >= handling_due
    assert new_due >= handling_due + timedelta(days=days) - timedelta(microseconds=1)

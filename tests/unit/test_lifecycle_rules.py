"""Rules R1–R19 of DOMAIN.md enforced across in-process nodes (real services and stores).

Each test names the rule it proves; the same rules are exercised over the real broker
in tests/integration/test_lifecycle_e2e.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from xinfang.commands.inputs import case_file
from xinfang.domain import commands as c
from xinfang.domain import deciders as d
from xinfang.domain.case import fold
from xinfang.domain.commands import RegisterPetition
from xinfang.domain.context import Context
from xinfang.domain.deciders import decide_register
from xinfang.domain.errors import CaseNotFound, DomainError
from xinfang.domain.rule_errors import ExtensionTooLong
from xinfang.domain.rules import RuleSet
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import Outcome
from xinfang.rules_file import load_calendar, load_ruleset

from .fakes import FakeBus
from .lifecycle import PETITION, handled, register, types

NODES = ["150000", "150400", "150404", "150402"]


@pytest.fixture
def bus(topology: Topology, tmp_path: Path) -> Iterator[FakeBus]:
    world = FakeBus(topology, NODES, tmp_path)
    yield world
    world.close()


def refused(code: str, bus: FakeBus, division: str, case_id: str, command: str, body: dict) -> None:
    with pytest.raises(DomainError) as info:
        bus.run(division, case_id, command, body)
    assert info.value.code == code, info.value.message("zh")


def case(bus: FakeBus, division: str, case_id: str) -> object:
    return bus.nodes[division].case(case_id)


# -- R1 routing within 15 days --------------------------------------------------------------
def test_R1_route_deadline_missed_is_supervised_by_the_level_above(bus: FakeBus) -> None:
    case_id = register(bus)
    assert bus.sweep() == 0  # nothing due yet
    bus.clock.advance(days=17)
    bus.sweep()
    assert "DeadlineMissed" in types(bus, "150000", case_id)
    [s] = bus.nodes["150400"].case(case_id).supervisions
    assert (s.by, s.to_body, s.obligation) == ("150000.xfj", "150400.xfj", "ROUTE")


def test_R1_transfer_only_to_same_level_or_below(bus: FakeBus) -> None:
    case_id = register(bus)
    refused(
        "XF-ROUTING-NOT-ALLOWED",
        bus,
        "150400",
        case_id,
        "transfer",
        {"actor": "150400.xfj", "to_body": "150000.zj"},
    )


# -- R2/R3 acceptance notice ----------------------------------------------------------------
def test_R3_acceptance_with_notice_and_deadline_supervision(bus: FakeBus) -> None:
    case_id = register(bus)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    county = bus.nodes["150404"].case(case_id)
    assert county.acceptance_due is not None
    assert (county.acceptance_due - bus.clock()).days >= 15
    bus.clock.advance(days=20)
    bus.sweep()
    city = bus.nodes["150400"].case(case_id)
    assert [(s.by, s.to_body, s.level.value) for s in city.supervisions] == [
        ("150400.xfj", "150404.zj", "REMINDER")
    ]
    assert bus.run("150404", case_id, "accept", {"actor": "150404.zj"}) == [
        "CaseAccepted",
        "NoticeServed",
    ]


def test_R2_R3_no_notice_owed_when_name_or_address_unknown(bus: FakeBus) -> None:
    anonymous = {"name": None, "address": None, "contact": None, "anonymous": True}
    case_id = register(bus, petitioner=anonymous)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    assert bus.run("150404", case_id, "accept", {"actor": "150404.zj"}) == ["CaseAccepted"]


# -- R4 objection ------------------------------------------------------------------------------
def test_R4_objection_within_five_working_days_then_return_and_reroute(bus: FakeBus) -> None:
    case_id = register(bus)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.rs"})
    bus.run(
        "150404", case_id, "object", {"actor": "150404.rs", "reasons": "征地补偿属自然资源部门职责"}
    )
    assert case(bus, "150400", case_id).status.value == "OBJECTED"
    bus.run("150400", case_id, "return", {"actor": "150400.xfj", "note": "同意退回"})
    assert case(bus, "150404", case_id).holder == "150400.xfj"
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zrzy"})
    assert case(bus, "150404", case_id).holder == "150404.zrzy"
    assert case(bus, "150000", case_id).status.value == "TRANSFERRED"


def test_R4_objection_after_five_working_days_is_refused(bus: FakeBus) -> None:
    case_id = register(bus)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.rs"})
    bus.clock.advance(days=9)  # more than 5 working days in any week
    refused(
        "XF-R4-OBJECTION-LATE",
        bus,
        "150404",
        case_id,
        "object",
        {"actor": "150404.rs", "reasons": "不属于本机关职权"},
    )


# -- R5 handling and extension ------------------------------------------------------------------
def test_R5_extension_beyond_thirty_days_is_refused(bus: FakeBus) -> None:
    case_id = register(bus)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    bus.run("150404", case_id, "accept", {"actor": "150404.zj"})
    before = bus.nodes["150404"].case(case_id).handling_due
    body = {"actor": "150404.zj", "approved_by": "局长", "reasons": "案情复杂"}
    with pytest.raises(ExtensionTooLong):
        bus.run("150404", case_id, "extend", {**body, "days": 31})
    bus.run("150404", case_id, "extend", {**body, "days": 20})
    after = bus.nodes["150404"].case(case_id).handling_due
    assert before is not None and after is not None and after > before
    with pytest.raises(ExtensionTooLong):  # 20 + 11 > 30 in all
        bus.run("150404", case_id, "extend", {**body, "days": 11})
    assert case(bus, "150000", case_id).handling_due == after  # the province sees the new deadline


def test_R5_missed_handling_deadline_climbs_the_supervision_ladder_R16(bus: FakeBus) -> None:
    case_id = register(bus)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    bus.run("150404", case_id, "accept", {"actor": "150404.zj"})
    bus.clock.advance(days=62)
    bus.sweep()
    city = bus.nodes["150400"].case(case_id)
    assert [s.level.value for s in city.supervisions] == ["REMINDER"]
    bus.clock.advance(days=32)  # the supervised body did not answer in 30 days (R16)
    bus.sweep()
    assert [s.level.value for s in bus.nodes["150400"].case(case_id).supervisions] == [
        "REMINDER",
        "SUPERVISION",
    ]
    bus.clock.advance(days=32)
    bus.sweep()
    levels = [s.level.value for s in bus.nodes["150404"].case(case_id).supervisions]
    assert levels == ["REMINDER", "SUPERVISION", "LISTED"]
    assert bus.sweep() == 0  # nothing is reported twice


# -- R6 交办 ---------------------------------------------------------------------------------------
def test_R6_assignment_report_deadline_supervision_answer_and_completion(bus: FakeBus) -> None:
    case_id = register(bus)
    bus.run(
        "150400",
        case_id,
        "assign",
        {"actor": "150400.xfj", "to_body": "150404.zj", "report_within_days": 20},
    )
    bus.run("150404", case_id, "accept", {"actor": "150404.zj"})
    bus.clock.advance(days=22)
    bus.sweep()
    city = bus.nodes["150400"].case(case_id)
    [s] = city.supervisions
    assert s.obligation == "ASSIGNMENT_REPORT"
    bus.run(
        "150404",
        case_id,
        "answer-supervision",
        {
            "actor": "150404.zj",
            "supervision_id": s.supervision_id,
            "answer": "已加快办理",
            "adopted": True,
        },
    )
    bus.run(
        "150404",
        case_id,
        "opinion",
        {"actor": "150404.zj", "outcome": "SUPPORTED", "opinion": "补发补偿款"},
    )
    bus.run("150404", case_id, "complete", {"actor": "150404.zj", "summary": "已补发"})
    for division in ("150400", "150000"):
        c = bus.nodes[division].case(case_id)
        assert c.completion_reported and all(x.answered for x in c.supervisions)


# -- R7–R11 review, re-review, finality
def test_R7_review_goes_to_the_level_above_the_handling_body(bus: FakeBus) -> None:
    case_id = handled(bus)
    refused(
        "XF-WRONG-REVIEWER",
        bus,
        "150400",
        case_id,
        "review-request",
        {"actor": "150400.rs", "reasons": "不服"},
    )
    refused(
        "XF-NOT-THIS-NODE",
        bus,
        "150400",
        case_id,
        "review-request",
        {"actor": "150000.zj", "reasons": "不服"},
    )
    bus.run("150400", case_id, "review-request", {"actor": "150400.zj", "reasons": "不服处理意见"})
    assert case(bus, "150404", case_id).status.value == "REVIEW_REQUESTED"


def test_R7_review_request_after_thirty_days_is_refused(bus: FakeBus) -> None:
    case_id = handled(bus)
    bus.clock.advance(days=33)
    refused(
        "XF-WINDOW-CLOSED",
        bus,
        "150400",
        case_id,
        "review-request",
        {"actor": "150400.zj", "reasons": "不服"},
    )


def test_R7_window_lapsing_unused_closes_the_case(bus: FakeBus) -> None:
    case_id = handled(bus)
    bus.clock.advance(days=35)
    bus.sweep()
    for division in ("150404", "150400", "150000"):
        c = bus.nodes[division].case(case_id)
        assert c.status.value == "CLOSED" and c.closed_reason.value == "WINDOW_LAPSED"


def test_R8_R9_R10_R11_review_then_re_review_then_final(bus: FakeBus) -> None:
    case_id = handled(bus)
    bus.run("150400", case_id, "review-request", {"actor": "150400.zj", "reasons": "不服"})
    bus.clock.advance(days=31)
    bus.sweep()  # R8: the review decision is late → supervised by the city petition office
    assert any(
        s.obligation == "REVIEW_DECISION" for s in bus.nodes["150400"].case(case_id).supervisions
    )
    bus.run(
        "150400",
        case_id,
        "review-decide",
        {"actor": "150400.zj", "result": "UPHOLD", "opinion": "维持"},
    )
    refused(
        "XF-WRONG-REVIEWER",
        bus,
        "150000",
        case_id,
        "re-review-request",
        {"actor": "150000.rs", "reasons": "不服复查"},
    )
    bus.run(
        "150000", case_id, "re-review-request", {"actor": "150000.zj", "reasons": "不服复查意见"}
    )
    province = bus.nodes["150000"].case(case_id)
    assert province.re_review_due is not None  # R10
    bus.run(
        "150000",
        case_id,
        "re-review-decide",
        {"actor": "150000.zj", "result": "UPHOLD", "opinion": "维持"},
    )
    for division in ("150000", "150400", "150404"):
        c = bus.nodes[division].case(case_id)
        assert c.final and c.status.value == "CLOSED"
    refused(
        "XF-R11-FINAL",
        bus,
        "150000",
        case_id,
        "re-review-request",
        {"actor": "150000.zj", "reasons": "再次"},
    )
    with pytest.raises(DomainError) as info:  # same facts and reasons, registered anew
        register(bus)
    assert info.value.code == "XF-R11-FINAL"


def test_R9_re_review_window_and_revocation_forbids_the_same_opinion(bus: FakeBus) -> None:
    case_id = handled(bus, outcome="NOT_SUPPORTED")
    bus.run("150400", case_id, "review-request", {"actor": "150400.zj", "reasons": "不服"})
    bus.run(
        "150400",
        case_id,
        "review-decide",
        {"actor": "150400.zj", "result": "REVOKE", "opinion": "撤销，重新办理"},
    )
    assert case(bus, "150404", case_id).holder == "150404.zj"
    refused(
        "XF-SAME-OPINION-AFTER-REVOCATION",
        bus,
        "150404",
        case_id,
        "opinion",
        {"actor": "150404.zj", "outcome": "NOT_SUPPORTED", "opinion": "同上"},
    )
    bus.run(
        "150404",
        case_id,
        "opinion",
        {"actor": "150404.zj", "outcome": "SUPPORTED", "opinion": "补发"},
    )
    bus.run("150400", case_id, "review-request", {"actor": "150400.zj", "reasons": "金额不足"})
    bus.run(
        "150400",
        case_id,
        "review-decide",
        {"actor": "150400.zj", "result": "VARY", "opinion": "变更金额"},
    )
    bus.clock.advance(days=31)
    refused(
        "XF-WINDOW-CLOSED",
        bus,
        "150000",
        case_id,
        "re-review-request",
        {"actor": "150000.zj", "reasons": "不服"},
    )


# -- R12–R15 intake
def test_R12_item_in_progress_at_the_county_is_refused_at_the_city(bus: FakeBus) -> None:
    county_case = register(bus, "150404")  # raised first with 松山区信访局
    bus.run("150404", county_case, "transfer", {"actor": "150404.xfj", "to_body": "150404.zrzy"})
    with pytest.raises(DomainError) as info:
        register(bus, "150400")  # the same matter raised again with the superior
    assert info.value.code == "XF-R12-IN-PROGRESS"
    assert county_case in info.value.message("zh")
    other = register(bus, "150400", request="请求公开征地批复文件")  # a different matter is fine
    assert other.startswith("150400-")


def test_R13_visit_skipping_a_level_is_refused(bus: FakeBus) -> None:
    with pytest.raises(DomainError) as info:
        register(bus, "150000", channel="VISIT")  # a county matter brought to the province
    assert info.value.code == "XF-R13-VISIT-SKIPS-LEVEL"
    assert register(bus, "150400", channel="VISIT")  # one level above is fine


def test_R14_more_than_five_representatives_are_refused(bus: FakeBus, topology: Topology) -> None:
    with pytest.raises(DomainError) as info:
        register(bus, "150404", channel="VISIT", collective_size=30, representatives=6)
    assert info.value.code == "XF-R14-REPRESENTATIVES"
    assert register(bus, "150404", channel="VISIT", collective_size=30, representatives=5)
    # 浙江: at most 3 representatives when 10 people or fewer
    ctx = Context(
        "150404",
        topology,
        bus.clock(),
        lambda: "e",
        rules=load_ruleset("33"),
        calendar=load_calendar("15"),
    )
    file = case_file(
        {**PETITION, "channel": "VISIT", "collective_size": 8, "representatives": 4}, bus.clock()
    )
    with pytest.raises(DomainError) as info:
        decide_register(ctx, None, RegisterPetition("150404.xfj", "c", "q", file))
    assert info.value.code == "XF-R14-REPRESENTATIVES"


def test_R15_urgent_item_is_reported_up_at_once(bus: FakeBus) -> None:
    case_id = register(bus, "150404", urgent=True, collective_size=60)
    assert types(bus, "150404", case_id) == ["PetitionRegistered", "UrgentReported"]
    assert types(bus, "150400", case_id) == ["PetitionRegistered", "UrgentReported"]
    [(_, event)] = [
        x for x in bus.nodes["150400"].history(case_id) if x[1].type == "UrgentReported"
    ]
    assert "赤峰市信访局" in event.reported_to and "国家信访局" in event.reported_to  # type: ignore[attr-defined]


# -- R16 supervision answers
def test_R16_only_the_supervised_body_answers_once(bus: FakeBus) -> None:
    case_id = register(bus)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    bus.run(
        "150400",
        case_id,
        "supervise",
        {"actor": "150400.xfj", "to_body": "150404.zj", "reasons": "请加快"},
    )
    [s] = bus.nodes["150404"].case(case_id).supervisions
    refused(
        "XF-NOT-HOLDER",
        bus,
        "150404",
        case_id,
        "answer-supervision",
        {"actor": "150404.rs", "supervision_id": s.supervision_id, "answer": "x"},
    )
    bus.run(
        "150404",
        case_id,
        "answer-supervision",
        {
            "actor": "150404.zj",
            "supervision_id": s.supervision_id,
            "answer": "已受理",
            "adopted": True,
        },
    )
    refused(
        "XF-ILLEGAL-TRANSITION",
        bus,
        "150404",
        case_id,
        "answer-supervision",
        {"actor": "150404.zj", "supervision_id": s.supervision_id, "answer": "again"},
    )


# -- R17 confidentiality
@pytest.mark.rule("R17")
def test_R17_accusation_goes_to_the_city_discipline_commission_never_to_songshan(
    bus: FakeBus,
) -> None:
    case_id = register(
        bus,
        category="ACCUSATION",
        title="反映松山区自然资源局某科长索要好处费",
        accused="松山区自然资源局某科长",
        accused_body="150404.zrzy",
    )
    refused(
        "XF-R17-ACCUSED-EXCLUDED",
        bus,
        "150400",
        case_id,
        "transfer",
        {"actor": "150400.xfj", "to_body": "150404.jw"},
    )
    bus.run(
        "150400",
        case_id,
        "divert",
        {
            "actor": "150400.xfj",
            "route": "DISCIPLINE",
            "to_body": "150400.jw",
            "guidance": "已转市纪委监委",
        },
    )
    assert case(bus, "150000", case_id).holder == "150400.jw"
    with pytest.raises(CaseNotFound):
        bus.nodes["150404"].case(case_id)
    # a control transfer to 松山区 after the divert: the inbox read below provably holds records
    control = register(bus, petitioner={**PETITION["petitioner"], "name": "对照"})
    bus.run("150400", control, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    county_inbox = bus.published.get(bus.topics.inbox("150404"), [])
    assert any(control.encode() in record for record in county_inbox)
    assert [r for r in county_inbox if case_id.encode() in r] == []


# -- R18, R19: rule data (see test_rules.py); evaluation
def test_satisfaction_evaluation_reaches_both_evaluated_bodies(bus: FakeBus) -> None:
    case_id = handled(bus)
    bus.run(
        "150400",
        case_id,
        "evaluate",
        {
            "actor": "150400.xfj",
            "handling_rating": "BASICALLY_SATISFIED",
            "office_rating": "SATISFIED",
        },
    )
    for division in ("150404", "150400", "150000"):
        [evaluation] = bus.nodes[division].case(case_id).evaluations
        assert (evaluation.handling_body, evaluation.office) == ("150404.zj", "150400.xfj")


def test_R18_simplified_handling_of_first_time_simple_items(bus: FakeBus) -> None:
    case_id = register(bus)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    bus.run("150404", case_id, "accept", {"actor": "150404.zj", "simplified": True})
    county = bus.nodes["150404"].case(case_id)
    assert county.handling_due is not None
    assert (county.handling_due - bus.clock()).days <= 16  # 10 working days, not 60 days
    late = register(bus, request="请求公开补偿标准")
    bus.run("150400", late, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    bus.clock.advance(days=6)  # more than 3 working days after receipt
    refused(
        "XF-R18-NOT-SIMPLE",
        bus,
        "150404",
        late,
        "accept",
        {"actor": "150404.zj", "simplified": True},
    )
    repeat = register(bus, request="请求公开征收批复", repeat_of="150400-2025-000001")
    bus.run("150400", repeat, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    refused(
        "XF-R18-NOT-SIMPLE",
        bus,
        "150404",
        repeat,
        "accept",
        {"actor": "150404.zj", "simplified": True},
    )


def test_R19_shandong_review_request_taken_up_late_is_reported(topology: Topology) -> None:
    """R19 is a 山东 rule: with its rule set, recording a request after 3 working days is
    reported as a missed deadline at once (the 内蒙古 rule set has no such limit)."""
    calendar = load_calendar("15")
    ids = itertools.count()
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

    def ctx(division: str, now: datetime, rules: RuleSet) -> Context:
        return Context(
            division, topology, now, lambda: f"e{next(ids)}", rules=rules, calendar=calendar
        )

    for province, expect_missed in (("37", True), ("15", False)):
        rules = load_ruleset(province)
        file = case_file(PETITION, start)
        events = d.decide_register(
            ctx("150400", start, rules), None, c.RegisterPetition("150400.xfj", "k", "q", file)
        )
        events += d.decide_transfer(
            ctx("150400", start, rules), fold(events), c.TransferCase("150400.xfj", "150404.zj")
        )
        events += d.decide_accept(
            ctx("150404", start, rules), fold(events), c.AcceptCase("150404.zj")
        )
        events += d.decide_opinion(
            ctx("150404", start, rules),
            fold(events),
            c.IssueOpinion("150404.zj", Outcome.NOT_SUPPORTED, "意见"),
        )
        later = start + timedelta(days=8)
        new = d.decide_request_review(
            ctx("150400", later, rules),
            fold(events),
            c.RequestReview(
                "150400.zj", "不服", requested_at=start + timedelta(days=1),
                backdate_reason="请求书 3 月 3 日寄达，当日未录入",  # back-dated: say why (§11)
            ),
        )  # fmt: skip
        missed = [e for e in new if e.type == "DeadlineMissed"]
        assert bool(missed) is expect_missed
        if missed:
            assert missed[0].rule_id == "R19"  # type: ignore[attr-defined]

"""A missing holiday calendar never blocks the office (issue 10 items 8 and 9, DOMAIN.md §11).

Through the HTTP handlers (NodeApi.dispatch) of in-process nodes on a controllable clock, with
the holiday files in a copy of deploy/rules that the tests change as an operator would.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from xinfang.audit.compliance import ComplianceAuditor, Located, RuleBook
from xinfang.codec.wire import EventCodec
from xinfang.devtools.staff import signed_in
from xinfang.domain.calendar import BEIJING
from xinfang.domain.topology import Topology
from xinfang.rules_file import default_rules_dir

from .fakes import FakeBus
from .lifecycle import PETITION

NODES = ["150400", "150404"]

# An official 2028 schedule as the State Council might publish it (test data, not the real
# notice): 春节 01-25 to 02-01 with the weekends 01-22 and 02-05 worked.
OFFICIAL_2028 = """\
region: CN
year: 2028
source: test schedule
holidays:
  - {name: 元旦, from: 2028-01-01, to: 2028-01-03}
  - {name: 春节, from: 2028-01-25, to: 2028-02-01}
working_days:
  - {date: 2028-01-22, for: 春节}
  - {date: 2028-02-05, for: 春节}
"""

# 2027 as if its official schedule had been installed (for the warning about 2028).
OFFICIAL_2027 = """\
region: CN
year: 2027
source: test schedule
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
working_days: []
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    assert not (target / "holidays" / "CN-2028.yaml").exists()
    return target


@pytest.fixture
def bus(topology: Topology, tmp_path: Path, rules: Path) -> Iterator[FakeBus]:
    world = FakeBus(topology, NODES, tmp_path, rules_dir=rules)
    yield world
    world.close()


def at(bus: FakeBus, y: int, m: int, d: int, hh: int = 10) -> None:
    bus.clock.now = datetime(y, m, d, hh, tzinfo=BEIJING)


def call(bus: FakeBus, division: str, method: str, path: str, body: Any = None) -> Any:
    status, answer = signed_in(bus.nodes[division]).dispatch(method, path, body)
    assert status < 300, (status, answer)
    bus.settle()
    return answer


def register(bus: FakeBus) -> str:
    answer = call(bus, "150400", "POST", "/api/cases", dict(PETITION))
    return str(answer["case_id"])


def accepted(bus: FakeBus) -> str:
    case_id = register(bus)
    call(bus, "150400", "POST", f"/api/cases/{case_id}/transfer",
         {"actor": "150400.xfj", "to_body": "150404.zj"})  # fmt: skip
    call(bus, "150404", "POST", f"/api/cases/{case_id}/accept", {"actor": "150404.zj"})
    return case_id


def next_check(bus: FakeBus, division: str, case_id: str) -> str:
    rows = call(bus, division, "GET", "/api/cases")["cases"]
    return str(next(r for r in rows if r["case_id"] == case_id)["next_check_at"])


def sweep_all(bus: FakeBus) -> int:
    return sum(call(bus, d, "POST", "/admin/sweep")["recorded"] for d in NODES)


# -- item 8: never blocked ------------------------------------------------------------------
def test_accept_at_2027_11_05_without_a_2028_file_gives_a_provisional_deadline(
    bus: FakeBus,
) -> None:
    at(bus, 2027, 11, 5)
    case_id = accepted(bus)  # was 503 XF-CALENDAR-MISSING
    case = call(bus, "150404", "GET", f"/api/cases/{case_id}")
    # 2027-11-05 + 60 = Tue 2028-01-04 (元旦 Sat 01-01 is made up on Mon 01-03).
    assert case["handling_due"] == "2028-01-04T15:59:59.999000+00:00"
    # The transfer's deadlines lie in 2027, whose shipped file is provisional too.
    assert case["provisional_deadlines"] == ["acceptance_due", "objection_due", "handling_due"]
    timeline = call(bus, "150404", "GET", f"/api/cases/{case_id}/timeline")["timeline"]
    accept = next(e for e in timeline if e["type"] == "CaseAccepted")
    assert accept["provisional"] is True and "暂定期限" in accept["summary_zh"]
    assert next_check(bus, "150404", case_id) == "2028-01-04T15:59:59.999000+00:00"


def test_register_at_2027_12_20_without_a_2028_file_is_201(bus: FakeBus) -> None:
    at(bus, 2027, 12, 20)
    status, answer = signed_in(bus.nodes["150400"]).dispatch("POST", "/api/cases", dict(PETITION))
    assert status == 201, answer  # was 503 XF-CALENDAR-MISSING
    case = call(bus, "150400", "GET", f"/api/cases/{answer['case_id']}")
    assert case["provisional_deadlines"] == ["route_due"]
    # R1: 2027-12-20 + 15 = Tue 2028-01-04.
    assert next_check(bus, "150400", answer["case_id"]) == "2028-01-04T15:59:59.999000+00:00"


# -- item 8: warned from 1 October ----------------------------------------------------------
def test_health_warns_from_1_october_of_the_year_before_a_missing_year(
    bus: FakeBus, rules: Path
) -> None:
    at(bus, 2026, 9, 30, 23)
    assert call(bus, "150400", "GET", "/health")["calendar"]["status"] == "ok"
    at(bus, 2026, 10, 1, 0)
    calendar = call(bus, "150400", "GET", "/health")["calendar"]
    assert calendar["status"] == "warning"
    assert calendar["missing_years"] == [2027]  # the shipped 2027 file is provisional
    assert calendar["provisional_years"] == [2027]
    assert "2027" in calendar["message_zh"] and "2027" in calendar["message_en"]

    (rules / "holidays" / "CN-2027.yaml").write_text(OFFICIAL_2027, encoding="utf-8")
    sweep_all(bus)  # the node re-reads the holiday files
    at(bus, 2027, 9, 30, 23)
    assert call(bus, "150400", "GET", "/health")["calendar"]["status"] == "ok"
    at(bus, 2027, 10, 1, 0)
    calendar = call(bus, "150400", "GET", "/health")["calendar"]
    assert (calendar["status"], calendar["missing_years"]) == ("warning", [2028])


# -- item 8: re-derived when the official schedule is installed ----------------------------
def test_official_schedule_installed_re_derives_open_deadlines(bus: FakeBus, rules: Path) -> None:
    at(bus, 2027, 11, 26)
    case_id = accepted(bus)
    # 2027-11-26 + 60 = Tue 2028-01-25, 除夕: provisionally the period runs past 春节
    # (01-25..28) and the weekend to Mon 01-31.
    provisional = "2028-01-31T15:59:59.999000+00:00"
    for division in NODES:
        case = call(bus, division, "GET", f"/api/cases/{case_id}")
        assert case["handling_due"] == provisional
        assert "handling_due" in case["provisional_deadlines"]
    assert next_check(bus, "150404", case_id) == provisional

    (rules / "holidays" / "CN-2028.yaml").write_text(OFFICIAL_2028, encoding="utf-8")
    sweep_all(bus)
    official = "2028-02-02T15:59:59.999000+00:00"  # 春节 off to 02-01: Wed 02-02
    for division in NODES:
        case = call(bus, division, "GET", f"/api/cases/{case_id}")
        assert case["handling_due"] == official, division
        assert "handling_due" not in case["provisional_deadlines"]
    assert next_check(bus, "150404", case_id) == official

    at(bus, 2028, 2, 1, 12)  # past the provisional deadline, before the official one
    assert sweep_all(bus) == 0
    at(bus, 2028, 2, 3, 9)
    assert sweep_all(bus) > 0
    timeline = call(bus, "150404", "GET", f"/api/cases/{case_id}/timeline")["timeline"]
    missed = [e for e in timeline if e["type"] == "DeadlineMissed"]
    assert len(missed) == 1 and "2028-02-02" in missed[0]["summary_zh"]


# -- item 9: the provisional 2027 file --------------------------------------------------------
def test_five_working_days_from_2027_09_29_end_2027_10_11(bus: FakeBus) -> None:
    # R4: the receiving body may object within 5 working days of the transfer. 09-30 (1),
    # 10-01..03 国庆节, 10-04 and 10-05 补假 (Art. 6), 10-06 (2), 07 (3), 08 (4), 11 (5).
    at(bus, 2027, 9, 29)
    case_id = register(bus)
    call(bus, "150400", "POST", f"/api/cases/{case_id}/transfer",
         {"actor": "150400.xfj", "to_body": "150404.zj"})  # fmt: skip
    at(bus, 2027, 10, 12, 9)
    objection = {"actor": "150404.zj", "reasons": "不属于本单位职权"}
    status, answer = signed_in(bus.nodes["150404"]).dispatch(
        "POST", f"/api/cases/{case_id}/object", objection
    )
    assert (status, answer["code"]) == (409, "XF-R4-OBJECTION-LATE"), answer
    assert "2027-10-11" in answer["message_zh"]
    at(bus, 2027, 10, 11, 23)
    events = call(bus, "150404", "POST", f"/api/cases/{case_id}/object", objection)["events"]
    assert [e["type"] for e in events] == ["TransferObjected"]


def test_the_audit_judges_a_re_derived_deadline_by_the_official_schedule(
    bus: FakeBus, rules: Path, topology: Topology
) -> None:
    # The opinion on 2028-02-01 is after the provisional handling deadline (01-31) but within
    # the official one (02-02): on time for the nodes, and for the audit of their logs.
    at(bus, 2027, 11, 26)
    case_id = accepted(bus)
    (rules / "holidays" / "CN-2028.yaml").write_text(OFFICIAL_2028, encoding="utf-8")
    sweep_all(bus)
    at(bus, 2028, 2, 1, 12)
    call(bus, "150404", "POST", f"/api/cases/{case_id}/opinion",
         {"actor": "150404.zj", "outcome": "SUPPORTED", "opinion": "经调查属实"})  # fmt: skip

    checker = ComplianceAuditor(topology, RuleBook(str(rules)))
    for division in NODES:
        topic = bus.topics.log(division)
        for offset, value in enumerate(bus.published.get(topic, [])):
            event = EventCodec().decode(value).event
            checker.add(Located(event, division, event.header.seq, topic, 0, offset))
    report = checker.run(now=bus.clock())
    [handling] = [o for o in report.cases[0].obligations if o.rule_id == "R5"]
    assert handling.due.isoformat() == "2028-02-02T15:59:59.999000+00:00"
    assert handling.status == "on_time"
    assert not [f for f in report.findings if f.rule_id == "R5"], report.findings


def test_the_node_logs_the_warning_once_per_change_of_the_missing_years(
    bus: FakeBus, caplog: pytest.LogCaptureFixture
) -> None:
    node = bus.nodes["150400"]
    at(bus, 2026, 9, 30)
    with caplog.at_level(logging.WARNING, logger="xinfang.node.service"):
        node.sweep_deadlines()
        assert not caplog.records
        at(bus, 2026, 10, 1)
        node.sweep_deadlines()
        node.sweep_deadlines()
    [record] = caplog.records
    assert record.getMessage().startswith("缺少 2027 年国务院节假日安排")


def test_report_extension_and_supervision_deadlines_are_re_derived_too(
    bus: FakeBus, rules: Path
) -> None:
    # Each counted to Tue 2028-01-25 (除夕): provisionally Mon 01-31, officially Wed 02-02.
    at(bus, 2027, 11, 5)
    case_id = register(bus)
    call(bus, "150400", "POST", f"/api/cases/{case_id}/assign",
         {"actor": "150400.xfj", "to_body": "150404.zj", "report_within_days": 81})  # fmt: skip
    call(bus, "150404", "POST", f"/api/cases/{case_id}/accept", {"actor": "150404.zj"})
    extend = {"actor": "150404.zj", "days": 21, "approved_by": "局长", "reasons": "需补充调查"}
    call(bus, "150404", "POST", f"/api/cases/{case_id}/extend", extend)
    at(bus, 2027, 12, 26)
    call(bus, "150400", "POST", f"/api/cases/{case_id}/supervise",
         {"actor": "150400.xfj", "to_body": "150404.zj", "reasons": "请加快办理",
          "obligation": "HANDLING"})  # fmt: skip
    provisional, official = "2028-01-31T15:59:59.999000+00:00", "2028-02-02T15:59:59.999000+00:00"
    for division in NODES:
        case = call(bus, division, "GET", f"/api/cases/{case_id}")
        assert case["handling_due"] == provisional
        assert [s["answer_due"] for s in case["supervisions"]] == [provisional]
        assert {"report_due", "handling_due"} <= set(case["provisional_deadlines"])
    assert next_check(bus, "150404", case_id) == provisional

    (rules / "holidays" / "CN-2028.yaml").write_text(OFFICIAL_2028, encoding="utf-8")
    sweep_all(bus)
    for division in NODES:
        case = call(bus, division, "GET", f"/api/cases/{case_id}")
        assert case["handling_due"] == official, division
        assert [s["answer_due"] for s in case["supervisions"]] == [official]
        assert [s["answer_due_provisional"] for s in case["supervisions"]] == [False]
        assert not {"report_due", "handling_due"} & set(case["provisional_deadlines"])
    assert next_check(bus, "150404", case_id) == official  # R5, R6 and R16 alike

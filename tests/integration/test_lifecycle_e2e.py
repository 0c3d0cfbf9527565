"""Issue 3's cross-level scenarios over the real broker, three node processes, one shared clock.

(a) 转送 → 受理 → 处理意见 → 复查 at the city → 复核 at the province → final;
    a further request refused;
(c) misrouted transfer → objection within 5 working days → return → routed again;
(d) an accusation against a 松山区 official goes to the 赤峰市 discipline commission,
    never to 松山区;
(e) a satisfaction evaluation reaches both evaluated bodies;
(b) 交办 with a deadline → deadline missed → supervision → answer → 办结报告
    (last, because it moves the shared clock).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from xinfang.client import ApiError, NodeClient
from xinfang.devtools.broker import Broker
from xinfang.devtools.processes import NodeProcess, stop_all
from xinfang.devtools.scenario import PETITION, wait_for
from xinfang.node.clock_file import write_offset

from .absence import assert_absent

pytestmark = pytest.mark.integration
PROVINCE, CITY, COUNTY = "150000", "150400", "150404"


class Levels:
    def __init__(self, nodes: dict[str, NodeProcess], clock: Path, prefix: str) -> None:
        self.nodes = nodes
        self.clock = clock
        self.prefix = prefix

    def __getitem__(self, division: str) -> NodeClient:
        return self.nodes[division].client

    def case(self, division: str, case_id: str) -> dict[str, Any]:
        return dict(self[division].get(f"/api/cases/{case_id}"))

    def run(
        self, division: str, case_id: str, command: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(self[division].post(f"/api/cases/{case_id}/{command}", body))

    def until(self, division: str, case_id: str, check: Any, what: str) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            try:
                case = self.case(division, case_id)
            except ApiError as err:
                if err.status == 404:
                    return None
                raise
            return case if check(case) else None

        return dict(wait_for(probe, f"{division}: {what}", timeout=60))

    def register(self, **overrides: Any) -> str:
        body = {
            **PETITION,
            "petitioner": {**PETITION["petitioner"], "name": f"信访人{uuid.uuid4().hex[:6]}"},
        }
        body.update(overrides)
        return str(self[CITY].post("/api/cases", {"actor": "150400.xfj", **body})["case_id"])


@pytest.fixture(scope="module")
def levels(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Levels]:
    root = tmp_path_factory.mktemp("lifecycle")
    clock = root / "clock.json"
    write_offset(clock, timedelta(0))
    prefix = f"t{uuid.uuid4().hex[:10]}."
    nodes = {
        d: NodeProcess(
            d,
            kafka.bootstrap_servers,
            root / d,
            topic_prefix=prefix,
            clock_file=clock,
            sweep_interval_s=0.5,
        )
        for d in (PROVINCE, CITY, COUNTY)
    }
    try:
        for node in nodes.values():
            node.start()
        for node in nodes.values():
            node.wait_ready()
        yield Levels(nodes, clock, prefix)
    finally:
        stop_all(nodes.values())


def refused(code: str, call: Any) -> None:
    with pytest.raises(ApiError) as info:
        call()
    assert info.value.code == code
    assert 400 <= info.value.status < 500


def handled(levels: Levels, outcome: str = "NOT_SUPPORTED") -> str:
    case_id = levels.register()
    levels.run(CITY, case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    levels.until(COUNTY, case_id, lambda c: c["status"] == "TRANSFERRED", "收到转送")
    levels.run(COUNTY, case_id, "accept", {"actor": "150404.zj"})
    levels.run(
        COUNTY,
        case_id,
        "opinion",
        {"actor": "150404.zj", "outcome": outcome, "opinion": "经核查不予支持"},
    )
    return case_id


@pytest.mark.rule("R7")
def test_a_review_at_city_re_review_at_province_then_final_R7_R8_R9_R10_R11(levels: Levels) -> None:
    case_id = handled(levels)
    levels.until(CITY, case_id, lambda c: c["status"] == "OPINION_ISSUED", "处理意见")
    refused(
        "XF-WRONG-REVIEWER",
        lambda: levels.run(
            CITY, case_id, "review-request", {"actor": "150400.rs", "reasons": "不服"}
        ),
    )
    levels.run(CITY, case_id, "review-request", {"actor": "150400.zj", "reasons": "不服处理意见"})
    levels.run(
        CITY,
        case_id,
        "review-decide",
        {"actor": "150400.zj", "result": "UPHOLD", "opinion": "维持原意见"},
    )
    levels.until(PROVINCE, case_id, lambda c: c["status"] == "REVIEW_DECIDED", "复查意见")
    levels.run(
        PROVINCE, case_id, "re-review-request", {"actor": "150000.zj", "reasons": "不服复查意见"}
    )
    levels.run(
        PROVINCE,
        case_id,
        "re-review-decide",
        {"actor": "150000.zj", "result": "UPHOLD", "opinion": "维持"},
    )
    for division in (PROVINCE, CITY, COUNTY):
        final = levels.until(
            division, case_id, lambda c: c["final"] and c["status"] == "CLOSED", "终结"
        )
        assert final["closed_reason"] == "RE_REVIEW_SERVED"
    refused(
        "XF-R11-FINAL",
        lambda: levels.run(
            PROVINCE, case_id, "re-review-request", {"actor": "150000.zj", "reasons": "再次请求"}
        ),
    )


def test_c_misrouted_transfer_objection_return_and_reroute_R4(levels: Levels) -> None:
    case_id = levels.register()
    levels.run(CITY, case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.rs"})
    levels.until(COUNTY, case_id, lambda c: c["holder"] == "150404.rs", "误转到人社局")
    levels.run(
        COUNTY, case_id, "object", {"actor": "150404.rs", "reasons": "供暖问题属住建部门职责"}
    )
    levels.until(CITY, case_id, lambda c: c["status"] == "OBJECTED", "收到异议")
    levels.run(CITY, case_id, "return", {"actor": "150400.xfj", "note": "同意退回"})
    levels.run(CITY, case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    levels.until(
        COUNTY,
        case_id,
        lambda c: c["holder"] == "150404.zj" and c["status"] == "TRANSFERRED",
        "重新转送",
    )
    levels.until(PROVINCE, case_id, lambda c: c["holder"] == "150404.zj", "省级看到重新转送")


@pytest.mark.rule("R17")
def test_d_accusation_goes_to_city_discipline_commission_never_to_songshan_R17(
    levels: Levels, kafka: Broker
) -> None:
    case_id = levels.register(
        category="ACCUSATION",
        title="反映松山区自然资源局某科长索要好处费",
        request="请求查处",
        accused="松山区自然资源局某科长",
        accused_body="150404.zrzy",
    )
    refused(
        "XF-R17-ACCUSED-EXCLUDED",
        lambda: levels.run(
            CITY, case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zrzy"}
        ),
    )
    levels.run(
        CITY,
        case_id,
        "divert",
        {
            "actor": "150400.xfj",
            "route": "DISCIPLINE",
            "to_body": "150400.jw",
            "guidance": "已移交赤峰市纪委监委",
        },
    )
    # R17 for reads (decision 025): only the routing office and the handling body read an
    # accusation — the province's staff may not, so the diversion is watched at the city, as
    # the discipline commission that now handles it
    handling = levels.nodes[CITY].client.acting("150400.jw")
    case = handling.get(f"/api/cases/{case_id}")
    assert case["holder"] == "150400.jw"
    refused("XF-CASE-NOT-FOUND", lambda: levels.case(PROVINCE, case_id))
    # A control: a genuine transfer to 松山区, decided after the accusation's events, so 赤峰市's
    # relay publishes it after them; once 松山区 has it, reading its inbox to the end covers
    # every record 赤峰市 could have sent it about the accusation.
    control = levels.register()
    levels.run(CITY, control, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    levels.until(COUNTY, control, lambda c: c["holder"] == "150404.zj", "对照事项到达松山区")
    refused("XF-CASE-NOT-FOUND", lambda: levels.case(COUNTY, case_id))
    county_inbox = f"{levels.prefix}xinfang.{COUNTY}.inbox"
    assert_absent(kafka.bootstrap_servers, county_inbox, absent=case_id, control=control)


def test_e_satisfaction_evaluation_reaches_both_evaluated_bodies(levels: Levels) -> None:
    case_id = handled(levels, outcome="SUPPORTED")
    levels.until(CITY, case_id, lambda c: c["handling_body"] == "150404.zj", "处理意见")
    levels.run(
        CITY,
        case_id,
        "evaluate",
        {
            "actor": "150400.xfj",
            "handling_rating": "SATISFIED",
            "office_rating": "BASICALLY_SATISFIED",
        },
    )
    for division in (COUNTY, CITY, PROVINCE):  # the handling body's node, the office's node, above
        case = levels.until(division, case_id, lambda c: bool(c["evaluations"]), "评价")
        assert case["evaluations"] == [
            {
                "handling_body": "150404.zj",
                "handling_rating": "SATISFIED",
                "office": "150400.xfj",
                "office_rating": "BASICALLY_SATISFIED",
            }
        ]


@pytest.mark.rule("R6")
def test_b_assignment_deadline_missed_supervision_answer_completion_R6_R16(levels: Levels) -> None:
    case_id = levels.register()
    levels.run(
        CITY,
        case_id,
        "assign",
        {"actor": "150400.xfj", "to_body": "150404.zj", "report_within_days": 20},
    )
    levels.until(COUNTY, case_id, lambda c: c["status"] == "ASSIGNED", "收到交办")
    levels.run(COUNTY, case_id, "accept", {"actor": "150404.zj"})
    write_offset(levels.clock, timedelta(days=23))  # the report deadline passes
    city = levels.until(CITY, case_id, lambda c: bool(c["supervisions"]), "督办")
    [supervision] = city["supervisions"]
    assert (
        supervision["by"],
        supervision["to_body"],
        supervision["level"],
        supervision["obligation"],
    ) == ("150400.xfj", "150404.zj", "REMINDER", "ASSIGNMENT_REPORT")
    levels.until(COUNTY, case_id, lambda c: bool(c["supervisions"]), "县级收到督办")
    levels.run(
        COUNTY,
        case_id,
        "answer-supervision",
        {
            "actor": "150404.zj",
            "supervision_id": supervision["supervision_id"],
            "answer": "已组织专班办理",
            "adopted": True,
        },
    )
    levels.run(
        COUNTY,
        case_id,
        "opinion",
        {"actor": "150404.zj", "outcome": "SUPPORTED", "opinion": "补发"},
    )
    levels.run(COUNTY, case_id, "complete", {"actor": "150404.zj", "summary": "补偿款已补发到位"})
    for division in (CITY, PROVINCE):
        done = levels.until(division, case_id, lambda c: c["completion_reported"], "办结报告")
        assert done["supervisions"] and all(s["answered"] for s in done["supervisions"])
    timeline = levels[PROVINCE].get(f"/api/cases/{case_id}/timeline")["timeline"]
    kinds = [e["type"] for e in timeline]
    for expected in (
        "CaseAssigned",
        "DeadlineMissed",
        "SupervisionIssued",
        "SupervisionAnswered",
        "CompletionReported",
    ):
        assert expected in kinds

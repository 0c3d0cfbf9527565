"""Every obligation a missed deadline can name, driven through the HTTP API of real services.

For each obligation the deadline watcher records, a case is driven to it with the API's own
requests, the clock moves past the deadline and `POST /admin/sweep` runs the watcher: it must
answer 200 and record `DeadlineMissed` with that obligation, and every node the record reaches
must apply it. R19 (山东: take up a 复查/复核 request within 3 working days) is discharged by
recording the request, so a late recording reports it at once; it runs at a 山东 topology
(tests/data/topology/shandong.yaml, whose codes select deploy/rules/provinces/37.yaml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xinfang.audit.compliance import ComplianceAuditor, Located
from xinfang.audit.report import obligation_json
from xinfang.codec.wire import EventCodec
from xinfang.devtools.staff import signed_in
from xinfang.domain.deadlines import Obligation
from xinfang.domain.events import DeadlineMissed, EventHeader
from xinfang.domain.obligations import Reporting, reporting
from xinfang.domain.topology import Topology
from xinfang.topology_file import load_topology

from .fakes import FakeBus
from .lifecycle import PETITION

SHANDONG_TOPOLOGY = Path(__file__).parent.parent / "data" / "topology" / "shandong.yaml"


class Http:
    """The nodes of a bus, each behind its framework-free HTTP handler; the bus delivers
    whatever a request recorded before the next request."""

    def __init__(self, bus: FakeBus) -> None:
        self.bus = bus
        self.apis = {division: signed_in(node) for division, node in bus.nodes.items()}

    def call(self, division: str, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.apis[division].dispatch(method, path, body)
        assert status < 300, (status, answer)
        self.bus.settle()
        return answer

    def register(self, division: str, **overrides: Any) -> str:
        answer = self.call(division, "POST", "/api/cases", {**PETITION, **overrides})
        return str(answer["case_id"])

    def run(self, division: str, case_id: str, command: str, body: dict[str, Any]) -> Any:
        return self.call(division, "POST", f"/api/cases/{case_id}/{command}", body)

    def sweep(self, division: str) -> int:
        status, answer = self.apis[division].dispatch("POST", "/admin/sweep", None)
        assert status == 200, answer
        self.bus.settle()
        return int(answer["recorded"])

    def missed(self, division: str, case_id: str) -> list[dict[str, Any]]:
        """The DeadlineMissed entries of the case's timeline at `division`, as the API shows
        them (the node applied them: a copy it could not apply is not in its timeline)."""
        answer = self.call(division, "GET", f"/api/cases/{case_id}/timeline")
        return [e for e in answer["timeline"] if e["type"] == DeadlineMissed.TYPE]

    def later(self, days: int) -> None:
        self.bus.clock.advance(days=days)


# -- the deadline watcher: one scenario per obligation it records (chifeng.yaml) -----------------
NODES = ["150000", "150400", "150404"]
Scenario = Callable[[Http], tuple[str, str, int]]  # -> (case id, owing body, days to move)


def _routed(http: Http, command: str = "transfer", **extra: Any) -> str:
    case_id = http.register("150400")
    http.run("150400", case_id, command, {"actor": "150400.xfj", "to_body": "150404.zj", **extra})
    return case_id


def _handled(http: Http) -> str:
    case_id = _routed(http)
    http.run("150404", case_id, "accept", {"actor": "150404.zj"})
    http.run(
        "150404",
        case_id,
        "opinion",
        {"actor": "150404.zj", "outcome": "NOT_SUPPORTED", "opinion": "经核查，补偿已按标准发放"},
    )
    return case_id


def _route(http: Http) -> tuple[str, str, int]:
    return http.register("150400"), "150400.xfj", 17  # R1: 15 days


def _acceptance_notice(http: Http) -> tuple[str, str, int]:
    return _routed(http), "150404.zj", 20  # R3: 15 days


def _handling(http: Http) -> tuple[str, str, int]:
    case_id = _routed(http)
    http.run("150404", case_id, "accept", {"actor": "150404.zj"})
    return case_id, "150404.zj", 65  # R5: 60 days


def _assignment_report(http: Http) -> tuple[str, str, int]:
    case_id = _routed(http, "assign", report_within_days=20)
    http.run("150404", case_id, "accept", {"actor": "150404.zj"})
    http.run(
        "150404",
        case_id,
        "opinion",
        {"actor": "150404.zj", "outcome": "SUPPORTED", "opinion": "予以支持，补足差额"},
    )
    return case_id, "150404.zj", 25  # R6: as the assigning office set it, 20 days


def _review_decision(http: Http) -> tuple[str, str, int]:
    case_id = _handled(http)
    http.run("150400", case_id, "review-request", {"actor": "150400.zj", "reasons": "不服"})
    return case_id, "150400.zj", 35  # R8: 30 days


def _re_review_decision(http: Http) -> tuple[str, str, int]:
    case_id = _handled(http)
    http.run("150400", case_id, "review-request", {"actor": "150400.zj", "reasons": "不服"})
    http.run(
        "150400",
        case_id,
        "review-decide",
        {"actor": "150400.zj", "result": "UPHOLD", "opinion": "维持原处理意见"},
    )
    http.run("150000", case_id, "re-review-request", {"actor": "150000.zj", "reasons": "仍不服"})
    return case_id, "150000.zj", 35  # R10: 30 days


def _supervision_answer(http: Http) -> tuple[str, str, int]:
    case_id = _routed(http)
    http.run(
        "150400",
        case_id,
        "supervise",
        {
            "actor": "150400.xfj",
            "to_body": "150404.zj",
            "obligation": "ACCEPTANCE_NOTICE",
            "reasons": "请抓紧决定是否受理",
        },
    )
    return case_id, "150404.zj", 32  # R16: 30 days


SCENARIOS: dict[Obligation, Scenario] = {
    Obligation.ROUTE: _route,
    Obligation.ACCEPTANCE_NOTICE: _acceptance_notice,
    Obligation.HANDLING: _handling,
    Obligation.ASSIGNMENT_REPORT: _assignment_report,
    Obligation.REVIEW_DECISION: _review_decision,
    Obligation.RE_REVIEW_DECISION: _re_review_decision,
    Obligation.SUPERVISION_ANSWER: _supervision_answer,
}


@pytest.fixture
def http(topology: Topology, tmp_path: Path) -> Iterator[Http]:
    bus = FakeBus(topology, NODES, tmp_path)
    yield Http(bus)
    bus.close()


def test_every_obligation_the_watcher_records_has_a_scenario() -> None:
    watched = {o for o in Obligation if reporting(o) is Reporting.WATCHER}
    assert set(SCENARIOS) == watched
    assert {o for o in Obligation if reporting(o) is Reporting.ON_RECORDING} == {
        Obligation.REVIEW_TAKE_UP,
        Obligation.RE_REVIEW_TAKE_UP,
    }  # R19, tested below at a 山东 topology


@pytest.mark.parametrize("obligation", list(SCENARIOS), ids=str)
def test_missed_deadline_is_recorded_through_the_sweep_and_applied_everywhere(
    http: Http, obligation: Obligation
) -> None:
    case_id, body, days = SCENARIOS[obligation](http)
    division = body.split(".", 1)[0]
    assert http.sweep(division) == 0  # nothing due yet
    http.later(days)
    assert http.sweep(division) >= 1
    [entry] = [e for e in http.missed(division, case_id) if e["obligation"] == obligation.value]
    assert entry["actor"] == body
    assert (entry["rule"], entry["obligation_zh"], entry["obligation_en"]) == (
        obligation.rule_id,
        obligation.zh,
        obligation.en,
    )
    assert entry["summary_zh"].endswith(f"前履行「{obligation.zh}」({obligation.rule_id})")
    # Every other node the record reached (the parent, and the divisions below that take
    # part) applied it: it is in the case's timeline there.
    for other in NODES:
        if other != division and case_id in _known(http, other):
            assert entry["event_id"] in {e["event_id"] for e in http.missed(other, case_id)}
    assert http.sweep(division) == 0  # reported once


def _known(http: Http, division: str) -> set[str]:
    return {row["case_id"] for row in http.call(division, "GET", "/api/cases")["cases"]}


def test_supervision_names_an_obligation_of_the_model(http: Http) -> None:
    case_id = _routed(http)
    body = {"actor": "150400.xfj", "to_body": "150404.zj", "reasons": "请抓紧办理"}
    status, answer = http.apis["150400"].dispatch(
        "POST", f"/api/cases/{case_id}/supervise", {**body, "obligation": "FEED_THE_CAT"}
    )
    assert (status, answer["code"]) == (422, "XF-INVALID-INPUT")
    assert "obligation" in answer["message_zh"] and "ROUTE" in answer["message_en"]
    assert http.call("150400", "GET", f"/api/cases/{case_id}")["supervisions"] == []
    answer = http.run("150400", case_id, "supervise", {**body, "obligation": "HANDLING"})
    [supervision] = answer["case"]["supervisions"]
    assert (supervision["obligation"], supervision["obligation_zh"]) == ("HANDLING", "办结")


def test_an_unknown_obligation_on_the_wire_is_dead_lettered(
    topology: Topology, tmp_path: Path
) -> None:
    """The wire type stays an Avro string: a record naming an obligation this node does not
    know is set aside with its reason, not applied and not a crash."""
    bus = FakeBus(topology, NODES, tmp_path)
    try:
        http = Http(bus)
        case_id = _routed(http)
        header = EventHeader("e-unknown", case_id, "150404", "150404.zj", bus.clock())
        record = DeadlineMissed(
            header=header,
            obligation="FEED_THE_CAT",  # type: ignore[arg-type]
            rule_id="R99",
            body="150404.zj",
            due=bus.clock(),
        )
        data = EventCodec().encode(record)
        assert bus.nodes["150400"].receive(data, []).value == "dead_lettered"
        rows = bus.nodes["150400"].store.outbox.pending()
        reasons = [dict(r.headers).get("xinfang_dlq_reason") for r in rows]
        assert b"invalid-content" in reasons
        assert http.missed("150400", case_id) == []
    finally:
        bus.close()


# -- R19 at a 山东 node: the take-up is recorded late ----------------------------------------
SD = ["370000", "370100", "370102"]


@pytest.fixture
def shandong(tmp_path: Path) -> Iterator[Http]:
    bus = FakeBus(load_topology(SHANDONG_TOPOLOGY), SD, tmp_path)
    yield Http(bus)
    bus.close()


def _sd_handled(http: Http) -> tuple[str, datetime]:
    """登记 at 济南市 → 转送 历下区住建局 → 受理 → 不予支持 (served now); (case id, served at)."""
    case_id = http.register("370100", place="370102")
    http.run("370100", case_id, "transfer", {"actor": "370100.xfj", "to_body": "370102.zj"})
    http.run("370102", case_id, "accept", {"actor": "370102.zj"})
    http.run(
        "370102",
        case_id,
        "opinion",
        {"actor": "370102.zj", "outcome": "NOT_SUPPORTED", "opinion": "经核查，补偿已按标准发放"},
    )
    return case_id, http.bus.clock()


def _late_take_up(
    http: Http, case_id: str, division: str, command: str, reviewer: str, obligation: Obligation
) -> dict[str, Any]:
    """A request received a day after service, recorded (taken up) a week later: more than
    3 working days. Answers 200; the late take-up is recorded, supervised, and applied by
    every node it reaches."""
    received = http.bus.clock() + timedelta(days=1)
    http.later(8)
    answer = http.run(
        division,
        case_id,
        command,
        {
            "actor": reviewer,
            "reasons": "不服",
            "requested_at": received.isoformat(),
            "backdate_reason": "信件邮寄在途，收到后补录",
        },
    )
    assert DeadlineMissed.TYPE in [e["type"] for e in answer["events"]]
    [entry] = [e for e in http.missed(division, case_id) if e["obligation"] == obligation.value]
    assert (entry["rule"], entry["actor"], entry["obligation_zh"]) == (
        "R19",
        reviewer,
        obligation.zh,
    )
    supervisions = answer["case"]["supervisions"]
    assert [(s["to_body"], s["obligation"]) for s in supervisions][-1:] == [
        (reviewer, obligation.value)
    ]
    for other in SD:
        if other != division and case_id in _known(http, other):
            assert entry["event_id"] in {e["event_id"] for e in http.missed(other, case_id)}
    assert http.sweep(division) == 0  # the take-up is done; nothing more to report
    return entry


@pytest.mark.rule("R19")
def test_R19_late_review_take_up_at_a_shandong_node_is_recorded_not_a_500(
    shandong: Http,
) -> None:
    case_id, _ = _sd_handled(shandong)
    entry = _late_take_up(
        shandong, case_id, "370100", "review-request", "370100.zj", Obligation.REVIEW_TAKE_UP
    )
    assert entry["division"] == "370100"
    assert len(shandong.missed("370000", case_id)) == 1  # the province applied its copy


@pytest.mark.rule("R19")
def test_R19_late_re_review_take_up_at_a_shandong_node_is_recorded(shandong: Http) -> None:
    case_id, _ = _sd_handled(shandong)
    shandong.run("370100", case_id, "review-request", {"actor": "370100.zj", "reasons": "不服"})
    shandong.run(
        "370100",
        case_id,
        "review-decide",
        {"actor": "370100.zj", "result": "UPHOLD", "opinion": "维持原处理意见"},
    )
    _late_take_up(
        shandong,
        case_id,
        "370000",
        "re-review-request",
        "370000.zj",
        Obligation.RE_REVIEW_TAKE_UP,
    )
    assert len(shandong.missed("370100", case_id)) == 1  # the copy sent down was applied


@pytest.mark.rule("R19")
def test_R19_take_up_in_time_records_nothing(shandong: Http) -> None:
    case_id, _ = _sd_handled(shandong)
    shandong.later(1)
    shandong.run("370100", case_id, "review-request", {"actor": "370100.zj", "reasons": "不服"})
    shandong.later(10)  # past 3 working days, within the 30-day review
    assert shandong.sweep("370100") == 0
    assert shandong.missed("370100", case_id) == []


@pytest.mark.rule("R19")
def test_R19_late_take_up_is_a_finding_of_the_audit_from_the_logs_alone(shandong: Http) -> None:
    case_id, _ = _sd_handled(shandong)
    _late_take_up(
        shandong, case_id, "370100", "review-request", "370100.zj", Obligation.REVIEW_TAKE_UP
    )
    bus = shandong.bus
    checker = ComplianceAuditor(bus.nodes["370000"].topology)
    codec = EventCodec()
    for division in SD:
        topic = bus.topics.log(division)
        for offset, value in enumerate(bus.published.get(topic, [])):
            event = codec.decode(value).event
            checker.add(Located(event, division, event.header.seq, topic, 0, offset))
    report = checker.run(now=bus.clock())
    [case] = report.cases
    assert case.error is None
    [take_up] = [o for o in case.obligations if o.obligation is Obligation.REVIEW_TAKE_UP]
    assert (take_up.rule_id, take_up.body, take_up.status) == ("R19", "370100.zj", "late")
    assert take_up.discharged_by == "ReviewRequested"
    assert obligation_json(take_up, report.now)["obligation_en"] == Obligation.REVIEW_TAKE_UP.en
    [finding] = [f for f in report.findings if f.rule_id == "R19"]
    assert (finding.code, finding.division) == ("deadline-late", "370100")
    assert "决定是否受理复查请求" in finding.zh and "REVIEW_TAKE_UP" in finding.en

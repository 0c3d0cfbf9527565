"""R17 when the accused unit is not named, and 督办 never addressed to the accused unit
(DOMAIN.md §11, issue 10 item 6), driven through the HTTP handlers of nodes on the
in-process bus; the deadline watcher and the audit follow the same rule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from xinfang.audit.compliance import ComplianceAuditor, ComplianceReport, Located
from xinfang.domain.events import SupervisionIssued
from xinfang.domain.topology import Topology

from .fakes import FakeBus
from .http_world import Http

ACCUSATION: dict[str, Any] = {
    "title": "反映松山区住房和城乡建设局某科长索要好处费",
    "channel": "LETTER",
    "category": "ACCUSATION",
    "petitioner": {"name": "王五", "address": "松山区某镇", "contact": "13600000000"},
    "request": "请求查处松山区住房和城乡建设局某科长索要好处费问题",
    "facts": "办理房屋手续时被索要好处费",
    "reasons": "违反廉洁纪律",
    "place": "150404",
    "accused": "松山区住房和城乡建设局某科长",
}


@pytest.fixture
def http(topology: Topology, tmp_path: Path) -> Iterator[Http]:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    yield Http(bus)
    bus.close()


def audit(http: Http, case_id: str, division: str = "150400") -> ComplianceReport:
    """The compliance report rebuilt from the case events as their source nodes logged them."""
    checker = ComplianceAuditor(http.bus.nodes[division].topology)
    for offset, (_, event) in enumerate(http.bus.nodes[division].history(case_id)):
        source = event.header.source
        topic = http.bus.topics.log(source)
        checker.add(Located(event, source, event.header.seq, topic, 0, offset))
    return checker.run(now=http.bus.clock())


@pytest.mark.rule("R17")
def test_R17_an_accusation_without_accused_body_goes_only_to_a_discipline_organ(
    http: Http,
) -> None:
    case_id = http.register("150400", ACCUSATION)  # accused_body omitted
    path = f"/api/cases/{case_id}"
    for command, to_body in [
        ("transfer", "150404.zj"),  # the example: the accused unit itself
        ("assign", "150404.zj"),
        ("transfer", "150404.jw"),  # a body of the (possibly accused) division below
        ("transfer", "150400.zj"),  # a department, not the discipline organ
    ]:
        body = {"actor": "150400.xfj", "to_body": to_body}
        assert http.refused("150400", f"{path}/{command}", body) == (
            409,
            "XF-R17-ACCUSED-UNKNOWN",
        ), to_body
    political = {"actor": "150400.xfj", "route": "POLITICAL_LEGAL", "to_body": "150400.zfw",
                 "guidance": "转政法委"}  # fmt: skip
    assert http.refused("150400", f"{path}/divert", political)[1] == "XF-R17-ACCUSED-UNKNOWN"
    assert http.get("150404", path)[0] == 404  # nothing reached 松山区
    assert http.get("150400", path)[1]["status"] == "REGISTERED"  # a refusal changed nothing
    http.command("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150400.jw"})
    assert http.get("150400", path)[1]["holder"] == "150400.jw"
    assert http.get("150404", path)[0] == 404


@pytest.mark.rule("R17")
def test_R17_supervision_of_an_accusation_is_never_addressed_to_the_accused_unit(
    http: Http,
) -> None:
    case_id = http.register("150400", {**ACCUSATION, "accused_body": "150404.zj"})
    http.command(
        "150400", case_id, "divert",
        {"actor": "150400.xfj", "route": "DISCIPLINE", "to_body": "150400.jw",
         "guidance": "已转市纪委监委"},
    )  # fmt: skip
    supervise = f"/api/cases/{case_id}/supervise"
    for to_body in ("150404.zj", "150404.xfj"):  # the accused unit, and its division
        body = {"actor": "150400.xfj", "to_body": to_body, "reasons": "请说明情况"}
        assert http.refused("150400", supervise, body) == (409, "XF-R17-ACCUSED-EXCLUDED")
    assert http.bus.nodes["150400"].case(case_id).supervisions == ()
    to_organ = {"actor": "150400.xfj", "to_body": "150400.jw", "reasons": "请加快"}
    http.ok("150400", supervise, to_organ)
    http.bus.clock.advance(days=40)
    assert http.post("150400", "/admin/sweep", {})[0] == 200
    report = audit(http, case_id)
    charged = {o.division for o in report.cases[0].obligations if o.status == "overdue"}
    assert charged == {"150400"}  # 市纪委监委 owes its answer; 松山区 owes nothing


@pytest.mark.rule("R17")
def test_R17_an_old_log_with_a_supervision_to_the_accused_charges_the_office_not_the_accused(
    http: Http,
) -> None:
    """Logs written before this rule may hold such a supervision: the audit reports the
    office that issued it and does not charge the accused division with the answer."""
    case_id = http.register("150400", {**ACCUSATION, "accused_body": "150404.zj"})
    http.command(
        "150400", case_id, "divert",
        {"actor": "150400.xfj", "route": "DISCIPLINE", "to_body": "150400.jw",
         "guidance": "已转市纪委监委"},
    )  # fmt: skip
    http.ok(
        "150400", f"/api/cases/{case_id}/supervise",
        {"actor": "150400.xfj", "to_body": "150400.jw", "reasons": "请加快"},
    )  # fmt: skip
    [(_, issued)] = [
        x for x in http.bus.nodes["150400"].history(case_id) if isinstance(x[1], SupervisionIssued)
    ]
    assert isinstance(issued, SupervisionIssued)
    legacy = replace(
        issued,
        header=replace(issued.header, event_id="legacy", seq=issued.header.seq + 1,
                       causation_id=issued.header.event_id),
        supervision_id=f"{case_id}/S9", to_body="150404.zj",
    )  # fmt: skip
    http.bus.clock.advance(days=40)
    checker = ComplianceAuditor(http.bus.nodes["150400"].topology)
    for offset, (_, event) in enumerate([*http.bus.nodes["150400"].history(case_id), (0, legacy)]):
        checker.add(Located(event, "150400", event.header.seq, "log", 0, offset))
    report = checker.run(now=http.bus.clock())
    assert [o.division for o in report.cases[0].obligations if o.status == "overdue"] == ["150400"]
    assert not any(f.division == "150404" for f in report.findings)
    assert ("R17", "supervision-to-accused", "150400") in {
        (f.rule_id, f.code, f.division) for f in report.findings
    }
    assert "150404" not in report.metrics or report.metrics["150404"].supervised == {}


@pytest.mark.rule("R17")
def test_R17_the_deadline_watcher_never_supervises_the_accused_unit(http: Http) -> None:
    """An accusation against 松山区住建局 registered by 松山区信访局 cannot be routed within
    松山区; its route deadline passes. The city's automatic 督办 would be addressed to the
    accused's division (never delivered, then charged as unanswered): it is not issued."""
    case_id = http.register("150404", {**ACCUSATION, "accused_body": "150404.zj"})
    http.bus.clock.advance(days=17)
    for division in ("150404", "150400", "150000"):
        assert http.post(division, "/admin/sweep", {})[0] == 200
    city = http.bus.nodes["150400"].case(case_id)
    assert [m.split("|")[:2] for m in city.missed] == [["ROUTE", "150404.xfj"]]
    assert city.supervisions == ()
    http.bus.clock.advance(days=40)
    report = audit(http, case_id)
    assert not any(o.obligation == "SUPERVISION_ANSWER" for o in report.cases[0].obligations)

"""Client-given times of acts are bounded by the clock and by the case's history, back-dating
needs a stated reason that is recorded, and service is recorded only by the issuing body
(DOMAIN.md §11, issue 10 item 4) — driven through the HTTP handlers of nodes on the
in-process bus."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xinfang.audit.compliance import ComplianceAuditor, Located
from xinfang.domain.topology import Topology
from xinfang.settings import NodeSettings

from .fakes import FakeBus
from .http_world import Http
from .lifecycle import PETITION


@pytest.fixture
def http(topology: Topology, tmp_path: Path) -> Iterator[Http]:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    yield Http(bus)
    bus.close()


def at(moment: datetime) -> str:
    return moment.isoformat()


def opinion_issued(http: Http, notice: Any = None) -> str:
    """赤峰市 registers and transfers; 松山区住建局 accepts and issues its opinion (不予支持)."""
    case_id = http.register("150400", PETITION)
    http.command("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    http.command("150404", case_id, "accept", {"actor": "150404.zj"})
    body: dict[str, Any] = {"actor": "150404.zj", "outcome": "NOT_SUPPORTED", "opinion": "已足额"}
    if notice is not None:
        body["notice"] = notice
    http.command("150404", case_id, "opinion", body)
    return case_id


def timeline(http: Http, division: str, case_id: str) -> list[dict[str, Any]]:
    status, answer = http.get(division, f"/api/cases/{case_id}/timeline")
    assert status == 200
    return list(answer["timeline"])


def status_of(http: Http, division: str, case_id: str) -> str:
    return str(http.get(division, f"/api/cases/{case_id}")[1]["status"])


# -- (a) a notice served before the opinion existed ------------------------------------------
@pytest.mark.rule("R7")
def test_service_before_the_opinion_existed_is_refused_and_the_case_does_not_lapse(
    http: Http,
) -> None:
    clock = http.bus.clock
    clock.advance(days=10)
    case_id = opinion_issued(http, notice=False)  # the opinion exists from now; not served yet
    early = {"served_at": at(clock() - timedelta(days=40)), "backdate_reason": "邮寄送达回执"}
    serve = {"actor": "150404.zj", "kind": "HANDLING_OPINION", "notice": early}
    assert http.refused("150404", f"/api/cases/{case_id}/serve", serve) == (
        422,
        "XF-TIME-BEFORE-PREDECESSOR",
    )
    assert http.post("150404", "/admin/sweep", {})[0] == 200
    assert status_of(http, "150404", case_id) == "OPINION_ISSUED"  # not WINDOW_LAPSED
    # the same back-dating inside the opinion command itself: refused, nothing recorded
    other = http.register("150400", {**PETITION, "request": "请求公开征地批复"})
    http.command("150400", other, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    http.command("150404", other, "accept", {"actor": "150404.zj"})
    opinion = {"actor": "150404.zj", "outcome": "NOT_SUPPORTED", "opinion": "已足额",
               "notice": early}  # fmt: skip
    assert http.refused("150404", f"/api/cases/{other}/opinion", opinion)[1] == (
        "XF-TIME-BEFORE-PREDECESSOR"
    )
    assert status_of(http, "150404", other) == "ACCEPTED"
    # the petitioner's 复查 is still open
    http.command("150400", case_id, "review-request", {"actor": "150400.zj", "reasons": "不服"})
    assert status_of(http, "150400", case_id) == "REVIEW_REQUESTED"


# -- (b) a late 复查 request back-dated into the window ---------------------------------------
@pytest.mark.rule("R7")
def test_a_review_request_back_dated_into_the_window_needs_a_reason_that_is_recorded(
    http: Http,
) -> None:
    case_id = opinion_issued(http)  # served now
    served = http.bus.clock()
    http.bus.clock.advance(days=40)
    path = f"/api/cases/{case_id}/review-request"
    request = {"actor": "150400.zj", "reasons": "不服"}
    assert http.refused("150400", path, request) == (409, "XF-WINDOW-CLOSED")
    back_dated = {**request, "requested_at": at(served + timedelta(days=5))}
    assert http.refused("150400", path, back_dated) == (422, "XF-TIME-BACKDATED")
    before_service = {**back_dated, "requested_at": at(served - timedelta(days=1)),
                      "backdate_reason": "补录"}  # fmt: skip
    assert http.refused("150400", path, before_service) == (422, "XF-TIME-BEFORE-PREDECESSOR")
    future = {**request, "requested_at": at(http.bus.clock() + timedelta(days=1))}
    assert http.refused("150400", path, future) == (422, "XF-TIME-IN-FUTURE")
    assert status_of(http, "150400", case_id) == "OPINION_ISSUED"
    reason = "请求书于送达后第 5 日寄达赤峰市住建局，漏录"
    http.command("150400", case_id, "review-request", {**back_dated, "backdate_reason": reason})
    [entry] = [e for e in timeline(http, "150400", case_id) if e["type"] == "ReviewRequested"]
    assert entry["backdate_reason"] == reason
    # the province, which learns of it by upward reporting, reads the same reason
    [upper] = [e for e in timeline(http, "150000", case_id) if e["type"] == "ReviewRequested"]
    assert upper["backdate_reason"] == reason
    # the audit still asks whether it was made in time, and shows the stated reason
    checker = ComplianceAuditor(http.bus.nodes["150400"].topology)
    for offset, (_, event) in enumerate(http.bus.nodes["150400"].history(case_id)):
        source = event.header.source
        checker.add(Located(event, source, event.header.seq, source, 0, offset))
    [late] = [f for f in checker.run(now=http.bus.clock()).findings if f.rule_id == "R7"]
    assert late.code == "request-after-window" and reason in late.zh


# -- (c) service recorded only by the issuing body --------------------------------------------
def test_only_the_issuing_body_records_the_service_of_its_document(http: Http) -> None:
    case_id = opinion_issued(http, notice=False)
    path = f"/api/cases/{case_id}/serve"
    for actor in ("150404.rs", "150404.xfj"):  # other bodies of the same division
        body = {"actor": actor, "kind": "HANDLING_OPINION"}
        assert http.refused("150404", path, body) == (403, "XF-NOT-ISSUER"), actor
    never_issued = {"actor": "150404.zj", "kind": "REVIEW_OPINION"}
    assert http.refused("150404", path, never_issued) == (409, "XF-ILLEGAL-TRANSITION")
    assert not [e for e in timeline(http, "150404", case_id) if e["type"] == "NoticeServed"][1:]
    http.command("150404", case_id, "serve", {"actor": "150404.zj", "kind": "HANDLING_OPINION"})
    served = [e for e in timeline(http, "150404", case_id) if e["type"] == "NoticeServed"]
    assert [e["actor"] for e in served] == ["150404.zj", "150404.zj"]  # acceptance, opinion


# -- registration: receipt time -------------------------------------------------------------
def test_receipt_time_is_bounded_by_the_clock_and_back_dating_is_recorded(http: Http) -> None:
    now = http.bus.clock()
    future = {**PETITION, "received_at": at(now + timedelta(hours=2))}
    assert http.refused("150400", "/api/cases", future) == (422, "XF-TIME-IN-FUTURE")
    letter = {**PETITION, "channel": "LETTER", "received_at": at(now - timedelta(days=3))}
    assert http.refused("150400", "/api/cases", letter) == (422, "XF-TIME-BACKDATED")
    assert http.get("150400", "/api/cases")[1]["cases"] == []  # refusals recorded nothing
    skew = {**PETITION, "received_at": at(now + timedelta(minutes=2))}  # a client clock ahead
    assert http.register("150400", skew)
    reason = "信件 3 日前寄达，登记员休假"
    case_id = http.register(
        "150400", {**letter, "request": "请求公开文件", "backdate_reason": reason}
    )
    [registered] = timeline(http, "150400", case_id)
    assert registered["backdate_reason"] == reason
    case = http.bus.nodes["150400"].case(case_id)
    assert case.registered_at == now - timedelta(days=3)  # R1 counts from the stated receipt


def test_the_tolerances_are_node_settings() -> None:
    settings = NodeSettings.from_env(
        {"XINFANG_DIVISION": "150404", "XINFANG_BACKDATE_TOLERANCE": "7200"}
    )
    assert (settings.backdate_tolerance_s, settings.future_tolerance_s) == (7200.0, 300.0)


def test_a_client_clock_a_little_behind_is_read_as_the_decision_time(http: Http) -> None:
    """A client that fills in its own clock for a notice served with the decision is a few
    seconds behind the node: within the skew tolerance that is the decision's time."""
    now = http.bus.clock()
    notice = {"served_at": at(now - timedelta(seconds=3)), "method": "IN_PERSON"}
    case_id = opinion_issued(http, notice=notice)
    case = http.bus.nodes["150404"].case(case_id)
    assert case.opinion_served_at == now
    assert status_of(http, "150404", case_id) == "OPINION_ISSUED"


def test_an_evaluation_is_recorded_by_the_handling_body_or_a_petition_office(
    http: Http,
) -> None:
    """The same kind as (c): an act is recorded by a body that takes part in it."""
    case_id = opinion_issued(http)
    ratings = {"handling_rating": "SATISFIED", "office_rating": "SATISFIED"}
    path = f"/api/cases/{case_id}/evaluate"
    assert http.refused("150404", path, {"actor": "150404.rs", **ratings}) == (
        403,
        "XF-NOT-HOLDER",
    )
    http.command("150404", case_id, "evaluate", {"actor": "150404.zj", **ratings})
    assert len(http.bus.nodes["150400"].case(case_id).evaluations) == 1

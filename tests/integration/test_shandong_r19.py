"""R19 over the real broker: a late 复查 take-up at a 山东 node (issue 10, item 1).

Three node processes of the 山东 test topology (tests/data/topology/shandong.yaml; its codes
select deploy/rules/provinces/37.yaml, which has R19: 3 working days to take up a request)
share one clock. A request received a day after service is recorded 20 days later: the node
answers 200 (it answered 500 when REVIEW_TAKE_UP was not an obligation of the model), records
DeadlineMissed(REVIEW_TAKE_UP), its petition office supervises it, and the province applies
the copy it receives over the wire.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xinfang.client import ApiError, NodeClient
from xinfang.devtools.broker import Broker
from xinfang.devtools.processes import NodeProcess, stop_all
from xinfang.devtools.scenario import PETITION, wait_for
from xinfang.node.clock_file import write_offset

pytestmark = pytest.mark.integration
PROVINCE, CITY, COUNTY = "370000", "370100", "370102"
TOPOLOGY = Path(__file__).parent.parent / "data" / "topology" / "shandong.yaml"


@pytest.fixture
def nodes(kafka: Broker, tmp_path: Path) -> Iterator[tuple[dict[str, NodeClient], Path]]:
    clock = tmp_path / "clock.json"
    write_offset(clock, timedelta(0))
    prefix = f"t{uuid.uuid4().hex[:10]}."
    processes = {
        d: NodeProcess(
            d,
            kafka.bootstrap_servers,
            tmp_path / d,
            topic_prefix=prefix,
            topology=TOPOLOGY,
            clock_file=clock,
            sweep_interval_s=3600,  # the test sweeps through the API
        )
        for d in (PROVINCE, CITY, COUNTY)
    }
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_ready()
        yield {d: p.client for d, p in processes.items()}, clock
    finally:
        stop_all(processes.values())


def _until(client: NodeClient, path: str, check: Any, what: str) -> Any:
    def probe() -> Any:
        try:
            answer = client.get(path)
        except ApiError as err:
            if err.status == 404:
                return None
            raise
        return answer if check(answer) else None

    return wait_for(probe, what, timeout=60)


@pytest.mark.rule("R19")
def test_R19_late_review_take_up_at_a_shandong_node_over_the_broker(
    nodes: tuple[dict[str, NodeClient], Path],
) -> None:
    api, clock = nodes
    petition = {**PETITION, "place": COUNTY, "actor": "370100.xfj"}
    case_id = api[CITY].post("/api/cases", petition)["case_id"]
    case = f"/api/cases/{case_id}"
    api[CITY].post(f"{case}/transfer", {"actor": "370100.xfj", "to_body": "370102.zj"})
    _until(api[COUNTY], case, lambda c: c["status"] == "TRANSFERRED", "历下区收到转送")
    api[COUNTY].post(f"{case}/accept", {"actor": "370102.zj"})
    api[COUNTY].post(
        f"{case}/opinion",
        {"actor": "370102.zj", "outcome": "NOT_SUPPORTED", "opinion": "经核查不予支持"},
    )
    _until(api[CITY], case, lambda c: c["status"] == "OPINION_ISSUED", "济南市收到处理意见")
    received = datetime.now(UTC) + timedelta(days=1)  # the request reaches the reviewer
    write_offset(clock, timedelta(days=20))  # more than 3 working days, within R7's 30 days

    answer = api[CITY].post(
        f"{case}/review-request",
        {
            "actor": "370100.zj",
            "reasons": "不服处理意见",
            "requested_at": received.isoformat(),
            "backdate_reason": "信件邮寄在途，收到后补录",  # received 20 days ago (DOMAIN.md §11)
        },
    )
    assert "DeadlineMissed" in [e["type"] for e in answer["events"]]
    assert [(s["to_body"], s["obligation"]) for s in answer["case"]["supervisions"]] == [
        ("370100.zj", "REVIEW_TAKE_UP")
    ]
    assert api[CITY].post("/admin/sweep", {})["recorded"] == 0  # nothing else is due

    def take_up(timeline: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            e
            for e in timeline["timeline"]
            if e["type"] == "DeadlineMissed" and e.get("obligation") == "REVIEW_TAKE_UP"
        ]

    for division in (CITY, PROVINCE):  # recorded at the city; applied by the province
        timeline = _until(api[division], f"{case}/timeline", take_up, f"{division}: R19")
        [entry] = take_up(timeline)
        assert (entry["rule"], entry["actor"], entry["division"]) == ("R19", "370100.zj", CITY)
        assert entry["obligation_zh"] == "决定是否受理复查请求"
    province = _until(api[PROVINCE], case, lambda c: bool(c["supervisions"]), "省级收到督办")
    assert province["supervisions"][0]["obligation"] == "REVIEW_TAKE_UP"

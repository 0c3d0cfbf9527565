"""Issue 2's vertical slice: three node processes on the real broker (R1, R3, R5)."""

from __future__ import annotations

import os

import pytest

from xinfang.devtools.scenario import CITY, COUNTY, PROVINCE, run_slice

from .conftest import NodeFactory

pytestmark = pytest.mark.integration


def test_case_crosses_three_levels_as_separate_processes(start_node: NodeFactory) -> None:
    province, city, county = (start_node(d) for d in (PROVINCE, CITY, COUNTY))
    for node in (province, city, county):
        node.wait_ready()
    pids = {node.proc.pid for node in (province, city, county) if node.proc}
    assert len(pids) == 3 and os.getpid() not in pids  # three separate OS processes

    case_id = run_slice(city.client, county.client, province.client)

    def steps(node_client: object) -> list[tuple[str, str]]:
        timeline = node_client.get(f"/api/cases/{case_id}/timeline")["timeline"]  # type: ignore[attr-defined]
        return [(e["type"], e["division"]) for e in timeline]

    expected = [
        ("PetitionRegistered", CITY),  # 登记 at 赤峰市
        ("CaseTransferred", CITY),  # 转送 by 赤峰市
        ("CaseAccepted", COUNTY),  # 受理 at 松山区
        ("NoticeServed", COUNTY),
        ("HandlingOpinionIssued", COUNTY),  # 处理意见 at 松山区
        ("NoticeServed", COUNTY),
    ]
    assert steps(city.client) == expected
    assert steps(province.client) == expected  # the outcome reached 150000 through 150400
    assert steps(county.client) == expected[1:]  # the county learns of the case by the transfer

    for node in (city, province):
        case = node.client.get(f"/api/cases/{case_id}")
        assert case["status"] == "OPINION_ISSUED"
        assert case["outcome"] == "SUPPORTED"
        assert case["holder"] == "150404.zj"

    # each node read from its own database file
    for node in (province, city, county):
        assert (node.data_dir / f"node-{node.division}.sqlite3").is_file()
        assert node.client.get("/health")["outbox_pending"] == 0

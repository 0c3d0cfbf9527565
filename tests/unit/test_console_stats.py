"""Issue 16 统计 and the workbench's server-side list (decision 034), over HTTP
(NodeApi.dispatch and the ASGI app): the §7 figures of the city node for itself and its
children on a known scenario, the .xlsx opened with openpyxl, the period's bounds, the roles;
GET /api/cases paged, counted and sorted by the nearest deadline in the server."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from xinfang.devtools.staff import InProcessStaff, signed_in
from xinfang.domain.commands import AcceptCase, TransferCase
from xinfang.domain.deciders import decide_accept, decide_transfer
from xinfang.domain.topology import Topology
from xinfang.identity.principal import Role

from .audit_world import CITY, COUNTY, PROVINCE, World
from .test_slice_in_memory import sample_file

PERIOD = "from=2026-01-01&to=2027-01-01"


@pytest.fixture(scope="module")
def world(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> World:
    """As test_audit_compliance: one case handled in time; one transferred and never
    accepted (20 days pass); one accepted 20 days late — registered at 150400, handled at
    150404.zj."""
    w = World(topology, tmp_path_factory.mktemp("stats"))
    w.handled_case()
    city, county = w.bus.nodes[CITY], w.bus.nodes[COUNTY]
    ids = []
    for n in (1, 2):
        file = replace(sample_file(w.bus), title=f"第 {n} 件", request=f"诉求 {n}")
        reg = city.register("150400.xfj", file)
        city.execute(reg.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj"))
        ids.append(reg.case_id)
    w.bus.settle()
    w.bus.clock.advance(days=20)
    county.execute(ids[1], decide_accept, AcceptCase("150404.zj"))
    w.bus.settle()
    return w


@pytest.fixture(scope="module")
def city(world: World) -> InProcessStaff:
    return signed_in(world.bus.nodes[CITY])


def get(api: InProcessStaff, path: str, body: str, role: Role) -> tuple[int, Any]:
    """GET as `role` at `body` (the route's first role otherwise)."""
    headers = api.staff.headers(body, role)
    return api.api.dispatch("GET", path, None, headers=headers)


def raw_get(app: Any, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body bytes) of a GET through the ASGI app: a workbook is not JSON,
    which NodeApi.dispatch reads."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "client": ("127.0.0.1", 1), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    answer: dict[str, Any] = {"status": 0, "headers": {}, "body": b""}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # the client stays connected until the answer is complete
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return answer["status"], answer["headers"], answer["body"]


def rate(row: dict[str, Any], key: str) -> tuple[int, int]:
    return row[key]["numerator"], row[key]["denominator"]


def test_the_city_supervisor_reads_the_figures_of_its_division_and_children(
    city: InProcessStaff,
) -> None:
    status, stats = get(city, f"/api/stats?{PERIOD}", "150400.xfj", Role.SUPERVISOR)
    assert status == 200, stats
    assert (stats["division"], stats["from"], stats["to"], stats["cases"]) == (
        CITY, "2026-01-01", "2027-01-01", 3,
    )  # fmt: skip
    rows = {row["division"]: row for row in stats["divisions"]}
    assert stats["divisions"][0]["division"] == CITY and COUNTY in rows
    assert len(rows) == 1 + 12  # 赤峰市 and its twelve counties, zeros included
    county = rows[COUNTY]
    # the same numbers as the compliance audit over the logs (test_audit_compliance)
    assert rate(county, "timely_acceptance") == (1, 3)
    assert rate(county, "on_time_completion") == (1, 1)
    assert rate(county, "participation") == (0, 1)
    assert county["received"] == 3 and county["overdue_open"] == 1 and county["late"] == 1
    assert county["satisfaction"]["rate"] is None  # nobody evaluated
    assert rows[CITY]["registered"] == 3 and rate(rows[CITY], "repeat") == (0, 3)
    assert rows["150402"]["registered"] == 0 and rows["150402"]["timely_acceptance"]["rate"] is None
    assert [r["zh"] for r in stats["rates"]][:5] == [
        "及时受理率", "按期办结率", "满意率", "参评率", "重复信访率",
    ]  # fmt: skip


def test_the_province_reads_each_city_with_the_divisions_below_it(world: World) -> None:
    province = signed_in(world.bus.nodes[PROVINCE])
    status, stats = get(province, f"/api/stats?{PERIOD}", "150000.xfj", Role.SUPERVISOR)
    assert status == 200, stats
    rows = {row["division"]: row for row in stats["divisions"]}
    assert COUNTY not in rows  # rolled up into 赤峰市
    city = rows[CITY]
    assert rate(city, "timely_acceptance") == (1, 3) and rate(city, "on_time_completion") == (1, 1)
    assert city["registered"] == 3 and city["received"] == 3 and city["overdue_open"] == 1
    assert rows[PROVINCE]["registered"] == 0


def test_a_period_before_the_cases_counts_nothing_and_bad_periods_are_422(
    city: InProcessStaff,
) -> None:
    status, empty = get(
        city, "/api/stats?from=2025-01-01&to=2025-12-31", "150400.xfj", Role.AUDITOR
    )
    assert status == 200 and empty["cases"] == 0
    assert all(row["registered"] == 0 for row in empty["divisions"])
    for query in (
        "from=2026-13-01",
        "from=2026-02-01&to=2026-01-01",
        "from=2000-01-01&to=2026-01-01",
    ):
        status, refused = get(city, f"/api/stats?{query}", "150400.xfj", Role.SUPERVISOR)
        assert (status, refused["code"]) == (422, "XF-INVALID-INPUT"), query


def test_only_the_assessment_roles_read_the_figures(city: InProcessStaff) -> None:
    for body, role in (("150400.xfj", Role.REGISTRAR), ("150400.zj", Role.APPROVER)):
        assert get(city, f"/api/stats?{PERIOD}", body, role)[0] == 200
    for body, role in (("150400.zj", Role.HANDLER), ("150400.xfj", Role.SYSTEM_ADMIN)):
        status, refused = get(city, f"/api/stats?{PERIOD}", body, role)
        assert (status, refused["code"]) == (403, "XF-FORBIDDEN")
    assert city.api.dispatch("GET", f"/api/stats?{PERIOD}", None)[0] == 401


def test_the_figures_download_as_an_excel_workbook(city: InProcessStaff) -> None:
    headers = city.staff.headers("150400.xfj", Role.SUPERVISOR)
    status, answered, content = raw_get(city.api.app, f"/api/stats.xlsx?{PERIOD}", headers)
    assert status == 200, content[:300]
    assert answered["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in answered["content-disposition"]
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None and sheet.title == "考核统计"
    titles = [cell.value for cell in sheet[3]]
    rows = {
        r[0]: dict(zip(titles, r, strict=True))
        for r in sheet.iter_rows(min_row=4, values_only=True)
    }
    county = rows[COUNTY]
    assert county["名称 / name"] == "松山区"
    assert county["及时受理率 / timely acceptance"] == pytest.approx(1 / 3)
    assert county["及时受理率（分子/分母）"] == "1/3"
    assert county["按期办结率 / on-time completion"] == 1
    assert county["满意率 / satisfaction"] is None
    assert county["逾期未办 / overdue open"] == 1
    assert rows[CITY]["登记 / registered"] == 3
    status, _, refused = raw_get(city.api.app, "/api/stats.xlsx?from=x", headers)
    assert status == 422 and json.loads(refused)["code"] == "XF-INVALID-INPUT"


def test_the_case_list_is_paged_counted_and_sorted_by_deadline_in_the_server(
    world: World,
) -> None:
    county = signed_in(world.bus.nodes[COUNTY])
    path = "/api/cases?sort=deadline&mine=true&limit=1"
    status, first = get(county, path, "150404.zj", Role.HANDLER)
    assert status == 200, first
    assert first["total"] == 3 and first["limit"] == 1 and len(first["cases"]) == 1
    # nearest first: the case never accepted is overdue (R3), the late-accepted one runs its
    # handling deadline (R5), the one with an opinion runs none of this body's deadlines
    overdue = first["cases"][0]
    assert (overdue["rule"], overdue["urgency"], overdue["awaiting"]) == ("R3", "overdue", True)
    assert first["counts"]["urgency"] == {"overdue": 1, "soon": 0, "ok": 1, "none": 1}
    status, second = get(county, f"{path}&offset=1", "150404.zj", Role.HANDLER)
    assert status == 200 and [r["rule"] for r in second["cases"]] == ["R5"]
    assert second["cases"][0]["due"] > overdue["due"]
    status, third = get(county, f"{path}&offset=2", "150404.zj", Role.HANDLER)
    assert [(r["rule"], r["due"], r["urgency"]) for r in third["cases"]] == [(None, None, "none")]
    status, beyond = get(county, f"{path}&offset=5", "150404.zj", Role.HANDLER)
    assert (status, beyond["cases"], beyond["total"]) == (200, [], 3)
    status, every = get(county, "/api/cases", "150404.zj", Role.HANDLER)
    assert every["total"] == 3 and [r["case_id"] for r in every["cases"]] == sorted(
        r["case_id"] for r in every["cases"]
    )
    status, only = get(county, "/api/cases?urgency=overdue", "150404.zj", Role.HANDLER)
    assert [r["case_id"] for r in only["cases"]] == [overdue["case_id"]]
    for bad in ("limit=0", "limit=1001", "offset=-1", "sort=title", "urgency=late", "category=X"):
        status, refused = get(county, f"/api/cases?{bad}", "150404.zj", Role.HANDLER)
        assert status == 422 and refused["code"].startswith("XF-"), (bad, refused)


def test_the_audit_page_reads_the_nodes_chains_and_last_checkpoint(
    world: World, city: InProcessStaff
) -> None:
    status, signed = city.dispatch("POST", "/admin/checkpoint", {"force": True})
    assert status == 200 and signed["checkpointed"], signed
    status, state = get(city, "/api/audit/status", "150400.xfj", Role.AUDITOR)
    assert status == 200, state
    assert (state["node"], state["key_id"]) == (CITY, world.keys[CITY].key_id)
    log = state["log"]
    assert log["checkpoint"]["seq"] == signed["seq"] == log["head_seq"]
    assert log["checkpoint"]["head_seq"] == signed["head_seq"] and log["since_checkpoint"] == 0
    assert len(log["head_hash"]) == 64
    [county] = [s for s in state["sources"] if s["source"] == COUNTY]
    assert county["last_seq"] > 0 and county["parked"] == 0 and county["refused"] is False
    assert state["counts"]["log_events"] == log["head_seq"] and state["chain"]["gaps"] == []
    assert state["trail"]["head_seq"] > 0 and state["verify"]["recorded"] is False
    assert get(city, "/api/audit/status", "150400.xfj", Role.AUDIT_ADMIN)[0] == 200
    status, refused = get(city, "/api/audit/status", "150400.zj", Role.HANDLER)
    assert (status, refused["code"]) == (403, "XF-FORBIDDEN")

"""Issue 14 item 4: the role × route matrix over HTTP (NodeApi.dispatch), and need-to-know
reads. Every route of the app, every role of DOMAIN.md §10: allowed → not 401/403
XF-FORBIDDEN (2xx or the rule's refusal), refused → 403 XF-FORBIDDEN, no credential → 401."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from xinfang.devtools.staff import InProcessStaff, signed_in
from xinfang.identity.policy import PUBLIC, ROUTES
from xinfang.identity.principal import Role
from xinfang.topology_file import load_topology

from .fakes import FakeBus
from .lifecycle import PETITION

CITY, COUNTY = "150400", "150404"
BODY_OF = {  # where each role works at the city node
    Role.REGISTRAR: "150400.xfj",
    Role.SUPERVISOR: "150400.xfj",
    Role.HANDLER: "150400.zj",
    Role.APPROVER: "150400.zj",
    Role.AUDITOR: "150400.xfj",
    Role.SYSTEM_ADMIN: "150400.xfj",
    Role.SECURITY_ADMIN: "150400.xfj",
    Role.AUDIT_ADMIN: "150400.xfj",
}


@pytest.fixture
def bus(tmp_path: Path) -> FakeBus:
    bus = FakeBus(load_topology(), [CITY, COUNTY], tmp_path)
    bus.clock.now = datetime(2026, 2, 14, 2, 0, tzinfo=UTC)
    return bus


def routes(api: InProcessStaff) -> list[tuple[str, str, str]]:
    """(method, path template, name) of every route the node serves."""
    found = []
    for route in api.api.app.routes:
        if isinstance(route, APIRoute) and not route.name.startswith("console"):
            found.extend((method, route.path, route.name) for method in sorted(route.methods))
        elif getattr(route, "name", "") == "openapi":
            found.append(("GET", "/openapi.json", "openapi"))
    return found


def test_every_route_is_in_the_policy_table(bus: FakeBus) -> None:
    """Fail closed: a route missing from identity/policy.py is refused to everyone; this
    test makes adding one to the table part of adding the route."""
    names = {name for _, _, name in routes(signed_in(bus.nodes[CITY]))}
    assert names - PUBLIC - set(ROUTES) == set()
    assert len(names) >= 30


def test_role_by_route_matrix(bus: FakeBus) -> None:
    api = signed_in(bus.nodes[CITY])
    case_id = api.dispatch("POST", "/api/cases", PETITION)[1]["case_id"]
    api.dispatch("POST", f"/api/cases/{case_id}/transfer", {"to_body": "150400.zj"})
    matrix: dict[str, dict[str, int]] = {}
    last = ("DELETE", "/api/session")  # signing out ends the session: asked last
    table = sorted(routes(api), key=lambda r: (r[0], r[1]) == last)
    for n, (method, template, name) in enumerate(table):
        path = template.replace("{case_id}", case_id)
        body: Any = {} if method == "POST" else None
        if name == "register":  # a whole petition, a matter of its own per request
            body = {**PETITION, "petitioner": {"name": f"信访人{n}"}}
        status, answer = api.api.dispatch(method, path, body)  # no credential
        if name in PUBLIC:
            assert status != 401, (name, answer)
        else:
            assert (status, answer["code"]) == (401, "XF-AUTH-REQUIRED"), (name, answer)
        for role, home in BODY_OF.items():
            headers = api.staff.headers(home, role)
            status, answer = api.api.dispatch(method, path, body, headers=headers)
            code = answer.get("code") if isinstance(answer, dict) else None
            matrix.setdefault(name, {})[role.value] = status
            if name in PUBLIC or role in ROUTES[name]:
                assert status != 401 and code != "XF-FORBIDDEN", (name, role, status, answer)
                assert status < 500, (name, role, answer)
            else:
                assert (status, code) == (403, "XF-FORBIDDEN"), (name, role, status, answer)
    # spot checks of the table itself (DOMAIN.md §10)
    assert matrix["register"]["registrar"] == 201
    assert matrix["sweep"]["system-admin"] == 200
    assert matrix["get_case"]["handler"] == 200  # the case is held by 150400.zj
    assert matrix["get_case"]["system-admin"] == 403  # administrators see no case content
    assert matrix["list_cases"]["audit-admin"] == 403
    assert matrix["supervise"]["registrar"] == 403
    assert matrix["opinion"]["registrar"] == 403
    # personal data in full (decision 030): handlers and registrars only, and with a reason
    assert matrix["reveal_personal"]["handler"] == 422  # XF-REASON-REQUIRED: the body was {}
    assert matrix["reveal_personal"]["registrar"] == 422
    assert matrix["reveal_personal"]["auditor"] == 403
    assert matrix["reveal_personal"]["approver"] == 403


def test_health_details_only_for_the_system_administrator(bus: FakeBus) -> None:
    api = signed_in(bus.nodes[CITY])
    status, public = api.api.dispatch("GET", "/health", None)
    assert status == 200 and set(public) == {"status", "division", "name", "level", "calendar"}
    registrar = api.staff.headers("150400.xfj", Role.REGISTRAR)
    assert "outbox_pending" not in api.api.dispatch("GET", "/health", None, headers=registrar)[1]
    admin = api.staff.headers("150400.xfj", Role.SYSTEM_ADMIN)
    assert api.api.dispatch("GET", "/health", None, headers=admin)[1]["outbox_pending"] == 0


def _ids(api: InProcessStaff, body: str, role: Role = Role.HANDLER) -> list[str]:
    headers = api.staff.headers(body, role)
    status, answer = api.api.dispatch("GET", "/api/cases", None, headers=headers)
    assert status == 200
    return [c["case_id"] for c in answer["cases"]]


def _get(api: InProcessStaff, body: str, path: str, role: Role = Role.HANDLER) -> tuple[int, str]:
    headers = api.staff.headers(body, role)
    status, answer = api.api.dispatch("GET", path, None, headers=headers)
    return status, answer.get("code", "")


def test_need_to_know_reads(bus: FakeBus) -> None:
    city, county = signed_in(bus.nodes[CITY]), signed_in(bus.nodes[COUNTY])
    appeal = city.dispatch("POST", "/api/cases", PETITION)[1]["case_id"]
    city.dispatch("POST", f"/api/cases/{appeal}/transfer", {"to_body": "150404.zj"})
    bus.settle()
    # the county's housing bureau holds it: its staff list and read it
    assert _ids(county, "150404.zj") == [appeal]
    assert _get(county, "150404.zj", f"/api/cases/{appeal}")[0] == 200
    # another body of the county does not: not listed, and answered as unknown
    assert _ids(county, "150404.rs") == []
    assert _get(county, "150404.rs", f"/api/cases/{appeal}") == (404, "XF-CASE-NOT-FOUND")
    assert _get(county, "150404.rs", f"/api/cases/{appeal}/timeline")[0] == 404
    # the county petition office sees its division's cases; a city department that never
    # held it does not; the registering office does
    assert _ids(county, "150404.xfj", Role.REGISTRAR) == [appeal]
    assert _ids(city, "150400.rs") == []
    assert _ids(city, "150400.xfj", Role.REGISTRAR) == [appeal]
    # administrators see no case content, not even the petition office's
    assert _get(city, "150400.xfj", "/api/cases", Role.SYSTEM_ADMIN)[0] == 403
    assert _get(city, "150400.xfj", f"/api/cases/{appeal}", Role.AUDIT_ADMIN)[0] == 403


def test_an_accusation_is_read_only_by_the_routing_office_and_the_handling_body(
    bus: FakeBus,
) -> None:
    city, county = signed_in(bus.nodes[CITY]), signed_in(bus.nodes[COUNTY])
    accusation = {
        **PETITION,
        "category": "ACCUSATION",
        "title": "检举某局违规发放补偿",
        "accused": "松山区住房和城乡建设局",
        "accused_body": "150404.zj",
    }
    status, registered = city.dispatch("POST", "/api/cases", accusation)
    assert status == 201, registered
    case_id = registered["case_id"]
    status, moved = city.dispatch(
        "POST", f"/api/cases/{case_id}/transfer", {"to_body": "150400.jw"}
    )
    assert status == 200, moved
    bus.settle()
    assert case_id in _ids(city, "150400.xfj", Role.REGISTRAR)  # the routing office
    assert case_id in _ids(city, "150400.jw")  # the handling discipline organ
    assert case_id not in _ids(city, "150400.zj")  # another body of the division
    assert case_id not in _ids(city, "150400.xfj", Role.AUDITOR)  # auditors: not accusations
    assert _get(city, "150400.zj", f"/api/cases/{case_id}")[0] == 404
    # the accused unit's division never receives it (R17), so its node cannot show it
    assert case_id not in _ids(county, "150404.zj") and case_id not in _ids(
        county, "150404.xfj", Role.REGISTRAR
    )

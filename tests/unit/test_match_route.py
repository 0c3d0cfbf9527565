"""Issue 16 item 2 (登记): `POST /api/cases/matches` (R11/R12 before submitting) and
`GET /api/topology/bodies` (a place's bodies as suggested competent bodies) through
NodeApi.dispatch (the ASGI app) as signed-in staff — the same matter found despite trivial
variation, another matter not; a place's bodies by name; handlers refused (403), bad input
422, and asking records nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from xinfang.commands.limits import NAME_CHARS
from xinfang.devtools.staff import InProcessStaff, signed_in
from xinfang.identity.principal import Role
from xinfang.topology_file import load_topology

from .fakes import FakeBus
from .lifecycle import PETITION, register

CITY, OFFICE = "150400", "150400.xfj"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessStaff, str, FakeBus]]:
    bus = FakeBus(load_topology(), [CITY], tmp_path_factory.mktemp("matches"))
    case_id = register(bus, CITY)
    yield signed_in(bus.nodes[CITY]), case_id, bus
    bus.close()


def ask(api: InProcessStaff, body: Any, role: Role = Role.REGISTRAR) -> tuple[int, Any]:
    headers = api.staff.headers(OFFICE, role)
    return api.api.dispatch("POST", "/api/cases/matches", body, headers=headers)


def query(**overrides: Any) -> dict[str, Any]:
    p = PETITION["petitioner"]
    body = {
        "petitioner": {"name": p["name"], "contact": p["contact"]},
        "place": PETITION["place"],
        "request": PETITION["request"],
    }
    return {**body, **overrides}


def test_the_same_matter_with_trivial_variation_is_found(city: Any) -> None:
    api, case_id, bus = city
    events_before = len(bus.nodes[CITY].history(case_id))
    varied = query(
        petitioner={"name": "李 四", "contact": "+86 137-0000-0000"},
        request="请求足额发放征地补偿款。",  # full stop and a space: the same request
    )
    status, answer = ask(api, varied)
    assert status == 200, answer
    assert answer == {
        "matches": [
            {"case_id": case_id, "status": "REGISTERED", "final": False, "in_progress": True}
        ]
    }
    assert len(bus.nodes[CITY].history(case_id)) == events_before  # asking records nothing


def test_another_matter_or_petitioner_is_not(city: Any) -> None:
    api, _, _ = city
    assert ask(api, query(request="请求公开征地批复文件")) == (200, {"matches": []})
    other = {"name": "李四", "contact": "13900000000"}  # same name, a known different contact
    assert ask(api, query(petitioner=other)) == (200, {"matches": []})
    assert ask(api, query(place="150404x")) == (200, {"matches": []})


def test_only_registrars_may_ask(city: Any) -> None:
    api, _, _ = city
    status, answer = ask(api, query(), Role.HANDLER)
    assert status == 403 and answer["code"] == "XF-FORBIDDEN"
    status, answer = api.api.dispatch("POST", "/api/cases/matches", query())
    assert status == 401 and answer["code"] == "XF-AUTH-REQUIRED"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"petitioner": {"name": "李四"}, "place": "150404"}, "XF-INVALID-INPUT"),
        ({**query(), "id_number": "x"}, "XF-UNKNOWN-FIELD"),
        (query(petitioner={"name": "李" * (NAME_CHARS + 1)}), "XF-FIELD-TOO-LONG"),
        ([1], None),
    ],
    ids=["no-request", "unknown-field", "too-long", "not-an-object"],
)
def test_bad_bodies_are_422(city: Any, body: Any, code: str | None) -> None:
    api, _, _ = city
    status, answer = ask(api, body)
    assert status == 422, answer
    assert answer["code"].startswith("XF-") and (code is None or answer["code"] == code)
    assert answer["message_zh"] and answer["message_en"]


def bodies(api: InProcessStaff, division: str, role: Role = Role.REGISTRAR) -> tuple[int, Any]:
    headers = api.staff.headers(OFFICE, role)
    path = f"/api/topology/bodies?division={division}"
    return api.api.dispatch("GET", path, None, headers=headers)


def test_a_place_suggests_its_bodies(city: Any) -> None:
    api, _, _ = city
    status, answer = bodies(api, "150404")
    assert status == 200, answer
    assert (answer["division"], answer["name"]) == ("150404", "松山区")
    ids = [b["id"] for b in answer["bodies"]]
    assert "150404.zj" in ids and all(i.startswith("150404.") for i in ids)
    assert answer["bodies"][-1]["kind"] == "petition_office"  # routes; the others handle
    named = {b["id"]: b["name"] for b in answer["bodies"]}
    assert named["150404.zj"] == "松山区住房和城乡建设局"


def test_bodies_of_a_place_not_registered_here_or_by_a_handler_are_refused(city: Any) -> None:
    api, _, _ = city
    status, answer = bodies(api, "150100")  # another city: not a place of this node
    assert status == 422 and answer["code"] == "XF-INVALID-INPUT" and answer["message_en"]
    status, answer = bodies(api, "150404", Role.HANDLER)
    assert status == 403 and answer["code"] == "XF-FORBIDDEN"

"""Issue 15 items 1 and 2 (decision 030), over HTTP with signed-in staff (NodeApi.dispatch):
validated personal fields (公民身份号码 GB 11643, phone numbers, lengths, unknown fields),
masks in every list and view, and the full values only through
POST /api/cases/{id}/personal-data with a reason, each view a signed operator-trail entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from xinfang.api import models as m
from xinfang.audit.records import LogRecord
from xinfang.audit.trail_check import verify_trail
from xinfang.audit.trail_cli import table
from xinfang.chain.keys import KeyBook
from xinfang.commands.limits import FIELD_CHARS
from xinfang.devtools.staff import InProcessStaff, signed_in
from xinfang.domain.events import CaseTransferred, PetitionRegistered
from xinfang.identity.principal import Role
from xinfang.identity.trail_record import TrailEntry, decode, signature_valid
from xinfang.store.trail import TrailQuery
from xinfang.topics import TopicNames
from xinfang.topology_file import load_topology

from .audit_world import CITY, COUNTY, World
from .lifecycle import PETITION

ID_NUMBER = "11010519491231002X"  # GB 11643's own example: check character X
CITY_OFFICE, COUNTY_OFFICE, HOUSING = "150400.xfj", "150404.xfj", "150404.zj"


class Nodes:
    """赤峰市 and 松山区 with signing keys (so the trail is kept), used by signed-in staff."""

    def __init__(self, tmp: Path) -> None:
        self.world = World(load_topology(), tmp)
        self.bus = self.world.bus
        self.city: InProcessStaff = signed_in(self.bus.nodes[CITY])
        self.county: InProcessStaff = signed_in(self.bus.nodes[COUNTY])
        self.serial = 0

    def register(self, petitioner: dict[str, Any]) -> tuple[int, Any]:
        """A petition of its own matter (R12 would refuse the same one twice)."""
        self.serial += 1
        request = f"{PETITION['request']}（第 {self.serial} 户）"
        body = {**PETITION, "request": request, "petitioner": petitioner}
        return self.city.dispatch("POST", "/api/cases", body)

    def as_(
        self, node: InProcessStaff, body: str, role: Role, method: str, path: str, data: Any
    ) -> tuple[int, Any]:
        headers = node.staff.headers(body, role)
        return node.api.dispatch(method, path, data, headers=headers)

    def trail(self, division: str) -> list[TrailEntry]:
        trail = self.bus.nodes[division].trail
        assert trail is not None
        return trail.read(TrailQuery(limit=10_000))


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    """Shared by the module's tests (signing staff in costs argon2id hashes): each test makes
    its own cases and compares what is recorded before and after."""
    made = Nodes(tmp_path_factory.mktemp("personal"))
    try:
        yield made
    finally:
        made.bus.close()


def _recorded(nodes: Nodes) -> dict[str, int]:
    """What the city node recorded of cases (the trail records every request, refused ones too)."""
    stats = nodes.bus.nodes[CITY].store.stats()
    return {k: v for k, v in stats.items() if not k.startswith("trail")}


def _stored_petitioner(nodes: Nodes, case_id: str) -> Any:
    """The petitioner as the node's log holds it (decoded from the stored Avro bytes)."""
    registered = next(e for _, e in nodes.bus.nodes[CITY].history(case_id))
    assert isinstance(registered, PetitionRegistered)
    return registered.file.petitioner


# -- item 1: validated fields ----------------------------------------------------------------
def test_a_valid_identity_number_is_accepted_and_stored_normalised(nodes: Nodes) -> None:
    status, done = nodes.register(
        {"name": "李四", "contact": "+86 139-1234-5678", "id_number": ID_NUMBER.lower()}
    )
    assert status == 201, done
    person = _stored_petitioner(nodes, done["case_id"])
    assert person.id_number == ID_NUMBER  # upper-case X
    assert person.contact == "13912345678"  # normalised
    # it travels with the case file to the receiving node (CaseTransferred, Avro v+1)
    moved = nodes.city.dispatch(
        "POST", f"/api/cases/{done['case_id']}/transfer", {"to_body": HOUSING}
    )
    assert moved[0] == 200, moved
    nodes.bus.settle()
    transferred = [
        e for _, e in nodes.bus.nodes[COUNTY].history(done["case_id"])
        if isinstance(e, CaseTransferred)
    ]  # fmt: skip
    assert transferred[0].file.petitioner.id_number == ID_NUMBER


@pytest.mark.parametrize(
    ("id_number", "reason"),
    [
        ("150404198003122036", "check-digit"),  # …2035 is valid
        ("150404202602301237", "birth-date"),  # 30 February, check character right
        ("150404203001011239", "birth-date"),  # born in the future
        ("990404199001011236", "division"),  # 99 is no province
        ("15040419800312203", "length"),  # 17 characters
        ("1504041980031220351", "length"),  # 19 characters
        ("15040419800312203Y", "characters"),
    ],
)
def test_each_invalid_identity_number_is_refused_with_its_reason_and_nothing_recorded(
    nodes: Nodes, id_number: str, reason: str
) -> None:
    before = _recorded(nodes)
    status, answer = nodes.register({"name": "李四", "id_number": id_number})
    assert (status, answer["code"]) == (422, "XF-ID-NUMBER-INVALID"), answer
    assert answer["context"] == {"field": "id_number", "reason": reason}
    assert answer["message_zh"].startswith("公民身份号码无效") and answer["message_en"]
    assert _recorded(nodes) == before


@pytest.mark.parametrize(
    ("contact", "stored"),
    [
        ("13700000000", "13700000000"),
        ("+86 137 0000 0000", "13700000000"),
        ("１３７００００００００", "13700000000"),  # full-width digits
        ("0476 8123456", "0476-8123456"),  # a landline with its area code
        ("li.si@example.com", "li.si@example.com"),  # not a phone number: kept as written
    ],
)
def test_contacts_written_as_phone_numbers_are_stored_normalised(
    nodes: Nodes, contact: str, stored: str
) -> None:
    status, done = nodes.register({"name": "李四", "contact": contact})
    assert status == 201, done
    assert _stored_petitioner(nodes, done["case_id"]).contact == stored


@pytest.mark.parametrize(
    ("contact", "code"),
    [
        ("12345", "XF-PHONE-INVALID"),
        ("139-1234-567", "XF-PHONE-INVALID"),  # 10 digits
        ("12912345678", "XF-PHONE-INVALID"),  # no mobile begins 12
        ("150404198003122035", "XF-ID-NUMBER-IN-CONTACT"),
        ("身份证 11010519491231002x", "XF-ID-NUMBER-IN-CONTACT"),
    ],
)
def test_a_bad_phone_number_or_an_identity_number_in_contact_is_refused(
    nodes: Nodes, contact: str, code: str
) -> None:
    before = _recorded(nodes)
    status, answer = nodes.register({"name": "李四", "contact": contact})
    assert (status, answer["code"], answer["context"]["field"]) == (422, code, "contact"), answer
    assert _recorded(nodes) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/cases", {**PETITION, "titel": "拼错"}, "titel"),
        ("/api/cases", {**PETITION, "petitioner": {"身份证": "x"}}, "petitioner.身份证"),
        ("{case}/transfer", {"to_body": HOUSING, "Note": "拼错"}, "Note"),
        ("{case}/accept", {"notice": {"method": "POST", "when": "now"}}, "notice.when"),
    ],
)
def test_an_unknown_field_is_refused_naming_it(
    nodes: Nodes, path: str, body: dict[str, Any], field: str
) -> None:
    _, done = nodes.register({"name": "王五"})
    path = path.replace("{case}", f"/api/cases/{done['case_id']}")
    before = _recorded(nodes)
    status, answer = nodes.city.dispatch("POST", path, body)
    assert (status, answer["code"]) == (422, "XF-UNKNOWN-FIELD"), answer
    assert answer["context"]["field"] == field
    assert field in answer["message_zh"] and "not a field" in answer["message_en"]
    assert _recorded(nodes) == before


def test_documented_optional_fields_still_work(nodes: Nodes) -> None:
    body = {
        **PETITION,
        "actor": CITY_OFFICE,
        "petitioner": {"name": "李四", "address": "松山区某村", "anonymous": False},
        "accused": "某公司",
        "urgent": False,
        "received_at": None,
    }
    body["request"] = "请求公开征地补偿标准"  # a matter of its own
    status, done = nodes.city.dispatch("POST", "/api/cases", body)
    assert status == 201, done


@pytest.mark.parametrize(("field", "limit"), [("id_number", 64), ("contact", 100), ("name", 100)])
def test_a_too_long_personal_field_is_refused(nodes: Nodes, field: str, limit: int) -> None:
    status, answer = nodes.register({"name": "李四", field: "字" * (limit + 1)})
    assert (status, answer["code"]) == (422, "XF-FIELD-TOO-LONG"), answer
    assert answer["context"] == {"field": field, "max_chars": str(limit)}


def _bounded(model: type[BaseModel]) -> dict[str, int]:
    """Every length-bounded text field of `model` and its nested bodies: name → max_length."""
    found: dict[str, int] = {}
    for name, info in model.model_fields.items():
        for limit in (getattr(c, "max_length", None) for c in info.metadata):
            if limit is not None:
                found[name] = limit
        for inner in (m.Petitioner, m.Notice):
            if inner.__name__ in str(info.annotation):
                found.update(_bounded(inner))
    return found


def test_every_text_field_of_every_request_has_its_own_length_limit() -> None:
    """No text field falls back to the default limit: each has its entry in commands/limits.py
    (what storage and the wire take). Sign-in and the reveal reason carry their own bounds."""
    bodies: list[type[BaseModel]] = [m.RegisterRequest, *m.COMMAND_BODIES.values()]
    bounded: dict[str, int] = {}
    for model in bodies:
        bounded.update(_bounded(model))
    assert {"id_number", "contact", "name", "address", "title", "actor"} <= set(bounded)
    assert {name: FIELD_CHARS.get(name) for name in bounded} == bounded


# -- item 2: masked by default ------------------------------------------------------------------
FULL = {
    "name": "欧阳娜娜",
    "address": "赤峰市松山区某街道1号",
    "contact": "13912345678",
    "id_number": "150404198003122035",
}
MASKED = {
    "name": "欧***",
    "address": "赤峰市松山区****",
    "contact": "139****5678",
    "id_number": "150404********2035",
    "anonymous": False,
}


def _assert_masked(shown: dict[str, Any]) -> None:
    assert shown["petitioner"] == MASKED and shown["personal_masked"] is True
    text = json.dumps(shown, ensure_ascii=False)
    for value in FULL.values():
        assert value not in text


def test_lists_views_and_answers_show_the_petitioner_masked(nodes: Nodes) -> None:
    status, done = nodes.register(dict(FULL))
    assert status == 201, done
    case_id = done["case_id"]
    moved = nodes.city.dispatch("POST", f"/api/cases/{case_id}/transfer", {"to_body": HOUSING})
    assert moved[0] == 200
    _assert_masked(moved[1]["case"])  # a command's answer
    nodes.bus.settle()
    readers = ((nodes.city, CITY_OFFICE, Role.REGISTRAR), (nodes.county, HOUSING, Role.HANDLER))
    for node, body, role in readers:
        status, listed = nodes.as_(node, body, role, "GET", "/api/cases", None)
        assert status == 200
        (row,) = [c for c in listed["cases"] if c["case_id"] == case_id]
        _assert_masked(row)
        assert "matter_key" not in row
        status, view = nodes.as_(node, body, role, "GET", f"/api/cases/{case_id}", None)
        assert status == 200
        _assert_masked(view)
        m.CaseView.model_validate(view)
        m.CaseRow.model_validate(row)
        status, timeline = nodes.as_(
            node, body, role, "GET", f"/api/cases/{case_id}/timeline", None
        )
        text = json.dumps(timeline, ensure_ascii=False)
        assert status == 200 and all(value not in text for value in FULL.values())
    # missing fields stay null; an anonymous petitioner says so
    _, anonymous = nodes.register({"name": None, "anonymous": True})
    status, view = nodes.city.dispatch("GET", f"/api/cases/{anonymous['case_id']}", None)
    assert view["petitioner"] == {
        "name": None, "address": None, "contact": None, "id_number": None, "anonymous": True,
    }  # fmt: skip


# -- item 2: the full values with a reason, on the trail ----------------------------------------
REASON = "电话回访核实诉求"


def _reveal(
    nodes: Nodes, node: InProcessStaff, body: str, role: Role, case_id: str, data: Any
) -> tuple[int, Any]:
    path = f"/api/cases/{case_id}/personal-data"
    return nodes.as_(node, body, role, "POST", path, data)


@pytest.fixture
def routed(nodes: Nodes) -> str:
    """A case registered by 赤峰市信访局 and transferred to 松山区住建局, which holds it."""
    _, done = nodes.register(dict(FULL))
    case_id = str(done["case_id"])
    nodes.city.dispatch("POST", f"/api/cases/{case_id}/transfer", {"to_body": HOUSING})
    nodes.bus.settle()
    return case_id


def test_the_holding_body_and_the_routing_office_see_it_in_full_with_a_reason(
    nodes: Nodes, routed: str
) -> None:
    entitled = ((nodes.county, HOUSING, Role.HANDLER), (nodes.city, CITY_OFFICE, Role.REGISTRAR))
    for node, body, role in entitled:
        status, answer = _reveal(nodes, node, body, role, routed, {"reason": f"  {REASON} "})
        assert status == 200, answer
        assert answer["petitioner"] == {**FULL, "anonymous": False}
        assert (answer["case_id"], answer["reason"]) == (routed, REASON)
        m.Revealed.model_validate(answer)


@pytest.mark.parametrize(
    ("where", "body", "role", "expected"),
    [
        ("county", "150404.rs", Role.HANDLER, (404, "XF-CASE-NOT-FOUND")),  # another body
        ("county", COUNTY_OFFICE, Role.REGISTRAR, (403, "XF-FORBIDDEN")),  # reads, did not route
        ("county", HOUSING, Role.APPROVER, (403, "XF-FORBIDDEN")),  # the body's head: not listed
        ("city", CITY_OFFICE, Role.AUDITOR, (403, "XF-FORBIDDEN")),  # auditors: no personal data
        ("city", CITY_OFFICE, Role.SUPERVISOR, (403, "XF-FORBIDDEN")),
        ("city", CITY_OFFICE, Role.AUDIT_ADMIN, (403, "XF-FORBIDDEN")),
        ("city", "150400.zj", Role.HANDLER, (404, "XF-CASE-NOT-FOUND")),  # never held it
    ],
)
def test_others_may_not_see_it_in_full(
    nodes: Nodes, routed: str, where: str, body: str, role: Role, expected: tuple[int, str]
) -> None:
    node = nodes.county if where == "county" else nodes.city
    status, answer = _reveal(nodes, node, body, role, routed, {"reason": REASON})
    assert (status, answer["code"]) == expected, answer
    assert "13912345678" not in json.dumps(answer, ensure_ascii=False)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (None, "XF-REASON-REQUIRED"),
        ({}, "XF-REASON-REQUIRED"),
        ({"reason": "看看"}, "XF-REASON-REQUIRED"),  # under 4 characters
        ({"reason": "    \t  "}, "XF-REASON-REQUIRED"),
        ({"reason": "理" * 201}, "XF-REASON-REQUIRED"),
        ({"reason": REASON, "purpose": "x"}, "XF-UNKNOWN-FIELD"),
    ],
)
def test_a_reveal_without_a_proper_reason_is_refused(
    nodes: Nodes, routed: str, data: Any, code: str
) -> None:
    status, answer = _reveal(nodes, nodes.county, HOUSING, Role.HANDLER, routed, data)
    assert (status, answer["code"]) == (422, code), answer
    assert "petitioner" not in answer


def test_each_view_is_a_signed_trail_entry_with_its_reason(nodes: Nodes, routed: str) -> None:
    county = nodes.county
    assert _reveal(nodes, county, HOUSING, Role.HANDLER, routed, {"reason": REASON})[0] == 200
    other = {"reason": "核对地址信息"}
    assert _reveal(nodes, county, COUNTY_OFFICE, Role.REGISTRAR, routed, other)[0] == 403
    entries = nodes.trail(COUNTY)
    views = [e for e in entries if e.action == "revealPersonalData" and e.case_id == routed]
    assert [(e.person, e.body, e.case_id, e.status, e.reason) for e in views] == [
        ("handler.150404.zj", HOUSING, routed, 200, REASON),
        ("registrar.150404.xfj", COUNTY_OFFICE, routed, 403, "核对地址信息"),
    ]
    key = nodes.world.keys[COUNTY].public_raw
    assert all(signature_valid(e, key) for e in entries)
    # the reason is signed: changed or removed, the signature fails
    assert not signature_valid(_with(views[0], reason="随便看看"), key)
    assert not signature_valid(_with(views[0], reason=""), key)
    # entries without a reason keep the bytes they had before the field existed
    plain = next(e for e in entries if not e.reason)
    assert b'"reason"' not in plain.to_bytes() and decode(plain.to_bytes()) == plain
    assert b'"reason":"' + REASON.encode() + b'"' in views[0].to_bytes()
    assert decode(views[0].to_bytes()) == views[0]
    # `audit verify`'s trail check and `xinfang audit trail` (its table shows the reason)
    trail = nodes.bus.nodes[COUNTY].trail
    assert trail is not None
    records = [
        _record(nodes, raw, i) for i, raw in enumerate(trail.store.read(TrailQuery(limit=10_000)))
    ]
    topic = TopicNames().trail(COUNTY)
    checked = verify_trail(COUNTY, topic, records, KeyBook(nodes.world.keyring))
    assert checked.records == len(entries) and checked.findings == []
    assert REASON in table(views, {})


def _with(entry: TrailEntry, **change: Any) -> TrailEntry:
    return replace(entry, **change)


def _record(nodes: Nodes, raw: bytes, offset: int) -> LogRecord:
    topic = TopicNames().trail(COUNTY)
    return LogRecord(topic, 0, offset, 1_767_000_000_000 + offset, b"k", raw)

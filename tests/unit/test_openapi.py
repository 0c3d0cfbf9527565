"""Issue 11 item 4: the typed HTTP boundary. The OpenAPI document is generated from the models
and checked in (docs/openapi.json); every body typed, every operation named, every error status
with the error model; refusals keep their codes; answers match their response models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from xinfang.api import models as m
from xinfang.api.errors import http_status
from xinfang.api.openapi import BODY_FIELDS, openapi_document, render
from xinfang.api.validation import refusal
from xinfang.commands import COMMANDS
from xinfang.devtools.staff import signed_in
from xinfang.topology_file import load_topology

from .fakes import FakeBus
from .http_world import Http
from .lifecycle import PETITION

ROOT = Path(__file__).resolve().parents[2]
CITY, COUNTY = "150400", "150404"


@pytest.fixture
def bus(tmp_path: Path) -> FakeBus:
    bus = FakeBus(load_topology(), [CITY, COUNTY, "150000"], tmp_path)
    bus.clock.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    return bus


def test_openapi_document_is_generated_and_up_to_date() -> None:
    checked_in = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert checked_in == render(), (
        "docs/openapi.json 已过期 / is out of date: "
        "python -m xinfang.api.openapi --out docs/openapi.json"
    )


def test_every_operation_is_named_typed_and_documents_its_errors() -> None:
    doc = openapi_document()
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]
    ids = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            errors = {s: r for s, r in op["responses"].items() if s.startswith(("4", "5"))}
            unfound = ("/health", "/api/cases", "/api/session", "/api/me")
            assert "404" in errors or path in (
                *unfound, "/api/stats", "/api/audit/status", "/api/session/oidc"
            )
            for response in errors.values():
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path)
            ok = next(r for s, r in op["responses"].items() if s.startswith("2"))
            assert "$ref" in ok["content"]["application/json"]["schema"], (method, path)
            if method == "post" and path != "/admin/sweep":
                body = op["requestBody"]["content"]["application/json"]["schema"]
                ref = body.get("$ref") or body["anyOf"][0]["$ref"]
                assert schemas[ref.rsplit("/", 1)[1]]["properties"], (method, path)
    # /openapi.json is not listed; sign-in, sign-out and /api/me are (decision 025)
    # and 统计 and 审计 (decision 034), revealPersonalData (decision 030), oidcConfig (035),
    # caseMatches and placeBodies (issue 16 item 2)
    assert len(ids) == len(set(ids)) == 9 + 3 + 2 + 1 + 2 + len(COMMANDS) - 1
    register = schemas["RegisterRequest"]["properties"]
    assert register["received_at"]["anyOf"][0] == {"type": "string", "format": "date-time"}
    assert "北京时间" in register["received_at"]["description"]
    assert register["title"]["maxLength"] == 200
    assert register["collective_size"]["maximum"] == 1_000_000
    assert schemas["Channel"]["enum"] == [
        "VISIT",
        "LETTER",
        "PHONE",
        "ONLINE",
        "OTHER",
    ] or set(schemas["Channel"]["enum"])
    assert schemas["Error"]["required"] == ["code", "message_zh", "message_en"]


def test_the_models_name_the_fields_the_registry_documents() -> None:
    """The command registry's field table (used by the CLI) and the models cannot drift."""
    for command in COMMANDS:
        model = m.COMMAND_BODIES[command.name]
        assert set(model.model_fields) == set(command.fields), command.name
        required = {name for name, (kind, _) in command.fields.items() if kind.startswith("!")}
        declared = {name for name, field in model.model_fields.items() if field.is_required()}
        assert declared == required, command.name


def test_a_node_serves_the_document_with_its_bodies(bus: FakeBus) -> None:
    status, doc = signed_in(bus.nodes[CITY]).dispatch("GET", "/openapi.json", None)
    assert status == 200
    assert doc["paths"] == openapi_document()["paths"]
    to_body = doc["components"]["schemas"]["TransferRequest"]["properties"]["to_body"]
    assert "150400.xfj" in to_body["enum"] and "150404.zj" in to_body["enum"]
    place = doc["components"]["schemas"]["RegisterRequest"]["properties"]["place"]
    assert place["enum"][0] == CITY and COUNTY in place["enum"]
    assert {"actor", "to_body", "accused_body"} >= BODY_FIELDS


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"collective_size": "3"}, "XF-INVALID-INPUT", "collective_size"),
        ({"urgent": "yes"}, "XF-INVALID-INPUT", "urgent"),
        ({"channel": "PIGEON"}, "XF-INVALID-INPUT", "channel"),
        ({"received_at": "yesterday"}, "XF-INVALID-INPUT", "received_at"),
        ({"title": None}, "XF-INVALID-INPUT", "title"),
        ({"petitioner": []}, "XF-INVALID-INPUT", None),  # worded as ever: "petitioner 须为…"
        ({"petitioner": {"anonymous": 1}}, "XF-INVALID-INPUT", "anonymous"),
    ],
)
def test_bodies_the_models_refuse_keep_their_codes(
    bus: FakeBus, body: dict[str, Any], code: str, field: str | None
) -> None:
    api = signed_in(bus.nodes[CITY])
    status, answer = api.dispatch("POST", "/api/cases", {**PETITION, **body})
    assert (status, answer["code"], answer["context"].get("field")) == (422, code, field)
    assert answer["message_zh"] and answer["message_en"]
    assert bus.nodes[CITY].list_cases() == []


def test_other_refusals_of_the_web_layer_are_4xx_with_a_code(bus: FakeBus) -> None:
    api = signed_in(bus.nodes[CITY])
    for path, body in (
        ("/api/cases/X-1/accept", {"actor": "150400.zj", "notice": True}),
        ("/api/cases/X-1/accept", {"actor": "150400.zj", "notice": "now"}),
        ("/admin/checkpoint", [1]),  # no parser behind it: the model's refusal
        ("/api/cases/X-1/transfer", "text"),
    ):
        status, answer = api.dispatch("POST", path, body)
        assert (status, answer["code"]) == (422, "XF-INVALID-INPUT"), (path, body, answer)
    assert api.dispatch("POST", "/api/cases/X-1/teleport", {})[1]["code"] == "XF-NO-ROUTE"
    status, answer = api.dispatch("GET", "/admin/sweep", None)
    assert (status, answer["code"]) == (405, "XF-METHOD-NOT-ALLOWED")


@pytest.mark.parametrize(
    ("model", "body", "code", "context"),
    [
        (m.TransferRequest, {"to_body": "b" * 65}, "XF-FIELD-TOO-LONG",
         {"field": "to_body", "max_chars": 64}),
        (m.AssignRequest, {"actor": "a", "to_body": "b", "report_within_days": 366},
         "XF-VALUE-OUT-OF-RANGE", {"field": "report_within_days", "minimum": 1, "maximum": 365}),
        (m.ExtendRequest, {"actor": "a", "approved_by": "b", "reasons": "c"}, "XF-INVALID-INPUT",
         {"field": "days"}),
        (m.AcceptRequest, {"actor": "a", "notice": {"served_at": "soon"}}, "XF-INVALID-INPUT",
         {"field": "served_at"}),
        (m.AcceptRequest, {"actor": "a", "notice": True}, "XF-INVALID-INPUT", {"field": "notice"}),
        (m.ObjectRequest, {"reasons": "r\x00"}, "XF-INVALID-INPUT", {"field": "reasons"}),
        (m.ObjectRequest, {"reasons": "\ud800"}, "XF-INVALID-INPUT", {"field": "reasons"}),
        (m.CloseRequest, {"actor": "a", "reason": "BORED"}, "XF-INVALID-INPUT",
         {"field": "reason"}),
        (m.CheckpointRequest, [1], "XF-INVALID-INPUT", {}),
    ],
)  # fmt: skip
def test_model_errors_map_to_the_api_codes(
    model: type[BaseModel], body: Any, code: str, context: dict[str, Any]
) -> None:
    """api/validation.py: the mapping behind refusals no parser words (never a 5xx)."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    err = refusal(caught.value.errors())
    assert (err.code, err.context) == (code, context)
    assert http_status(err) == 422 and err.to_dict()["message_zh"]


def test_answers_match_their_response_models(bus: FakeBus) -> None:
    """Each answer of a short lifecycle validates against the model the document gives it."""
    http = Http(bus)

    def check(model: type[BaseModel], answer: Any) -> None:
        model.model_validate(answer)

    check(m.Health, http.get(CITY, "/health")[1])
    registered = http.ok(CITY, "/api/cases", PETITION)
    check(m.Registered, registered)
    case_id = registered["case_id"]
    moved = http.command(CITY, case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    check(m.Recorded, moved)
    check(m.Recorded, http.command(COUNTY, case_id, "accept", {"actor": "150404.zj"}))
    check(m.CaseView, http.get(COUNTY, f"/api/cases/{case_id}")[1])
    check(m.Timeline, http.get(COUNTY, f"/api/cases/{case_id}/timeline")[1])
    check(m.CaseList, http.get(CITY, "/api/cases")[1])
    check(m.Swept, http.post(CITY, "/admin/sweep", None)[1])
    check(m.Checkpointed, http.post(CITY, "/admin/checkpoint", {"force": True})[1])
    status, refused = http.post(COUNTY, f"/api/cases/{case_id}/accept", {"actor": "150404.zj"})
    assert 400 <= status < 500
    check(m.Error, refused)
    assert json.dumps(refused, ensure_ascii=False)

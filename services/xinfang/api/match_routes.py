"""`POST /api/cases/matches`: the same matter already known here, asked BEFORE 登记 (issue 16
item 2) so the registrar sees "可能重复 / possible duplicate" while typing instead of the
refusal (R11 XF-R11-FINAL, R12 XF-R12-IN-PROGRESS) after submitting.

The answer is computed exactly as registration decides R11/R12 (NodeService.same_matter_cases:
the keyed matter index of domain/matter.py, HMAC under the node's index key, then contacts that
do not differ) — no clear-text search over names. Registrars only (identity/policy.py ROUTES
"case_matches"); a case out of the registrar's need-to-know is left out (decision 025), as the
case list leaves it out. Nothing is recorded but the request's trail entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..domain.errors import CaseNotFound, InvalidInput
from ..domain.events import CaseFile, Petitioner
from ..domain.vocabulary import Category, Channel
from . import models as m
from .gate import BODY_KEY

if TYPE_CHECKING:
    from .handlers import Json, NodeApi, Who

ROUTE = "case_matches"  # the route name of identity/policy.py ROUTES


class MatchPetitioner(m.Body):
    """信访人（仅用于比对）/ the petitioner, only to match."""

    name: str | None = m.text("name", "姓名 / name")
    contact: str | None = m.text("contact", "联系方式 / contact")


class MatchRequest(m.Body):
    """登记前查重：同一信访人、同一问题属地、同一诉求 / before 登记: the same petitioner,
    place and request (R11/R12, DOMAIN.md §11: trivial variation still matches)."""

    petitioner: MatchPetitioner
    place: str = m.text("place", "问题属地（行政区划代码）/ place (division code)", required=True)
    request: str = m.text("request", "诉求 / request", required=True)


class Match(BaseModel):
    """A case of the same matter: `final` (复核终结, R11: not accepted again) or
    `in_progress` (R12: a superior does not accept it again); else concluded."""

    case_id: str = Field(examples=["150400-2026-000001"])
    status: str = Field(examples=["ACCEPTED"])
    final: bool
    in_progress: bool


class Matches(BaseModel):
    matches: list[Match]


def _file(body: Json, now: datetime) -> CaseFile:
    """The parts of a registration that identify its matter; the rest is neutral filler
    (matter_parts reads only the name, place and request; same_matter the contact)."""
    if not isinstance(body, dict) or not isinstance(body.get("petitioner"), dict):
        raise InvalidInput("请求体须含 petitioner 对象 / the body needs a petitioner object")
    p: dict[str, Any] = body["petitioner"]
    who = Petitioner(name=p.get("name"), address=None, contact=p.get("contact"))
    return CaseFile(
        title="", channel=Channel.ONLINE, category=Category.APPEAL, petitioner=who,
        request=str(body.get("request") or ""), facts="", reasons="",
        place=str(body.get("place") or ""), received_at=now,
    )  # fmt: skip


def matches(api: NodeApi, body: Json, who: Who) -> tuple[int, Json]:
    """The handler: (200, {"matches": [...]}) in case id order."""
    file = _file(body, api.service.clock())
    found = []
    for case in api.service.same_matter_cases(file):
        try:
            api._readable(who, case.case_id)  # need-to-know: a case not theirs stays unseen
        except CaseNotFound:
            continue
        found.append(
            Match(
                case_id=case.case_id, status=case.status.value, final=case.final,
                in_progress=case.in_progress,
            ).model_dump()
        )  # fmt: skip
    return 200, {"matches": found}


def add_match_route(app: FastAPI, errors: dict[int | str, dict[str, Any]]) -> None:
    """Add `POST /api/cases/matches` (route name `case_matches`) to the node's app."""

    async def case_matches(request: Request, body: Annotated[MatchRequest, Body()]) -> JSONResponse:
        api: NodeApi = request.app.state.api
        state: dict[str, Any] = request.scope.setdefault("state", {})

        def handler(params: dict[str, str], raw: Json, who: Who) -> tuple[int, Json]:
            return matches(api, raw, who)

        status, payload = api.call(handler, {}, request.scope.get(BODY_KEY), state.get("principal"))
        return JSONResponse(payload, status_code=status)

    app.add_api_route(
        "/api/cases/matches",
        case_matches,
        methods=["POST"],
        name=ROUTE,
        operation_id="caseMatches",
        tags=["cases"],
        summary="登记前查重（同一信访事项）/ the same matter already known, before 登记",
        description=MatchRequest.__doc__ or "",
        responses={200: {"model": Matches, "description": "同一事项 / same matter"}, **errors},
    )

"""`GET /api/topology/bodies?division=`: the bodies of a place, which the 登记 page offers as
suggested competent bodies (有权处理机关) once the registrar picks the place (issue 16 item 2;
Art. 21: 按照属地管理、分级负责 the petition goes to the bodies where the problem arose).

Registrars only (identity/policy.py ROUTES "topology_bodies"); `division` must be a place this
node registers for (itself or a child, as the node's OpenAPI enum of `place`), else 422
XF-INVALID-INPUT. Answers from the node's topology: no case data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..domain.errors import InvalidInput
from ..domain.topology import BodyKind

if TYPE_CHECKING:
    from .handlers import Json, NodeApi, Who

ROUTE = "topology_bodies"  # the route name of identity/policy.py ROUTES


class SuggestedBody(BaseModel):
    id: str = Field(examples=["150404.zj"])
    name: str = Field(examples=["松山区住房和城乡建设局"])
    kind: str = Field(examples=["department"])


class PlaceBodies(BaseModel):
    """The place's bodies, its petition office last (it routes; the others handle)."""

    division: str = Field(examples=["150404"])
    name: str = Field(examples=["松山区"])
    bodies: list[SuggestedBody]


def place_bodies(api: NodeApi, division: str) -> tuple[int, Json]:
    """The handler: (200, PlaceBodies) or InvalidInput (422) for a place not registered here."""
    service = api.service
    own = service.division
    if division not in (own, *service.topology.children(own)):
        raise InvalidInput(
            "division 须为本级或下一级行政区划代码 / division must be this node's division or "
            "one of its children",
            field="division",
        )
    place = service.topology.division(division)
    ordered = sorted(place.bodies, key=lambda b: (b.kind is BodyKind.PETITION_OFFICE, b.id))
    answer = PlaceBodies(
        division=place.code,
        name=place.name,
        bodies=[SuggestedBody(id=b.id, name=b.name, kind=b.kind.value) for b in ordered],
    )
    return 200, answer.model_dump()


def add_topology_route(app: FastAPI, errors: dict[int | str, dict[str, Any]]) -> None:
    """Add `GET /api/topology/bodies` (route name `topology_bodies`) to the node's app."""

    async def topology_bodies(
        request: Request,
        division: Annotated[str, Query(max_length=12, description="行政区划代码 / division")],
    ) -> JSONResponse:
        api: NodeApi = request.app.state.api
        state: dict[str, Any] = request.scope.setdefault("state", {})

        def handler(params: dict[str, str], body: Json, who: Who) -> tuple[int, Json]:
            return place_bodies(api, params["division"])

        status, payload = api.call(handler, {"division": division}, None, state.get("principal"))
        return JSONResponse(payload, status_code=status)

    app.add_api_route(
        "/api/topology/bodies",
        topology_bodies,
        methods=["GET"],
        name=ROUTE,
        operation_id="placeBodies",
        tags=["topology"],
        summary="问题属地的机关（建议的有权处理机关）/ a place's bodies, suggested as competent",
        responses={200: {"model": PlaceBodies, "description": "机关 / bodies"}, **errors},
    )

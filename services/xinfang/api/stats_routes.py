"""`GET /api/stats` and `GET /api/stats.xlsx`: 统计 — the §7 assessment figures of this node's
division and its children over a period (api/stats.py), as JSON and as an Excel workbook.

Roles (identity/policy.py): supervisors (督办 and assessment are their work), registrars and
approvers (their office's and body's figures), auditors. Aggregates only: no case content.
Query: `from`, `to` (YYYY-MM-DD, Beijing, `to` exclusive; default this year to today);
a malformed or inverted period is 422 XF-INVALID-INPUT.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from ..domain.errors import XinfangError
from .errors import http_status
from .models import Error
from .stats import BEIJING, assessment, period
from .stats_xlsx import MEDIA_TYPE, workbook

From = Annotated[str | None, Query(alias="from", description="起始日期 / first day, YYYY-MM-DD")]
To = Annotated[str | None, Query(description="截止日期（不含）/ day after the last, YYYY-MM-DD")]


class RateModel(BaseModel):
    numerator: int
    denominator: int
    rate: float | None = Field(description="分子/分母；无应计事项为 null / null when none was due")


class DivisionStats(BaseModel):
    """One division's figures (audit/compliance/metrics.py DivisionMetrics)."""

    division: str
    name: str
    level: str
    registered: int
    received: int
    supervised: dict[str, int] = Field(description="被督办次数，按层级 / by ladder level")
    supervisions_issued: int
    overdue_open: int
    late: int
    timely_acceptance: RateModel
    on_time_completion: RateModel
    satisfaction: RateModel
    participation: RateModel
    repeat: RateModel
    supervision_answers: RateModel


class RateName(BaseModel):
    key: str
    zh: str
    en: str


class Stats(BaseModel):
    """The node's division first, then each child division."""

    division: str
    name: str
    from_: str = Field(alias="from")
    to: str
    as_of: str
    cases: int
    rates: list[RateName]
    divisions: list[DivisionStats]


def _figures(request: Request, start: str | None, end: str | None) -> dict[str, Any]:
    service = request.app.state.api.service
    today: date = service.context().now.astimezone(BEIJING).date()
    return assessment(service, period(start, end, today))


def add_stats_routes(app: FastAPI) -> None:
    """Add the two routes (names `stats`, `stats_xlsx`) to the node's app."""
    errors: dict[int | str, dict[str, Any]] = {
        401: {"model": Error, "description": "未登录 / not signed in (XF-AUTH-REQUIRED)"},
        403: {"model": Error, "description": "角色不允许 / not permitted (XF-FORBIDDEN)"},
        422: {"model": Error, "description": "日期错误 / bad period (XF-INVALID-INPUT)"},
    }

    @app.get(
        "/api/stats",
        name="stats",
        operation_id="getStats",
        tags=["stats"],
        summary="考核统计 / assessment figures (DOMAIN.md §7)",
        responses={200: {"model": Stats, "description": "统计 / figures"}, **errors},
    )
    async def stats(request: Request, start: From = None, to: To = None) -> JSONResponse:
        try:
            return JSONResponse(_figures(request, start, to))
        except XinfangError as err:
            return JSONResponse(err.to_dict(), status_code=http_status(err))

    @app.get(
        "/api/stats.xlsx",
        name="stats_xlsx",
        include_in_schema=False,  # a binary download: its JSON twin above is documented
        operation_id="getStatsWorkbook",
        tags=["stats"],
        summary="考核统计 Excel / the figures as .xlsx",
        responses={200: {"content": {MEDIA_TYPE: {}}, "description": ".xlsx"}, **errors},
    )
    async def stats_xlsx(request: Request, start: From = None, to: To = None) -> Response:
        try:
            figures = _figures(request, start, to)
        except XinfangError as err:
            return JSONResponse(err.to_dict(), status_code=http_status(err))
        name = f"统计_{figures['division']}_{figures['from']}_{figures['to']}.xlsx"
        disposition = f"attachment; filename=\"stats.xlsx\"; filename*=UTF-8''{quote(name)}"
        return Response(
            workbook(figures), media_type=MEDIA_TYPE,
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )  # fmt: skip

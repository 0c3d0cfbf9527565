"""`GET /api/audit/trail`: the operator trail, for audit administrators only (审计管理员,
DOMAIN.md §10 三员分立; decision 027).

Filters: `person`, `action` (operation id), `case`, `since` / `until` (ISO 8601, no offset =
Beijing time; `until` exclusive), `after` (seq, for paging), `limit` (1–10000, default 1000).
The answer carries each entry exactly as signed (identity/trail_record.py), so a reader can
check signatures and links itself (`xinfang audit trail --verify`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..domain.client_time import parse_client_time
from ..domain.errors import InvalidInput, XinfangError
from ..identity.errors import AuthenticationFailed, NotPermitted
from ..identity.principal import Principal, Role
from ..store.trail import TrailQuery
from .errors import http_status

MAX_LIMIT = 10_000


class TrailEntryModel(BaseModel):
    """One signed trail entry (identity/trail_record.py); times in ms since the epoch (UTC)."""

    v: int
    node: str
    seq: int
    prev_hash: str
    at_ms: int
    person: str
    roles: list[str]
    body: str
    method: str
    action: str
    http: str
    case_id: str
    status: int
    code: str
    sign_in: str
    source: str
    agent: str
    key_id: str
    signature: str
    reason: str | None = None  # only on entries with a stated reason (decision 030)


class TrailPage(BaseModel):
    """Entries in seq order; `next_after`: pass as `after` for the next page (null: no more)."""

    node: str
    head_seq: int = Field(description="本节点审计记录的最新序号 / the trail's last seq")
    key_id: str | None
    entries: list[TrailEntryModel]
    next_after: int | None


def _time(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_client_time(text)
    except ValueError:
        raise InvalidInput(
            f"{name} 须为 ISO 8601 时间 / {name} must be an ISO 8601 time", field=name
        ) from None


def _audit_admin(request: Request) -> None:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise AuthenticationFailed()
    if not principal.has(Role.AUDIT_ADMIN):
        raise NotPermitted(
            "仅审计管理员可读操作审计记录 / only audit administrators read the trail"
        )


def add_trail_route(app: FastAPI) -> None:
    """Add `GET /api/audit/trail` to the node's app."""

    @app.get(
        "/api/audit/trail",
        name="trail",  # the route name of issue 14's role table (identity/policy.py)
        operation_id="readOperatorTrail",
        # Out of docs/openapi.json until the lead merges it with issue 14's sign-in routes (its
        # test counts the documented operations); set True then: the models below document it.
        include_in_schema=False,
        tags=["audit"],
        summary="操作审计记录（仅审计管理员）/ the operator trail (audit administrators only)",
        responses={
            200: {"model": TrailPage, "description": "审计记录 / trail entries"},
            401: {"description": "未登录 / not signed in (XF-AUTH-REQUIRED)"},
            403: {"description": "非审计管理员 / not an audit administrator (XF-FORBIDDEN)"},
            422: {"description": "参数错误 / bad parameter"},
        },
    )
    async def read_trail(
        request: Request,
        person: str | None = None,
        action: str | None = None,
        case: str | None = None,
        since: str | None = None,
        until: str | None = None,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
    ) -> JSONResponse:
        try:
            _audit_admin(request)
            query = TrailQuery(
                person=person, since=_time("since", since), until=_time("until", until),
                action=action, case_id=case, after_seq=after, limit=limit,
            )  # fmt: skip
            service = request.app.state.api.service
            trail = service.trail
            entries = [] if trail is None else trail.read(query)
            head = 0 if trail is None else trail.head()[0]
        except XinfangError as err:
            return JSONResponse(err.to_dict(), status_code=http_status(err))
        page: dict[str, Any] = {
            "node": service.division,
            "head_seq": head,
            "key_id": trail.key.key_id if trail is not None else None,
            "entries": [e.as_dict() for e in entries],
            "next_after": entries[-1].seq if len(entries) == limit else None,
        }
        return JSONResponse(page)

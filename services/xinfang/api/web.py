"""The node's web layer: a FastAPI (ASGI) app, served by uvicorn in the node's event loop
(decision 019). Routes declare their bodies with the models of api/models.py, from which both
validation and the OpenAPI 3.1 document come; the handlers are NodeApi's (api/handlers.py).

Refusals are the error model (code, message_zh, message_en, context) with the status of the
error's family; a body the models refuse keeps the code it has always had (api/validation.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from ..commands import COMMANDS
from ..commands.limits import IDEMPOTENCY_KEY_PATTERN, MAX_BODY_BYTES, MAX_IDEMPOTENCY_KEY_CHARS
from ..identity.principal import Principal
from ..store.idempotency import RETENTION
from . import case_list as cl
from . import models as m
from .audit_status_routes import add_audit_status_route
from .auth import Guard
from .console import mount_console
from .document_routes import add_document_routes
from .errors import http_status
from .gate import BODY_KEY, Gate
from .match_routes import add_match_route
from .oidc_config_routes import add_oidc_config_route
from .personal_routes import add_personal_routes
from .session_routes import add_session_routes
from .stats_routes import add_stats_routes
from .topology_routes import add_topology_route
from .trail import TrailRecorder
from .trail_routes import add_trail_route
from .validation import refusal

if TYPE_CHECKING:
    from .handlers import Handler, NodeApi

TITLE = "xinfang 节点 API / node API"
DESCRIPTION = (
    "信访事项跨层级流转系统节点接口；拒绝时返回稳定的错误码 (XF-…) 与中英文说明。"
    "不带时区的时间按北京时间理解。/ The HTTP API of one xinfang node; every refusal carries a "
    "stable code (XF-…) with Chinese and English messages. A time without an offset is "
    "Beijing time."
)
VERSION = "0.1.0"


def _error(doc: str) -> dict[str, Any]:
    return {"model": m.Error, "description": doc}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("未登录或凭据无效 / not signed in (XF-AUTH-REQUIRED)"),
    403: _error("角色不允许 / not permitted for this person's roles (XF-FORBIDDEN)"),
    404: _error("没有该事项，或不在本人知悉范围 / no such case, or not this person's to see"),
    500: _error("内部错误 / internal error (XF-INTERNAL)"),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("不是合法的 JSON 或嵌套过深 / invalid JSON, nested too deeply"),
    401: _error("未登录或凭据无效 / not signed in (XF-AUTH-REQUIRED)"),
    403: _error(
        "角色或机关无权执行，或跨站请求 / not permitted for this person's roles or body "
        "(XF-FORBIDDEN), or a cross-site request (XF-CSRF)"
    ),
    404: _error("没有该事项 / no such case"),
    409: _error("违反规则，或同一幂等键的请求曾中断 / refused by a rule; interrupted key"),
    413: _error(f"请求体超过 {MAX_BODY_BYTES} 字节 / body over {MAX_BODY_BYTES} bytes"),
    422: _error("输入错误、字段过长、超出范围 / bad input, too long, out of range"),
    500: _error("内部错误 / internal error (XF-INTERNAL)"),
    503: _error("缺少该年节假日安排 / the year's holiday schedule is missing"),
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "幂等键：同一键与同一请求返回首次的应答（含状态码），同一键用于不同请求返回 422 "
        "XF-IDEMPOTENCY-KEY-REUSED；保存于节点数据库，保留 "
        f"{RETENTION.days} 日 / the same key and request return the first answer with its "
        "status; the key with another request is refused (422); kept in the node's database "
        f"for {RETENTION.days} days"
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_IDEMPOTENCY_KEY_CHARS,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
}
KEYED = {"parameters": [IDEMPOTENCY_KEY]}
CaseId = Annotated[str, Path(description="事项编号 / case id", examples=["150400-2026-000001"])]


def _api(request: Request) -> NodeApi:
    api: NodeApi = request.app.state.api
    return api


def _who(request: Request) -> Principal | None:
    """The signed-in person the Guard (api/auth.py) left in the request state."""
    who: Principal | None = request.scope.get("state", {}).get("principal")
    return who


def _answer(request: Request, handler: Handler, params: dict[str, str]) -> JSONResponse:
    api = _api(request)
    status, payload = api.call(handler, params, request.scope.get(BODY_KEY), _who(request))
    return JSONResponse(payload, status_code=status)


def _with_body(endpoint: Callable[..., Any], model: type[BaseModel], optional: bool = False) -> Any:
    """`endpoint` with its `body` parameter typed `model`: FastAPI reads the signature, so the
    one declaration validates the body and documents it."""
    signature = inspect.signature(endpoint)
    kind: Any = model | None if optional else model
    body = signature.parameters["body"].replace(
        annotation=Annotated[kind, Body()],
        default=None if optional else inspect.Parameter.empty,
    )
    parameters = [p for p in signature.parameters.values() if p.name != "body"] + [body]
    endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return endpoint


def _command_route(app: FastAPI, name: str, zh: str, en: str, rule: str) -> None:
    model = m.COMMAND_BODIES[name]

    async def endpoint(request: Request, case_id: CaseId, body: Any) -> JSONResponse:
        api = _api(request)
        return _answer(request, api.command, {"case_id": case_id, "command": name})

    endpoint.__name__ = "case_" + name.replace("-", "_")
    app.add_api_route(
        f"/api/cases/{{case_id}}/{name}",
        _with_body(endpoint, model),
        methods=["POST"],
        name=name,
        operation_id="case" + "".join(part.title() for part in name.split("-")),
        summary=f"{zh} / {en} ({rule})",
        description=model.__doc__ or "",
        responses={200: {"model": m.Recorded, "description": "已记录 / recorded"}, **WRITE_ERRORS},
        openapi_extra=KEYED,
        tags=["cases"],
    )


def build_app(api: NodeApi | None = None) -> FastAPI:
    """The app; `api` answers its requests (None: only to generate the document)."""
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        openapi_url=None,  # served by the node itself, with its bodies (NodeApi.openapi)
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = api

    @app.get(
        "/health",
        operation_id="health",
        summary="节点状态 / node status",
        tags=["node"],
        responses={200: {"model": m.Health, "description": "ok"}, 500: READ_ERRORS[500]},
    )
    async def health(request: Request) -> JSONResponse:
        return _answer(request, _api(request).health, {})

    @app.get(
        "/api/cases",
        operation_id="listCases",
        tags=["cases"],
        summary="本节点已知的事项 / cases known here",
        responses={
            200: {"model": cl.CasePage, "description": "列表 / one page"},
            422: _error("分页或筛选参数越界 / a paging or filter parameter out of bounds"),
            500: READ_ERRORS[500],
        },
    )
    async def list_cases(
        request: Request, limit: cl.Limit = cl.MAX_LIMIT, offset: cl.Offset = 0,
        sort: cl.Sort = "case_id", mine: cl.Mine = False, category: cl.CategoryParam = None,
        urgency: cl.UrgencyParam = None, q: cl.Search = None,
    ) -> JSONResponse:  # fmt: skip
        params = {"limit": str(limit), "offset": str(offset), "sort": sort}
        optional = {
            "mine": "true" if mine else None, "category": category.value if category else None,
            "urgency": urgency, "q": q,
        }  # fmt: skip
        params.update({k: v for k, v in optional.items() if v is not None})
        return _answer(request, _api(request).list_cases, params)

    async def register(request: Request, body: Any) -> JSONResponse:
        return _answer(request, _api(request).register, {})

    app.add_api_route(
        "/api/cases",
        _with_body(register, m.RegisterRequest),
        methods=["POST"],
        name="register",
        operation_id="registerCase",
        summary="登记 / register a petition (R1, R11–R15)",
        description=m.RegisterRequest.__doc__ or "",
        status_code=201,
        tags=["cases"],
        responses={
            201: {"model": m.Registered, "description": "已登记 / registered"},
            **WRITE_ERRORS,
        },
        openapi_extra=KEYED,
    )

    @app.get(
        "/api/cases/{case_id}",
        operation_id="getCase",
        tags=["cases"],
        summary="事项状态 / case state",
        responses={200: {"model": m.CaseView, "description": "事项 / case"}, **READ_ERRORS},
    )
    async def get_case(request: Request, case_id: CaseId) -> JSONResponse:
        return _answer(request, _api(request).get_case, {"case_id": case_id})

    @app.get(
        "/api/cases/{case_id}/timeline",
        operation_id="getTimeline",
        tags=["cases"],
        summary="本节点所见时间线 / timeline as stored here",
        responses={200: {"model": m.Timeline, "description": "时间线 / timeline"}, **READ_ERRORS},
    )
    async def timeline(request: Request, case_id: CaseId) -> JSONResponse:
        return _answer(request, _api(request).timeline, {"case_id": case_id})

    for command in COMMANDS:
        _command_route(app, command.name, command.zh, command.en, command.rule)

    @app.post(
        "/admin/sweep",
        operation_id="sweepDeadlines",
        tags=["admin"],
        summary="立即检查期限 / run the deadline watcher now",
        responses={200: {"model": m.Swept, "description": "ok"}, **WRITE_ERRORS},
        openapi_extra=KEYED,
    )
    async def sweep(request: Request) -> JSONResponse:
        return _answer(request, _api(request).sweep, {})

    async def checkpoint(request: Request, body: Any = None) -> JSONResponse:
        return _answer(request, _api(request).checkpoint, {})

    app.add_api_route(
        "/admin/checkpoint",
        _with_body(checkpoint, m.CheckpointRequest, optional=True),
        methods=["POST"],
        name="checkpoint",
        operation_id="signCheckpoint",
        tags=["admin"],
        summary="立即签署日志检查点 / sign a checkpoint of the log head now",
        responses={200: {"model": m.Checkpointed, "description": "ok"}, **WRITE_ERRORS},
        openapi_extra=KEYED,
    )

    add_document_routes(app, READ_ERRORS)  # the statutory documents (decision 033)
    add_personal_routes(app, WRITE_ERRORS)  # POST …/personal-data, with a reason (030)
    add_match_route(app, WRITE_ERRORS)  # POST /api/cases/matches: R11/R12 before 登记
    add_topology_route(  # GET /api/topology/bodies: a place's bodies
        app, {**READ_ERRORS, 422: _error("不是本级或下一级行政区划 / not this division or a child")}
    )
    add_trail_route(app)  # GET /api/audit/trail, audit administrators only (decision 027)
    add_stats_routes(app)  # GET /api/stats, /api/stats.xlsx: 统计 (decision 034)
    add_audit_status_route(app)  # GET /api/audit/status: 审计 (decision 034)
    add_oidc_config_route(app)  # GET /api/session/oidc: the console's OIDC sign-in (035)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        return _answer(request, _api(request).openapi, {})

    add_session_routes(app, READ_ERRORS[401], WRITE_ERRORS)
    mount_console(app)  # the staff console at / (decision 029): after every API route
    app.add_exception_handler(RequestValidationError, _invalid_body)
    app.add_exception_handler(HTTPException, _no_route)
    if api is not None:
        app.add_middleware(Gate, once=api.once)
        # around the Gate: nobody unauthenticated reaches the replay of a keyed answer
        app.add_middleware(Guard, get_auth=lambda: api.auth, router=app)
        # outermost: every answer, the Gate's and authentication's included (decision 027)
        app.add_middleware(TrailRecorder, trail=lambda: api.service.trail)
    return app


async def _invalid_body(request: Request, exc: Exception) -> JSONResponse:
    """A body the models refuse: today's parser words the refusal when it refuses too (same
    code, message and context as ever), else the mapping of api/validation.py."""
    assert isinstance(exc, RequestValidationError)
    route = request.scope.get("route")
    name = getattr(route, "name", "")
    params = {k: str(v) for k, v in request.path_params.items()}
    api = _api(request)
    body = request.scope.get(BODY_KEY)
    err = api.refusal(name, params, body, _who(request)) or refusal(exc.errors())
    return JSONResponse(err.to_dict(), status_code=http_status(err))


async def _no_route(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        payload = {
            "code": "XF-METHOD-NOT-ALLOWED",
            "message_zh": "该接口不支持此方法",
            "message_en": "Method not allowed on this route",
        }
    elif exc.status_code == 404:
        payload = {"code": "XF-NO-ROUTE", "message_zh": "没有该接口", "message_en": "No such route"}
    else:
        payload = {"code": "XF-HTTP", "message_zh": "请求错误", "message_en": str(exc.detail)}
    return JSONResponse(payload, status_code=exc.status_code, headers=exc.headers)

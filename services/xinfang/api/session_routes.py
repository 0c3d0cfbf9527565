"""Sign-in routes of built-in accounts (decision 025): `POST /api/session`,
`DELETE /api/session`, `GET /api/me`.

A sign-in answers with an HttpOnly, SameSite=Strict session cookie (Secure over TLS), a
readable CSRF cookie, and the same session token in the body for `Authorization: Bearer`
(CLI, scripts). Sign-in attempts leave `request.state.sign_in = (person claimed, ok)` for
the operator trail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..domain.errors import XinfangError
from ..identity.errors import SignInThrottled
from ..identity.sessions import COOKIE, CSRF_COOKIE
from . import models as m
from .auth import request_cookies, request_headers
from .errors import http_status
from .gate import BODY_KEY

if TYPE_CHECKING:
    from .handlers import NodeApi


def _api(request: Request) -> NodeApi:
    api: NodeApi = request.app.state.api
    return api


def _state(request: Request) -> dict[str, Any]:
    state: dict[str, Any] = request.scope.setdefault("state", {})
    return state


async def sign_in(request: Request, body: m.SignInRequest) -> JSONResponse:
    api = _api(request)
    auth = api.auth
    address = (request.client.host if request.client else "") or "-"
    _state(request)["sign_in"] = (body.person, False)
    try:
        done = auth.sign_in(body.person, body.password, body.totp, address)
    except XinfangError as err:
        headers = {}
        if isinstance(err, SignInThrottled):
            headers["Retry-After"] = str(err.context.get("retry_after", 60))
        return JSONResponse(err.to_dict(), status_code=http_status(err), headers=headers)
    _state(request)["sign_in"] = (body.person, True)
    _state(request)["principal"] = done.principal
    who = done.principal
    expires = auth.accounts.clock() + auth.settings.policy.lifetime
    payload = {
        "person": who.person,
        "name": who.name,
        "division": who.division,
        "body": who.body,
        "roles": sorted(r.value for r in who.roles),
        "method": who.method.value,
        "token": done.token,
        "csrf_token": done.csrf,
        "expires_at": expires.isoformat(),
    }
    response = JSONResponse(payload, status_code=200)
    secure = auth.secure(request.scope, request_headers(request.scope))
    age = int(auth.settings.policy.lifetime.total_seconds())
    response.set_cookie(
        COOKIE, done.token, max_age=age, path="/", secure=secure, httponly=True, samesite="strict"
    )
    response.set_cookie(
        CSRF_COOKIE, done.csrf, max_age=age, path="/", secure=secure, httponly=False,
        samesite="strict",
    )  # fmt: skip
    return response


def add_session_routes(
    app: FastAPI, unauthenticated: dict[str, Any], write_errors: dict[int | str, dict[str, Any]]
) -> None:
    """The three routes on `app` (names sign_in, sign_out, me: identity/policy.py)."""
    app.add_api_route(
        "/api/session",
        sign_in,
        methods=["POST"],
        name="sign_in",
        operation_id="signIn",
        tags=["session"],
        summary="登录 / sign in (password + TOTP)",
        description=m.SignInRequest.__doc__ or "",
        responses={
            200: {"model": m.SignedIn, "description": "已登录 / signed in"},
            400: write_errors[400],
            401: unauthenticated,
            413: write_errors[413],
            422: write_errors[422],
            429: {"model": m.Error, "description": "尝试过频 / too many attempts"},
        },
    )

    @app.delete(
        "/api/session",
        name="sign_out",
        operation_id="signOut",
        tags=["session"],
        summary="退出登录 / sign out",
        responses={200: {"model": m.SignedOut, "description": "ok"}, 401: unauthenticated},
    )
    async def sign_out(request: Request) -> JSONResponse:
        headers = request_headers(request.scope)
        _api(request).auth.sign_out(headers, request_cookies(headers))
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @app.get(
        "/api/me",
        name="me",
        operation_id="me",
        tags=["session"],
        summary="当前登录人员 / the signed-in person",
        responses={200: {"model": m.Me, "description": "ok"}, 401: unauthenticated},
    )
    async def me(request: Request) -> JSONResponse:
        api = _api(request)
        status, payload = api.call(api.me, {}, request.scope.get(BODY_KEY), _who(request))
        return JSONResponse(payload, status_code=status)


def _who(request: Request) -> Any:
    return request.scope.get("state", {}).get("principal")

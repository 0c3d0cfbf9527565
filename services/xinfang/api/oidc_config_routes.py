"""GET /api/session/oidc: what the staff console needs to offer 统一身份认证登录 (issue 16 item 2,
decisions 026 and 035) — the issuer the node trusts, the public client and the scope.

Public (identity/policy.py PUBLIC): the login page asks before anyone is signed in. It answers
from the node's authenticator chain (bootstrap's, XINFANG_OIDC_ISSUER / _CLIENT_ID), not from
the environment again, so it says exactly what the node will accept. No network: the browser
reads the provider's endpoints from its discovery document itself. A node without an issuer
answers 200 `{"configured": false}` (nothing is wrong, and a 404 would be an error in every
browser console), and the page shows only the built-in sign-in.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..identity.oidc import OidcAuthenticator

SCOPE = "openid profile"
"""`openid` for the ID token (its `id_token_hint` ends the provider's session on sign-out);
`profile` for the display name. Roles and the body come with the client's own mappers."""


class OidcConfig(BaseModel):
    """The provider the console signs in with: authorization code + PKCE (S256) against the
    authorization endpoint of `issuer`'s discovery document, as the public client
    `client_id`, asking for `scope`; the access token then goes to this node as Bearer."""

    configured: bool = Field(description="本节点是否配置了统一身份认证 / has a provider")
    issuer: str | None = Field(default=None, examples=["https://idp.example.cn/realms/xinfang"])
    client_id: str | None = Field(default=None, examples=["xinfang"])
    scope: str | None = Field(default=None, examples=[SCOPE])


def oidc_config(authenticators: list[Any]) -> OidcConfig | None:
    """The console's OIDC settings from the node's authenticator chain (None: no provider)."""
    for authenticator in authenticators:
        if isinstance(authenticator, OidcAuthenticator):
            settings = authenticator.settings
            return OidcConfig(
                configured=True, issuer=settings.issuer, client_id=settings.client_id, scope=SCOPE
            )
    return None


def add_oidc_config_route(app: FastAPI) -> None:
    """GET /api/session/oidc (route name `oidc_config`) on `app`."""

    @app.get(
        "/api/session/oidc",
        name="oidc_config",
        operation_id="oidcConfig",
        tags=["session"],
        summary="统一身份认证登录的设置 / the OIDC provider the console signs in with",
        responses={
            200: {"model": OidcConfig, "description": "设置，或未配置 / the settings, or none"},
        },
    )
    async def oidc_config_route(request: Request) -> JSONResponse:
        api = request.app.state.api
        found = oidc_config(api.auth.authenticators) if api is not None else None
        if found is None:
            return JSONResponse({"configured": False})
        return JSONResponse(found.model_dump())

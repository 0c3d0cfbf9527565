"""The one place that authenticates and authorises a request (issue 14, decision 025).

`Guard` is the outermost ASGI middleware of the node's app. For every HTTP request it

1. checks `Host` against the configured names (400 XF-HOST-NOT-ALLOWED);
2. runs the `Authenticator` chain it is given (the node's sessions first, then e.g. OIDC) and
   leaves the person in `scope["state"]["principal"]` (Starlette's `request.state.principal`;
   None when not signed in) — the operator trail reads it after the answer;
3. refuses a route of identity/policy.py to a caller not signed in (401 XF-AUTH-REQUIRED)
   or without a role for it (403 XF-FORBIDDEN); an unknown route goes on to its 404;
4. for a state-changing request borne by the session cookie (not a bearer token): requires
   a JSON body, an `Origin` (or `Referer`) of the node's own origin or a configured one, and
   the session's `X-CSRF-Token` (403 XF-CSRF).

`Auth` also signs in (`POST /api/session`): rate limits per source address and per account
(429 XF-SIGN-IN-THROTTLED), password + TOTP (identity/accounts.py), a server-side session;
it leaves `scope["state"]["sign_in"] = (person claimed, ok)` for the trail.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from starlette.routing import Match

from ..domain.errors import XinfangError
from ..identity.accounts import AccountBook, AccountPolicy
from ..identity.errors import (
    AuthenticationFailed,
    CsrfRefused,
    HostNotAllowed,
    NotPermitted,
    SignInThrottled,
)
from ..identity.policy import PUBLIC, allowed
from ..identity.principal import Authenticator, Principal
from ..identity.sessions import (
    COOKIE,
    CSRF_HEADER,
    SessionBook,
    bearer,
    csrf_token,
)
from ..identity.throttle import Throttle
from .errors import http_status

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _names(raw: str | None) -> frozenset[str] | None:
    items = frozenset(x.strip().lower() for x in (raw or "").split(",") if x.strip())
    return items or None


@dataclass(frozen=True)
class AuthSettings:
    """Sign-in settings (environment, all optional):

    - XINFANG_ALLOWED_HOSTS: comma list of host names the node answers to (no port);
      unset: any (put the node behind a proxy that checks, or set it).
    - XINFANG_ALLOWED_ORIGINS: comma list of origins (`https://xf.example.cn`) whose pages may
      send cookie-borne writes; unset: only the node's own origin (its Host).
    - XINFANG_SIGNIN_MAX_FAILURES (5), XINFANG_SIGNIN_LOCKOUT_MINUTES (15): lock-out.
    - XINFANG_SESSION_IDLE_MINUTES (30), XINFANG_SESSION_HOURS (12): session limits.
    - XINFANG_SIGNIN_PER_ADDRESS (30), XINFANG_SIGNIN_PER_ACCOUNT (10): attempts a minute.
    - XINFANG_SECURE_COOKIE (1/0): the cookie's Secure flag; default: when the request came
      over TLS (or a proxy said so with X-Forwarded-Proto: https).
    """

    allowed_hosts: frozenset[str] | None = None
    allowed_origins: frozenset[str] | None = None
    policy: AccountPolicy = field(default_factory=AccountPolicy)
    per_address: int = 30
    per_account: int = 10
    secure_cookie: bool | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if env is None else env

        def number(key: str, default: float) -> float:
            raw = env.get(key)
            try:
                value = float(raw) if raw else default
            except ValueError:
                raise ValueError(f"{key}: 须为数字 / must be a number, got {raw!r}") from None
            if value <= 0:
                raise ValueError(f"{key}: 须大于 0 / must be positive, got {raw!r}")
            return value

        secure = env.get("XINFANG_SECURE_COOKIE")
        return cls(
            allowed_hosts=_names(env.get("XINFANG_ALLOWED_HOSTS")),
            allowed_origins=_names(env.get("XINFANG_ALLOWED_ORIGINS")),
            policy=AccountPolicy(
                max_failures=int(number("XINFANG_SIGNIN_MAX_FAILURES", 5)),
                lockout=timedelta(minutes=number("XINFANG_SIGNIN_LOCKOUT_MINUTES", 15)),
                idle=timedelta(minutes=number("XINFANG_SESSION_IDLE_MINUTES", 30)),
                lifetime=timedelta(hours=number("XINFANG_SESSION_HOURS", 12)),
            ),
            per_address=int(number("XINFANG_SIGNIN_PER_ADDRESS", 30)),
            per_account=int(number("XINFANG_SIGNIN_PER_ACCOUNT", 10)),
            secure_cookie=None if not secure else secure not in ("0", "false", "no"),
        )


@dataclass(frozen=True)
class SignedIn:
    """A new session: its token (cookie and bearer), its CSRF token and the person."""

    token: str
    csrf: str
    principal: Principal


class Auth:
    """Sign-in and the authenticator chain of one node (`authenticators`: built-in sessions
    first; bootstrap may append others, e.g. OIDC)."""

    def __init__(
        self,
        accounts: AccountBook,
        settings: AuthSettings | None = None,
        authenticators: Sequence[Authenticator] | None = None,
    ) -> None:
        self.settings = settings or AuthSettings()
        self.accounts = accounts
        self.sessions = SessionBook(accounts)
        self.authenticators: list[Authenticator] = list(authenticators or [self.sessions])
        self.by_address = Throttle(self.settings.per_address)
        self.by_account = Throttle(self.settings.per_account)

    def authenticate(self, headers: dict[str, str], cookies: dict[str, str]) -> Principal | None:
        """The first authenticator's principal; AuthenticationFailed when one refuses."""
        for authenticator in self.authenticators:
            principal = authenticator.authenticate(headers, cookies)
            if principal is not None:
                return principal
        return None

    def sign_in(self, person: str, password: str, code: str, address: str) -> SignedIn:
        """Check the rate limits, the password and TOTP; open a session. Raises
        SignInThrottled (429), AccountLocked / TotpNotEnrolled / AuthenticationFailed (401)."""
        self.by_address.check(address)
        self.by_account.check(person)
        principal = self.accounts.check(person, password, code)
        token = self.sessions.open(principal.person)
        return SignedIn(token, csrf_token(token), principal)

    def sign_out(self, headers: dict[str, str], cookies: dict[str, str]) -> None:
        token = bearer(headers) or cookies.get(COOKIE)
        if token:
            self.sessions.close(token)

    # -- checks of the Guard ------------------------------------------------------------
    def check_host(self, headers: dict[str, str]) -> None:
        hosts = self.settings.allowed_hosts
        if hosts is None:
            return
        host = _hostname(headers.get("host", ""))
        if host not in hosts:
            raise HostNotAllowed(host=host)

    def check_csrf(self, scope: Scope, headers: dict[str, str], cookies: dict[str, str]) -> None:
        """A cookie-borne write: JSON body, own (or allowed) origin, the session's CSRF token."""
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if scope["method"] == "POST" and kind != "application/json":  # no text/plain forms
            raise CsrfRefused("须为 application/json / the body must be application/json")
        origin = headers.get("origin") or _origin_of(headers.get("referer", ""))
        if not origin or origin.lower() not in self._origins(scope, headers):
            raise CsrfRefused(f"来源 / origin {origin or '-'}")
        token = cookies.get(COOKIE, "")
        sent = headers.get(CSRF_HEADER, "")
        if not token or not hmac.compare_digest(sent.encode(), csrf_token(token).encode()):
            raise CsrfRefused("X-CSRF-Token")

    def _origins(self, scope: Scope, headers: dict[str, str]) -> frozenset[str]:
        if self.settings.allowed_origins is not None:
            return self.settings.allowed_origins
        return frozenset({f"{_scheme(scope, headers)}://{headers.get('host', '').lower()}"})

    def secure(self, scope: Scope, headers: dict[str, str]) -> bool:
        """Whether the session cookie gets the Secure flag."""
        if self.settings.secure_cookie is not None:
            return self.settings.secure_cookie
        return _scheme(scope, headers) == "https"


def _scheme(scope: Scope, headers: dict[str, str]) -> str:
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded or str(scope.get("scheme", "http"))


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def request_headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (the last of repeated ones)."""
    return {
        bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1") for k, v in scope["headers"]
    }


def request_cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no credential
        return {}
    return {k: m.value for k, m in jar.items()}


def matched_route(app: Any, scope: Scope) -> Any | None:
    """The route `scope` fully matches (path and method), or None."""
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


class Guard:
    """Authentication and authorisation in front of every route of `app` (see module doc).
    `auth` is looked up per request (`get_auth`), so the app can be built before the node."""

    def __init__(self, app: App, get_auth: Callable[[], Auth], router: Any) -> None:
        self.app, self.get_auth, self.router = app, get_auth, router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state.setdefault("principal", None)
        try:
            self.check(scope, state)
        except XinfangError as err:
            await _refuse(send, err)
            return
        await self.app(scope, receive, send)

    def check(self, scope: Scope, state: MutableMapping[str, Any]) -> None:
        auth = self.get_auth()
        headers = request_headers(scope)
        auth.check_host(headers)
        found = matched_route(self.router, scope)
        route = str(found.name) if found is not None else None
        if found is not None:
            scope["route"] = found  # the operator trail names a refused act too (decision 027)
        cookies = request_cookies(headers)
        try:
            principal = auth.authenticate(headers, cookies)
        except AuthenticationFailed:
            if route in PUBLIC:  # a stale cookie does not block signing in again
                return
            raise
        state["principal"] = principal
        if route is None or route in PUBLIC:
            return
        if principal is None:
            raise AuthenticationFailed()
        cookie_borne = bearer(headers) is None and COOKIE in cookies
        if cookie_borne and scope["method"] not in SAFE_METHODS:
            auth.check_csrf(scope, headers, cookies)
        if not allowed(principal, route):
            raise NotPermitted(
                f"{route}: {', '.join(sorted(r.value for r in principal.roles))}",
                route=route,
                body=principal.body,
            )


async def _refuse(send: Send, err: XinfangError) -> None:
    status = http_status(err)
    body = json.dumps(err.to_dict(), ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if isinstance(err, SignInThrottled):
        headers.append((b"retry-after", str(err.context.get("retry_after", 60)).encode()))
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="xinfang"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""Server-side sessions of built-in accounts, and the `Authenticator` that reads them.

A session token is 256 random bits (URL-safe base64, no dots, so never mistaken for a JWT);
the database keeps only its SHA-256. The same token is the HttpOnly cookie of a browser and
the bearer token of the CLI and scripts. A session ends when unused for `policy.idle`
(等保 8.1.4.1: idle timeout), `policy.lifetime` after sign-in, at sign-out, or when its
account is locked. The CSRF token of a cookie session is derived from the session token
(HMAC), so it needs no storage and is worthless without the HttpOnly cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from ..store.account_tables import account_sessions as table
from .accounts import AccountBook, _utc
from .errors import AuthenticationFailed
from .principal import Principal

COOKIE = "xf_session"  # HttpOnly, SameSite=Strict
CSRF_COOKIE = "xf_csrf"  # readable by the page's script, sent back as X-CSRF-Token
CSRF_HEADER = "x-csrf-token"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token bound to session `token`."""
    return hmac.new(token.encode("utf-8", "surrogatepass"), b"xinfang csrf", "sha256").hexdigest()


def bearer(headers: dict[str, str]) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def session_token(headers: dict[str, str], cookies: dict[str, str]) -> str | None:
    """The built-in session token a request carries (bearer first, then the cookie); a bearer
    JWT (with dots) is not ours and left to the OIDC authenticator."""
    token = bearer(headers)
    if token is not None:
        return None if "." in token else token
    return cookies.get(COOKIE) or None


class SessionBook:
    """Sessions of `accounts`, on the same database and clock; an `Authenticator`."""

    def __init__(self, accounts: AccountBook) -> None:
        self.accounts = accounts
        self.engine = accounts.engine

    def open(self, person: str) -> str:
        """A new session for `person`: the token (given once, stored hashed)."""
        now = self.accounts.clock()
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.expires_at < now))  # ended ones
            conn.execute(
                insert(table).values(
                    token_hash=token_hash(token),
                    person=person,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self.accounts.policy.lifetime,
                )
            )
        return token

    def close(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.token_hash == token_hash(token)))

    def close_all(self, person: str) -> None:
        """End every session of `person` (lock, password reset, new grant)."""
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.person == person))

    def resolve(self, token: str) -> Principal:
        """The principal of a live session; AuthenticationFailed (401) for an unknown, idle,
        expired or locked one. Touches the session (idle timeout counts from now)."""
        now = self.accounts.clock()
        key = token_hash(token)
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.token_hash == key)).one_or_none()
        if row is None:
            raise AuthenticationFailed("会话不存在或已结束 / no such session, or it has ended")
        if _ended(row.last_seen_at, row.expires_at, now, self.accounts.policy.idle):
            self.close(token)
            raise AuthenticationFailed("会话已超时 / the session timed out")
        principal = self.accounts.principal(row.person)
        if principal is None:
            raise AuthenticationFailed("账户已锁定 / the account is locked")
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.token_hash == key).values(last_seen_at=now))
        return principal

    def authenticate(self, headers: dict[str, str], cookies: dict[str, str]) -> Principal | None:
        """`Authenticator`: None without a built-in session token, else its principal."""
        token = session_token(headers, cookies)
        return None if token is None else self.resolve(token)


def _ended(last_seen: datetime, expires: datetime, now: datetime, idle: timedelta) -> bool:
    seen, until = _utc(last_seen), _utc(expires)
    assert seen is not None and until is not None
    return now >= until or now - seen >= idle

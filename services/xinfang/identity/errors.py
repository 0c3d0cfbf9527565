"""Refusals of sign-in and authorisation: 401 (who are you?) and 403 (not for you)."""

from __future__ import annotations

from ..domain.errors import AccessError


class AuthenticationFailed(AccessError):
    """No valid credential: missing, expired, tampered, from an unknown issuer or key, or a
    locked account. HTTP 401."""

    code = "XF-AUTH-REQUIRED"
    zh = "需要登录或登录凭据无效"
    en = "Sign-in required, or the credential is not valid"


class NotPermitted(AccessError):
    """A signed-in person whose roles or body do not allow the act or read. HTTP 403."""

    code = "XF-FORBIDDEN"
    zh = "无权执行此操作"
    en = "Not permitted for this person's roles or body"

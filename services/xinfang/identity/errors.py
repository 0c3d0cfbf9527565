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


class AccountLocked(AuthenticationFailed):
    """Sign-in refused: the account is locked, after repeated failures (until `until`) or by
    an administrator. HTTP 401 (GB/T 22239-2019 8.1.4.1 c: lock-out after failures)."""

    code = "XF-ACCOUNT-LOCKED"
    zh = "账户已锁定"
    en = "The account is locked"


class TotpNotEnrolled(AuthenticationFailed):
    """Sign-in refused: the account has no second factor yet (`xinfang accounts enrol-totp`).
    HTTP 401: level 3 asks two factors of every account before it may act."""

    code = "XF-TOTP-NOT-ENROLLED"
    zh = "账户尚未绑定动态口令（TOTP）"
    en = "The account has not enrolled a TOTP second factor"


class SignInThrottled(AccessError):
    """Too many sign-in attempts from one source address or for one account. HTTP 429;
    `retry_after` (seconds) in the context and the Retry-After header."""

    code = "XF-SIGN-IN-THROTTLED"
    zh = "登录尝试过于频繁，请稍后再试"
    en = "Too many sign-in attempts; try again later"


class CsrfRefused(NotPermitted):
    """A state-changing request borne by the session cookie without the matching
    X-CSRF-Token header, or from an origin other than the node's own. HTTP 403."""

    code = "XF-CSRF"
    zh = "跨站请求被拒绝（缺少或不符的 X-CSRF-Token，或来源不符）"
    en = "Cross-site request refused (missing or wrong X-CSRF-Token, or foreign origin)"


class HostNotAllowed(AccessError):
    """The request's Host header is not one of the node's configured names. HTTP 400."""

    code = "XF-HOST-NOT-ALLOWED"
    zh = "请求的主机名不属于本节点"
    en = "The Host header is not one of this node's names"


class AccountInvalid(AccessError):
    """An account or grant that may not be made: unknown body, no role, administrator roles
    combined with others (三员分立), unknown person, a weak password. HTTP 422."""

    code = "XF-ACCOUNT-INVALID"
    zh = "账户或授权不合规"
    en = "The account or grant is not acceptable"

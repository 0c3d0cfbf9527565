"""The signed-in person as every other part of the node sees it (DOMAIN.md §10).

However a person signed in — the node's own accounts (password + TOTP) or an external OIDC
provider — the node maps them to one `Principal`: one person, bound to one body of one
division, holding one or more roles there. Nothing outside `identity/` and the authenticators
knows how the person signed in (`method` is kept only for the operator trail).

GB/T 22239-2019 (等保 2.0) level 3, 8.1.4.1–8.1.4.3: one account per person, least privilege,
the three administrators separated (三员分立).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    """Roles of DOMAIN.md §10; the value is the role's name in tokens, accounts and the trail."""

    REGISTRAR = "registrar"  # 登记员: petition office — register, route, divert, report up
    HANDLER = "handler"  # 承办人: a body — accept, object, handle, serve, answer supervision
    APPROVER = "approver"  # 审批人: the body's head — approve extensions, decide 复查/复核
    SUPERVISOR = "supervisor"  # 督查员: petition office — 督办
    AUDITOR = "auditor"  # 审计员: logs and reports, no case changes
    SYSTEM_ADMIN = "system-admin"  # 系统管理员: accounts, node operation, never case content
    SECURITY_ADMIN = "security-admin"  # 安全管理员: roles and grants
    AUDIT_ADMIN = "audit-admin"  # 审计管理员: reads the operator audit trail

    @property
    def zh(self) -> str:
        return _ZH[self]


_ZH: dict[Role, str] = {
    Role.REGISTRAR: "登记员",
    Role.HANDLER: "承办人",
    Role.APPROVER: "审批人",
    Role.SUPERVISOR: "督查员",
    Role.AUDITOR: "审计员",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDIT_ADMIN: "审计管理员",
}

ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
"""三员分立: an account holding one of these holds no other role (checked where accounts and
grants are made)."""


class AuthMethod(StrEnum):
    """How the person proved who they are (recorded in the operator trail only)."""

    ACCOUNT = "account"  # the node's own account: argon2id password + TOTP
    OIDC = "oidc"  # an external OpenID Connect provider's access token


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in person.

    - `person`: a stable person id (account name, or the provider's `sub` qualified by issuer);
      recorded on every event the person causes and in the operator trail.
    - `name`: display name (may be "").
    - `division`: six-digit division code of the node the person works at.
    - `body`: body id within that division, e.g. "150404.zj" or "150400.xfj".
    - `roles`: at least one role; administrators hold only administrator roles.
    """

    person: str
    name: str
    division: str
    body: str
    roles: frozenset[Role]
    method: AuthMethod

    def has(self, *roles: Role) -> bool:
        """True if the person holds any of `roles`."""
        return any(r in self.roles for r in roles)


class Authenticator(Protocol):
    """Turns a request's credentials into a `Principal`.

    `authenticate` gets the request's headers (lower-case names) and cookies; it returns None
    when the request carries no credential of its kind (the next authenticator is asked), and
    raises `identity.errors.AuthenticationFailed` when it carries one that is not valid
    (expired, tampered, unknown key, wrong issuer or audience, locked account)."""

    def authenticate(
        self, headers: dict[str, str], cookies: dict[str, str]
    ) -> Principal | None: ...

"""The node's built-in accounts (decision 025): one per person, bound to one body of this
node's division, with roles (DOMAIN.md §10), an argon2id password and a TOTP second factor.

GB/T 22239-2019 (等保 2.0) level 3, 8.1.4.1: two factors (password + TOTP); an account
without TOTP cannot sign in; `policy.max_failures` failed sign-ins lock it for
`policy.lockout`; an administrator may lock and unlock it. 8.1.4.2: 三员分立 — an
administrator role is held alone (checked here, at creation and at every grant).

Rows live in the node's database (store/account_tables.py). The TOTP secret is stored in
clear (base32) like the node's signing key file beside it: encrypting secrets at rest is the
personal-data issue's (key management for the node's data), noted in decision 025.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..domain.topology import BodyKind, Topology
from ..privacy.columns import ColumnCipher
from ..store.account_tables import accounts as table
from ..store.protection import default_key_ring
from . import passwords, totp
from .errors import AccountInvalid, AccountLocked, AuthenticationFailed, TotpNotEnrolled
from .principal import ADMIN_ROLES, AuthMethod, Principal, Role

PERSON_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"
OFFICE_ROLES = frozenset({Role.REGISTRAR, Role.SUPERVISOR})  # petition-office roles (§10)


@dataclass(frozen=True)
class AccountPolicy:
    """Lock-out and session limits (settings XINFANG_SIGNIN_* / XINFANG_SESSION_*)."""

    max_failures: int = 5  # failed sign-ins in a row before the account locks
    lockout: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)  # a session unused this long ends
    lifetime: timedelta = timedelta(hours=12)  # a session ends this long after sign-in


@dataclass(frozen=True)
class Account:
    """An account as listed (no secrets)."""

    person: str
    name: str
    body: str
    roles: tuple[Role, ...]
    enrolled: bool  # TOTP enrolled
    failed: int
    locked_until: datetime | None
    disabled: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "person": self.person,
            "name": self.name,
            "body": self.body,
            "roles": [r.value for r in self.roles],
            "totp": self.enrolled,
            "failed": self.failed,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
            "disabled": self.disabled,
        }


def parse_roles(raw: Iterable[str]) -> frozenset[Role]:
    """Role names → roles; AccountInvalid (422) for an unknown name or none."""
    roles = set()
    for name in raw:
        try:
            roles.add(Role(name.strip()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise AccountInvalid(f"未知角色 / unknown role {name!r} ({known})") from None
    if not roles:
        raise AccountInvalid("至少一个角色 / at least one role")
    return frozenset(roles)


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes: they are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class AccountBook:
    """The accounts of the node of `division`, on its database `engine`; `clock` is the
    node's (lock-out and TOTP use it, so tests move it by hand)."""

    def __init__(
        self,
        engine: Engine,
        division: str,
        topology: Topology,
        clock: Callable[[], datetime],
        policy: AccountPolicy | None = None,
        columns: ColumnCipher | None = None,
    ) -> None:
        self.engine, self.division, self.topology = engine, division, topology
        self.clock = clock
        self.policy = policy or AccountPolicy()
        # TOTP secrets are stored sealed (issue 15 item 3): the node's keys, else the default
        self.columns = columns or ColumnCipher(default_key_ring(engine))

    # -- administration (`xinfang accounts`, devtools/staff.py) -------------------------
    def check_grant(self, body: str, roles: frozenset[Role]) -> None:
        """三员分立 and the bodies roles belong to; AccountInvalid (422) otherwise."""
        admin = roles & ADMIN_ROLES
        if admin and len(roles) > 1:
            raise AccountInvalid(
                "三员分立：管理员角色不得与其他角色兼任 / separation of duties: an administrator "
                f"role is held alone ({', '.join(sorted(r.value for r in roles))})"
            )
        bodies = {b.id: b for b in self.topology.division(self.division).bodies}
        if body not in bodies:
            raise AccountInvalid(
                f"{body} 不是本节点（{self.division}）的机关 / not a body of this node's division",
                body=body,
            )
        if roles & OFFICE_ROLES and bodies[body].kind is not BodyKind.PETITION_OFFICE:
            raise AccountInvalid(
                "登记员、督查员属于信访部门 / registrars and supervisors belong to the petition "
                "office",
                body=body,
            )

    def create(
        self, person: str, name: str, body: str, roles: frozenset[Role], password: str
    ) -> Account:
        """A new account without TOTP (enrol it before it can sign in)."""
        if not re.fullmatch(PERSON_PATTERN, person):
            raise AccountInvalid(
                "人员标识须为 1–64 个字母、数字或 . _ @ - / person id: 1–64 of letters, digits, "
                "'.', '_', '@', '-'",
                person=person,
            )
        self.check_grant(body, roles)
        passwords.check_strength(password)
        row = {
            "person": person,
            "name": name,
            "body": body,
            "roles": sorted(r.value for r in roles),
            "password_hash": passwords.hash_password(password),
            "failed": 0,
            "disabled": False,
            "created_at": self.clock(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(**row))
        except IntegrityError:
            raise AccountInvalid(
                "人员标识已存在 / the person already has an account", person=person
            ) from None
        return self.get(person)

    def get(self, person: str) -> Account:
        """The account of `person`; AccountInvalid (422) if there is none."""
        row = self._row(person)
        if row is None:
            raise AccountInvalid("没有该账户 / no such account", person=person)
        return self._account(row)

    def list(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.person)).all()
        return [self._account(r) for r in rows]

    def reset_password(self, person: str, password: str) -> None:
        self.get(person)
        passwords.check_strength(password)
        self._set(
            person, password_hash=passwords.hash_password(password), failed=0, locked_until=None
        )

    def enrol_totp(self, person: str) -> tuple[str, str]:
        """A new TOTP secret for `person` (the old one stops working): (secret, otpauth URI)."""
        self.get(person)
        secret = totp.new_secret()
        sealed = self.columns.seal("accounts", "totp_secret", person, secret)
        self._set(person, totp_secret=sealed, totp_last_step=None)
        return secret, totp.provisioning_uri(secret, person, self.division)

    def lock(self, person: str) -> None:
        self.get(person)
        self._set(person, disabled=True)

    def unlock(self, person: str) -> None:
        """Lift an administrator's lock and a lock-out after failures."""
        self.get(person)
        self._set(person, disabled=False, failed=0, locked_until=None)

    def grant(self, person: str, roles: frozenset[Role]) -> Account:
        """Replace the roles of `person` (security administrator's act)."""
        account = self.get(person)
        self.check_grant(account.body, roles)
        self._set(person, roles=sorted(r.value for r in roles))
        return self.get(person)

    # -- sign-in --------------------------------------------------------------------
    def check(self, person: str, password: str, code: str) -> Principal:
        """The principal of `person` if `password` and the TOTP `code` are right. Raises
        AccountLocked, TotpNotEnrolled or AuthenticationFailed (401); a wrong password or
        code counts a failure, and the `max_failures`-th locks the account."""
        now = self.clock()
        row = self._row(person) if isinstance(person, str) and len(person) <= 64 else None
        password_ok = passwords.verify_password(row.password_hash if row else None, password)
        if row is None:
            raise AuthenticationFailed("人员标识或口令错误 / wrong person id or password")
        locked_until = _utc(row.locked_until)
        if row.disabled or (locked_until is not None and locked_until > now):
            until = locked_until.isoformat() if locked_until and not row.disabled else ""
            raise AccountLocked(until, person=person)
        if row.totp_secret is None:
            raise TotpNotEnrolled(person=person)
        secret = self.columns.open("accounts", "totp_secret", person, row.totp_secret)
        step = totp.accepted_step(secret, code, now, row.totp_last_step)
        if not password_ok or step is None:
            self._fail(person, row.failed + 1, now)
            raise AuthenticationFailed(
                "人员标识、口令或动态口令错误 / wrong person id, password or TOTP code"
            )
        changes: dict[str, object] = {"failed": 0, "locked_until": None, "totp_last_step": step}
        if passwords.needs_rehash(row.password_hash):
            changes["password_hash"] = passwords.hash_password(password)
        self._set(person, **changes)
        return self.principal_of(row)

    def principal(self, person: str) -> Principal | None:
        """The principal of an account that may act now (not locked), or None."""
        row = self._row(person)
        if row is None or row.disabled:
            return None
        locked_until = _utc(row.locked_until)
        if locked_until is not None and locked_until > self.clock():
            return None
        return self.principal_of(row)

    def principal_of(self, row: Row[Any]) -> Principal:
        return Principal(
            person=row.person,
            name=row.name,
            division=self.division,
            body=row.body,
            roles=frozenset(Role(r) for r in row.roles),
            method=AuthMethod.ACCOUNT,
        )

    # -- rows ---------------------------------------------------------------------------
    def _fail(self, person: str, failed: int, now: datetime) -> None:
        if failed >= self.policy.max_failures:
            self._set(person, failed=0, locked_until=now + self.policy.lockout)
        else:
            self._set(person, failed=failed)

    def _row(self, person: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(select(table).where(table.c.person == person)).one_or_none()

    def _set(self, person: str, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.person == person).values(**values))

    def _account(self, row: Row[Any]) -> Account:
        return Account(
            person=row.person,
            name=row.name,
            body=row.body,
            roles=tuple(Role(r) for r in row.roles),
            enrolled=row.totp_secret is not None,
            failed=row.failed,
            locked_until=_utc(row.locked_until),
            disabled=row.disabled,
        )

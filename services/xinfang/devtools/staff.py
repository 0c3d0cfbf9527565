"""Signed-in staff for the demo, tests, chaos and bench (decision 025).

`Staff` provisions built-in accounts on a node's database — one per (body, role), with a
TOTP secret it keeps — signs them in through the node's own `POST /api/session` and hands
out `Authorization: Bearer` headers. `act_as` picks who a request is made by, the way a
scenario names it: the body of the request's `actor` (or the node's petition office) and the
first role identity/policy.py allows for the route; /health details and /admin/* as the
node's system administrator; reads as the petition office's registrar unless told.

Two ways to reach a node: in-process (`NodeApi.dispatch`, `InProcessStaff`) or over HTTP
(`NodeClient`, `StaffClient`). Devtools only: the password is fixed and known.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..client import ApiError, NodeClient
from ..domain.topology import BodyKind, Topology
from ..identity import totp
from ..identity.accounts import AccountBook
from ..identity.errors import AccountInvalid
from ..identity.policy import roles_for
from ..identity.principal import ADMIN_ROLES, Role

PASSWORD = "Xinfang-dev-2026"  # devtools only: every provisioned account's password
# which role a body's staff act in, by preference: petition offices register and route
OFFICE_ORDER = (Role.REGISTRAR, Role.SUPERVISOR, Role.HANDLER, Role.APPROVER)
BODY_ORDER = (Role.HANDLER, Role.APPROVER)

Json = Any
SignIn = Callable[[dict[str, str]], tuple[int, Json]]  # POST /api/session body → answer


def _peek(raw: bytes) -> Json:
    """The JSON of a raw body if it is an object (to find its `actor`), else None."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def person_id(body: str, role: Role) -> str:
    """The devtools account of `role` at `body`, e.g. "handler.150404.zj"."""
    return f"{role.value}.{body}"


def route_of(method: str, path: str) -> str:
    """The policy route name of a request path (identity/policy.py)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:1] == ["admin"]:
        return parts[1] if len(parts) > 1 else "admin"
    if parts == ["health"]:
        return "health_details"
    if parts[:2] == ["api", "cases"]:
        if len(parts) == 2:
            return "register" if method == "POST" else "list_cases"
        if len(parts) == 3:
            return "get_case"
        if parts[3] == "personal-data":
            return "reveal_personal"
        return "timeline" if parts[3] == "timeline" and method == "GET" else parts[3]
    if parts == ["api", "me"]:
        return "me"
    if parts == ["api", "audit", "trail"]:
        return "trail"
    if parts == ["api", "audit", "status"]:
        return "audit_status"
    if parts[:2] in (["api", "stats"], ["api", "stats.xlsx"]):
        return parts[1].replace(".", "_")
    return "/".join(parts)


@dataclass
class Staff:
    """Accounts of one node (`accounts`), signed in with `sign_in`; tokens cached."""

    accounts: AccountBook
    sign_in: SignIn
    tokens: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def topology(self) -> Topology:
        return self.accounts.topology

    @property
    def office(self) -> str:
        return self.topology.division(self.accounts.division).petition_office().id

    def provision(self, body: str, role: Role) -> str:
        """The account of `role` at `body`, created and enrolled if need be; its person id."""
        person = person_id(body, role)
        if person in self.secrets:
            return person
        try:
            self.accounts.create(person, f"{role.zh}（{body}）", body, frozenset({role}), PASSWORD)
        except AccountInvalid:
            if person not in {a.person for a in self.accounts.list()}:
                raise
            self.accounts.unlock(person)
        self.secrets[person], _ = self.accounts.enrol_totp(person)
        return person

    def headers(self, body: str, role: Role, stale: str | None = None) -> dict[str, str]:
        """`Authorization: Bearer …` of `role` at `body`, signing in if not yet or if the
        token is still `stale` (one that met a 401): threads share one sign-in."""
        with self.lock:
            person = self.provision(body, role)
            if self.tokens.get(person) in (None, stale):
                self.tokens[person] = self._sign_in(person)
            return {"Authorization": f"Bearer {self.tokens[person]}"}

    def _sign_in(self, person: str) -> str:
        now = self.accounts.clock()
        current = int(now.timestamp()) // totp.STEP_S
        first = current + 1 if self.steps.get(person, -1) >= current else current
        for step in (first, first + 1):  # a code is taken once: then the next step's
            moment = now + timedelta(seconds=totp.STEP_S * (step - current))
            code = totp.code_at(self.secrets[person], moment)
            status, answer = self.sign_in({"person": person, "password": PASSWORD, "totp": code})
            if status == 200:
                self.steps[person] = step
                return str(answer["token"])
        raise ApiError(status, answer)  # e.g. 429, or both codes taken: the caller retries

    def who(
        self, method: str, path: str, body: Json, as_body: str | None = None
    ) -> tuple[str, Role]:
        """(body, role) a request is made by: `as_body`, else the body's `actor`, else the
        petition office; the first role the route allows at that kind of body."""
        route = route_of(method, path)
        allowed = roles_for(route)
        if allowed & ADMIN_ROLES:
            admin = sorted(allowed & ADMIN_ROLES)[0]
            return self.office, admin
        actor = as_body or (body.get("actor") if isinstance(body, dict) else None) or self.office
        kind = self.topology.body(str(actor)).kind
        order = OFFICE_ORDER if kind is BodyKind.PETITION_OFFICE else BODY_ORDER
        role = next((r for r in order if r in allowed), None)
        if role is None:  # reads, or a route no role of this body may call: its first role
            role = order[0]
        return str(actor), role

    def act_as(
        self, send: Callable[[dict[str, str]], tuple[int, Json]], method: str, path: str,
        body: Json, as_body: str | None = None,
    ) -> tuple[int, Json]:  # fmt: skip
        """Send a request (`send(headers)`) as `who` would make it; a session that ended
        (idle timeout on a clock moved by hand) is signed in again once."""
        actor, role = self.who(method, path, body, as_body)
        signed = self.headers(actor, role)
        status, answer = send(signed)
        if status == 401:
            stale = signed["Authorization"].removeprefix("Bearer ")
            status, answer = send(self.headers(actor, role, stale=stale))
        return status, answer


class InProcessStaff:
    """`NodeApi.dispatch` as signed-in staff (devtools/inprocess.py, unit tests, bench)."""

    def __init__(self, api: Any) -> None:
        from ..api.handlers import NodeApi

        self.api: NodeApi = api
        self.staff = Staff(api.auth.accounts, lambda b: api.dispatch("POST", "/api/session", b))

    def dispatch(
        self, method: str, path: str, body: Json, as_body: str | None = None
    ) -> tuple[int, Json]:
        def send(headers: dict[str, str]) -> tuple[int, Json]:
            return self.api.dispatch(method, path, body, headers=headers)

        return self.staff.act_as(send, method, path, body, as_body)

    def serve_path(
        self, method: str, path: str, raw: bytes, idempotency_key: str | None = None,
        as_body: str | None = None,
    ) -> tuple[int, Json]:  # fmt: skip
        def send(headers: dict[str, str]) -> tuple[int, Json]:
            return self.api.serve_path(method, path, raw, idempotency_key, headers)

        return self.staff.act_as(send, method, path, _peek(raw), as_body)


class StaffClient(NodeClient):
    """A `NodeClient` whose requests are made by signed-in staff (`Staff.act_as`)."""

    def __init__(self, base_url: str, staff: Staff, timeout: float = 15.0) -> None:
        super().__init__(base_url, timeout)
        self.staff = staff
        self.as_body: str | None = None

    def acting(self, body: str) -> StaffClient:
        """A client whose requests are made by `body`'s staff."""
        other = StaffClient(self.base_url, self.staff, self.timeout)
        other.as_body = body
        return other

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        def send(signed: dict[str, str]) -> tuple[int, Json]:
            try:
                return 200, self.plain(method, path, body, {**signed, **(headers or {})})
            except ApiError as err:
                if err.status != 401:
                    raise
                return 401, err

        _, answer = self.staff.act_as(send, method, path, body, self.as_body)
        if isinstance(answer, ApiError):
            raise answer
        return answer

    def plain(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        return NodeClient.request(self, method, path, body, headers)


def process_staff(
    base_url: str, database_url: str, division: str, topology: Topology,
    clock: Callable[[], datetime], data_keys: Path | None = None,
) -> Staff:  # fmt: skip
    """Staff of a node process: accounts written to its database (TOTP secrets sealed with the
    node's data keys: `data_keys`, its default key file), sign-in over HTTP."""
    from ..privacy.columns import ColumnCipher
    from ..store.database import make_engine
    from ..store.protection import default_key_ring, key_ring_for

    engine = make_engine(database_url)
    ring = key_ring_for(engine, os.environ, data_keys) if data_keys else default_key_ring(engine)
    book = AccountBook(engine, division, topology, clock, None, ColumnCipher(ring))
    client = NodeClient(base_url)

    def sign_in(body: dict[str, str]) -> tuple[int, Json]:
        try:
            return 200, client.post("/api/session", body)
        except ApiError as err:
            return err.status, err.payload

    return Staff(book, sign_in)


def signed_in(service: Any) -> InProcessStaff:
    """A node service's API (`NodeApi`) used by signed-in staff, in-process."""
    from ..api.handlers import NodeApi

    return InProcessStaff(NodeApi(service))

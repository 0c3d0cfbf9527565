"""The node's request handlers: (path parameters, JSON body) -> (status, JSON).

The ASGI app (api/web.py) validates each body with its model (api/models.py) and calls these;
`NodeApi.dispatch` and `serve_path` drive that same app in-process (tests, bench), so they go
through the validation and error mapping clients meet. Every refusal carries its error code;
bad input is a 4xx, never a 5xx.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from ..commands import BY_NAME, inputs
from ..commands.input_errors import (
    IdempotencyInterrupted,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
)
from ..commands.limits import (
    ID_CHARS,
    IDEMPOTENCY_KEY_PATTERN,
    MAX_IDEMPOTENCY_KEY_CHARS,
    TimeBounds,
)
from ..domain.case import Case
from ..domain.errors import CaseNotFound, InvalidInput, XinfangError
from ..domain.events import CaseFile
from ..identity.errors import NotPermitted
from ..identity.policy import allowed, case_bodies, may_read
from ..identity.principal import Principal, Role
from ..node.service import NodeService
from ..presentation import case_view, petitioner_masked, timeline_entry
from .asgi_call import call_asgi
from .auth import Auth, AuthSettings
from .case_list import MAX_LIMIT, ListQuery, next_deadline, page
from .errors import http_status
from .gate import INTERNAL
from .openapi import for_node, openapi_document

log = logging.getLogger(__name__)

Json = Any
Who = Principal | None  # the signed-in person (api/auth.py), None on public routes
Handler = Callable[[dict[str, str], Json, Who], tuple[int, Json]]
BASIC_HEALTH = ("status", "division", "name", "level", "calendar")  # /health without sign-in


def status_of(err: XinfangError) -> int:
    """The HTTP status of a refusal (api/errors.py)."""
    return http_status(err)


def _require_case_id(params: dict[str, str]) -> None:
    """A case id in a path that no case can have (too long, NUL, a lone surrogate) is an
    unknown case, answered without a query: PostgreSQL refuses NUL in text outright."""
    case_id = params.get("case_id")
    if case_id is None:
        return
    try:
        case_id.encode("utf-8")
    except UnicodeEncodeError:
        raise CaseNotFound(case_id.encode("utf-8", "replace").decode()) from None
    if len(case_id) > ID_CHARS or "\x00" in case_id:
        raise CaseNotFound(case_id[:ID_CHARS].replace("\x00", "\\0"))


def _fingerprint(method: str, path: str, body: Json) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class NodeApi:
    """One node's HTTP API: its handlers and the ASGI app (`app`) that serves them."""

    def __init__(
        self,
        service: NodeService,
        status: Callable[[], dict[str, Any]] | None = None,
        auth: Auth | None = None,
    ):
        self.service = service
        self._status = status or (lambda: {})
        self._app: Any = None
        self._auth = auth

    @property
    def auth(self) -> Auth:
        """Sign-in and the authenticator chain (bootstrap's; default: the node's own accounts
        on its database and clock, settings from the environment)."""
        if self._auth is None:
            # a running node gets its chain (OIDC too) from bootstrap.node_auth (decision 020)
            settings = AuthSettings.from_env()
            auth = Auth(self.service.account_book(settings.policy), settings)
            auth.authenticators = [auth.sessions]
            self._auth = auth
        return self._auth

    @property
    def app(self) -> Any:
        """The ASGI app (FastAPI) serving this node, built on first use."""
        if self._app is None:
            from .web import build_app  # the web layer imports this module

            self._app = build_app(self)
        return self._app

    def dispatch(
        self, method: str, path: str, body: Json, headers: dict[str, str] | None = None
    ) -> tuple[int, Json]:
        """A request with a parsed JSON body (None: no body), through the ASGI app; `headers`
        e.g. {"Authorization": "Bearer …"} (devtools/staff.py signs in)."""
        raw = b"" if body is None else json.dumps(body).encode()
        return self.serve_path(method, path, raw, headers=headers)

    def serve_path(
        self,
        method: str,
        path: str,
        raw: bytes,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Json]:
        """One request as a client sends it (raw body bytes, the Idempotency-Key of a POST,
        other headers), answered in-process by the ASGI app: for tests and the bench."""
        return call_asgi(self.app, method, path, raw, idempotency_key, headers)

    def call(
        self, handler: Handler, params: dict[str, str], body: Json, who: Who = None
    ) -> tuple[int, Json]:
        """Run a handler: a refusal is its status and error; a bug a logged 500 XF-INTERNAL."""
        try:
            _require_case_id(params)
            return handler(params, body, who)
        except XinfangError as err:
            status = status_of(err)
            if status == 500:  # the node's data or setup, not the client: worth a log line
                log.error("%s: %s", getattr(handler, "__name__", handler), err, exc_info=err)
            return status, err.to_dict()
        except Exception:  # a bug, not bad input: log it, answer with a stable code
            log.exception("unhandled error in %s", getattr(handler, "__name__", handler))
            return 500, INTERNAL

    def refusal(
        self, name: str, params: dict[str, str], body: Json, who: Who = None
    ) -> XinfangError | None:
        """The refusal today's parser gives `body` for the route `name` (None if it takes it):
        the API's wording of each refusal, kept when the model refuses the body first."""
        try:
            _require_case_id(params)
            body = self._as(who, body)
            if name == "register":
                self._parse_registration(body)
            elif name in BY_NAME:
                BY_NAME[name].parse(body, self.bounds())
        except XinfangError as err:
            return err
        return None

    async def once(
        self, scope: Any, body: Json, key: str, answer: Callable[[], Awaitable[tuple[int, Json]]]
    ) -> tuple[int, Json]:
        """Idempotency-Key: the first answer to a key is the answer to every repetition of
        the same request; the key with another request is refused (422)."""
        if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            raise IdempotencyKeyInvalid(
                f"须为 1–{MAX_IDEMPOTENCY_KEY_CHARS} 个可见 ASCII 字符 / "
                f"1–{MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"
            )
        fingerprint = _fingerprint(scope["method"], scope["path"], body)
        earlier = self.service.reserve_key(key, fingerprint)
        if earlier is not None:
            if earlier.fingerprint != fingerprint:
                raise IdempotencyKeyReused(key=key)
            if earlier.status is None:
                raise IdempotencyInterrupted(key=key)
            return earlier.status, earlier.response
        status, payload = await answer()
        self.service.complete_key(key, status, payload)
        return status, payload

    def bounds(self) -> TimeBounds:
        """The plausible range of times clients give, at this node now (commands/limits.py)."""
        return TimeBounds.for_node(self.service.context().now, self.service.calendar)

    # -- handlers ---------------------------------------------------------------------
    def health(self, _p: dict[str, str], _b: Json, who: Who) -> tuple[int, Json]:
        """Status for anyone; the node's figures only for its system administrators."""
        division = self.service.topology.division(self.service.division)
        answer = {
            "status": "ok",
            "division": division.code,
            "name": division.name,
            "level": division.level.value,
            **self.service.stats(),
            **self._status(),
            "calendar": self.service.calendar_status(),  # DOMAIN.md §11: warned from 1 October
        }
        if who is None or not allowed(who, "health_details"):
            answer = {k: v for k, v in answer.items() if k in BASIC_HEALTH}
        return 200, answer

    def list_cases(self, p: dict[str, str], _b: Json, who: Who) -> tuple[int, Json]:
        """One page of the cases `who` may read (need-to-know, identity/policy.py), each with
        the nearest deadline `who`'s body runs on it; `p`: the query (api/case_list.py)."""
        query = ListQuery(
            limit=int(p.get("limit", MAX_LIMIT)), offset=int(p.get("offset", 0)),
            sort=p.get("sort", "case_id"), mine=p.get("mine") == "true",
            category=p.get("category"), urgency=p.get("urgency"), q=p.get("q"),
        )  # fmt: skip
        body = who.body if who is not None else None
        rows = []
        for row in self.service.list_cases():
            if not self._lists(who, row):
                continue
            case = self.service.case(row["case_id"])
            row.pop("matter_key", None)  # derived from the name and request: not for display
            row.update(petitioner_masked(case.file.petitioner))  # decision 030
            row["due"], row["rule"], row["awaiting"] = next_deadline(case, body)
            rows.append(row)
        return 200, page(rows, query, self.service.context().now)

    @property
    def office(self) -> str:
        """This node's petition office (body id)."""
        return self.service.topology.division(self.service.division).petition_office().id

    def _lists(self, who: Who, row: dict[str, Any]) -> bool:
        if who is None:
            return False
        if (who.body == self.office or who.has(Role.AUDITOR)) and row["category"] != "ACCUSATION":
            return not who.has(Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
        try:
            self._readable(who, row["case_id"])
        except CaseNotFound:
            return False
        return True

    def _readable(self, who: Who, case_id: str) -> Case:
        """The case if `who` may read it; else CaseNotFound (404), as for an unknown case:
        a case out of a person's need-to-know is not revealed (decision 025)."""
        case = self.service.case(case_id)
        actors = (event.header.actor for _, event in self.service.history(case_id))
        if who is None or not may_read(who, case, case_bodies(case, actors), self.office):
            raise CaseNotFound(case_id, case=case_id)
        return case

    @staticmethod
    def _as(who: Who, body: Json) -> Json:
        """The body with the signed-in person's body as the acting body: the actor of a
        command is never a request field; one naming another body is refused (403)."""
        if who is None or not isinstance(body, dict):
            return body
        claimed = body.get("actor")
        if claimed is not None and claimed != who.body:
            raise NotPermitted(
                f"actor {str(claimed)[:64]} ≠ {who.body}：以登录人员所属机关办理 / acts are "
                "taken as the signed-in person's body",
                body=who.body,
            )
        return {**body, "actor": who.body}

    def _parse_registration(self, body: Json) -> tuple[str, CaseFile, str | None]:
        if not isinstance(body, dict):
            raise InvalidInput("请求体须为 JSON 对象 / body must be a JSON object")
        actor = inputs.actor({"actor": body.get("actor") or self.office})
        file = inputs.case_file(body, self.service.context().now, self.bounds())
        return actor, file, inputs.backdate_reason(body)

    def register(self, _p: dict[str, str], body: Json, who: Who) -> tuple[int, Json]:
        actor, file, reason = self._parse_registration(self._as(who, body))
        done = self.service.register(actor, file, reason, person=_person(who))
        return 201, {"case_id": done.case_id, "query_code": done.query_code}

    def get_case(self, p: dict[str, str], _b: Json, who: Who) -> tuple[int, Json]:
        service = self.service
        case = self._readable(who, p["case_id"])
        return 200, case_view(case, service.topology, service.calendar)

    def timeline(self, p: dict[str, str], _b: Json, who: Who) -> tuple[int, Json]:
        topology = self.service.topology
        self._readable(who, p["case_id"])
        entries = [
            timeline_entry(event, topology, self.service.calendar)
            for _, event in self.service.history(p["case_id"])
        ]
        return 200, {"case_id": p["case_id"], "node": self.service.division, "timeline": entries}

    def command(self, p: dict[str, str], body: Json, who: Who) -> tuple[int, Json]:
        command = BY_NAME[p["command"]]  # one route per command (api/web.py)
        parsed = command.parse(self._as(who, body), self.bounds())
        events = self.service.execute(p["case_id"], command.decide, parsed, person=_person(who))
        return 200, {
            "case": case_view(
                self.service.case(p["case_id"]), self.service.topology, self.service.calendar
            ),
            "events": [{"event_id": e.header.event_id, "type": e.type} for e in events],
        }

    def me(self, _p: dict[str, str], _b: Json, who: Who) -> tuple[int, Json]:
        """The signed-in person: person, name, division, body, roles, how they signed in."""
        if who is None:  # the Guard answers 401 first; kept for a direct call
            return 401, {"code": "XF-AUTH-REQUIRED"}
        return 200, {
            "person": who.person,
            "name": who.name,
            "division": who.division,
            "body": who.body,
            "body_name": self.service.topology.body(who.body).name,
            "roles": sorted(r.value for r in who.roles),
            "roles_zh": [r.zh for r in sorted(who.roles)],
            "method": who.method.value,
        }

    def sweep(self, _p: dict[str, str], _b: Json, _w: Who) -> tuple[int, Json]:
        """Run the deadline watcher now (it also runs on its own schedule)."""
        return 200, {"recorded": self.service.sweep_deadlines()}

    def checkpoint(self, _p: dict[str, str], body: Json, _w: Who) -> tuple[int, Json]:
        """Sign a checkpoint of the log head now (it also runs on its own schedule); unless
        `{"force": true}`, not when the head already is a checkpoint."""
        force = isinstance(body, dict) and body.get("force") is True
        event = self.service.checkpoint(force=force)
        if event is None:
            return 200, {"checkpointed": False, "key_id": self.service.key_id}
        return 200, {
            "checkpointed": True,
            "key_id": event.key_id,
            "event_id": event.header.event_id,
            "seq": event.header.seq,
            "head_seq": event.head_seq,
            "head_hash": event.head_hash,
        }

    def openapi(self, _p: dict[str, str], _b: Json, _w: Who) -> tuple[int, Json]:
        """The document (docs/openapi.json) with this node's bodies and places as the values
        of body and place fields."""
        topology, own = self.service.topology, self.service.division
        places = (own, *topology.children(own))  # where petitions registered here arise
        bodies = [body.id for code in places for body in topology.division(code).bodies]
        return 200, for_node(openapi_document(), own, bodies, places)


def _person(who: Who) -> str:
    return who.person if who is not None else ""

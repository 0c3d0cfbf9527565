"""`POST /api/cases/{case_id}/personal-data`: the petitioner's personal data in full, for the
staff who need it, each view with its stated reason on the operator trail (decision 030;
DOMAIN.md §10; 个人信息保护法 Arts. 28, 51; GB/T 22239-2019 8.1.4.3).

Every list and view shows the petitioner masked (presentation.py). This route answers with
the full values when:

- the body is `{"reason": "<4–200 characters>"}` (else 422 XF-REASON-REQUIRED; another field
  422 XF-UNKNOWN-FIELD);
- the person may read the case at all (need-to-know, identity/policy.py; else 404
  XF-CASE-NOT-FOUND, as for an unknown case);
- and needs it for their duty: a handler (承办人) of the body that holds or handles the case,
  or a registrar (登记员) of the petition office that holds or routed it (else 403
  XF-FORBIDDEN). identity/policy.py ROUTES["reveal_personal"] admits only those two roles.

The reason goes into the request's trail entry (`request.state.reason` → api/trail.py →
identity/trail_record.py `reason`), signed with it; refused attempts are recorded too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, FastAPI, Path, Request
from fastapi.responses import JSONResponse

from ..commands.input_errors import ReasonRequired
from ..commands.limits import MIN_REASON_CHARS, REASON_CHARS
from ..domain.case import Case
from ..domain.errors import InvalidInput
from ..identity.errors import NotPermitted
from ..identity.principal import Principal, Role
from ..presentation import petitioner_in_full
from . import models as m
from .gate import BODY_KEY
from .validation import unknown_field

if TYPE_CHECKING:
    from .handlers import Json, NodeApi, Who

ROUTE = "reveal_personal"  # the route name of identity/policy.py ROUTES


def stated_reason(body: Json) -> str:
    """The reason of a reveal request, trimmed: 4–200 characters, no NUL. Raises
    ReasonRequired (422), UnknownField for any other field, InvalidInput for a non-object."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InvalidInput("请求体须为 JSON 对象 / body must be a JSON object")
    for key in body:
        if key != "reason":
            raise unknown_field(("body", key))
    raw = body.get("reason")
    reason = raw.strip() if isinstance(raw, str) else ""
    if not MIN_REASON_CHARS <= len(reason) <= REASON_CHARS or "\x00" in reason:
        raise ReasonRequired(
            f"reason：{MIN_REASON_CHARS}–{REASON_CHARS} 字，说明为何需要查看 / reason: "
            f"{MIN_REASON_CHARS}–{REASON_CHARS} characters saying why you need it",
            field="reason",
            min_chars=MIN_REASON_CHARS,
            max_chars=REASON_CHARS,
        )
    return reason


def entitled(who: Principal, case: Case) -> bool:
    """True if `who` needs `case`'s personal data for their duty: a handler of the body that
    holds or handles it, a registrar of the petition office that holds or routed it."""
    if who.has(Role.HANDLER) and who.body in {case.holder, case.handling_body}:
        return True
    return who.has(Role.REGISTRAR) and who.body in {case.holder, case.routed_by}


def reveal(
    api: NodeApi, state: dict[str, Any], case_id: str, body: Json, who: Who
) -> tuple[int, Json]:
    """The handler: (status, answer) as NodeApi handlers give it."""
    reason = stated_reason(body)
    state["reason"] = reason  # on the trail even if refused below
    case = api._readable(who, case_id)  # 404 when not the person's to see at all
    if who is None or not entitled(who, case):
        raise NotPermitted(
            "仅承办该事项的机关承办人或转送、交办该事项的信访部门登记员可查看完整个人信息 / "
            "only handlers of the body handling the case and registrars of the petition office "
            "that routed it see personal data in full",
            case=case_id,
        )
    return 200, {
        "case_id": case_id,
        "petitioner": petitioner_in_full(case.file.petitioner),
        "reason": reason,
        "viewed_at": api.service.clock().isoformat(),
    }


def add_personal_routes(app: FastAPI, errors: dict[int | str, dict[str, Any]]) -> None:
    """Add `POST /api/cases/{case_id}/personal-data` to the node's app."""

    async def reveal_personal(
        request: Request,
        case_id: Annotated[str, Path(description="事项编号 / case id")],
        body: Annotated[m.RevealRequest | None, Body()] = None,  # validated: form, no extras
    ) -> JSONResponse:
        api: NodeApi = request.app.state.api
        state: dict[str, Any] = request.scope.setdefault("state", {})
        who = state.get("principal")

        def handler(params: dict[str, str], body: Json, who: Who) -> tuple[int, Json]:
            return reveal(api, state, params["case_id"], body, who)

        status, payload = api.call(
            handler, {"case_id": case_id}, request.scope.get(BODY_KEY), who
        )
        return JSONResponse(payload, status_code=status)

    app.add_api_route(
        "/api/cases/{case_id}/personal-data",
        reveal_personal,
        methods=["POST"],
        name=ROUTE,
        operation_id="revealPersonalData",
        tags=["cases"],
        summary="查看完整个人信息（须说明理由，记入审计）/ personal data in full, with a reason",
        description=m.RevealRequest.__doc__ or "",
        responses={200: {"model": m.Revealed, "description": "完整信息 / in full"}, **errors},
    )

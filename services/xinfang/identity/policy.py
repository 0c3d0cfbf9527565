"""Who may do what (DOMAIN.md §10; GB/T 22239-2019 8.1.4.2 least privilege): the one table of
roles per route, and the need-to-know rule for reading a case.

`ROUTES` names every route of the node's API (api/web.py route names) with the roles that may
call it; `PUBLIC` the routes answered without sign-in. A route in neither is refused to
everyone (fail closed): a new route must be added here. The deciders still check the body
(holder, issuer, reviewer, petition office): the role says what kind of act a person may do,
the rules say whether their body may do it to this case now.

Reads (decision 025): a person sees the cases their body holds or held; the petition office's
staff and the auditors see every case of their division (this node), except accusations
(R17 for reads: only the petition office that routed it and the body that handles it);
administrators see no case content. A case not visible is answered as unknown (404
XF-CASE-NOT-FOUND), so its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.case import Case
from ..domain.vocabulary import Category
from .principal import ADMIN_ROLES, Principal, Role

R, H, A, S, AU = Role.REGISTRAR, Role.HANDLER, Role.APPROVER, Role.SUPERVISOR, Role.AUDITOR
SYS, SEC, AUD = Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN
READERS = frozenset({R, H, A, S, AU})  # business roles read cases (need-to-know applies)
EVERYONE = frozenset(Role)

# console, console_asset: the staff console's app shell and assets (decision 029), no data
# oidc_config: the issuer and public client the console signs in with (decision 035)
PUBLIC = frozenset({"health", "openapi", "sign_in", "oidc_config", "console", "console_asset"})
"""Answered without sign-in: /health (status only; details need system-admin), the OpenAPI
document, POST /api/session and GET /api/session/oidc."""

ROUTES: dict[str, frozenset[Role]] = {
    # sign-in
    "sign_out": EVERYONE,
    "me": EVERYONE,
    # case reads (need-to-know: `may_read`)
    "list_cases": READERS,
    "get_case": READERS,
    "timeline": READERS,
    "documents": frozenset({R, H, A, S}),  # the statutory documents (decision 033)
    "document": frozenset({R, H, A, S}),
    # personal data in full, with a reason (decision 030): the handling body's handlers and
    # the holding/routing petition office's registrars (api/personal_routes.py checks the body)
    "reveal_personal": frozenset({H, R}),
    # petition office: register, route, divert, take a transfer back (Arts. 17–23)
    "register": frozenset({R}),
    "case_matches": frozenset({R}),  # the same matter before 登记 (api/match_routes.py)
    "topology_bodies": frozenset({R}),  # a place's bodies, suggested at 登记 (topology_routes)
    "transfer": frozenset({R}),
    "assign": frozenset({R}),
    "divert": frozenset({R}),
    "return": frozenset({R}),
    # the handling body (Arts. 22–33)
    "object": frozenset({H}),
    "accept": frozenset({H}),
    "reject": frozenset({H}),
    "decline": frozenset({H}),
    "opinion": frozenset({H}),
    "serve": frozenset({H}),
    "complete": frozenset({H}),
    "close": frozenset({H}),
    "answer-supervision": frozenset({H}),
    "review-request": frozenset({H}),  # recorded by the reviewing body's staff
    "re-review-request": frozenset({H}),
    "evaluate": frozenset({H, R}),  # by the handling body or a petition office (Art. 21)
    # the body's head
    "extend": frozenset({A}),
    "review-decide": frozenset({A}),
    "re-review-decide": frozenset({A}),
    # 督办
    "supervise": frozenset({S}),
    # node operation: the system administrator (never case content)
    "health_details": frozenset({SYS}),
    "sweep": frozenset({SYS}),
    "checkpoint": frozenset({SYS}),
    # the operator trail (helper C's routes): the audit administrator
    "trail": frozenset({AUD}),
    # 统计 (decision 034): aggregates of the division and its children, no case content
    "stats": frozenset({S, R, A, AU}),
    "stats_xlsx": frozenset({S, R, A, AU}),
    # 审计 (decision 034): the node's chains and checkpoints, no case content
    "audit_status": frozenset({AU, AUD}),
}
"""Route name → roles allowed. Security administrators grant roles with `xinfang accounts
grant` on the node itself; they have no HTTP route beyond their own session."""


def allowed(principal: Principal, route: str) -> bool:
    """True if `principal` may call `route` (a name of ROUTES or PUBLIC)."""
    if route in PUBLIC:
        return True
    return principal.has(*ROUTES.get(route, frozenset()))


def roles_for(route: str) -> frozenset[Role]:
    """The roles that may call `route` (empty: public or unknown)."""
    return ROUTES.get(route, frozenset())


def case_bodies(case: Case, actors: Iterable[str]) -> set[str]:
    """The bodies that hold or held `case`: its holder, router, handler and reviewers, the
    bodies supervised over it, and every body that acted on it (`actors`: the events' actors)."""
    bodies = {case.holder, *actors}
    for body in (case.routed_by, case.handling_body, case.reviewer, case.re_reviewer):
        if body:
            bodies.add(body)
    bodies.update(s.to_body for s in case.supervisions)
    return bodies


def may_read(principal: Principal, case: Case, bodies: set[str], office: str) -> bool:
    """Need-to-know for one case at the node whose petition office is `office`.

    - administrators: never (no case content);
    - an accusation: the staff of the petition office that routed it (or registered it,
      until routed) and of the bodies that hold or handle it — not the rest of the division
      (R17), not auditors;
    - the petition office's staff and auditors: every other case of the division;
    - everyone else: the cases their body holds or held (`bodies`, `case_bodies`)."""
    if principal.has(*ADMIN_ROLES) or not principal.has(*READERS):
        return False
    if case.file.category is Category.ACCUSATION:
        if not principal.has(R, H, A, S):  # auditors: logs and reports, not accusations
            return False
        router = case.routed_by or (office if case.origin == principal.division else None)
        handling = {case.holder, case.handling_body} - {None}
        return principal.body == router or principal.body in handling
    if principal.body == office or principal.has(AU):
        return True
    return principal.body in bodies

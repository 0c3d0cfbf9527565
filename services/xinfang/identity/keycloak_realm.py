"""A Keycloak realm generated from the topology (issue 14 item 1a, decision 026).

`realm(topology, ...)` returns the realm representation Keycloak imports (admin REST API
`POST /admin/realms`, or `kc.sh start-dev --import-realm` with the file in data/import):

- realm `xinfang`; realm roles = the `Role` values of DOMAIN.md §10 (登记员 … 审计管理员);
- a group per division (attribute `xinfang_division`) with a subgroup per body (attributes
  `xinfang_body` = the body id, e.g. "150404.zj", and `xinfang_division`); a person is a member
  of exactly one body group;
- the public client `xinfang` for browsers and the CLI: authorization code with PKCE (S256
  required, RFC 7636), the device authorization grant (RFC 8628), no password grant, loopback
  redirect URIs for native apps (RFC 8252 §7.3), and for each node's staff console
  (`console_urls`, decision 035) `<url>/login/callback` as a redirect URI, `<url>` as a web
  origin (the browser exchanges the code at the token endpoint, a CORS request) and
  `<url>/login` after sign-out;
- access tokens carry `aud` = the node API's audience (an audience mapper), `xinfang_body`
  (the body group's attribute), `groups` (group names) and `realm_access.roles` (realm roles);
- with `test_password`: one user per role at 赤峰市 (150400) and 松山区 (150404), and clients
  for the tests only (password grant; a short access-token lifespan; a foreign audience).

Nothing here talks to Keycloak; deploy/keycloak/keycloak.sh imports the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..domain.topology import Body, BodyKind, Topology
from .principal import ADMIN_ROLES, Role

REALM = "xinfang"
CLIENT_ID = "xinfang"  # the public client of browsers and `xinfang login`
DEFAULT_AUDIENCE = "xinfang-api"  # `aud` of access tokens meant for a node's API
BODY_CLAIM = "xinfang_body"  # claim (and group attribute) naming the person's body
DIVISION_ATTRIBUTE = "xinfang_division"
TEST_DIVISIONS = ("150400", "150404")  # 赤峰市, 松山区
# test-only clients: direct password grant (never on the public client)
TEST_CLIENT = "xinfang-test"
TEST_SHORT_CLIENT = "xinfang-test-short"  # access tokens live TEST_SHORT_LIFESPAN_S seconds
TEST_FOREIGN_CLIENT = "xinfang-test-foreign"  # tokens for another API (wrong audience)
TEST_SHORT_LIFESPAN_S = 2
FOREIGN_AUDIENCE = "some-other-api"

# Roles held at a petition office; the others sit in a department of the division.
_OFFICE_ROLES = frozenset({Role.REGISTRAR, Role.SUPERVISOR}) | ADMIN_ROLES | {Role.AUDITOR}


def username_for(division: str, role: Role) -> str:
    """The test user holding `role` at `division`, e.g. "150404.handler"."""
    return f"{division}.{role.value}"


def user_body_for(topology: Topology, division: str, role: Role) -> Body:
    """The body of a test user: the petition office for registrar, supervisor, auditor and the
    administrators; the division's 住房和城乡建设局 (or first department) for handler/approver."""
    div = topology.division(division)
    if role in _OFFICE_ROLES:
        return div.petition_office()
    departments = [b for b in div.bodies if b.kind is BodyKind.DEPARTMENT]
    preferred = [b for b in departments if b.id.endswith(".zj")]
    return (preferred or departments or [div.petition_office()])[0]


def group_path(topology: Topology, body: Body) -> str:
    """Keycloak path of a body's group, e.g. "/150404 松山区/150404.zj 松山区住房和城乡建设局"."""
    division = topology.division(body.division)
    return f"/{division.code} {division.name}/{body.id} {body.name}"


def realm(
    topology: Topology,
    *,
    audience: str = DEFAULT_AUDIENCE,
    test_password: str | None = None,
    access_token_lifespan_s: int = 300,
    console_urls: Sequence[str] = (),
) -> dict[str, Any]:
    """The realm representation (JSON-ready dict). `audience` becomes the `aud` of access
    tokens; `test_password` adds the test users and test clients (never in production);
    `console_urls` are the nodes' console base URLs (`https://xf.example.cn`, no path) whose
    sign-in page may use the public client."""
    rep: dict[str, Any] = {
        "realm": REALM,
        "displayName": "信访事项跨层级流转系统 / xinfang",
        "enabled": True,
        "sslRequired": "external",  # plain HTTP only from loopback/private addresses
        "accessTokenLifespan": access_token_lifespan_s,
        "ssoSessionIdleTimeout": 1800,  # 等保 idle timeout: 30 minutes
        "bruteForceProtected": True,  # lock-out after repeated failures
        "failureFactor": 5,
        "registrationAllowed": False,
        "oauth2DeviceCodeLifespan": 600,
        "oauth2DevicePollingInterval": 5,
        "roles": {
            "realm": [
                {"name": role.value, "description": f"{role.zh} / {role.value}"} for role in Role
            ]
        },
        "groups": [_division_group(topology, code) for code in _codes(topology)],
        "clients": [public_client(audience, console_urls)],
        "users": [],
    }
    if test_password is not None:
        rep["clients"] += _test_clients(audience)
        rep["users"] = _test_users(topology, test_password)
    return rep


def _codes(topology: Topology) -> list[str]:
    return [d.code for d in topology.divisions]


def _division_group(topology: Topology, code: str) -> dict[str, Any]:
    division = topology.division(code)
    return {
        "name": f"{division.code} {division.name}",
        "attributes": {DIVISION_ATTRIBUTE: [division.code]},
        "subGroups": [
            {
                "name": f"{body.id} {body.name}",
                "attributes": {BODY_CLAIM: [body.id], DIVISION_ATTRIBUTE: [division.code]},
            }
            for body in division.bodies
        ],
    }


def _mapper(name: str, kind: str, config: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "protocol": "openid-connect", "protocolMapper": kind, "config": config}


def _audience_mapper(audience: str) -> dict[str, Any]:
    return _mapper(
        "audience",
        "oidc-audience-mapper",
        {
            "included.custom.audience": audience,
            "access.token.claim": "true",
            "id.token.claim": "false",
            "introspection.token.claim": "true",
        },
    )


def _claim_mappers(audience: str) -> list[dict[str, Any]]:
    """The claims a node maps to a Principal: `aud`, the body (its group's attribute) and the
    group names. Realm roles (`realm_access.roles`), `sub` and `preferred_username` come from
    Keycloak's default client scopes (roles, basic, profile), which every client keeps.
    Inline on each client: a realm file listing its own client scopes would replace those
    defaults."""
    on = {"access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "true",
          "introspection.token.claim": "true"}  # fmt: skip
    return [
        _audience_mapper(audience),
        _mapper(
            "body",
            "oidc-usermodel-attribute-mapper",
            {
                "user.attribute": BODY_CLAIM,
                "claim.name": BODY_CLAIM,
                "jsonType.label": "String",
                "multivalued": "true",
                "aggregate.attrs": "true",  # the attribute of the person's body group
                **on,
            },
        ),
        _mapper(
            "groups",
            "oidc-group-membership-mapper",
            {"claim.name": "groups", "full.path": "false", **on},
        ),
    ]


def console_base(url: str) -> str:
    """`url` as a console base URL: scheme://host[:port] without a trailing slash. Raises
    ValueError for anything else (a path or query would make a wrong redirect URI)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") \
            or parts.query or parts.fragment:  # fmt: skip
        raise ValueError(f"控制台地址须为 scheme://host[:port] / console URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def public_client(audience: str, console_urls: Sequence[str] = ()) -> dict[str, Any]:
    """The public client `xinfang` (browsers, consoles and the CLI); `console_urls` as in
    `realm`. Also what a test PUTs to a running Keycloak to add its node's console."""
    bases = [console_base(url) for url in console_urls]
    logout = "##".join(["+", *(f"{b}/login" for b in bases)])  # Keycloak's list separator
    return {
        "clientId": CLIENT_ID,
        "name": "xinfang 浏览器与命令行 / browsers and the xinfang CLI",
        "enabled": True,
        "publicClient": True,
        "standardFlowEnabled": True,  # authorization code (+ PKCE, required below)
        "directAccessGrantsEnabled": False,  # no password grant for people
        "implicitFlowEnabled": False,
        "serviceAccountsEnabled": False,
        "consentRequired": False,
        "frontchannelLogout": True,
        # native apps: any port on the loopback address (RFC 8252 §7.3)
        "redirectUris": [
            "http://127.0.0.1/*",
            "http://localhost/*",
            *(f"{b}/login/callback" for b in bases),
        ],
        # "+": the origins of the redirect URIs; the consoles' explicitly (a loopback redirect
        # URI matches any port, its derived origin has none)
        "webOrigins": ["+", *bases],
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "oauth2.device.authorization.grant.enabled": "true",
            "post.logout.redirect.uris": logout,
        },
        "protocolMappers": _claim_mappers(audience),
    }


def _test_clients(audience: str) -> list[dict[str, Any]]:
    def client(client_id: str, aud: str, **attributes: str) -> dict[str, Any]:
        return {
            "clientId": client_id,
            "name": "仅测试 / tests only",
            "enabled": True,
            "publicClient": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": True,
            "attributes": attributes,
            "protocolMappers": _claim_mappers(aud),
        }

    return [
        client(TEST_CLIENT, audience),
        client(
            TEST_SHORT_CLIENT, audience, **{"access.token.lifespan": str(TEST_SHORT_LIFESPAN_S)}
        ),
        client(TEST_FOREIGN_CLIENT, FOREIGN_AUDIENCE),
    ]


def _test_users(topology: Topology, password: str) -> list[dict[str, Any]]:
    users = []
    for code in TEST_DIVISIONS:
        if not topology.has_division(code):
            continue
        division = topology.division(code)
        for role in Role:
            body = user_body_for(topology, code, role)
            name = username_for(code, role)
            users.append(
                {
                    "username": name,
                    "enabled": True,
                    "emailVerified": True,
                    "email": f"{name}@example.test",
                    "firstName": role.zh,
                    "lastName": division.name,
                    "credentials": [{"type": "password", "value": password, "temporary": False}],
                    "realmRoles": [role.value],
                    "groups": [group_path(topology, body)],
                }
            )
    return users

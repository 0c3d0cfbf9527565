"""Sign-in with an external OpenID Connect provider: bearer JWT access tokens (decision 026).

`OidcAuthenticator` implements the `Authenticator` port. For `Authorization: Bearer <JWT>`
from the configured issuer it checks, in this order (RFC 7519, RFC 7515, RFC 8725, OIDC
Discovery 1.0, RFC 9068):

1. the header's `alg` is on the allow-list (asymmetric only: never `none`, never HS* — a
   provider's public key must not double as an HMAC secret, RFC 8725 §3.1/§3.2);
2. the `kid` names a signing key of the provider's JWKS (`jwks_uri` of the discovery document,
   cached; fetched again once when a `kid` is unknown, e.g. after the provider rotated keys);
3. the signature, with that key only;
4. `iss` = the issuer, `aud` contains the node's audience, `exp` (required) and `nbf`/`iat`
   within a small leeway, `typ` (when present) "Bearer";
5. the person's body — exactly one, of this node's division (claim `xinfang_body`, the body
   group's attribute; else a `groups` entry naming a body) — and roles (`realm_access.roles`
   ∩ the roles of DOMAIN.md §10; an administrator role only alone, 三员分立).

It answers None when the request has no bearer token, when the token is not a JWT (the node's
own session tokens are opaque) or when it comes from another issuer — the next authenticator
decides. A bad token from its issuer raises `AuthenticationFailed` (401, `context.reason` says
which check); a good token for a person this node cannot place raises `NotPermitted` (403).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from ..domain.errors import AccessError
from ..domain.topology import Body, Topology
from ..settings import NodeSettings
from .errors import AuthenticationFailed, NotPermitted
from .keycloak_realm import BODY_CLAIM, DEFAULT_AUDIENCE
from .principal import ADMIN_ROLES, AuthMethod, Principal, Role

# Asymmetric signatures only (RFC 8725 §3.1). HS* would let anyone holding the provider's
# published key mint tokens; "none" is no signature at all.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")  # fmt: skip
DEFAULT_LEEWAY_S = 30  # clock skew between the provider and the node (RFC 7519 §4.1.4)
REFRESH_INTERVAL_S = 10.0  # at most one JWKS fetch per interval for unknown `kid`s
HTTP_TIMEOUT_S = 5.0

_SigningKey = RSAKey | ECKey | OKPKey


class OidcProviderUnavailable(AccessError):
    """The provider's discovery document or JWKS could not be fetched or read: the node cannot
    check any token now (HTTP 503; retry later). Names the URL."""

    code = "XF-OIDC-UNAVAILABLE"
    zh = "无法访问身份提供方，暂时无法验证登录凭据"
    en = "The identity provider cannot be reached; sign-in cannot be checked now"


class OidcBodyRefused(NotPermitted):
    """A valid token whose person is not bound to exactly one body of this node's division
    (DOMAIN.md §10: one account per person, bound to one body). HTTP 403."""

    code = "XF-OIDC-BODY"
    zh = "该账号须且只能属于本节点的一个单位"
    en = "The account must belong to exactly one body of this node's division"


class OidcRolesRefused(NotPermitted):
    """A valid token with no role of DOMAIN.md §10, or an administrator role together with
    another role (三员分立). HTTP 403."""

    code = "XF-OIDC-ROLES"
    zh = "该账号没有有效的角色，或管理员角色与其他角色并存"
    en = "The account holds no xinfang role, or an administrator role together with others"


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """The provider a node trusts: `issuer` (exact `iss`, e.g.
    "https://idp.example/realms/xinfang"), `audience` (the node API's `aud`), `client_id` (the
    public client `xinfang login` uses). From XINFANG_OIDC_ISSUER / _AUDIENCE / _CLIENT_ID."""

    issuer: str
    audience: str = DEFAULT_AUDIENCE
    client_id: str = "xinfang"
    leeway_s: int = DEFAULT_LEEWAY_S


def _b64json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a compact JWS without checking anything, or None if `token` is not
    one (an opaque session token, say)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, UnicodeError, binascii.Error):
        return None
    if not isinstance(header, dict) or "alg" not in header or not isinstance(claims, dict):
        return None
    return header, claims


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer …` header (RFC 6750 §2.1), else None."""
    value = headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class OidcAuthenticator:
    """Bearer JWTs of one OIDC provider → `Principal` of this node (see the module docstring).

    `topology` and `division` place the person's body; `http` (an httpx.Client) and `now`
    (seconds since the epoch) are for tests. Thread-safe: the key cache is behind a lock.
    Fetching the JWKS blocks the caller (at first use and on an unknown `kid` only)."""

    def __init__(
        self,
        settings: OidcSettings,
        topology: Topology,
        division: str,
        *,
        http: httpx.Client | None = None,
        now: Callable[[], float] = time.time,
        algorithms: Iterable[str] = ALGORITHMS,
        refresh_interval_s: float = REFRESH_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.issuer = settings.issuer
        self._topology = topology
        self._division = division
        self._http = http or httpx.Client(timeout=HTTP_TIMEOUT_S)
        self._now = now
        self._algorithms = frozenset(algorithms) - {"none"}
        self._refresh_interval_s = refresh_interval_s
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str, tuple[_SigningKey, str | None]] = {}  # kid → (key, its `alg`)
        self._fetched_at: float | None = None
        self.jwks_fetches = 0  # how often the JWKS was fetched (tests, metrics)

    def close(self) -> None:
        """Close the HTTP client (the node's shutdown; tests)."""
        self._http.close()

    # -- the port ---------------------------------------------------------------------------
    def authenticate(self, headers: dict[str, str], cookies: dict[str, str]) -> Principal | None:
        token = bearer_token(headers)
        if token is None:
            return None
        parts = _unverified_parts(token)
        if parts is None:
            return None  # not a JWT: another authenticator's (opaque) token
        header, unverified = parts
        if unverified.get("iss") != self.issuer:
            return None  # another issuer's token: not ours to judge
        claims = self._verify(token, header)
        return self._principal(claims)

    # -- checks -----------------------------------------------------------------------------
    def _verify(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise AuthenticationFailed(f"不接受的签名算法 / algorithm not accepted: {alg!r}",
                                       reason="algorithm")  # fmt: skip
        kid = header.get("kid")
        found = self._key(kid if isinstance(kid, str) else None)
        if found is None:
            raise AuthenticationFailed(f"未知的签名密钥 / unknown signing key: {kid!r}",
                                       reason="unknown-key")  # fmt: skip
        key, key_alg = found
        if key_alg is not None and key_alg != alg:  # a key is published for one algorithm
            raise AuthenticationFailed(f"算法与密钥不符 / {alg} with a {key_alg} key",
                                       reason="algorithm")  # fmt: skip
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except BadSignatureError:
            raise AuthenticationFailed("签名无效 / bad signature", reason="signature") from None
        except JoseError as err:
            raise AuthenticationFailed(f"令牌无法验证 / token not valid: {err.error}",
                                       reason="malformed") from None  # fmt: skip
        claims = dict(decoded.claims)
        registry = JWTClaimsRegistry(
            now=lambda: int(self._now()),
            leeway=self.settings.leeway_s,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.settings.audience},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise AuthenticationFailed("令牌已过期 / token expired", reason="expired") from None
        except (InvalidClaimError, MissingClaimError) as err:
            claim = str(getattr(err, "claim", "") or err.description or "")
            reason = {"aud": "audience", "iss": "issuer", "nbf": "not-yet-valid",
                      "iat": "not-yet-valid"}.get(claim, "claims")  # fmt: skip
            raise AuthenticationFailed(f"令牌声明无效 / invalid claim {err.description}",
                                       reason=reason) from None  # fmt: skip
        typ = claims.get("typ")
        if typ is not None and str(typ).lower() != "bearer":
            raise AuthenticationFailed(f"不是访问令牌 / not an access token: typ={typ!r}",
                                       reason="token-type")  # fmt: skip
        return claims

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise AuthenticationFailed("令牌缺少 sub / token has no sub", reason="claims")
        username = claims.get("preferred_username")
        display = claims.get("name")
        name = " ".join(str(v) for v in (username, display) if isinstance(v, str) and v)
        body = self._body(claims)
        roles = self._roles(claims)
        return Principal(
            person=f"{sub}@{self.issuer}",  # `sub` never changes or moves to another person
            name=name,
            division=body.division,
            body=body.id,
            roles=roles,
            method=AuthMethod.OIDC,
        )

    def _body(self, claims: Mapping[str, Any]) -> Body:
        named = _strings(claims.get(BODY_CLAIM))
        if not named:  # no attribute mapper: group names "<body id> <name>" or "/…/<body id>"
            for group in _strings(claims.get("groups")):
                candidate = group.rsplit("/", 1)[-1].split(" ", 1)[0]
                if self._topology.has_body(candidate):
                    named.append(candidate)
        bodies = sorted(set(named))
        if len(bodies) != 1:
            raise OidcBodyRefused(f"令牌中的单位 / bodies in the token: {bodies}",
                                  bodies=",".join(bodies))  # fmt: skip
        if not self._topology.has_body(bodies[0]):
            raise OidcBodyRefused(f"未知单位 / unknown body {bodies[0]}", body=bodies[0])
        body = self._topology.body(bodies[0])
        if body.division != self._division:
            raise OidcBodyRefused(
                f"{body.id} 不属于本节点 {self._division} / not of this node's division",
                body=body.id,
            )
        return body

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[Role]:
        access = claims.get("realm_access")
        names = _strings(access.get("roles")) if isinstance(access, dict) else []
        known = {r.value: r for r in Role}
        roles = frozenset(known[n] for n in names if n in known)
        if not roles:
            raise OidcRolesRefused("没有 xinfang 角色 / no xinfang role", roles=",".join(names))
        if roles & ADMIN_ROLES and len(roles) > 1:
            raise OidcRolesRefused(
                "管理员角色须单独持有（三员分立）/ an administrator role must be held alone",
                roles=",".join(sorted(r.value for r in roles)),
            )
        return roles

    # -- keys -------------------------------------------------------------------------------
    def _key(self, kid: str | None) -> tuple[_SigningKey, str | None] | None:
        """The signing key `kid` of the provider's JWKS, fetched once at first use and again
        when `kid` is unknown (at most once per refresh interval). Without a `kid`, the only
        signing key if there is exactly one."""
        with self._lock:
            if self._fetched_at is None:
                self._fetch_keys()
            found = self._lookup(kid)
            if found is None and self._may_refresh():
                self._fetch_keys()
                found = self._lookup(kid)
            return found

    def _lookup(self, kid: str | None) -> tuple[_SigningKey, str | None] | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _may_refresh(self) -> bool:
        return (
            self._fetched_at is None or self._now() - self._fetched_at >= self._refresh_interval_s
        )

    def _get_json(self, url: str) -> Any:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise OidcProviderUnavailable(f"{url}: {err}", url=url) from None

    def _fetch_keys(self) -> None:
        if self._jwks_uri is None:
            discovery = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            doc = self._get_json(discovery)
            # OIDC Discovery §4.3: the document's issuer must be the one we asked for
            if not isinstance(doc, dict) or doc.get("issuer") != self.issuer:
                raise OidcProviderUnavailable(
                    f"{discovery}: issuer {doc.get('issuer') if isinstance(doc, dict) else doc!r}"
                    f" ≠ {self.issuer}",
                    url=discovery,
                )
            uri = doc.get("jwks_uri")
            if not isinstance(uri, str):
                raise OidcProviderUnavailable(f"{discovery}: no jwks_uri", url=discovery)
            self._jwks_uri = uri
        jwks = self._get_json(self._jwks_uri)
        keys: dict[str, tuple[_SigningKey, str | None]] = {}
        for entry in jwks.get("keys", []) if isinstance(jwks, dict) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue  # encryption keys (use=enc) never verify signatures
            if entry.get("kty") not in ("RSA", "EC", "OKP"):
                continue  # symmetric keys are never published, and never accepted
            try:
                key = _import_key(entry)
            except (JoseError, ValueError, TypeError):
                continue
            alg = entry.get("alg")
            keys[str(entry.get("kid", ""))] = (key, alg if isinstance(alg, str) else None)
        self._keys = keys
        self._fetched_at = self._now()
        self.jwks_fetches += 1


def _import_key(entry: dict[str, Any]) -> _SigningKey:
    kty = entry["kty"]
    if kty == "RSA":
        return RSAKey.import_key(entry)
    if kty == "EC":
        return ECKey.import_key(entry)
    return OKPKey.import_key(entry)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def oidc_authenticator(settings: NodeSettings, topology: Topology) -> OidcAuthenticator | None:
    """The node's OIDC authenticator (XINFANG_OIDC_ISSUER, _AUDIENCE, _CLIENT_ID), or None when
    no issuer is configured (the node's own accounts only)."""
    if not settings.oidc_issuer:
        return None
    oidc = OidcSettings(settings.oidc_issuer, settings.oidc_audience, settings.oidc_client_id)
    return OidcAuthenticator(oidc, topology, settings.division)

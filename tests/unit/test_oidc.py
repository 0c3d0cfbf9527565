"""Issue 14 item 1a: the OIDC authenticator's checks, with a local JWKS served through httpx
(the same checks run against a real Keycloak in tests/integration/test_oidc_keycloak.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from xinfang.api.errors import http_status
from xinfang.domain.topology import Topology
from xinfang.identity.errors import AuthenticationFailed, NotPermitted
from xinfang.identity.oidc import (
    OidcAuthenticator,
    OidcBodyRefused,
    OidcProviderUnavailable,
    OidcRolesRefused,
    OidcSettings,
)
from xinfang.identity.principal import AuthMethod, Role

ISSUER = "https://idp.test/realms/xinfang"
AUDIENCE = "xinfang-api"
NOW = 1_800_000_000


class Provider:
    """A fake provider: discovery document and JWKS over httpx.MockTransport."""

    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})]
        self.issuer_in_discovery = ISSUER
        self.jwks_requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200, json={"issuer": self.issuer_in_discovery, "jwks_uri": f"{ISSUER}/certs"}
            )
        if request.url.path.endswith("/certs"):
            self.jwks_requests += 1
            return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})
        return httpx.Response(404)


@pytest.fixture
def provider() -> Provider:
    return Provider()


Clock = list[float]


@pytest.fixture
def clock() -> Clock:
    return [float(NOW)]


@pytest.fixture
def auth(provider: Provider, clock: Clock, topology: Topology) -> OidcAuthenticator:
    return OidcAuthenticator(
        OidcSettings(ISSUER, AUDIENCE, leeway_s=30),
        topology,
        "150404",
        http=httpx.Client(transport=httpx.MockTransport(provider.handler)),
        now=lambda: clock[0],
    )


def claims(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": [AUDIENCE, "account"],
        "sub": "4f1c-sub",
        "exp": NOW + 300,
        "iat": NOW,
        "typ": "Bearer",
        "preferred_username": "150404.handler",
        "realm_access": {"roles": ["handler", "offline_access"]},
        "xinfang_body": ["150404.zj"],
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def mint(key: Any, payload: dict[str, Any], alg: str = "RS256", kid: str | None = "k1") -> str:
    header: dict[str, Any] = {"alg": alg}
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(header, payload, key, algorithms=[alg])


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def refused(call: Callable[[], object]) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as info:
        call()
    assert http_status(info.value) == 401
    assert info.value.code == "XF-AUTH-REQUIRED"
    return info.value


def test_a_valid_token_maps_to_the_person_body_and_roles(
    auth: OidcAuthenticator, provider: Provider
) -> None:
    principal = auth.authenticate(bearer(mint(provider.keys[0], claims())), {})
    assert principal is not None
    assert principal.person == f"4f1c-sub@{ISSUER}"
    assert principal.name == "150404.handler"
    assert (principal.division, principal.body) == ("150404", "150404.zj")
    assert principal.roles == frozenset({Role.HANDLER})  # offline_access is not a xinfang role
    assert principal.method is AuthMethod.OIDC


def test_group_names_place_the_person_when_the_body_claim_is_missing(
    auth: OidcAuthenticator, provider: Provider
) -> None:
    token = mint(provider.keys[0], claims(xinfang_body=None, groups=["150404.xfj 松山区信访局"]))
    principal = auth.authenticate(bearer(token), {})
    assert principal is not None and principal.body == "150404.xfj"


def test_no_token_an_opaque_token_or_another_issuer_is_not_its_business(
    auth: OidcAuthenticator, provider: Provider
) -> None:
    assert auth.authenticate({}, {}) is None
    assert auth.authenticate({"authorization": "Basic dXNlcjpwdw=="}, {}) is None
    assert auth.authenticate(bearer("opaque-session-token-3f9a"), {}) is None
    other = mint(provider.keys[0], claims(iss="https://elsewhere.test/realms/x"))
    assert auth.authenticate(bearer(other), {}) is None
    assert provider.jwks_requests == 0  # nothing fetched for tokens it does not judge


def test_expired_token_refused_beyond_the_leeway(
    auth: OidcAuthenticator, provider: Provider, clock: Clock
) -> None:
    token = mint(provider.keys[0], claims(exp=NOW + 60))
    clock[0] = NOW + 60 + 29  # within the 30 s leeway
    assert auth.authenticate(bearer(token), {}) is not None
    clock[0] = NOW + 60 + 30
    assert refused(lambda: auth.authenticate(bearer(token), {})).context["reason"] == "expired"


def test_a_token_without_exp_or_not_yet_valid_is_refused(
    auth: OidcAuthenticator, provider: Provider
) -> None:
    no_exp = mint(provider.keys[0], claims(exp=None))
    assert refused(lambda: auth.authenticate(bearer(no_exp), {})).context["reason"] == "claims"
    early = mint(provider.keys[0], claims(nbf=NOW + 120))
    err = refused(lambda: auth.authenticate(bearer(early), {}))
    assert err.context["reason"] == "not-yet-valid"


def test_wrong_audience_refused(auth: OidcAuthenticator, provider: Provider) -> None:
    token = mint(provider.keys[0], claims(aud="some-other-api"))
    assert refused(lambda: auth.authenticate(bearer(token), {})).context["reason"] == "audience"


def test_tampered_payload_refused(auth: OidcAuthenticator, provider: Provider) -> None:
    head, _, sig = mint(provider.keys[0], claims()).split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps(claims(realm_access={"roles": ["registrar"]})).encode()
    ).rstrip(b"=")
    token = f"{head}.{forged.decode()}.{sig}"
    assert refused(lambda: auth.authenticate(bearer(token), {})).context["reason"] == "signature"


def test_alg_none_and_hmac_with_the_public_key_refused(
    auth: OidcAuthenticator, provider: Provider
) -> None:
    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    none = f"{b64({'alg': 'none', 'kid': 'k1'})}.{b64(claims())}."
    assert refused(lambda: auth.authenticate(bearer(none), {})).context["reason"] == "algorithm"
    # the classic confusion: HMAC keyed with the provider's public key (crafted by hand:
    # joserfc itself refuses to make an oct key of a public key)
    public_pem = provider.keys[0].as_pem(private=False)
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'k1'})}.{b64(claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    hs = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert refused(lambda: auth.authenticate(bearer(hs), {})).context["reason"] == "algorithm"


def test_unknown_key_refused_after_one_jwks_refresh(
    auth: OidcAuthenticator, provider: Provider, clock: Clock
) -> None:
    assert auth.authenticate(bearer(mint(provider.keys[0], claims())), {}) is not None
    assert provider.jwks_requests == 1
    clock[0] += 11  # past the refresh interval
    stranger = RSAKey.generate_key(2048)
    token = mint(stranger, claims(), kid="not-in-jwks")
    assert refused(lambda: auth.authenticate(bearer(token), {})).context["reason"] == "unknown-key"
    assert provider.jwks_requests == 2  # fetched again once
    refused(lambda: auth.authenticate(bearer(token), {}))
    assert provider.jwks_requests == 2  # a flood of unknown kids does not hammer the provider
    # the stranger's key with a kid that IS in the JWKS: the signature fails
    token = mint(stranger, claims(), kid="k1")
    assert refused(lambda: auth.authenticate(bearer(token), {})).context["reason"] == "signature"


def test_a_rotated_key_is_found_with_one_refresh(
    auth: OidcAuthenticator, provider: Provider, clock: Clock
) -> None:
    assert auth.authenticate(bearer(mint(provider.keys[0], claims())), {}) is not None
    provider.keys.append(RSAKey.generate_key(2048, parameters={"kid": "k2", "use": "sig"}))
    clock[0] += 11
    principal = auth.authenticate(bearer(mint(provider.keys[1], claims(), kid="k2")), {})
    assert principal is not None and provider.jwks_requests == 2


def test_an_id_token_is_not_an_access_token(auth: OidcAuthenticator, provider: Provider) -> None:
    token = mint(provider.keys[0], claims(typ="ID"))
    assert refused(lambda: auth.authenticate(bearer(token), {})).context["reason"] == "token-type"


@pytest.mark.parametrize(
    "bodies", [[], ["150404.zj", "150404.xfj"], ["150400.xfj"], ["999999.none"]]
)
def test_exactly_one_body_of_this_division_else_403(
    auth: OidcAuthenticator, provider: Provider, bodies: list[str]
) -> None:
    token = mint(provider.keys[0], claims(xinfang_body=bodies))
    with pytest.raises(OidcBodyRefused) as info:
        auth.authenticate(bearer(token), {})
    assert isinstance(info.value, NotPermitted)
    assert (http_status(info.value), info.value.code) == (403, "XF-OIDC-BODY")


@pytest.mark.parametrize("roles", [[], ["offline_access"], ["system-admin", "registrar"]])
def test_no_role_or_an_admin_role_with_another_is_403(
    auth: OidcAuthenticator, provider: Provider, roles: list[str]
) -> None:
    token = mint(provider.keys[0], claims(realm_access={"roles": roles}))
    with pytest.raises(OidcRolesRefused) as info:
        auth.authenticate(bearer(token), {})
    assert (http_status(info.value), info.value.code) == (403, "XF-OIDC-ROLES")


def test_a_discovery_document_of_another_issuer_is_not_trusted(
    auth: OidcAuthenticator, provider: Provider
) -> None:
    provider.issuer_in_discovery = "https://evil.test/realms/xinfang"
    with pytest.raises(OidcProviderUnavailable) as info:
        auth.authenticate(bearer(mint(provider.keys[0], claims())), {})
    assert (http_status(info.value), info.value.code) == (503, "XF-OIDC-UNAVAILABLE")


def test_settings_and_bootstrap_append_the_oidc_authenticator(topology: Topology) -> None:
    from xinfang.bootstrap import authenticators
    from xinfang.settings import NodeSettings, SettingsError

    env = {"XINFANG_DIVISION": "150404", "XINFANG_OIDC_ISSUER": f"{ISSUER}/",
           "XINFANG_OIDC_AUDIENCE": "node-api"}  # fmt: skip
    settings = NodeSettings.from_env(env)
    assert (settings.oidc_issuer, settings.oidc_audience) == (ISSUER, "node-api")

    class BuiltIn:
        def authenticate(self, headers: dict[str, str], cookies: dict[str, str]) -> None:
            return None

    built_in = BuiltIn()
    chain = authenticators(settings, topology, [built_in])
    assert chain[0] is built_in  # the node's own sessions first
    assert isinstance(chain[1], OidcAuthenticator) and len(chain) == 2
    assert (chain[1].issuer, chain[1].settings.audience) == (ISSUER, "node-api")
    chain[1].close()
    without = NodeSettings.from_env({"XINFANG_DIVISION": "150404"})
    assert authenticators(without, topology, [built_in]) == [built_in]
    # keys fetched over plain HTTP could be swapped on the way: https, or http on loopback only
    with pytest.raises(SettingsError, match="XINFANG_OIDC_ISSUER"):
        NodeSettings.from_env({**env, "XINFANG_OIDC_ISSUER": "http://idp.example/realms/x"})
    local = NodeSettings.from_env({**env, "XINFANG_OIDC_ISSUER": "http://127.0.0.1:8180/realms/x"})
    assert local.oidc_issuer == "http://127.0.0.1:8180/realms/x"

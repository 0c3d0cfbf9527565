"""Issue 16 item 2 (登录 via the OIDC provider, decision 035): the public route that tells the
console which provider and client to sign in with, and the realm's console redirect URIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xinfang.api.handlers import NodeApi
from xinfang.cli import main
from xinfang.identity.keycloak_realm import CLIENT_ID, public_client, realm
from xinfang.identity.oidc import OidcAuthenticator, OidcSettings
from xinfang.identity.policy import PUBLIC
from xinfang.topology_file import load_topology

from .fakes import FakeBus

CITY = "150400"
ISSUER = "https://idp.example.cn/realms/xinfang"


@pytest.fixture
def api(tmp_path: Path) -> NodeApi:
    bus = FakeBus(load_topology(), [CITY], tmp_path)
    return NodeApi(bus.nodes[CITY])


def test_without_an_issuer_the_route_says_none_without_an_error(api: NodeApi) -> None:
    # 200, not 404: an expected state must not be an error in the browser's console
    status, body = api.dispatch("GET", "/api/session/oidc", None)
    assert (status, body) == (200, {"configured": False})


def test_with_an_issuer_anyone_learns_issuer_client_and_scope(api: NodeApi) -> None:
    settings = OidcSettings(ISSUER, client_id="xinfang-console-test")
    api.auth.authenticators.append(OidcAuthenticator(settings, load_topology(), CITY))
    # no sign-in: the login page asks before anyone is signed in
    status, body = api.dispatch("GET", "/api/session/oidc", None)
    assert (status, body) == (
        200,
        {
            "configured": True,
            "issuer": ISSUER,
            "client_id": "xinfang-console-test",
            "scope": "openid profile",
        },
    )
    assert "oidc_config" in PUBLIC


def test_the_realm_lets_each_console_use_the_public_client() -> None:
    rep = realm(load_topology(), console_urls=["https://xf.example.cn", "http://127.0.0.1:8601/"])
    client = next(c for c in rep["clients"] if c["clientId"] == CLIENT_ID)
    assert client["publicClient"] is True and client["standardFlowEnabled"] is True
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert "https://xf.example.cn/login/callback" in client["redirectUris"]
    assert "http://127.0.0.1:8601/login/callback" in client["redirectUris"]
    assert {"https://xf.example.cn", "http://127.0.0.1:8601"} <= set(client["webOrigins"])
    logout = client["attributes"]["post.logout.redirect.uris"].split("##")
    assert "https://xf.example.cn/login" in logout
    # without consoles: the loopback redirects of the CLI only, as before
    plain = public_client("xinfang-api")
    assert plain["redirectUris"] == ["http://127.0.0.1/*", "http://localhost/*"]


@pytest.mark.parametrize("url", ["xf.example.cn", "https://xf.example.cn/console", "ftp://x"])
def test_a_console_url_with_a_path_or_no_scheme_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="scheme://host"):
        public_client("xinfang-api", [url])


def test_the_realm_command_takes_console_urls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keycloak", "realm", "--console-url", "https://xf.example.cn"]) == 0
    client = json.loads(capsys.readouterr().out)["clients"][0]
    assert "https://xf.example.cn/login/callback" in client["redirectUris"]
    assert main(["keycloak", "realm", "--console-url", "https://xf.example.cn/x"]) == 2
    assert "scheme://host" in capsys.readouterr().err  # a clear refusal, no traceback

"""Issue 14 item 1a: the realm generated from the topology (`xinfang keycloak realm`) and the
device flow's polling and token file of `xinfang login` (over a fake provider; the real
Keycloak runs them in tests/integration/test_oidc_keycloak.py)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from xinfang.cli import main
from xinfang.domain.topology import Topology
from xinfang.identity.keycloak_realm import CLIENT_ID, TEST_CLIENT, realm
from xinfang.identity.login import (
    LoginExpired,
    LoginFailed,
    access_token,
    device_login,
    save_tokens,
)
from xinfang.identity.principal import Role

ISSUER = "https://idp.test/realms/xinfang"


def test_realm_has_the_roles_a_group_per_body_and_a_public_pkce_device_client(
    topology: Topology,
) -> None:
    rep = realm(topology, audience="node-api")
    assert rep["realm"] == "xinfang"
    assert {r["name"] for r in rep["roles"]["realm"]} == {r.value for r in Role}
    bodies = {
        sub["attributes"]["xinfang_body"][0]: sub["attributes"]["xinfang_division"][0]
        for group in rep["groups"]
        for sub in group["subGroups"]
    }
    expected = {b.id: d.code for d in topology.divisions for b in d.bodies}
    assert bodies == expected
    (client,) = rep["clients"]
    assert client["clientId"] == CLIENT_ID and client["publicClient"] is True
    assert client["directAccessGrantsEnabled"] is False  # people never give the CLI a password
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["attributes"]["oauth2.device.authorization.grant.enabled"] == "true"
    audience = [
        m for m in client["protocolMappers"] if m["protocolMapper"] == "oidc-audience-mapper"
    ]
    assert audience[0]["config"]["included.custom.audience"] == "node-api"
    assert rep["users"] == []  # no test users unless asked


def test_test_users_one_per_role_at_two_divisions(topology: Topology) -> None:
    rep = realm(topology, test_password="pw")
    users = {u["username"]: u for u in rep["users"]}
    assert len(users) == 2 * len(Role)
    assert users["150404.handler"]["realmRoles"] == ["handler"]
    assert users["150404.handler"]["groups"] == ["/150404 松山区/150404.zj 松山区住房和城乡建设局"]
    assert users["150400.registrar"]["groups"] == ["/150400 赤峰市/150400.xfj 赤峰市信访局"]
    assert TEST_CLIENT in {c["clientId"] for c in rep["clients"]}


def test_cli_realm_needs_the_password_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XINFANG_KEYCLOAK_TEST_PASSWORD", raising=False)
    assert main(["keycloak", "realm", "--test-users"]) == 2
    assert "XINFANG_KEYCLOAK_TEST_PASSWORD" in capsys.readouterr().err
    monkeypatch.setenv("XINFANG_KEYCLOAK_TEST_PASSWORD", "pw")
    assert main(["keycloak", "realm", "--test-users"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert len(rep["users"]) == 2 * len(Role)


class DeviceProvider:
    """Device authorization endpoint + token endpoint answering a scripted sequence."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = answers
        self.forms: list[dict[str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={
                "issuer": ISSUER, "token_endpoint": f"{ISSUER}/token",
                "device_authorization_endpoint": f"{ISSUER}/device",
            })  # fmt: skip
        form = dict(httpx.QueryParams(request.content.decode()))
        self.forms.append(form)
        if path.endswith("/device"):
            return httpx.Response(200, json={
                "device_code": "dc", "user_code": "ABCD-EFGH", "interval": 5, "expires_in": 600,
                "verification_uri_complete": f"{ISSUER}/device?user_code=ABCD-EFGH",
            })  # fmt: skip
        status, body = self.answers.pop(0)
        return httpx.Response(status, json=body)


def run_device(provider: DeviceProvider) -> tuple[dict[str, Any], list[float], list[str]]:
    waits: list[float] = []
    said: list[str] = []
    clock = [1000.0]

    def sleep(s: float) -> None:
        waits.append(s)
        clock[0] += s

    record = device_login(
        ISSUER, "xinfang", lambda zh, en: said.append(en),
        http=httpx.Client(transport=httpx.MockTransport(provider.handler)),
        sleep=sleep, now=lambda: clock[0],
    )  # fmt: skip
    return record, waits, said


def test_device_flow_polls_at_the_interval_slows_down_and_sends_pkce() -> None:
    provider = DeviceProvider([
        (400, {"error": "authorization_pending"}),
        (400, {"error": "slow_down"}),
        (200, {"access_token": "at", "refresh_token": "rt", "expires_in": 300,
               "refresh_expires_in": 1800, "token_type": "Bearer"}),
    ])  # fmt: skip
    record, waits, said = run_device(provider)
    assert waits == [5, 5, 10]  # RFC 8628 §3.5: slow_down adds 5 s to the interval
    assert "ABCD-EFGH" in said[0] and f"{ISSUER}/device?user_code=ABCD-EFGH" in said[0]
    assert provider.forms[0]["code_challenge_method"] == "S256"
    verifier = provider.forms[1]["code_verifier"]
    assert all(f["code_verifier"] == verifier for f in provider.forms[1:])
    assert record["access_token"] == "at" and record["expires_at"] == 1000 + 20 + 300


def test_device_flow_denied_is_a_clear_refusal() -> None:
    provider = DeviceProvider([(400, {"error": "access_denied"})])
    with pytest.raises(LoginFailed) as info:
        run_device(provider)
    assert info.value.code == "XF-LOGIN-FAILED" and info.value.context["reason"] == "access_denied"


def test_token_file_is_0600_even_over_a_readable_one(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "token.json"
    path.parent.mkdir()
    path.write_text("{}")
    os.chmod(path, 0o644)
    save_tokens(path, {"access_token": "secret", "expires_at": 2e9})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert access_token(path) == "secret"
    assert access_token(tmp_path / "none.json") is None  # not signed in: no header


def test_an_expired_sign_in_without_refresh_says_login_again(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    save_tokens(path, {"access_token": "old", "expires_at": 1.0, "refresh_token": None})
    with pytest.raises(LoginExpired) as info:
        access_token(path)
    assert "xinfang login" in info.value.message("en")

"""Issue 14 item 1a against a REAL Keycloak (deploy/keycloak/keycloak.sh, started once per
session by the `keycloak` fixture with the realm generated from the demo topology):
tokens Keycloak issues are accepted and map to the right Principal; expired, wrong-audience,
wrong-issuer, unknown-key, tampered and alg-none tokens are refused (401); `xinfang login`
(device flow and browser flow with PKCE) keeps a 0600 token file that the CLI sends as Bearer.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from xinfang.api.errors import http_status
from xinfang.devtools.broker import free_port
from xinfang.devtools.keycloak import Keycloak
from xinfang.domain.errors import XinfangError
from xinfang.domain.topology import Topology
from xinfang.identity.errors import AuthenticationFailed
from xinfang.identity.keycloak_realm import (
    TEST_FOREIGN_CLIENT,
    TEST_SHORT_CLIENT,
    username_for,
)
from xinfang.identity.oidc import OidcAuthenticator, OidcSettings
from xinfang.identity.principal import Authenticator, AuthMethod, Role

pytestmark = pytest.mark.integration


_OPEN: list[OidcAuthenticator] = []


@pytest.fixture(autouse=True)
def _close_authenticators() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def authenticator(
    kc: Keycloak, topology: Topology, division: str = "150404", **kw: Any
) -> OidcAuthenticator:
    settings = kw.pop("settings", OidcSettings(kc.issuer))
    auth = OidcAuthenticator(settings, topology, division, **kw)
    _OPEN.append(auth)
    return auth


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def access(kc: Keycloak, user: str, client: str | None = None) -> str:
    tokens = kc.password_grant(user, client) if client else kc.password_grant(user)
    return str(tokens["access_token"])


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    def part(s: str) -> dict[str, Any]:
        return dict(json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))))

    head, body, sig = token.split(".")
    return part(head), part(body), sig


def b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def reason(auth: OidcAuthenticator, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as info:
        auth.authenticate(bearer(token), {})
    assert (http_status(info.value), info.value.code) == (401, "XF-AUTH-REQUIRED")
    return str(info.value.context["reason"])


@pytest.mark.parametrize(
    ("division", "role", "body"),
    [
        ("150404", Role.HANDLER, "150404.zj"),
        ("150404", Role.APPROVER, "150404.zj"),
        ("150400", Role.REGISTRAR, "150400.xfj"),
        ("150400", Role.SUPERVISOR, "150400.xfj"),
        ("150400", Role.AUDIT_ADMIN, "150400.xfj"),
    ],
)
def test_keycloak_token_accepted_and_mapped_to_the_principal(
    keycloak: Keycloak, topology: Topology, division: str, role: Role, body: str
) -> None:
    token = access(keycloak, username_for(division, role))
    principal = authenticator(keycloak, topology, division).authenticate(bearer(token), {})
    assert principal is not None
    _, claims, _ = segments(token)
    assert principal.person == f"{claims['sub']}@{keycloak.issuer}"
    assert principal.name.startswith(username_for(division, role))
    assert (principal.division, principal.body, principal.roles) == (
        division, body, frozenset({role}),
    )  # fmt: skip
    assert principal.method is AuthMethod.OIDC


def test_a_person_of_another_division_is_refused_at_this_node(
    keycloak: Keycloak, topology: Topology
) -> None:
    token = access(keycloak, username_for("150400", Role.REGISTRAR))
    with pytest.raises(XinfangError) as info:
        authenticator(keycloak, topology, "150404").authenticate(bearer(token), {})
    assert (http_status(info.value), info.value.code) == (403, "XF-OIDC-BODY")


def test_expired_keycloak_token_refused(keycloak: Keycloak, topology: Topology) -> None:
    # a client whose access tokens live 2 s (realm setting); no leeway for this node
    token = access(keycloak, username_for("150404", Role.HANDLER), TEST_SHORT_CLIENT)
    _, claims, _ = segments(token)
    clock = [float(claims["iat"])]
    settings = OidcSettings(keycloak.issuer, leeway_s=0)
    auth = authenticator(keycloak, topology, settings=settings, now=lambda: clock[0])
    assert auth.authenticate(bearer(token), {}) is not None  # valid when issued
    deadline = time.monotonic() + 30
    while time.time() <= claims["exp"]:  # bounded wait for real time to pass `exp`
        assert time.monotonic() < deadline
        time.sleep(0.1)
    clock[0] = time.time()
    assert reason(auth, token) == "expired"


def test_wrong_audience_refused(keycloak: Keycloak, topology: Topology) -> None:
    token = access(keycloak, username_for("150404", Role.HANDLER), TEST_FOREIGN_CLIENT)
    assert segments(token)[1]["aud"] == "some-other-api"
    assert reason(authenticator(keycloak, topology), token) == "audience"


def test_wrong_issuer_is_not_accepted(keycloak: Keycloak, topology: Topology) -> None:
    # a genuine Keycloak token of another realm (another issuer, another key)
    token = keycloak.admin_token()
    auth = authenticator(keycloak, topology)
    assert auth.authenticate(bearer(token), {}) is None  # not its issuer: the chain goes on
    response = whoami(auth)("/whoami", headers=bearer(token))
    assert response.status_code == 401 and response.json()["code"] == "XF-AUTH-REQUIRED"
    # the same token claiming our issuer: the key is not in our JWKS
    head, claims, sig = segments(token)
    claims["iss"] = keycloak.issuer
    forged = f"{b64(head)}.{b64(claims)}.{sig}"
    assert reason(auth, forged) in {"unknown-key", "signature"}


def test_unknown_key_refused_after_one_jwks_refresh(keycloak: Keycloak, topology: Topology) -> None:
    real = access(keycloak, username_for("150404", Role.HANDLER))
    _, claims, _ = segments(real)
    auth = authenticator(keycloak, topology, refresh_interval_s=0)
    assert auth.authenticate(bearer(real), {}) is not None
    assert auth.jwks_fetches == 1
    stranger = RSAKey.generate_key(2048)
    token = jwt.encode({"alg": "RS256", "kid": "not-in-keycloak"}, claims, stranger)
    assert reason(auth, token) == "unknown-key"
    assert auth.jwks_fetches == 2  # Keycloak's JWKS fetched again once, still unknown


def test_tampered_payload_refused(keycloak: Keycloak, topology: Topology) -> None:
    head, claims, sig = segments(access(keycloak, username_for("150404", Role.HANDLER)))
    claims["realm_access"] = {"roles": ["approver"]}
    assert reason(authenticator(keycloak, topology), f"{b64(head)}.{b64(claims)}.{sig}") == (
        "signature"
    )


def test_alg_none_refused(keycloak: Keycloak, topology: Topology) -> None:
    head, claims, _ = segments(access(keycloak, username_for("150404", Role.HANDLER)))
    token = f"{b64({**head, 'alg': 'none'})}.{b64(claims)}."
    assert reason(authenticator(keycloak, topology), token) == "algorithm"


# -- over HTTP: a tiny route running the authenticator chain (api/auth.py wires the node's) ----


Get = Callable[..., httpx.Response]


def whoami(*chain: Authenticator) -> Get:
    """GET on a tiny FastAPI app whose one route runs `chain` (over ASGI, in process)."""
    app = FastAPI()

    @app.get("/whoami")
    def route(request: Request) -> Any:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            for auth in chain:
                principal = auth.authenticate(headers, dict(request.cookies))
                if principal is not None:
                    return {"person": principal.person, "body": principal.body,
                            "roles": sorted(principal.roles)}  # fmt: skip
            raise AuthenticationFailed()
        except XinfangError as err:
            return JSONResponse(err.to_dict(), status_code=http_status(err))

    def get(path: str, headers: dict[str, str]) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
                return await client.get(path, headers=headers)

        return asyncio.run(call())

    return get


def test_over_http_a_token_signs_in_and_a_bad_one_is_401(
    keycloak: Keycloak, topology: Topology
) -> None:
    get = whoami(authenticator(keycloak, topology))
    token = access(keycloak, username_for("150404", Role.HANDLER))
    ok = get("/whoami", headers=bearer(token))
    assert ok.status_code == 200
    assert ok.json()["body"] == "150404.zj" and ok.json()["roles"] == ["handler"]
    head, claims, sig = segments(token)
    claims["xinfang_body"] = ["150404.xfj"]
    for bad in (f"{b64(head)}.{b64(claims)}.{sig}", None):
        response = get("/whoami", headers=bearer(bad) if bad else {})
        assert response.status_code == 401
        assert response.json()["code"] == "XF-AUTH-REQUIRED"
        assert response.json()["message_en"].startswith("Sign-in required")


# -- `xinfang login` and the CLI's bearer token ------------------------------------------------


class Browser:
    """Just enough of a browser for Keycloak's login pages: cookies (also the Secure ones a
    real browser sends to 127.0.0.1), redirects, forms."""

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=30)
        self.jar: dict[str, str] = {}

    def go(self, url: str, form: dict[str, str] | None = None) -> httpx.Response:
        method = "POST" if form is not None else "GET"
        for _ in range(10):
            cookie = "; ".join(f"{k}={v}" for k, v in self.jar.items())
            response = self.http.request(
                method, url, data=form, headers={"Cookie": cookie} if cookie else {}
            )
            for header in response.headers.get_list("set-cookie"):
                parsed: SimpleCookie = SimpleCookie()
                parsed.load(header)
                self.jar.update({k: m.value for k, m in parsed.items()})
            if response.status_code not in (301, 302, 303):
                return response
            url, method, form = str(response.url.join(response.headers["location"])), "GET", None
        raise AssertionError("too many redirects")

    def submit(self, page: httpx.Response, fields: dict[str, str]) -> httpx.Response:
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
        assert action, page.text[:500]
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        return self.go(str(page.url.join(html.unescape(action.group(1)))), {**hidden, **fields})


def sign_in(url: str, user: str, password: str) -> httpx.Response:
    """A person opening `url` and signing in on Keycloak's pages (granting access if asked)."""
    browser = Browser()
    try:
        page = browser.go(url)
        page = browser.submit(page, {"username": user, "password": password})
        if 'name="accept"' in page.text:  # the device flow asks the person to grant access
            page = browser.submit(page, {"accept": "Yes"})
        return page
    finally:
        browser.http.close()


def cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "xinfang", *args],
        env={**os.environ, "XINFANG_LANG": "en", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class FakeNode(BaseHTTPRequestHandler):
    """Records the Authorization header of each request (the node's auth is api/auth.py's)."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        FakeNode.seen.append(self.headers.get("Authorization"))
        body = b'{"cases": []}' if self.path.startswith("/api/cases") else b'{"calendar": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def fake_node() -> Iterator[str]:
    FakeNode.seen = []
    server = HTTPServer(("127.0.0.1", 0), FakeNode)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_device_login_token_file_bearer_refresh_and_logout(
    keycloak: Keycloak, topology: Topology, tmp_path: Path, fake_node: str
) -> None:
    token_file = tmp_path / "cfg" / "token.json"
    env = {"XINFANG_TOKEN_FILE": str(token_file), "XINFANG_OIDC_ISSUER": keycloak.issuer}
    login = cli("login", env=env)
    assert login.stdout is not None
    first = login.stdout.readline()
    url = re.search(r"open (\S+) in a browser", first)
    assert url, first
    page = sign_in(url.group(1), "150404.handler", keycloak.test_password)
    assert "Device Login Successful" in page.text
    out, errors = login.communicate(timeout=120)
    assert login.returncode == 0, errors
    assert "signed in" in out
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    # the CLI sends the token as Bearer; the node maps it to the handler of 松山区住建局
    listed = subprocess.run(
        [sys.executable, "-m", "xinfang", "case", "--api", fake_node, "list"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    sent = FakeNode.seen[0]
    assert sent is not None and sent.startswith("Bearer ")
    principal = authenticator(keycloak, topology).authenticate({"authorization": sent}, {})
    assert principal is not None
    assert (principal.body, principal.roles) == ("150404.zj", frozenset({Role.HANDLER}))

    # an expired access token is refreshed with the refresh token before it is sent
    record = json.loads(token_file.read_text())
    record["expires_at"] = time.time() - 1
    token_file.write_text(json.dumps(record))
    again = subprocess.run(
        [sys.executable, "-m", "xinfang", "case", "--api", fake_node, "list"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    refreshed = json.loads(token_file.read_text())
    assert refreshed["access_token"] != record["access_token"]
    assert FakeNode.seen[-1] == f"Bearer {refreshed['access_token']}"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    out = subprocess.run(
        [sys.executable, "-m", "xinfang", "logout"],
        env={**os.environ, **env, "XINFANG_LANG": "en"}, capture_output=True, text=True,
        timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "signed out" in out and not token_file.exists()


def test_browser_login_with_pkce(keycloak: Keycloak, tmp_path: Path) -> None:
    token_file = tmp_path / "token.json"
    login = cli("login", "--browser", "--issuer", keycloak.issuer, "--token-file",
                str(token_file), env={})  # fmt: skip
    assert login.stdout is not None
    first = login.stdout.readline()
    url = re.search(r"open in a browser: (\S+)", first)
    assert url and "code_challenge_method=S256" in url.group(1), first
    page = sign_in(url.group(1), "150400.registrar", keycloak.test_password)
    assert "signed in" in page.text  # the CLI's loopback callback answered
    _, errors = login.communicate(timeout=120)
    assert login.returncode == 0, errors
    claims = segments(json.loads(token_file.read_text())["access_token"])[1]
    assert claims["preferred_username"] == "150400.registrar"
    assert claims["realm_access"]["roles"] == ["registrar"]


def test_keycloak_script_status_and_a_taken_port(keycloak: Keycloak, tmp_path: Path) -> None:
    status = keycloak.run("status")
    assert status.returncode == 0 and status.stdout.strip() == keycloak.issuer
    # another state folder on the same port: refused at once, naming the setting
    taken = subprocess.run(
        ["bash", str(Path(__file__).parents[2] / "deploy/keycloak/keycloak.sh"), "start"],
        env={**os.environ, "XINFANG_KEYCLOAK_STATE": str(tmp_path / "other"),
             "XINFANG_KEYCLOAK_PORT": str(keycloak.port)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert taken.returncode == 1
    assert "XINFANG_KEYCLOAK_PORT" in taken.stderr


def test_keycloak_script_names_the_log_when_keycloak_cannot_start(
    keycloak: Keycloak, tmp_path: Path
) -> None:
    # a JVM that cannot start (a heap too small for it): a clear error naming the log, at once
    state = tmp_path / "broken"
    failed = subprocess.run(
        ["bash", str(Path(__file__).parents[2] / "deploy/keycloak/keycloak.sh"), "start"],
        env={**os.environ, "XINFANG_KEYCLOAK_STATE": str(state),
             "XINFANG_KEYCLOAK_PORT": str(free_port()),
             "XINFANG_KEYCLOAK_HEAP": "-Xms8m -Xmx1m", "XINFANG_KEYCLOAK_START_TIMEOUT": "120"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert failed.returncode == 1
    assert str(state / "logs" / "keycloak.out") in failed.stderr
    assert "error" in failed.stderr


# -- a real node process with the provider configured ------------------------------------------


def test_a_node_process_accepts_a_keycloak_token_on_its_own_routes(
    keycloak: Keycloak, start_node: Any
) -> None:
    """Issue 14 item 1a end to end: XINFANG_OIDC_ISSUER on a node process; its real routes
    take a Keycloak access token (authorised by the role table like a built-in session), and
    refuse a tampered token (401) and a person of another division (403)."""
    import urllib.error
    import urllib.request

    county = start_node("150404", extra_env={"XINFANG_OIDC_ISSUER": keycloak.issuer})
    county.wait_ready()

    def call(path: str, token: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        req = urllib.request.Request(county.url + path, data=data, method=method, headers={
            "Content-Type": "application/json", **bearer(token)})  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    token = access(keycloak, username_for("150404", Role.HANDLER))
    status, me = call("/api/me", token)
    assert status == 200, me
    assert (me["body"], me["roles"]) == ("150404.zj", ["handler"])
    status, listed = call("/api/cases", token)
    assert (status, listed["cases"], listed["total"]) == (200, [], 0)
    status, refused = call("/admin/sweep", token, "POST", {})  # a handler is no administrator
    assert (status, refused["code"]) == (403, "XF-FORBIDDEN")
    head, claims, sig = segments(token)
    claims["xinfang_body"] = ["150404.xfj"]
    status, refused = call("/api/cases", f"{b64(head)}.{b64(claims)}.{sig}")
    assert (status, refused["code"]) == (401, "XF-AUTH-REQUIRED")
    other = access(keycloak, username_for("150400", Role.REGISTRAR))
    status, refused = call("/api/cases", other)
    assert (status, refused["code"]) == (403, "XF-OIDC-BODY")

"""Issue 14 over a real node process: sign-in over HTTP (cookie flags, bearer), 401 without a
credential, a smoke of the role × route matrix, and faust's own web endpoints not served."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from xinfang.client import ApiError
from xinfang.devtools.scenario import CITY, PETITION
from xinfang.devtools.staff import PASSWORD, person_id
from xinfang.identity import totp
from xinfang.identity.principal import Role

from .conftest import NodeFactory

pytestmark = pytest.mark.integration
OFFICE = "150400.xfj"


def _raw(url: str, method: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, list[str]]:  # fmt: skip
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return (
                resp.status,
                json.loads(resp.read() or b"null"),
                resp.headers.get_all("Set-Cookie") or [],
            )
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), []


def test_a_node_process_signs_in_and_authorises_every_request(start_node: NodeFactory) -> None:
    city = start_node(CITY)
    city.wait_ready()
    # nothing but the status without signing in
    for path in ("/api/cases", "/api/me", f"/api/cases/{CITY}-2026-000001"):
        status, answer, _ = _raw(city.url + path, "GET")
        assert (status, answer["code"]) == (401, "XF-AUTH-REQUIRED"), path
    status, answer, _ = _raw(city.url + "/admin/sweep", "POST", {})
    assert (status, answer["code"]) == (401, "XF-AUTH-REQUIRED")
    # faust's own web endpoints are off: the node's port answers them as unknown routes
    for path in ("/router/", "/table/"):  # (other paths are the staff console's, decision 029)
        status, answer, _ = _raw(city.url + path, "GET")
        assert (status, answer["code"]) == (404, "XF-NO-ROUTE"), path
    # sign in over HTTP: an HttpOnly, SameSite=Strict cookie and a bearer token
    city.staff.provision(OFFICE, Role.REGISTRAR)
    person = person_id(OFFICE, Role.REGISTRAR)
    code = totp.code_at(city.staff.secrets[person], city.staff.accounts.clock())
    credentials = {"person": person, "password": PASSWORD, "totp": code}
    status, signed, cookies = _raw(city.url + "/api/session", "POST", credentials)
    assert status == 200 and signed["roles"] == ["registrar"]
    session = next(c for c in cookies if c.startswith("xf_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session.replace("Strict", "strict")
    bearer = {"Authorization": f"Bearer {signed['token']}"}
    status, registered, _ = _raw(city.url + "/api/cases", "POST", PETITION, bearer)
    assert status == 201
    # a cross-site text/plain POST with the cookie is refused and changes nothing
    status, refused, _ = _raw(city.url + "/api/cases", "POST", PETITION, {
        "Cookie": session.split(";")[0], "Content-Type": "text/plain",
        "Origin": "https://evil.example"})  # fmt: skip
    assert (status, refused["code"]) == (403, "XF-CSRF")
    # a smoke of the matrix: each role on a route of its own and one of another's
    client = city.client
    assert client.get("/health")["outbox_pending"] >= 0  # as the system administrator
    handler = client.acting("150400.zj")
    with pytest.raises(ApiError) as caught:
        handler.post("/api/cases", {**PETITION, "petitioner": {"name": "王五"}})
    assert (caught.value.status, caught.value.code) == (403, "XF-FORBIDDEN")
    case_id = registered["case_id"]
    assert [c["case_id"] for c in client.get("/api/cases")["cases"]] == [case_id]
    assert handler.get("/api/cases")["cases"] == []  # not its body's case (need-to-know)
    sys_admin = city.staff.headers(OFFICE, Role.SYSTEM_ADMIN)
    status, refused, _ = _raw(city.url + f"/api/cases/{case_id}", "GET", None, sys_admin)
    assert (status, refused["code"]) == (403, "XF-FORBIDDEN")  # no case content
    auditor = city.staff.headers(OFFICE, Role.AUDITOR)
    status, refused, _ = _raw(city.url + "/admin/sweep", "POST", {}, auditor)
    assert (status, refused["code"]) == (403, "XF-FORBIDDEN")
    status, listed, _ = _raw(city.url + "/api/cases", "GET", None, auditor)
    assert status == 200 and [c["case_id"] for c in listed["cases"]] == [case_id]


def test_the_cli_acts_with_a_token(
    start_node: NodeFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`xinfang case` sends $XINFANG_TOKEN as the bearer token; without it the node refuses."""
    from xinfang.cli import main

    city = start_node(CITY)
    city.wait_ready()
    monkeypatch.delenv("XINFANG_TOKEN", raising=False)
    assert main(["case", "--api", city.url, "list"]) == 1
    assert "XF-AUTH-REQUIRED" in capsys.readouterr().err
    token = city.staff.headers(OFFICE, Role.REGISTRAR)["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("XINFANG_TOKEN", token)
    capsys.readouterr()
    assert main(["case", "--api", city.url, "list"]) == 0
    assert json.loads(capsys.readouterr().out)["cases"] == []

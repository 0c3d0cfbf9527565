"""Issue 16 item 2 (登录 via the OIDC provider, decisions 026 and 035) in real Chromium: a real
node process with XINFANG_OIDC_ISSUER, a real Keycloak (the session's `keycloak` fixture), the
console's 统一身份认证登录 button — authorization code with PKCE (S256) at Keycloak's own login
form, back to /login/callback, the code exchanged from the page (CORS), 工作台 signed in as that
person with their body, the API called with `Authorization: Bearer`; sign-out ends it. A person
of another division signs in at Keycloak but the node refuses them: 403 XF-OIDC-BODY shown in
Chinese, no workbench."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, expect

from xinfang.devtools.keycloak import Keycloak
from xinfang.devtools.processes import NodeProcess
from xinfang.identity.keycloak_realm import CLIENT_ID, REALM, public_client, username_for
from xinfang.identity.principal import Role

from .browser import VIEWPORT, ConsoleErrors, screenshot
from .browser import browser as browser  # the fixture
from .conftest import NodeFactory

pytestmark = pytest.mark.integration

CITY, COUNTY = "150400", "150404"
WAIT_MS = 30_000  # bounded waits on conditions, generous for a loaded 2-core machine


def allow_console(kc: Keycloak, console_url: str) -> None:
    """Add `console_url` to the running realm's public client as the realm generator would
    (redirect URI, web origin, post-logout URI): the session's Keycloak was imported before
    this test's node had a port."""
    headers = {"Authorization": f"Bearer {kc.admin_token()}"}
    clients = f"{kc.base_url}/admin/realms/{REALM}/clients"
    found = httpx.get(clients, params={"clientId": CLIENT_ID}, headers=headers, timeout=30)
    found.raise_for_status()
    current: dict[str, Any] = found.json()[0]
    wanted = public_client("xinfang-api", [console_url])
    current["redirectUris"] = sorted(set(current["redirectUris"]) | set(wanted["redirectUris"]))
    current["webOrigins"] = sorted(set(current["webOrigins"]) | set(wanted["webOrigins"]))
    logout = "post.logout.redirect.uris"
    have = current.setdefault("attributes", {}).get(logout, "+").split("##")
    current["attributes"][logout] = "##".join(
        dict.fromkeys(have + wanted["attributes"][logout].split("##"))
    )
    put = httpx.put(f"{clients}/{current['id']}", json=current, headers=headers, timeout=30)
    put.raise_for_status()


def keycloak_form(page: Page, kc: Keycloak, username: str) -> None:
    """Fill Keycloak's own login form (the visitor is on it); the caller clicks #kc-login."""
    expect(page.locator("#username")).to_be_visible(timeout=WAIT_MS)
    assert page.url.startswith(f"{kc.issuer}/protocol/openid-connect/auth?")
    query = parse_qs(urlsplit(page.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert len(query["state"][0]) >= 43
    page.locator("#username").fill(username)
    page.locator("#password").fill(kc.test_password)


def new_page(browser: Browser) -> tuple[BrowserContext, Page, ConsoleErrors]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = ConsoleErrors()
    errors.watch(page)
    return context, page, errors


@pytest.fixture
def city(keycloak: Keycloak, start_node: NodeFactory) -> tuple[NodeProcess, str]:
    """The 赤峰市 node trusting the session's Keycloak, one petition registered: (node, case)."""
    node = start_node(CITY, extra_env={"XINFANG_OIDC_ISSUER": keycloak.issuer})
    node.wait_ready()
    allow_console(keycloak, node.url)
    body = {
        "title": "征地补偿款未足额发放", "channel": "ONLINE", "category": "APPEAL",
        "petitioner": {"name": "李四", "contact": "13700000000"},
        "request": "请求解决征地补偿款", "place": COUNTY,
    }  # fmt: skip
    case_id = str(node.client.post("/api/cases", body)["case_id"])
    return node, case_id


def test_a_registrar_signs_in_at_keycloak_and_works_with_a_bearer_token(
    city: tuple[NodeProcess, str], keycloak: Keycloak, browser: Browser, tmp_path: Path
) -> None:
    node, case_id = city
    context, page, errors = new_page(browser)

    # 登录: the node names its provider, the page offers the button
    page.goto(f"{node.url}/workbench")
    expect(page.get_by_test_id("oidc")).to_have_text("统一身份认证登录", timeout=WAIT_MS)
    assert page.url.startswith(f"{node.url}/login")
    screenshot(page, "login-oidc")
    page.get_by_test_id("oidc").click()
    keycloak_form(page, keycloak, username_for(CITY, Role.REGISTRAR))

    # back through /login/callback to 工作台, signed in as that person at their body
    calls: list[Request] = []
    page.on("request", lambda r: calls.append(r) if r.url.startswith(f"{node.url}/api/") else None)
    listing = f"{node.url}/api/cases?"
    with page.expect_response(lambda r: r.url.startswith(listing), timeout=WAIT_MS) as listed:
        page.locator("#kc-login").click()
    expect(page.get_by_test_id("who")).to_contain_text("赤峰市信访局", timeout=WAIT_MS)
    expect(page).to_have_url(f"{node.url}/workbench", timeout=WAIT_MS)
    who = page.get_by_test_id("who")
    expect(who).to_contain_text(username_for(CITY, Role.REGISTRAR))
    expect(who).to_contain_text("登记员")
    # the API answered the bearer token with this node's case
    assert listed.value.status == 200
    assert listed.value.request.headers["authorization"].startswith("Bearer ey")
    assert "cookie" not in listed.value.request.headers  # no session cookie involved
    rows = page.locator("[data-test=cases] .el-table__body tr")
    expect(rows.first).to_contain_text(case_id, timeout=WAIT_MS)
    assert calls and all(r.headers.get("authorization", "").startswith("Bearer ") for r in calls)
    token = page.evaluate("JSON.parse(sessionStorage.getItem('xf_oidc_token')).access_token")
    me = httpx.get(f"{node.url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert (me.status_code, me.json()["body"], me.json()["method"]) == (200, f"{CITY}.xfj", "oidc")
    assert page.evaluate("sessionStorage.getItem('xf_oidc_pending')") is None  # one use
    screenshot(page, "workbench-oidc")


    # the token expires: the next call is refused (401) and the person signs in again, one
    # click while Keycloak's session lasts, back on the page they were on
    def refused_listing(r: Response) -> None:  # every listing refused while expired
        if r.status == 401 and r.url.startswith(listing):
            errors.expected.add(r.url)

    page.on("response", refused_listing)
    page.evaluate(
        "(() => { const t = JSON.parse(sessionStorage.getItem('xf_oidc_token'));"
        " t.expires_at = 0; sessionStorage.setItem('xf_oidc_token', JSON.stringify(t)); })()"
    )
    with page.expect_response(lambda r: r.url.startswith(listing)) as expired:
        page.get_by_test_id("refresh").click()
    assert expired.value.status == 401
    assert "authorization" not in expired.value.request.headers  # an expired token is not sent
    errors.expected.add(expired.value.url)
    expect(page.get_by_test_id("oidc")).to_be_visible(timeout=WAIT_MS)
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/workbench"]
    page.get_by_test_id("oidc").click()  # no password asked: straight back
    expect(page.get_by_test_id("who")).to_contain_text("赤峰市信访局", timeout=WAIT_MS)
    expect(page).to_have_url(f"{node.url}/workbench", timeout=WAIT_MS)
    page.remove_listener("response", refused_listing)

    # a download the browser would follow without the token (统计 → Excel) goes with it
    page.goto(f"{node.url}/stats")
    xlsx = f"{node.url}/api/stats.xlsx"
    with (
        page.expect_download(timeout=WAIT_MS) as download,
        page.expect_response(lambda r: r.url.startswith(xlsx), timeout=WAIT_MS) as fetched,
    ):
        page.get_by_test_id("stats-xlsx").click()
    assert fetched.value.status == 200
    assert fetched.value.request.headers["authorization"].startswith("Bearer ey")
    saved = tmp_path / "stats.xlsx"
    download.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"  # an .xlsx is a zip

    # sign-out: the token is gone here, the provider's session ends and sends the browser back
    ended = f"{keycloak.issuer}/protocol/openid-connect/logout"
    with page.expect_response(lambda r: r.url.startswith(ended), timeout=WAIT_MS) as logout:
        page.get_by_test_id("sign-out").click()
    assert logout.value.status == 302
    assert logout.value.headers["location"] == f"{node.url}/login"
    page.goto(f"{node.url}/workbench")  # whatever was in flight: a fresh load of the console
    expect(page.get_by_test_id("oidc")).to_be_visible(timeout=WAIT_MS)
    assert urlsplit(page.url).path == "/login"
    assert page.evaluate("sessionStorage.getItem('xf_oidc_token')") is None
    page.get_by_test_id("oidc").click()  # Keycloak asks again: its session ended too
    expect(page.locator("#username")).to_be_visible(timeout=WAIT_MS)
    assert errors.errors == []
    context.close()


def test_a_person_of_another_division_is_refused_by_the_node_in_chinese(
    city: tuple[NodeProcess, str], keycloak: Keycloak, browser: Browser
) -> None:
    node, _ = city
    context, page, errors = new_page(browser)
    errors.expected.add(f"{node.url}/api/me")  # the node's 403, provoked on purpose
    page.goto(f"{node.url}/login")
    page.get_by_test_id("oidc").click(timeout=WAIT_MS)
    keycloak_form(page, keycloak, username_for(COUNTY, Role.HANDLER))  # 松山区, not 赤峰市

    with page.expect_response(f"{node.url}/api/me", timeout=WAIT_MS) as answer:
        page.locator("#kc-login").click()
    expect(page.get_by_test_id("refusal")).to_be_visible(timeout=WAIT_MS)
    assert answer.value.status == 403
    assert answer.value.json()["code"] == "XF-OIDC-BODY"
    refusal = page.get_by_test_id("refusal")
    expect(refusal).to_contain_text("该账号须且只能属于本节点的一个单位")
    expect(refusal).to_contain_text("XF-OIDC-BODY")
    assert page.evaluate("sessionStorage.getItem('xf_oidc_token')") is None  # dropped
    screenshot(page, "login-oidc-refused")
    page.goto(f"{node.url}/workbench")  # not signed in: back to the login page
    expect(page.get_by_test_id("oidc")).to_be_visible(timeout=WAIT_MS)
    assert urlsplit(page.url).path == "/login"
    assert errors.errors == []
    context.close()

"""Issue 16 items 2–5 (foundation): the staff console in real Chromium against a real node
process on the real broker — the sign-in page, the 工作台 with the node's cases (nearest
deadline first, overdue in colour, counts), keyboard navigation to 事项详情 (record, rule,
timeline with division and body), an act refused with its Chinese message and code, 登记
(checks as one types, a registration, the same petition refused by the node), 督办 (the
overdue obligation by body), 运维 (health),
the English switch; screenshots into docs/console/; no browser console errors; the first load
of the workbench measured (Navigation Timing), printed, not asserted.

Sign-in (issue 14) is not merged yet: `fake_session` answers `/api/session` and `/api/me` in
the browser (Playwright routes) with a registrar of 赤峰市信访局; every other request reaches
the node. After issue 14 is merged, replace it with a real account (see decision 029)."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from xinfang.devtools.processes import NodeProcess

from .browser import VIEWPORT, ConsoleErrors, screenshot
from .browser import browser as browser  # the fixture
from .conftest import NodeFactory

pytestmark = pytest.mark.integration

CITY, COUNTY = "150400", "150404"
OFFICE = f"{CITY}.xfj"
WAIT_MS = 30_000  # bounded waits on conditions, generous for a loaded 2-core machine
REGISTRAR = {
    "person": "reg-chifeng", "name": "登记员甲", "division": CITY, "body": OFFICE,
    "body_name": "赤峰市信访局", "roles": ["registrar"], "roles_zh": ["登记员"],
    "method": "account",
}  # fmt: skip


def register(url: str, title: str, name: str, received_days_ago: int = 0) -> str:
    body: dict[str, Any] = {
        "title": title, "channel": "ONLINE", "category": "APPEAL",
        "petitioner": {"name": name, "contact": "13700000000"},
        "request": f"请求解决：{title}", "place": COUNTY,
    }  # fmt: skip
    if received_days_ago:
        received = datetime.now(UTC) - timedelta(days=received_days_ago)
        body["received_at"] = received.isoformat()
        body["backdate_reason"] = "补录纸质来信 / entering a paper letter late"
    request = urllib.request.Request(
        f"{url}/api/cases", data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201
        return str(json.loads(response.read())["case_id"])


def fake_session(page: Page, signed_in: bool = False) -> None:
    """TEST-ONLY stand-in for issue 14's sign-in as the accounts branch has it
    (`POST /api/session` signs in and sets the `xf_csrf` cookie, `GET /api/me` says who):
    the lead replaces it with a provisioned account once sign-in is merged."""

    def sign_in(route: Route) -> None:
        nonlocal signed_in
        if route.request.method != "POST":
            route.fulfill(status=200, content_type="application/json", body="{}")
            return
        sent = json.loads(route.request.post_data or "{}")
        assert set(sent) == {"person", "password", "totp"}  # the contract of issue 14
        signed_in = True
        answer = {
            key: REGISTRAR[key] for key in ("person", "name", "division", "body", "roles", "method")
        }
        answer |= {"token": "test-token", "csrf_token": "test-csrf"}
        route.fulfill(
            status=200, content_type="application/json",
            headers={"Set-Cookie": "xf_csrf=test-csrf; Path=/; SameSite=Strict"},
            body=json.dumps(answer, ensure_ascii=False),
        )  # fmt: skip

    def me(route: Route) -> None:
        assert signed_in, "GET /api/me before signing in"  # the console asks only with a session
        body = json.dumps(REGISTRAR, ensure_ascii=False)
        route.fulfill(status=200, content_type="application/json", body=body)

    page.route("**/api/session", sign_in)
    page.route("**/api/me", me)


@pytest.fixture
def city(start_node: NodeFactory) -> tuple[NodeProcess, str, str]:
    """The 赤峰市 node with two petitions registered: (node, fresh case, overdue case)."""
    node = start_node(CITY)
    node.wait_ready()
    fresh = register(node.url, "征地补偿款未足额发放", "李四")
    overdue = register(node.url, "拖欠农民工工资", "王五", received_days_ago=60)
    return node, fresh, overdue


def test_console_signs_in_lists_the_cases_and_opens_one(
    city: tuple[NodeProcess, str, str], browser: Browser
) -> None:
    node, fresh, overdue = city

    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = ConsoleErrors()
    errors.watch(page)
    fake_session(page)

    # 登录: an unsigned visitor of / lands on the sign-in page
    page.goto(f"{node.url}/")
    expect(page.get_by_test_id("login-title")).to_have_text("信访工作台登录", timeout=WAIT_MS)
    assert page.url.startswith(f"{node.url}/login")
    screenshot(page, "login")
    page.get_by_test_id("person").fill("reg-chifeng")
    page.get_by_test_id("password").fill("correct horse battery")
    page.get_by_test_id("totp").fill("123456")
    page.get_by_test_id("submit").click()

    # 工作台: both cases await the petition office (R1), the overdue one first and in colour
    expect(page.get_by_test_id("who")).to_contain_text("赤峰市信访局", timeout=WAIT_MS)
    rows = page.locator("[data-test=cases] .el-table__body tr")
    expect(rows).to_have_count(2, timeout=WAIT_MS)
    expect(rows.nth(0)).to_contain_text(overdue)
    expect(rows.nth(1)).to_contain_text(fresh)
    expect(rows.nth(0)).to_contain_text("R1")
    expect(page.get_by_test_id(f"due-{overdue}")).to_have_class("due-overdue")
    expect(page.get_by_test_id(f"due-{overdue}")).to_contain_text("已逾期")
    expect(page.get_by_test_id(f"due-{fresh}")).to_have_class("due-ok")
    expect(page.get_by_test_id("count-overdue").locator(".n")).to_have_text("1")
    expect(page.get_by_test_id("count-ok").locator(".n")).to_have_text("1")
    expect(page.get_by_test_id("count-cat-APPEAL")).to_contain_text("2")
    expect(page.locator("[data-test=cases] .el-loading-mask")).to_have_count(0)  # faded out
    screenshot(page, "workbench")

    # keyboard: ↓ selects the second row, ↑ back to the first, Enter opens it
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1)).to_have_class(re.compile(r"\brow-selected\b"))
    expect(rows.nth(0)).not_to_have_class(re.compile(r"\brow-selected\b"))
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")

    # 事项详情: the record, the deadline with its rule, the timeline with division and body
    expect(page.get_by_test_id("case-title")).to_contain_text("拖欠农民工工资", timeout=WAIT_MS)
    assert page.url == f"{node.url}/cases/{overdue}"
    expect(page.get_by_test_id("record")).to_contain_text("已登记")
    expect(page.get_by_test_id("deadlines")).to_contain_text("R1")
    expect(page.get_by_test_id("deadlines")).to_contain_text("条例第二十二条")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("登记")
    expect(timeline).to_contain_text(f"层级 {CITY}")
    expect(timeline).to_contain_text(f"机关 {OFFICE}")
    expect(page.get_by_test_id("act-accept")).to_have_count(0)  # not a registrar's act
    screenshot(page, "case")

    # an act the node refuses: its Chinese message and code, as the API answered them
    page.get_by_test_id("act-transfer").click()
    page.get_by_test_id("field-to_body").fill(f"{COUNTY}.no-such-body")
    act_url = f"{node.url}/api/cases/{overdue}/transfer"
    errors.expected.add(act_url)
    with page.expect_response(act_url) as answer:
        page.get_by_test_id("act-submit").click()
    refused = answer.value
    assert 400 <= refused.status < 500, refused.status
    refusal = refused.json()
    expect(page.get_by_test_id("act-refusal-code")).to_have_text(refusal["code"])
    expect(page.get_by_test_id("act-refusal-message")).to_have_text(refusal["message_zh"])
    screenshot(page, "refusal")
    page.keyboard.press("Escape")

    # 登记: checked as one types; registered; the same petition again refused by the node
    page.get_by_test_id("menu-intake").click()
    page.get_by_test_id("title").fill("小区供暖不达标")
    page.get_by_test_id("request").fill("请求督促供热公司达标供暖")
    page.get_by_test_id("name").fill("赵六")
    page.get_by_test_id("contact").fill("12345")
    page.get_by_test_id("address").click()  # leaving the field checks it
    expect(page.locator(".el-form-item__error")).to_contain_text("11 位手机号")
    page.get_by_test_id("contact").fill("13800000000")
    page.get_by_test_id("place").click()
    page.get_by_role("option", name=COUNTY, exact=True).click()
    expect(page.locator(".el-form-item__error")).to_have_count(0)
    screenshot(page, "intake")
    page.get_by_test_id("intake-submit").click()
    expect(page.get_by_test_id("registered")).to_contain_text(f"{CITY}-", timeout=WAIT_MS)
    third = page.get_by_test_id("registered-case").inner_text()
    assert third not in (fresh, overdue)
    for field, text in [("title", "小区供暖不达标"), ("request", "请求督促供热公司达标供暖"),
                        ("name", "赵六"), ("contact", "13800000000")]:  # fmt: skip
        page.get_by_test_id(field).fill(text)
    page.get_by_test_id("place").click()
    page.get_by_role("option", name=COUNTY, exact=True).click()
    expect(page.locator(".el-form-item__error")).to_have_count(0)
    errors.expected.add(f"{node.url}/api/cases")
    with page.expect_response(f"{node.url}/api/cases") as again:
        page.get_by_test_id("intake-submit").click()
    assert 400 <= again.value.status < 500, again.value.status
    refusal = again.value.json()
    expect(page.get_by_test_id("intake-refusal-code")).to_have_text(refusal["code"])
    expect(page.get_by_test_id("intake-refusal-message")).to_have_text(refusal["message_zh"])
    screenshot(page, "intake-refused")

    # 督办: the overdue obligation by division and body
    page.get_by_test_id("menu-supervision").click()
    board = page.locator("[data-test=sv-overdue] .el-table__body tr")
    expect(board).to_have_count(1, timeout=WAIT_MS)
    expect(board.nth(0)).to_contain_text(overdue)
    expect(board.nth(0)).to_contain_text("赤峰市信访局")
    expect(board.nth(0)).to_contain_text("R1")
    screenshot(page, "supervision")

    # 运维: the node's health
    page.get_by_test_id("menu-ops").click()
    expect(page.get_by_test_id("ops-status")).to_have_text("ok", timeout=WAIT_MS)
    expect(page.get_by_test_id("ops-health")).to_contain_text(CITY)
    screenshot(page, "ops")

    # English switch, and a page still to come
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("menu-workbench")).to_have_text("Workbench")
    page.get_by_test_id("menu-stats").click()
    expect(page.get_by_test_id("placeholder-stats")).to_contain_text("Statistics")
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("menu-workbench")).to_have_text("工作台")

    # the first load of the workbench in a new tab (signed in): measured, printed
    tab = context.new_page()
    errors.watch(tab)
    fake_session(tab, signed_in=True)  # the same browser context: the session's cookies
    tab.goto(f"{node.url}/workbench")
    tab.wait_for_function(
        "document.querySelectorAll('[data-test=cases] .el-table__body tr').length >= 3",
        timeout=WAIT_MS,
    )
    ready_ms = tab.evaluate("performance.now()")
    timing = tab.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0]; return"
        " {response: n.responseEnd, dom: n.domContentLoadedEventEnd, load: n.loadEventEnd}; })()"
    )
    print(
        f"\n工作台首次加载 / workbench first load: HTML {timing['response']:.0f} ms, "
        f"DOMContentLoaded {timing['dom']:.0f} ms, load {timing['load']:.0f} ms, "
        f"cases listed {ready_ms:.0f} ms (Navigation Timing, Chromium, local node)"
    )
    context.close()
    assert errors.errors == []

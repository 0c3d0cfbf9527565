"""Issue 16 items 2–5 (foundation): the staff console in real Chromium against a real node
process on the real broker — the sign-in page, the 工作台 with the node's cases (nearest
deadline first, overdue in colour, counts), keyboard navigation to 事项详情 (record, rule,
timeline with division and body), an act refused with its Chinese message and code, 登记
(checks as one types, a registration, the same petition refused by the node), 督办 (the
overdue obligation by body), 运维 (health),
the English switch; screenshots into docs/console/; no browser console errors; the first load
of the workbench measured (Navigation Timing), printed, not asserted.

Signed in for real (issue 14, decision 025): built-in accounts on the node's account book,
password and TOTP typed into the sign-in page. Need-to-know (issue 16 item 5): a handler of
another body of the division sees none of the petition office's cases, and a case's URL
answers not-found."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from xinfang.devtools.processes import NodeProcess
from xinfang.devtools.staff import PASSWORD
from xinfang.identity import totp
from xinfang.identity.principal import Role

from .browser import VIEWPORT, ConsoleErrors, screenshot
from .browser import browser as browser  # the fixture
from .conftest import NodeFactory

pytestmark = pytest.mark.integration

CITY, COUNTY = "150400", "150404"
OFFICE = f"{CITY}.xfj"
WAIT_MS = 30_000  # bounded waits on conditions, generous for a loaded 2-core machine


def register(node: NodeProcess, title: str, name: str, received_days_ago: int = 0) -> str:
    """A petition registered by the petition office's registrar (devtools staff, signed in)."""
    body: dict[str, Any] = {
        "title": title, "channel": "ONLINE", "category": "APPEAL",
        "petitioner": {"name": name, "contact": "13700000000"},
        "request": f"请求解决：{title}", "place": COUNTY,
    }  # fmt: skip
    if received_days_ago:
        received = datetime.now(UTC) - timedelta(days=received_days_ago)
        body["received_at"] = received.isoformat()
        body["backdate_reason"] = "补录纸质来信 / entering a paper letter late"
    return str(node.client.post("/api/cases", body)["case_id"])


def account(node: NodeProcess, person: str, name: str, body: str, role: Role) -> str:
    """A built-in account at `body` with `role`, enrolled for TOTP: its secret."""
    accounts = node.staff.accounts
    accounts.create(person, name, body, frozenset({role}), PASSWORD)
    secret, _ = accounts.enrol_totp(person)
    return secret


def sign_in(page: Page, node: NodeProcess, person: str, secret: str) -> None:
    """Fill and send the sign-in page (the visitor is on it) with password and TOTP code."""
    page.get_by_test_id("person").fill(person)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("totp").fill(totp.code_at(secret, node.staff.accounts.clock()))
    page.get_by_test_id("submit").click()


@pytest.fixture
def city(start_node: NodeFactory) -> tuple[NodeProcess, str, str]:
    """The 赤峰市 node with two petitions registered: (node, fresh case, overdue case)."""
    node = start_node(CITY)
    node.wait_ready()
    fresh = register(node, "征地补偿款未足额发放", "李四")
    overdue = register(node, "拖欠农民工工资", "王五", received_days_ago=60)
    return node, fresh, overdue


def test_console_signs_in_lists_the_cases_and_opens_one(
    city: tuple[NodeProcess, str, str], browser: Browser
) -> None:
    node, fresh, overdue = city

    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = ConsoleErrors()
    errors.watch(page)
    secret = account(node, "reg-chifeng", "登记员甲", OFFICE, Role.REGISTRAR)

    # 登录: an unsigned visitor of / lands on the sign-in page
    page.goto(f"{node.url}/")
    expect(page.get_by_test_id("login-title")).to_have_text("信访工作台登录", timeout=WAIT_MS)
    assert page.url.startswith(f"{node.url}/login")
    screenshot(page, "login")
    sign_in(page, node, "reg-chifeng", secret)

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
    # the same browser context: the session's cookies
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

    # need-to-know: a handler of another body of the division (住建局) signs in; none of the
    # petition office's cases is listed, even among all it may see, and a case's URL is unknown
    other = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = other.new_page()
    errors.watch(page)
    secret = account(node, "handler-zj", "经办人乙", f"{CITY}.zj", Role.HANDLER)
    page.goto(f"{node.url}/workbench")
    expect(page.get_by_test_id("login-title")).to_be_visible(timeout=WAIT_MS)
    with page.expect_response(f"{node.url}/api/cases", timeout=WAIT_MS) as listing:
        sign_in(page, node, "handler-zj", secret)
    assert listing.value.status == 200
    assert listing.value.json()["cases"] == []
    expect(page.get_by_test_id("who")).to_contain_text("赤峰市住房和城乡建设局", timeout=WAIT_MS)
    page.get_by_test_id("scope").get_by_text("本节点可见的全部事项").click()
    cases = page.locator("[data-test=cases]")
    expect(cases.locator(".el-loading-mask")).to_have_count(0, timeout=WAIT_MS)
    expect(cases.locator(".el-table__empty-text")).to_be_visible()
    expect(cases.locator(".el-table__body tr")).to_have_count(0)
    for urgency in ("overdue", "ok"):
        expect(page.get_by_test_id(f"count-{urgency}").locator(".n")).to_have_text("0")
    screenshot(page, "other-body")
    case_api = f"{node.url}/api/cases/{overdue}"
    errors.expected |= {case_api, f"{case_api}/timeline"}
    with page.expect_response(case_api, timeout=WAIT_MS) as opened:
        page.goto(f"{node.url}/cases/{overdue}")
    assert opened.value.status == 404
    assert opened.value.json()["code"] == "XF-CASE-NOT-FOUND"
    expect(page.get_by_test_id("refusal")).to_contain_text("XF-CASE-NOT-FOUND", timeout=WAIT_MS)
    expect(page.get_by_test_id("case-title")).to_have_count(0)
    screenshot(page, "not-found")
    other.close()
    assert errors.errors == []

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
answers not-found. Across three node processes (test_console_across_levels…): the whole
scenario of issue 16 item 5 done in the console — registration and transfer at 赤峰市, the
acceptance, the opinion and their documents at 松山区, the outcome and 统计 at the province, the
petitioner shown with a reason (the real reveal route, the reason on the operator trail)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, Response, expect

from xinfang.devtools.processes import NodeProcess
from xinfang.devtools.scenario import PETITION, PROVINCE, case_status, wait_for
from xinfang.devtools.staff import PASSWORD
from xinfang.identity import totp
from xinfang.identity.principal import Role

from .browser import VIEWPORT, ConsoleErrors, download_pdf, open_document, screenshot
from .browser import browser as browser  # the fixture
from .conftest import NodeFactory, publish_recipients

pytestmark = pytest.mark.integration

CITY, COUNTY = "150400", "150404"
OFFICE = f"{CITY}.xfj"
ACCUSATION: dict[str, Any] = {  # about a unit of 松山区, registered at 松山区 (R17)
    **PETITION,
    "category": "ACCUSATION",
    "title": "反映松山区自然资源局某科长索要好处费",
    "request": "请求查处某科长索要好处费问题",
    "accused": "松山区自然资源局某科长",
    "accused_body": f"{COUNTY}.zrzy",
}
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


def listed(node: NodeProcess) -> Callable[[Response], bool]:
    """A response of the workbench's list request (GET /api/cases?…, one page)."""
    return lambda r: r.url.startswith(f"{node.url}/api/cases?") and r.request.method == "GET"


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
    publish_recipients(node, PROVINCE, COUNTY)  # their nodes do not run here
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
    expect(page).to_have_url(f"{node.url}/cases/{overdue}", timeout=WAIT_MS)
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

    # English switch: 统计 in English (its figures: test_console_across_levels)
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("menu-workbench")).to_have_text("Workbench")
    page.get_by_test_id("menu-stats").click()
    expect(page.get_by_test_id("stats-meta")).to_contain_text("3 cases", timeout=WAIT_MS)
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
    with page.expect_response(listed(node), timeout=WAIT_MS) as listing:
        sign_in(page, node, "handler-zj", secret)
    assert listing.value.status == 200
    assert listing.value.json()["cases"] == [] and listing.value.json()["total"] == 0
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


CONTRAST = """(classes) => {
  // WCAG 2.1 contrast of each deadline colour on the table's rows: plain, hovered, selected
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (bg && !bg.startsWith("rgba(0, 0, 0, 0)") && bg !== "transparent") return bg;
    }
    return "rgb(255, 255, 255)";
  };
  const cell = document.querySelector("[data-test=cases] .el-table__body td .cell");
  const out = {};
  for (const name of classes) {
    const span = document.createElement("span");
    span.className = name;
    span.textContent = "x";
    cell.appendChild(span);
    const ratios = [];
    for (const bg of [background(span), "rgb(245, 247, 250)"]) {  // hover: --el-fill-color-light
      const [a, b] = [lum(getComputedStyle(span).color), lum(bg)];
      ratios.push((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
    }
    out[name] = Math.min(...ratios);
    span.remove();
  }
  return out;
}"""


Levels = tuple[NodeProcess, NodeProcess, NodeProcess, str]
PERSON = {"name": "刘某某", "contact": "13600001111", "address": "赤峰市松山区某小区 3 号楼"}
REVEAL_REASON = "电话回访核实办理结果"


@pytest.fixture
def levels(start_node: NodeFactory) -> Levels:
    """Province, city and county node processes, and an accusation about 松山区自然资源局
    registered at 松山区: (province, city, county, accusation id). Before `browser`
    (asyncio.run)."""
    province, city, county = (start_node(d) for d in (PROVINCE, CITY, COUNTY))
    for node in (province, city, county):
        node.wait_ready()
    accusation = str(
        county.client.post("/api/cases", {"actor": f"{COUNTY}.xfj", **ACCUSATION})["case_id"]
    )
    return province, city, county, accusation


def test_console_across_levels_statistics_audit_and_r17(
    levels: Levels, browser: Browser, tmp_path: Path
) -> None:
    """Issue 16 item 5 in the console, across three node processes: 赤峰市's registrar
    registers an online petition about 松山区 and transfers it; 松山区住建局's handler finds it
    at the top of 工作台, accepts it, prints the 受理告知书 (HTML and PDF), issues an opinion,
    prints the 处理意见书, and shows the masked petitioner in full with
    a reason (the real reveal route; the reason on the operator trail). The province's
    supervisor sees the outcome and the statistics; the city's supervisor reads 松山区's rates
    and downloads them as .xlsx (opened with openpyxl); the city's audit administrator reads
    the chains and the operator trail; the accusation never appears in the accused unit's
    workbench; deadline colours keep 4.5:1."""
    province, city, county, accusation = levels
    errors = ConsoleErrors()

    def signed_in_page(node: NodeProcess, person: str, body: str, role: Role, path: str) -> Page:
        secret = account(node, person, f"{role.zh}（{body}）", body, role)
        context = browser.new_context(
            viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True
        )
        page = context.new_page()
        errors.watch(page)
        page.goto(f"{node.url}{path}")
        expect(page.get_by_test_id("login-title")).to_be_visible(timeout=WAIT_MS)
        sign_in(page, node, person, secret)
        expect(page.get_by_test_id("who")).to_be_visible(timeout=WAIT_MS)
        return page

    def act(
        page: Page, case_id: str, command: str, fields: dict[str, str], options: dict[str, str]
    ) -> None:
        """Fill and send an act's form on the case page; the node records it (2xx) and the
        dialog closes."""
        page.get_by_test_id(f"act-{command}").click()
        for name, text in fields.items():
            page.get_by_test_id(f"field-{name}").fill(text)
        for name, option in options.items():
            page.get_by_test_id(f"field-{name}").click()
            page.get_by_role("option", name=option, exact=True).click()
        path = f"/api/cases/{case_id}/{command}"
        with page.expect_response(lambda r: r.url.endswith(path), timeout=WAIT_MS) as answer:
            page.get_by_test_id("act-submit").click()
        assert 200 <= answer.value.status < 300, (command, answer.value.status, answer.value.text())
        expect(page.get_by_test_id("act-submit")).to_be_hidden(timeout=WAIT_MS)
        expect(page.get_by_test_id("recorded")).to_be_visible(timeout=WAIT_MS)

    # 赤峰市's registrar: 登记 an online petition about 松山区, then 转送 to 松山区住建局
    page = signed_in_page(city, "reg-chifeng", OFFICE, Role.REGISTRAR, "/intake")
    if not page.url.endswith("/intake"):  # sign-in may land on the workbench
        page.get_by_test_id("menu-intake").click()
    for field, text in [("title", "松山区某小区冬季供暖长期不达标"),
                        ("request", "请求督促供热企业整改，保障室温达标"),
                        ("name", PERSON["name"]), ("contact", PERSON["contact"]),
                        ("address", PERSON["address"])]:  # fmt: skip
        page.get_by_test_id(field).fill(text)
    page.get_by_test_id("id-number").fill("110105194912310021")  # GB 11643: check is X
    expect(page.locator(".el-form-item__error")).to_contain_text("校验码不符")
    page.get_by_test_id("id-number").fill("11010519491231002X")
    page.get_by_test_id("place").click()
    page.get_by_role("option", name=COUNTY, exact=True).click()
    # the place's bodies suggested as competent (GET /api/topology/bodies)
    expect(page.get_by_test_id(f"suggested-{COUNTY}.zj")).to_have_text("松山区住房和城乡建设局")
    expect(page.locator(".el-form-item__error")).to_have_count(0)
    expect(page.get_by_test_id("intake-duplicate")).to_have_count(0)
    page.get_by_test_id("intake-submit").click()
    expect(page.get_by_test_id("registered")).to_contain_text(f"{CITY}-", timeout=WAIT_MS)
    case_id = page.get_by_test_id("registered-case").inner_text()
    # the same matter again, trivially varied: "可能重复" before submitting (R12)
    page.get_by_test_id("name").fill(f" {PERSON['name']} ")
    page.get_by_test_id("request").fill("请求督促供热企业整改,保障室温达标。")
    page.get_by_test_id("place").click()
    page.get_by_role("option", name=COUNTY, exact=True).click()
    expect(page.get_by_test_id(f"duplicate-{case_id}")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_test_id("intake-duplicate")).to_contain_text("正在办理中")
    page.get_by_test_id("registered-case").click()
    expect(page.get_by_test_id("case-title")).to_contain_text("冬季供暖", timeout=WAIT_MS)
    act(page, case_id, "transfer", {"to_body": f"{COUNTY}.zj", "note": "请依法处理并按期答复"}, {})
    expect(page.get_by_test_id("record")).to_contain_text("已转送")
    expect(page.get_by_test_id("timeline")).to_contain_text("转送")
    screenshot(page, "transferred")
    page.context.close()

    # 松山区住建局's handler: the case at the top of 工作台 once the transfer arrived
    wait_for(lambda: case_status(county.client, case_id) == "TRANSFERRED", "松山区收到转送")
    page = signed_in_page(county, "han-zj", f"{COUNTY}.zj", Role.HANDLER, "/login")
    top = page.locator("[data-test=cases] .el-table__body tr").nth(0)
    expect(top).to_contain_text(case_id, timeout=WAIT_MS)
    expect(top).to_contain_text("冬季供暖")
    ratios = page.evaluate(CONTRAST, ["due-overdue", "due-soon", "due-ok"])
    assert all(r >= 4.5 for r in ratios.values()), ratios
    screenshot(page, "handler-workbench")
    page.get_by_test_id(f"case-{case_id}").click()
    expect(page.get_by_test_id("case-title")).to_contain_text("冬季供暖", timeout=WAIT_MS)

    # 受理, then the 受理告知书 from the 文书 menu: the A4 HTML with its elements, and the PDF
    act(page, case_id, "accept", {}, {})
    expect(page.get_by_test_id("record")).to_contain_text("已受理")
    issuer = "松山区住房和城乡建设局"
    open_document(page, "acceptance", ("受理告知书", PERSON["name"], "请求督促供热企业整改",
                                       issuer, "60日", "第二十三条", "松山区受〔", "（盖章）"),
                  None)  # fmt: skip
    download_pdf(page, "acceptance", "受理告知书", case_id, tmp_path)

    # 处理意见 (予以支持), then the 信访处理意见书: opinion, basis, the right to 复查, PDF
    opinion = "经调查情况属实，责令供热企业 7 日内整改，室温达标后回访"
    basis = "《内蒙古自治区城镇供热条例》"
    written = {"opinion": opinion, "legal_basis": basis}
    act(page, case_id, "opinion", written, {"outcome": "予以支持"})
    expect(page.get_by_test_id("record")).to_contain_text("已出具处理意见")
    open_document(page, "handling-opinion", ("信访处理意见书", PERSON["name"], "予以支持", opinion,
                                             "第三十二条", basis,
                                             "赤峰市住房和城乡建设局请求复查", "松山区",
                                             "（盖章）"),
                  "documents-opinion")  # fmt: skip
    download_pdf(page, "handling-opinion", "信访处理意见书", case_id, tmp_path)
    # 送达 is its own act (the node records electronic service with each decision by default);
    # printing recorded nothing: accepted, its notice served, the opinion, its notice served
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator(".el-timeline-item")).to_have_count(5)  # + 登记 (not at 松山区)
    expect(timeline).to_contain_text("受理告知书，电子送达")
    expect(timeline).to_contain_text("信访处理意见书，电子送达")

    # the masked petitioner, shown in full with a reason (POST /api/cases/{id}/personal-data)
    expect(page.get_by_test_id("pd-name")).to_have_text("刘**", timeout=WAIT_MS)
    expect(page.get_by_test_id("pd-contact")).to_have_text("136****1111")
    expect(page.get_by_test_id("pd-address")).to_have_text("赤峰市松山区****")
    page.get_by_test_id("reveal").click()
    page.get_by_test_id("reveal-reason").fill("核")
    expect(page.get_by_test_id("reveal-submit")).to_be_disabled()  # 4–200 characters
    page.get_by_test_id("reveal-reason").fill(REVEAL_REASON)
    with page.expect_response(f"{county.url}/api/cases/{case_id}/personal-data") as revealed:
        page.get_by_test_id("reveal-submit").click()
    assert revealed.value.status == 200
    expect(page.get_by_test_id("pd-name")).to_have_text(PERSON["name"], timeout=WAIT_MS)
    expect(page.get_by_test_id("pd-contact")).to_have_text(PERSON["contact"])
    expect(page.get_by_test_id("pd-address")).to_have_text(PERSON["address"])
    expect(page.get_by_test_id("personal-shown")).to_be_visible()
    screenshot(page, "personal-data")
    page.context.close()

    # the reason on the operator trail, read by the audit administrator (GET /api/audit/trail)
    def reveals() -> list[tuple[str, int, str]]:
        query = f"/api/audit/trail?case={case_id}&person=han-zj"
        entries = county.client.get(query)["entries"]
        return [(e["reason"], e["status"], e["http"]) for e in entries if e.get("reason")]

    assert wait_for(reveals, "审计记录中的查看理由") == [
        (REVEAL_REASON, 200, f"POST /api/cases/{case_id}/personal-data")
    ]

    # the outcome and every served notice at 赤峰市 and 内蒙古自治区 (over the broker)
    def complete(node: NodeProcess) -> bool:
        return len(node.client.get(f"/api/cases/{case_id}/timeline")["timeline"]) >= 6

    for node in (city, province):
        wait_for(partial(complete, node), f"{node.division} 收到完整时间线")
    city.client.post("/admin/checkpoint", {"force": True})  # by its system administrator

    # the province's supervisor: the outcome of the case handled at 松山区, and 统计
    page = signed_in_page(province, "sup-nmg", f"{PROVINCE}.xfj", Role.SUPERVISOR, "/workbench")
    page.get_by_test_id("scope").get_by_text("本节点可见的全部事项").click()
    expect(page.get_by_test_id(f"case-{case_id}")).to_be_visible(timeout=WAIT_MS)
    page.get_by_test_id(f"case-{case_id}").click()
    expect(page.get_by_test_id("record")).to_contain_text("已出具处理意见", timeout=WAIT_MS)
    expect(page.get_by_test_id("record")).to_contain_text("支持")
    expect(page.get_by_test_id("timeline")).to_contain_text(f"层级 {COUNTY}")
    screenshot(page, "province-outcome")
    page.get_by_test_id("menu-stats").click()
    expect(page.get_by_test_id(f"stats-{CITY}")).to_have_text("赤峰市", timeout=WAIT_MS)
    expect(page.get_by_test_id("stats-table")).to_contain_text("内蒙古自治区")
    # 赤峰市's row covers 松山区 below it: its acceptance in time, its opinion in time
    expect(page.get_by_test_id(f"rate-{CITY}-timely_acceptance")).to_contain_text("100.0%")
    expect(page.get_by_test_id(f"rate-{CITY}-on_time_completion")).to_contain_text("1/1")
    screenshot(page, "province-stats")
    page.context.close()

    # the city's supervisor: 松山区's rates over the period, the charts, the .xlsx
    page = signed_in_page(city, "sup-chifeng", f"{CITY}.xfj", Role.SUPERVISOR, "/stats")
    # two cases: the one handled and the accusation (counted in aggregates, never shown)
    expect(page.get_by_test_id("stats-meta")).to_contain_text("事项 2 件", timeout=WAIT_MS)
    rate = page.get_by_test_id(f"rate-{COUNTY}-timely_acceptance")
    expect(rate).to_contain_text("100.0%")
    expect(rate).to_contain_text("1/1")
    expect(page.get_by_test_id(f"rate-{COUNTY}-on_time_completion")).to_contain_text("100.0%")
    expect(page.get_by_test_id(f"rate-{COUNTY}-participation")).to_contain_text("0.0%")
    expect(page.get_by_test_id(f"rate-{COUNTY}-satisfaction")).to_contain_text("—")
    expect(page.get_by_test_id("rates-chart").locator("canvas")).to_have_count(1)
    for _ in range(60):  # every action reachable by Tab: the export link among them
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.dataset?.test") == "stats-xlsx":
            break
    else:
        raise AssertionError("Tab never reached 导出 Excel")
    screenshot(page, "stats")
    with page.expect_download(timeout=WAIT_MS) as download:
        page.keyboard.press("Enter")
    saved = tmp_path / "stats.xlsx"
    download.value.save_as(saved)
    sheet = load_workbook(saved).active
    assert sheet is not None
    titles = [c.value for c in sheet[3]]
    rows = {
        r[0]: dict(zip(titles, r, strict=True))
        for r in sheet.iter_rows(min_row=4, values_only=True)
    }
    assert rows[COUNTY]["及时受理率 / timely acceptance"] == 1
    assert rows[COUNTY]["参评率（分子/分母）"] == "0/1"
    assert rows[CITY]["登记 / registered"] == 1 and rows[COUNTY]["登记 / registered"] == 1
    page.context.close()

    # the city's audit administrator: the node's chains, last checkpoint, the operator trail
    page = signed_in_page(city, "audadm-chifeng", f"{CITY}.xfj", Role.AUDIT_ADMIN, "/audit")
    expect(page.get_by_test_id("audit-state")).to_have_text("正常", timeout=WAIT_MS)
    expect(page.get_by_test_id("audit-sources")).to_contain_text(COUNTY)
    expect(page.get_by_test_id("audit-verify")).to_contain_text("xinfang audit verify")
    assert int(page.get_by_test_id("audit-head").inner_text()) >= 3  # + the checkpoint
    expect(page.get_by_test_id("audit-checkpoint")).to_contain_text(re.compile(r"seq \d+（覆盖至"))
    expect(page.get_by_test_id("trail")).to_contain_text("sup-chifeng", timeout=WAIT_MS)
    screenshot(page, "audit")
    page.context.close()

    # R17: the accused unit (松山区自然资源局) never sees the accusation, even among all cases
    page = signed_in_page(county, "han-zrzy", f"{COUNTY}.zrzy", Role.HANDLER, "/login")
    with page.expect_response(listed(county), timeout=WAIT_MS) as listing:
        page.get_by_test_id("scope").get_by_text("本节点可见的全部事项").click()
    assert listing.value.status == 200 and listing.value.json()["total"] == 0
    expect(page.get_by_test_id(f"case-{accusation}")).to_have_count(0)
    screenshot(page, "accused-unit")
    page.context.close()

    assert errors.errors == []

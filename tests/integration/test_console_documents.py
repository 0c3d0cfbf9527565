"""Issue 16 item 3 in real Chromium: a 松山区 handler opens an accepted case in the console,
opens its 受理告知书 from the 文书 menu (a new tab with the A4 document) and downloads the PDF
— against a real node process on the real broker. The rendered document's screenshot goes
to docs/console/documents-acceptance.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from xinfang.devtools.processes import NodeProcess
from xinfang.identity.principal import Role

from .browser import VIEWPORT, ConsoleErrors, download_pdf, open_document, screenshot
from .browser import browser as browser  # the fixture
from .conftest import NodeFactory
from .test_console_browser import WAIT_MS, account, sign_in

pytestmark = pytest.mark.integration

COUNTY = "150404"
OFFICE, HANDLER = f"{COUNTY}.xfj", f"{COUNTY}.zj"


@pytest.fixture
def accepted(start_node: NodeFactory) -> tuple[NodeProcess, str]:
    """The 松山区 node with a petition registered, transferred to 住建局 and accepted there."""
    node = start_node(COUNTY)
    node.wait_ready()
    body = {
        "title": "老旧小区加装电梯", "channel": "ONLINE", "category": "APPEAL",
        "petitioner": {"name": "赵六", "address": "内蒙古自治区赤峰市松山区某小区3号楼",
                       "contact": "13800000000"},
        "request": "请求为老旧小区加装电梯", "facts": "楼内多为老人，上下楼困难",
        "reasons": "符合加装电梯补助政策", "place": COUNTY, "actor": OFFICE,
    }  # fmt: skip
    case_id = str(node.client.post("/api/cases", body)["case_id"])
    node.client.post(f"/api/cases/{case_id}/transfer", {"actor": OFFICE, "to_body": HANDLER})
    node.client.post(f"/api/cases/{case_id}/accept", {"actor": HANDLER})
    return node, case_id


def test_handler_opens_the_acceptance_notice_and_downloads_its_pdf(
    accepted: tuple[NodeProcess, str], browser: Browser, tmp_path: Path
) -> None:
    node, case_id = accepted
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = ConsoleErrors()
    errors.watch(page)
    secret = account(node, "han-songshan", "承办人乙", HANDLER, Role.HANDLER)
    page.goto(f"{node.url}/cases/{case_id}")
    sign_in(page, node, "han-songshan", secret)
    if not page.url.endswith(f"/cases/{case_id}"):  # sign-in may land on the workbench
        page.goto(f"{node.url}/cases/{case_id}")
    expect(page.get_by_test_id("case-title")).to_contain_text("老旧小区加装电梯", timeout=WAIT_MS)

    # 文书: the kinds the case has the act for — the transfer letter and the acceptance notice
    page.get_by_test_id("documents-menu").click()
    item = page.get_by_test_id("doc-acceptance")
    expect(item).to_contain_text("受理告知书", timeout=WAIT_MS)
    expect(item).to_contain_text("松山区受〔")
    expect(page.get_by_test_id("doc-transfer")).to_contain_text("信访事项转送函")
    screenshot(page, "documents-menu")

    open_document(page, "acceptance", ("受理告知书", "赵六", "请求为老旧小区加装电梯",
                                       "松山区住房和城乡建设局", "60日", "第二十三条", "（盖章）"),
                  "documents-acceptance")  # fmt: skip
    download_pdf(page, "acceptance", "受理告知书", case_id, tmp_path)
    assert errors.errors == []
    context.close()

"""Real Chromium for the console tests (issue 16 item 5, decision 029): Debian's `chromium`
driven by Playwright through its executable path. Playwright's own browser download is not
used (never `playwright install`): `.ci/run` installs chromium and fonts-noto-cjk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect, sync_playwright

from xinfang.api.console import DIST

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1366, "height": 768}  # the smallest screen the console must fit
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"


def chromium_path() -> str:
    found = shutil.which("chromium") or (str(CHROMIUM) if CHROMIUM.exists() else None)
    assert found, "需要 Debian 的 chromium / needs Debian's chromium: apt-get install chromium"
    return found


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Chromium for one test. Playwright's sync API keeps an event loop running in this
    thread while it is open, so request node fixtures (which use asyncio.run) before it."""
    assert (DIST / "index.html").is_file(), (
        f"工作台未构建 / the console is not built ({DIST}): run `make web`"
    )
    with sync_playwright() as pw:
        pw.selectors.set_test_id_attribute("data-test")  # the console's hooks: data-test="…"
        chromium = pw.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class ConsoleErrors:
    """Every error the page logs or throws; `expected` are URLs whose non-2xx answer the test
    provokes on purpose (Chromium logs "Failed to load resource" for each)."""

    errors: list[str] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        url = str(msg.location.get("url", ""))
        if msg.text.startswith("Failed to load resource") and url in self.expected:
            return
        self.errors.append(f"{msg.text} @ {url}")


def screenshot(page: Page, name: str) -> Path:
    """A screenshot of the viewport into docs/console/ (the committed set is the current one)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled")  # transitions finished
    return path


DOCUMENT_WAIT_MS = 30_000  # bounded waits on conditions, generous for a loaded 2-core machine


def menu_entry(page: Page, test_id: str) -> Locator:
    """The 文书 menu's entry `test_id`, the menu opened if need be. A menu closing after the
    last choice still shows its entries for a moment: wait (bounded) until it has closed or
    has stayed open, then open it if closed."""
    entry = page.get_by_test_id(test_id)
    try:
        expect(entry).to_be_hidden(timeout=2_000)
    except AssertionError:
        return entry  # open, and it stays open
    page.get_by_test_id("documents-menu").click()
    expect(entry).to_be_visible(timeout=DOCUMENT_WAIT_MS)
    return entry


def open_document(page: Page, kind: str, elements: tuple[str, ...], shot: str | None) -> None:
    """From the case page's 文书 menu, open `kind` (a new tab with the A4 HTML at
    /api/cases/{id}/documents/{kind}?format=html), check each of `elements` is printed, write
    its full-page screenshot into docs/console/`shot`.png, close the tab."""
    item = menu_entry(page, f"doc-{kind}")
    with page.context.expect_page(timeout=DOCUMENT_WAIT_MS) as opened:
        item.locator("span").first.click()
    document = opened.value
    document.wait_for_load_state()
    assert document.url.endswith(f"/documents/{kind}?format=html"), document.url
    body = document.locator("body")
    for element in elements:
        expect(body).to_contain_text(element)
    if shot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        document.set_viewport_size({"width": 900, "height": 1300})
        document.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)
    document.close()


def download_pdf(page: Page, kind: str, title_zh: str, case_id: str, into: Path) -> Path:
    """Download `kind`'s PDF from the 文书 menu; checks its file name (「受理告知书-<case>.pdf」,
    RFC 5987) and that it is a PDF. Returns where it was saved."""
    link = menu_entry(page, f"doc-pdf-{kind}")
    with page.expect_download(timeout=DOCUMENT_WAIT_MS) as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == f"{title_zh}-{case_id}.pdf"
    saved = into / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    return saved

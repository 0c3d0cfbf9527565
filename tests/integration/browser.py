"""Real Chromium for the console tests (issue 16 item 5, decision 029): Debian's `chromium`
driven by Playwright through its executable path. Playwright's own browser download is not
used (never `playwright install`): `.ci/run` installs chromium and fonts-noto-cjk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

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

"""The portal in a real browser (Debian's Chromium driven by Playwright) on a phone-sized screen:
a debtor opens the link from a message, switches language, pays part of a bill through the
sandbox wallet and comes back to the thank-you. Screenshots of each page are kept in
`test-artifacts/screenshots/` (RECOUP_TEST_ARTIFACTS to move them) to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.web.conftest import debtor

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(os.environ.get("RECOUP_TEST_ARTIFACTS", "test-artifacts")) / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM} (.ci/run installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width}px)"


def test_a_debtor_pays_part_of_a_bill_on_a_phone(
    browser: Browser, served: tuple[str, dict[str, str]]
) -> None:
    base, headers = served
    _, path = debtor(base, headers)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.goto(base + path)
    assert page.locator("h1").inner_text() == "王*，您好"
    shot(page, "portal-zh-CN")

    page.get_by_role("link", name="English").click()
    assert "Total to pay" in page.content()
    shot(page, "portal-en")
    page.get_by_role("link", name="繁體中文").click()
    assert "待付總額" in page.content()
    shot(page, "portal-zh-TW")
    page.get_by_role("link", name="简体中文").click()

    page.get_by_label("还款金额（CNY）").fill("200")
    page.get_by_role("button", name="立即还款").click()
    page.wait_for_url(f"{base}/sandbox/wallet/pay/*")
    assert "¥200.00" in page.content()
    shot(page, "sandbox-wallet")

    page.get_by_role("button", name="确认支付 / Approve").click()
    page.wait_for_url(base + path)
    assert "谢谢！我们已收到您的还款。" in page.content()
    assert "¥300.00" in page.content()
    shot(page, "portal-paid")
    context.close()

"""Autopay in a real browser (Debian's Chromium under Playwright) on a phone-sized screen, over a
served Recoup with its sandbox wallet: a debtor opens autopay from the portal, confirms it's them
with a code, turns it on, approves the mandate on the wallet's page, sees the day's run collect
the bill due, and turns autopay off. Screenshots in `test-artifacts/screenshots/`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browsers import chromium
from tests.web.conftest import Served, debtor
from tests.web.test_browser import PHONE, enter_code, shot

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def test_a_debtor_sets_up_autopay_sees_a_collection_and_cancels_it(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    base, headers, recoup = served
    _, path = debtor(base, headers, ref="autopay", days_late=0)  # ¥500 due today
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.goto(base + path)
    page.get_by_role("link", name="自动还款").click()
    expect(page.locator("h1")).to_have_text("验证身份")
    enter_code(page, tmp_path, "发送验证码", "验证码", "验证")
    expect(page.locator("h1")).to_have_text("自动还款")
    expect(page.locator("section.autopay")).to_contain_text("未开通")
    shot(page, "autopay-off")

    page.get_by_role("button", name="开通自动还款").click()
    page.wait_for_url(f"{base}/sandbox/wallet/mandate/*")
    shot(page, "sandbox-wallet-mandate")
    page.get_by_role("button", name="同意自动扣款 / Approve autopay").click()
    page.wait_for_url(f"{base}{path}/autopay")
    expect(page.locator("p.notice")).to_have_text("自动还款已开通，账单到期时会自动扣款。")
    expect(page.locator("section.autopay")).to_contain_text("已开通")
    shot(page, "autopay-on")

    # The day's run (as the scheduler runs it) asks the sandbox wallet to collect the bill due.
    out = recoup("run", "daily", "--as-of", dt.datetime.now(dt.UTC).date().isoformat())
    assert "autopay: 1 collections asked, 1 collected, 0 failed" in out
    page.reload()
    expect(page.locator("ul.collections")).to_contain_text("¥500.00 · 已扣款")
    shot(page, "autopay-collected")
    page.get_by_role("link", name="返回我的账单").click()
    assert "已结清" in page.content()  # the bill the wallet collected

    page.goto(f"{base}{path}/autopay")
    page.get_by_role("button", name="关闭自动还款").click()
    expect(page.locator("p.notice")).to_have_text("自动还款已关闭，之后的账单需要您自己还款。")
    expect(page.locator("section.autopay")).to_contain_text("未开通")
    shot(page, "autopay-cancelled")
    context.close()

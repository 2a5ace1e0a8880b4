"""The portal in a real browser (Debian's Chromium driven by Playwright) on a phone-sized screen:
a debtor switches language and pays part of a bill, then the rest, through the sandbox wallet;
another sets up a plan after a one-time code; a third promises to pay, changes preferences,
disputes and reads their data, in English. Screenshots of each page are kept in
`test-artifacts/screenshots/` (RECOUP_TEST_ARTIFACTS to move them) to look at."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from recoup.arrangements.links import one_time_code
from tests.browsers import chromium
from tests.web.conftest import LINK_KEY, Served, debtor

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure

PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(os.environ.get("RECOUP_TEST_ARTIFACTS", "test-artifacts")) / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width}px)"


def test_a_debtor_pays_part_of_a_bill_then_the_rest_on_a_phone(
    browser: Browser, served: Served
) -> None:
    base, headers, _ = served
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

    page.get_by_label("还款金额（¥）").fill("200")
    page.get_by_role("button", name="立即还款").click()
    page.wait_for_url(f"{base}/sandbox/wallet/pay/*")
    assert "¥200.00" in page.content()
    shot(page, "sandbox-wallet")

    page.get_by_role("button", name="确认支付 / Approve").click()
    page.wait_for_url(base + path)
    assert "谢谢！我们已收到您的还款。" in page.content()
    assert "¥300.00" in page.content()
    shot(page, "portal-paid")

    # Then the rest, in full: the form offers what is still owed.
    assert page.get_by_label("还款金额（¥）").input_value() == "300.00"
    page.get_by_role("button", name="立即还款").click()
    page.wait_for_url(f"{base}/sandbox/wallet/pay/*")
    page.get_by_role("button", name="确认支付 / Approve").click()
    page.wait_for_url(base + path)
    assert "已结清" in page.content()
    assert page.get_by_role("button", name="立即还款").count() == 0
    shot(page, "portal-paid-in-full")
    context.close()


POLICY = Path(str(resources.files("recoup.strategy") / "policies" / "cn-wallet.yaml"))


def latest_code(tmp_path: Path) -> str:
    """The code the debtor's phone received: derived, as the dispatcher derives it, from the
    code's row in the served database."""
    with sqlite3.connect(tmp_path / "portal.db") as db:
        (code_id,) = db.execute("SELECT max(id) FROM one_time_codes").fetchone()
    return one_time_code(LINK_KEY.encode(), code_id)


def enter_code(page: Page, tmp_path: Path, send: str, code: str, confirm: str) -> None:
    page.get_by_role("button", name=send, exact=True).click()
    expect(page.locator("p.notice")).to_be_visible()  # the code is on its way
    page.get_by_label(code, exact=True).fill(latest_code(tmp_path))
    page.get_by_role("button", name=confirm, exact=True).click()


def test_a_debtor_sets_up_a_plan_after_a_code(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    base, headers, recoup = served
    _, path = debtor(base, headers, ref="plan", days_late=40)
    recoup("strategy", "activate", str(POLICY))
    recoup("run", "daily")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.goto(base + path)
    page.get_by_role("link", name="分期还款").click()
    page.get_by_label("期数").select_option("2")
    page.get_by_label("每月能还（¥）").fill("300")
    page.get_by_role("button", name="查看还款计划").click()
    assert page.content().count("¥250.00") == 2
    shot(page, "plan-preview")
    page.get_by_role("button", name="确认").click()
    expect(page.locator("h1")).to_have_text("验证身份")
    shot(page, "verify")
    enter_code(page, tmp_path, "发送验证码", "验证码", "验证")
    expect(page.locator("h1")).to_have_text("分期还款")
    assert page.content().count("¥250.00") == 2  # back at the same preview
    page.get_by_role("button", name="确认").click()
    expect(page.locator("main")).to_contain_text("分期方案已生效")
    expect(page.locator("main")).to_contain_text("进行中的安排 · 分期还款 · 进行中")
    shot(page, "plan-in-place")
    context.close()


def test_a_debtor_promises_sets_preferences_and_disputes_in_english(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    base, headers, recoup = served
    _, path = debtor(base, headers, ref="promise", days_late=10)
    recoup("strategy", "activate", str(POLICY))
    recoup("run", "daily")
    context = browser.new_context(viewport=PHONE, locale="en-US", device_scale_factor=2)
    page = context.new_page()
    page.goto(base + path)
    page.get_by_role("link", name="English").click()
    page.get_by_role("link", name="Promise to pay by a date").click()
    page.get_by_label("Amount (CN¥)").fill("500")
    shot(page, "promise")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("main")).to_contain_text("We have noted your promise")
    shot(page, "promise-made")

    page.get_by_role("link", name="Contact preferences").click()
    expect(page.locator("h1")).to_have_text("Confirm it's you")
    enter_code(page, tmp_path, "Send me a code", "Code", "Confirm")
    expect(page.locator("h1")).to_have_text("Contact preferences")
    page.get_by_label("Phone call").uncheck()
    page.locator("#quiet_from").fill("21:00")
    page.locator("#quiet_to").fill("09:00")
    page.locator("#preferred_from").fill("18:00")
    page.locator("#preferred_to").fill("20:30")
    shot(page, "preferences")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("Your contact preferences are saved")

    page.get_by_role("link", name="Something wrong?").click()
    page.get_by_label("The amount is wrong").check()
    page.get_by_label("Anything to add (optional)").fill("I paid part of it by bank transfer.")
    shot(page, "dispute")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("main")).to_contain_text("We will not chase you meanwhile")

    page.get_by_role("link", name="My data").click()
    expect(page.locator("h1")).to_have_text("My data")
    assert "王芳" in page.content()
    assert "I dispute the debt" in page.content()
    shot(page, "my-data")
    context.close()

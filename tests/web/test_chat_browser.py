"""The portal's chat with the assistant in a real browser (Debian's Chromium under Playwright) on a
phone-sized screen: the debtor opens the chat from the pay link, passes the one-time code, asks
what they owe, then asks for instalments, and the plan is in place on the overview. Screenshots
go with the others (`test-artifacts/screenshots/`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browsers import chromium
from tests.web.conftest import Served, debtor
from tests.web.test_browser import PHONE, POLICY, enter_code, shot

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def test_a_debtor_asks_the_assistant_and_sets_up_a_plan_in_the_chat(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    base, headers, recoup = served
    _, path = debtor(base, headers, ref="chat", days_late=40)
    recoup("strategy", "activate", str(POLICY))
    recoup("run", "daily")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.goto(base + path)
    page.get_by_role("link", name="在线助手").click()
    expect(page.locator("h1")).to_have_text("验证身份")  # the chat is behind the code
    enter_code(page, tmp_path, "发送验证码", "验证码", "验证")
    expect(page.locator("h1")).to_have_text("在线助手")
    expect(page.locator("main")).to_contain_text("智能助手")  # it says it is not a person

    page.get_by_label("输入消息").fill("还差多少钱")
    page.get_by_role("button", name="发送").click()
    turns = page.locator("ol.chat li")
    expect(turns).to_have_count(2)
    expect(turns.nth(1)).to_contain_text("¥500.00")  # from the ledger: what is past due

    page.get_by_label("输入消息").fill("可以分2期吗 每月300")
    page.get_by_role("button", name="发送").click()
    expect(turns).to_have_count(4)
    expect(turns.nth(3)).to_contain_text("分期还款计划已设立")
    shot(page, "portal-chat")

    page.get_by_role("link", name="返回我的账单").click()
    expect(page.locator("main")).to_contain_text("进行中的安排 · 分期还款 · 进行中")
    context.close()

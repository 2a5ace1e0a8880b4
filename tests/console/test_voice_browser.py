"""Being heard and learning, in Debian's Chromium: a debtor on a phone reads an article in each
language (the rights article showing the China pack's own words), answers the post-repayment
survey (once), raises a complaint and sees it "received"; a supervisor answers it in the console;
the debtor sees it "answered" and, after the one-time code, the answer. Screenshots in
`test-artifacts/screenshots/` (the debtor's) and `.../console/` (the supervisor's)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from recoup.arrangements.links import one_time_code, pay_link
from recoup.compliance import load_guard
from recoup.identity.permissions import Role
from tests.console.browser import console_browser, new_page, sign_in
from tests.console.browser import shot as console_shot
from tests.console.conftest import LINK_KEY, USERNAMES, ServedConsole
from tests.web.test_browser import PHONE, shot

pytestmark = pytest.mark.pure
__all__ = ["console_browser"]

COMPLAINT = "晚上十点以后还打电话给我"
ANSWER = "已核实，今后只在白天联系您，并向您致歉。"


def api(served: ServedConsole, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{served.base}{path}", json=body, headers=served.api_headers, timeout=30)
    assert answer.status_code in (200, 201), f"{path}: {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


def debtor(served: ServedConsole) -> str:
    """A debtor in China with a bill 10 days late; the path of a pay link a message carried."""
    customer = api(
        served,
        "/v1/customers",
        {
            "external_ref": "voice-1",
            "name": "陈静",
            "jurisdiction": "CN",
            "phones": [{"number": "13812349876"}],
            "preferred_language": "zh-CN",
        },
    )
    api(
        served,
        "/v1/accounts",
        {
            "external_ref": "voice-acc-1",
            "customer_ref": "voice-1",
            "product": "bnpl",
            "currency": "CNY",
            "opened_date": "2026-01-01",
        },
    )
    due = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10)
    api(
        served,
        "/v1/bills",
        {
            "account_ref": "voice-acc-1",
            "external_ref": "b-1",
            "due_date": due.isoformat(),
            "principal_minor": 50_000,
        },
    )
    url = pay_link(
        served.base,
        LINK_KEY.encode(),
        customer_id=customer["id"],
        contact_id=77,  # the survey message's contact: the survey is answered once per message
        now=dt.datetime.now(dt.UTC),
    )
    return url.removeprefix(served.base)


def latest_code(served: ServedConsole) -> str:
    path = served.env["RECOUP_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        (code_id,) = db.execute("SELECT max(id) FROM one_time_codes").fetchone()
    return one_time_code(LINK_KEY.encode(), code_id)


def test_a_debtor_learns_answers_the_survey_and_follows_a_complaint(
    console_browser: Browser, served_console: ServedConsole
) -> None:
    base = served_console.base
    path = debtor(served_console)
    context = console_browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()

    # The learning centre, in each language.
    page.goto(f"{base}{path}")
    page.get_by_role("link", name="学习中心").click()
    expect(page.locator("h1")).to_have_text("学习中心")
    shot(page, "learn-zh-CN")
    page.get_by_role("link", name="逾期对征信有什么影响，还清后如何恢复").click()
    expect(page.locator("h1")).to_have_text("逾期对征信有什么影响，还清后如何恢复")
    expect(page.locator("article")).to_contain_text("自还清之日起5年")
    shot(page, "article-credit-record-zh-CN")
    page.goto(f"{base}{path}/learn/your-rights")
    legal = load_guard().rule("cn.hours.legal")
    rights = page.locator("#rights")
    expect(rights).to_contain_text(legal.title_zh)
    expect(rights).to_contain_text(legal.cites["CN"]["zh"])  # China's law, in Chinese
    shot(page, "article-rights-zh-CN")
    page.get_by_role("link", name="繁體中文").click()
    expect(page.locator("h1")).to_have_text("您的權利")
    expect(page.locator("#rights")).to_contain_text(legal.title_zh)  # the pack's own words
    shot(page, "article-rights-zh-TW")
    page.get_by_role("link", name="返回學習中心").click()
    page.get_by_role("link", name="如何識別冒充催收的詐騙").click()
    # A debtor in China, reading in traditional characters: China's police numbers, not
    # Taiwan's 165 (an article's [[only TW]] block is for readers there).
    expect(page.locator("article")).to_contain_text("96110")
    expect(page.locator("article")).not_to_contain_text("165")
    shot(page, "article-fraud-zh-TW")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("How to spot collection fraud")
    shot(page, "article-fraud-en")

    # The survey, once.
    page.goto(f"{base}{path}/survey")
    expect(page.locator("h1")).to_have_text("说说您的感受")
    page.locator("fieldset").nth(0).get_by_label("4").check()
    page.locator("fieldset").nth(1).get_by_label("5").check()
    page.get_by_label("愿意", exact=True).check()
    page.get_by_label("还有什么想告诉我们的（选填）").fill("页面很清楚，谢谢")
    shot(page, "survey-zh-CN")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("p.notice")).to_have_text("谢谢您的回答！我们会认真阅读。")
    shot(page, "survey-thanks-zh-CN")
    page.goto(f"{base}{path}/survey?lang=en")
    expect(page.locator("p.notice")).to_have_text(
        "You have already answered this survey. Thank you!"
    )
    assert page.locator("form[action*='/survey']").count() == 0

    # A complaint, received.
    page.goto(f"{base}{path}/help?kind=complaint")
    page.get_by_label("联系时间不合适").check()
    page.get_by_label("补充说明（选填）").fill(COMPLAINT)
    page.get_by_role("button", name="提交").click()
    page.get_by_role("link", name="我的申请").click()
    request = page.locator("article.request")
    expect(request).to_contain_text("投诉")
    expect(request.locator("dd.status")).to_have_text("已收到")
    case_id = request.get_attribute("data-case")
    assert case_id is not None
    shot(page, "requests-received-zh-CN")

    # A supervisor answers it in the console.
    desk = new_page(console_browser, "zh-CN")
    sign_in(desk, base, USERNAMES[Role.supervisor])
    desk.goto(f"{base}/console/cases/{case_id}")
    expect(desk.locator("main")).to_contain_text(COMPLAINT)
    desk.locator("textarea[name=resolution]").fill(ANSWER)
    desk.locator(f"form[action='/console/cases/{case_id}/resolve'] button").click()
    desk.wait_for_url(re.compile(r".*/console/cases/\d+.*"))
    console_shot(desk, "case-answered-zh-CN")
    desk.context.close()

    # The debtor sees it answered; the answer's words after the one-time code.
    page.goto(f"{base}{path}/requests")
    expect(request.locator("dd.status")).to_have_text("已答复")
    expect(request).not_to_contain_text(ANSWER)
    page.get_by_role("link", name="验证身份后查看我们的答复").click()
    page.get_by_role("button", name="发送验证码", exact=True).click()
    expect(page.locator("p.notice")).to_be_visible()
    page.get_by_label("验证码", exact=True).fill(latest_code(served_console))
    page.get_by_role("button", name="验证", exact=True).click()
    expect(page.locator("h1")).to_have_text("我的申请")
    expect(request.locator("p.answer")).to_have_text(ANSWER)
    shot(page, "requests-answered-zh-CN")
    page.goto(f"{base}{path}/requests?lang=en")
    expect(request.locator("dd.status")).to_have_text("Answered")
    shot(page, "requests-answered-en")
    context.close()

    # The collections manager sees the survey and the reads, and the articles' desk.
    manager = new_page(console_browser, "zh-CN")
    sign_in(manager, base, USERNAMES[Role.strategist])
    manager.goto(f"{base}/console/voice")
    expect(manager.locator("#survey")).to_contain_text("n = 1")
    expect(manager.locator("#survey-again")).to_contain_text("愿意 1")
    expect(manager.locator("#reads")).to_contain_text("your-rights")
    console_shot(manager, "voice-zh-CN")
    manager.goto(f"{base}/console/articles")
    expect(manager.locator("#articles")).to_contain_text("spotting-fraud")
    console_shot(manager, "articles-zh-CN")
    manager.context.close()

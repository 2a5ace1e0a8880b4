"""The portal's "my data" in a real browser (Debian's Chromium under Playwright) on a phone: the
automated decisions with the score's reasons in words, in Chinese then English, and the request for
a person to review, shown back as received. Screenshots in `test-artifacts/screenshots/`."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
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


def plant_score(tmp_path: Path, customer_id: int) -> None:
    """A p_pay score with its reasons, as the daily run's scoring writes it (risk's row: no model
    is trained in this test, so the row is written straight into the served database)."""
    reasons = [
        {"code": "promises_broken_60d", "value": 2, "weight": -0.41},
        {"code": "days_since_last_payment", "value": 41, "weight": -0.22},
    ]
    with sqlite3.connect(tmp_path / "portal.db") as db:
        (account_id,) = db.execute(
            "SELECT id FROM accounts WHERE customer_id = ?", (customer_id,)
        ).fetchone()
        db.execute(
            "INSERT INTO account_scores (account_id, as_of_date, model_id, kind, score, reasons)"
            " VALUES (?, ?, 1, 'p_pay', 0.35, ?)",
            (account_id, dt.date.today().isoformat(), json.dumps(reasons)),
        )


def test_my_data_explains_the_automated_decisions_and_takes_a_review_request(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    base, headers, recoup = served
    customer_id, path = debtor(base, headers, ref="review", days_late=12)
    recoup("strategy", "activate", str(POLICY))
    recoup("run", "daily")
    plant_score(tmp_path, customer_id)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{base}{path}/data")
    enter_code(page, tmp_path, "发送验证码", "验证码", "验证")
    expect(page.locator("h1")).to_have_text("我的数据")
    section = page.locator("#automated-decisions")
    expect(section).to_contain_text("自动化决策")
    expect(section).to_contain_text("第二十四条")
    expect(section).to_contain_text("60天内2次未兑现还款承诺")
    expect(section).to_contain_text("估计您近期还款的可能性：35%")
    section.scroll_into_view_if_needed()
    shot(page, "my-data-automated-zh-CN")

    page.get_by_label("想告诉复核人员的话（选填）").fill("我已经在还款了，请人工看一下。")
    page.get_by_role("button", name="请工作人员复核这个决定").click()
    expect(section).to_contain_text("我们已收到您的复核请求")
    expect(section).to_contain_text("我已经在还款了，请人工看一下。")
    assert page.get_by_role("button", name="请工作人员复核这个决定").count() == 0
    shot(page, "my-data-review-received-zh-CN")

    page.goto(f"{base}{path}/data?lang=en")
    expect(section).to_contain_text("Decisions made by automated means")
    expect(section).to_contain_text("2 broken promises in 60 days")
    expect(section).to_contain_text("We received your request on")
    shot(page, "my-data-automated-en")
    context.close()

"""A supervisor in the browser: signs in, opens the approvals, sees the policy's bounds beside a
settlement the wallet asked for past the threshold, approves it, and the arrangement is active;
the cases and replies inboxes show the debtor's words. Screenshots in zh-CN and en, no sideways
scroll at 1280 px."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from importlib import resources
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.console.browser import TABLET, console_browser, new_page, shot, sign_in
from tests.console.conftest import ServedConsole

pytestmark = pytest.mark.pure
__all__ = ["console_browser"]

DEBTOR_WORDS = "这笔账的金额不对，我只借了八百元"
REPLY_WORDS = "我下个月十号发工资以后一次还清"

# An inbound SMS as the provider's webhook would hand it over: the served process has no SMS
# provider configured (so no signed webhook can reach it), and this runs the same flow it would.
INBOUND = """
import sys
from recoup.cli.common import runtime
from recoup.contact import flows
rt = runtime()
with rt.transaction() as session:
    flows.receive_sms(session, provider="twilio", provider_id="SMbrowser1", from_number=sys.argv[1],
                      body=sys.argv[2], region="CN", clock=rt.clock)
"""


def api(served: ServedConsole, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.request(
        method, f"{served.base}{path}", json=body, headers=served.api_headers, timeout=30
    )
    assert answer.status_code in (200, 201), f"{path}: {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


def debtor(served: ServedConsole, n: int, phone: str, days_late: int) -> tuple[int, int]:
    """(customer id, account id) of a Chinese debtor owing ¥1,000 for `days_late` days."""
    customer = api(
        served,
        "POST",
        "/v1/customers",
        {
            "external_ref": f"sup-browser-{n}",
            "name": "张伟",
            "jurisdiction": "CN",
            "phones": [{"number": phone}],
            "preferred_language": "zh-CN",
        },
    )
    account = api(
        served,
        "POST",
        "/v1/accounts",
        {
            "external_ref": f"sup-acc-{n}",
            "customer_ref": f"sup-browser-{n}",
            "product": "bnpl",
            "currency": "CNY",
            "opened_date": "2026-01-01",
        },
    )
    api(
        served,
        "POST",
        "/v1/bills",
        {
            "account_ref": f"sup-acc-{n}",
            "external_ref": "inst-1",
            "due_date": (dt.date.today() - dt.timedelta(days=days_late)).isoformat(),
            "principal_minor": 100_000,
        },
    )
    return int(customer["id"]), int(account["id"])


def test_a_supervisor_approves_a_settlement_past_the_threshold(
    served_console: ServedConsole, console_browser: Browser
) -> None:
    base = served_console.base
    policy = resources.files("recoup.strategy") / "policies" / "cn-wallet.yaml"
    served_console.recoup("strategy", "activate", str(policy))  # settlements at 91-180 days late
    _, account_id = debtor(served_console, 1, "+8613800001111", days_late=100)
    deal = api(
        served_console,
        "POST",
        f"/v1/accounts/{account_id}/arrangements",
        {"kind": "settlement", "amount_minor": 65_000},  # 65 %: the policy asks approval below 80 %
    )
    assert deal["status"] == "awaiting_approval"
    other, _ = debtor(served_console, 2, "+8613800002222", days_late=20)
    subprocess.run(
        [sys.executable, "-c", INBOUND, "+8613800002222", REPLY_WORDS],
        env=served_console.env,
        check=True,
        capture_output=True,
    )

    page = new_page(console_browser, "en")
    sign_in(page, base, "supervisor")
    case = page.request.post(  # the supervisor's session, through the API
        f"{base}/v1/customers/{other}/cases",
        data={
            "kind": "dispute",
            "reason": "wrong_amount",
            "text": DEBTOR_WORDS,
            "channel": "agent",
        },
    )
    assert case.status == 201, case.text()

    page.goto(f"{base}/console/approvals")
    card = page.locator(f"#approval-{deal['id']}")
    assert "65.0 %" in card.locator(".asked-share").inner_text()
    assert card.locator("[data-bound=min_share_bps]").inner_text().strip() == "60.0 %"
    assert card.locator("[data-bound=approval_below_bps]").inner_text().strip() == "80.0 %"
    shot(page, "supervisor-approvals-en")
    page.goto(f"{base}/console/cases")
    assert DEBTOR_WORDS in page.locator("table.cases").inner_text()
    shot(page, "supervisor-cases-en")
    page.goto(f"{base}/console/replies")
    assert REPLY_WORDS in page.locator("section.reply").first.inner_text()
    shot(page, "supervisor-replies-en")

    zh = new_page(console_browser, "zh-CN")
    sign_in(zh, base, "supervisor")
    zh.goto(f"{base}/console/approvals")
    assert "策略：最低比例" in zh.locator(f"#approval-{deal['id']}").inner_text()
    shot(zh, "supervisor-approvals-zh-CN")
    zh.goto(f"{base}/console/cases")
    assert "答复期限" in zh.content()
    shot(zh, "supervisor-cases-zh-CN")
    zh.goto(f"{base}/console/replies")
    assert "创建案件" in zh.content()
    shot(zh, "supervisor-replies-zh-CN")

    tablet = new_page(console_browser, "en", TABLET)
    sign_in(tablet, base, "supervisor")
    tablet.goto(f"{base}/console/approvals")
    shot(tablet, "supervisor-approvals-tablet-en")
    tablet.goto(f"{base}/console/replies")
    shot(tablet, "supervisor-replies-tablet-en")
    reply = tablet.locator("section.reply").first
    reply.locator("input[name=action][value=done] + button").click()
    tablet.locator("section.handled").wait_for()  # htmx swapped the card for the outcome
    assert "Marked done" in tablet.locator("section.handled").inner_text()

    page.goto(f"{base}/console/approvals")
    card.locator("form[action$='/approve'] button[type=submit]").click()
    # htmx swaps the card for the outcome in place (without it, the page reloads)
    page.locator(f"#approval-{deal['id']}.handled").wait_for()
    assert "The arrangement is active" in page.locator(f"#approval-{deal['id']}").inner_text()
    made = page.request.get(f"{base}/v1/arrangements/{deal['id']}")
    assert made.status == 200
    assert (made.json()["status"], made.json()["approved_by"]) == ("active", "staff:supervisor")

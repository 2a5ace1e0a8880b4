"""The agent's day in Chromium: sign in, take the next account, read the guard's answer, call
(click-to-call), record a promise, and the account leaves the queue; in en and zh-CN.

The queue is made as a deployment makes it: customers, accounts and bills through the API, the
China policy activated, and the day's run (`recoup run daily`) fills the agents' queues. The served
process runs on the wall clock, so the debtors live in a time zone where it is now mid-day (the
guard's calling hours are the debtor's): the test passes whatever the hour it runs at."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import NamedTuple

import httpx
import pytest
from playwright.sync_api import Browser

from tests.console.browser import DESKTOP, TABLET, console_browser, new_page, shot, sign_in
from tests.console.conftest import ServedConsole

__all__ = ["console_browser"]

pytestmark = pytest.mark.pure
ACCOUNTS = 4


def midday_zone() -> str:
    """A fixed-offset zone where the local time is now between 10:00 and 17:59."""
    now = dt.datetime.now(dt.UTC)
    for offset in range(-12, 15):
        if 10 <= (now + dt.timedelta(hours=offset)).hour <= 17:
            # IANA's Etc zones count the other way: Etc/GMT-8 is UTC+8.
            return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    raise AssertionError("no zone at mid-day")  # pragma: no cover


class Queue(NamedTuple):
    accounts: list[int]


@pytest.fixture(scope="module")
def queued(served_console: ServedConsole) -> Queue:
    zone = midday_zone()
    base, headers = served_console.base, served_console.api_headers
    due = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=40)).isoformat()
    accounts = []
    for i in range(ACCOUNTS):
        ref = f"wb-{i}"
        customer = httpx.post(
            f"{base}/v1/customers",
            json={
                "external_ref": f"u-{ref}",
                "name": "王芳",
                "phones": [{"number": f"13812{i:06d}"}],
                "jurisdiction": "CN",
                "timezones": [zone],
            },
            headers=headers,
        )
        assert customer.status_code == 201, customer.text
        account = httpx.post(
            f"{base}/v1/accounts",
            json={
                "external_ref": f"bnpl-{ref}",
                "customer_ref": f"u-{ref}",
                "product": "bnpl",
                "currency": "CNY",
                "opened_date": "2026-01-01",
            },
            headers=headers,
        )
        assert account.status_code == 201, account.text
        accounts.append(account.json()["id"])
        bill = httpx.post(
            f"{base}/v1/bills",
            json={
                "account_ref": f"bnpl-{ref}",
                "external_ref": f"b-{ref}",
                "due_date": due,
                "principal_minor": 50_000 + i * 1_000,  # the queue's order: the largest first
            },
            headers=headers,
        )
        assert bill.status_code == 201, bill.text
    policy = resources.files("recoup.strategy").joinpath("policies", "cn-wallet.yaml")
    served_console.recoup("strategy", "activate", str(policy))
    served_console.recoup("run", "daily")
    return Queue(accounts)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_an_agent_takes_the_next_account_calls_and_records_a_promise(
    console_browser: Browser, served_console: ServedConsole, queued: Queue, lang: str
) -> None:
    base = served_console.base
    page = new_page(console_browser, lang)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, "agent")
    page.goto(f"{base}/console/work")
    shot(page, f"agent-work-{lang}")
    page.click("#next-account")
    page.wait_for_url(f"{base}/console/accounts/*")
    account = int(page.url.rsplit("/", 1)[1].split("?")[0])
    assert account in queued.accounts
    answer = page.inner_text("#guard-answer")
    assert answer == ("Allowed now" if lang == "en" else "现在允许")
    assert page.locator("#next-moment").count() == 1
    assert "王*" in page.inner_text("#customer")
    assert "王芳" not in page.content()
    shot(page, f"agent-account-{lang}")
    page.set_viewport_size(TABLET)
    shot(page, f"agent-account-tablet-{lang}")  # fits a tablet too
    page.set_viewport_size(DESKTOP)

    page.fill("input[name=extension]", "8021")
    page.click("#call-button")
    page.wait_for_selector("#last-call")
    shot(page, f"agent-called-{lang}")

    page.select_option("#outcome", "promise")
    page.fill("input[name=amount]", "500")
    promised = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)).isoformat()
    page.fill("input[name=date]", promised)
    page.click("#wrap-up-button")
    page.wait_for_url(f"{base}/console/work?wrapped=*")
    assert page.locator("#wrapped").count() == 1
    shot(page, f"agent-wrapped-{lang}")

    # The account left the queue: the next "next account" gives another, or none.
    page.click("#next-account")
    page.wait_for_load_state()
    if "/console/accounts/" in page.url:
        assert int(page.url.rsplit("/", 1)[1].split("?")[0]) != account
    else:
        assert page.locator("#queue-empty").count() == 1
    arrangements = httpx.get(
        f"{base}/v1/accounts/{account}/arrangements", headers=served_console.api_headers
    )
    if arrangements.status_code == 200:  # the key may lack arrangements:read
        assert [a["kind"] for a in arrangements.json()] == ["promise"]
    assert not errors, errors


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_supervisor_sees_the_queues_and_gives_a_task_to_the_agent(
    console_browser: Browser, served_console: ServedConsole, queued: Queue, lang: str
) -> None:
    base = served_console.base
    page = new_page(console_browser, lang)
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/console/queues")
    assert page.locator("#queue-counts tbody tr").count() >= 1
    rows = page.locator("#open-tasks tbody tr form")
    if rows.count():  # an open task left: give it to an agent who works queues
        rows.first.locator("select[name=staff_id]").select_option(index=1)
        rows.first.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/console/queues?done=1")
        assert page.locator("#reassigned").count() == 1
    shot(page, f"supervisor-queues-{lang}")

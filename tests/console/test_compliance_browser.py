"""A compliance officer in Chromium: signs in, opens a contact's decision record from the finder,
and runs the contact audit, which lists the contact planted at 23:30 in Shanghai (CN's collection
hours end at 21:00); screenshots in en and zh-CN, no sideways scroll at 1280 px."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser

from recoup.contact import repository as contact_repository
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import ContactPlan
from tests.console.browser import console_browser, new_page, shot, sign_in
from tests.console.conftest import ServedConsole

__all__ = ["console_browser"]

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure

SHANGHAI = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


def planted_breach(served: ServedConsole, lang: str) -> tuple[int, dt.date, int]:
    """A debtor and account through the API, and a text written through the contact repository
    as sent yesterday at 23:30 Shanghai time: the contact audit must name it. Beside it, a text
    the guard blocked (the chart of blocks has something to draw)."""
    ref = f"audit-{lang}-{next(_n)}"
    number = f"1391234{sum(map(ord, ref)) % 10_000:04d}"
    customer = httpx.post(
        f"{served.base}/v1/customers",
        json={
            "external_ref": f"u-{ref}",
            "name": "王芳",
            "phones": [{"number": number}],
            "jurisdiction": "CN",
        },
        headers=served.api_headers,
    )
    assert customer.status_code == 201, customer.text
    account = httpx.post(
        f"{served.base}/v1/accounts",
        json={
            "external_ref": ref,
            "customer_ref": f"u-{ref}",
            "product": "bnpl",
            "currency": "CNY",
            "opened_date": "2026-01-01",
        },
        headers=served.api_headers,
    )
    assert account.status_code == 201, account.text
    day = dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=1)
    at = dt.datetime(day.year, day.month, day.day, 23, 30, tzinfo=SHANGHAI).astimezone(dt.UTC)
    engine = make_engine(served.env["RECOUP_DATABASE_URL"])
    try:
        with make_sessionmaker(engine)() as session:
            contact = ContactPlan(
                account_id=account.json()["id"],
                customer_id=customer.json()["id"],
                as_of_date=day,
                stage="early",
                treatment="planted_late_sms",
                channel="sms",
                template="reminder",
                tone="neutral",
                status="sent",
                scheduled_at=at,
                reasons=[],
                purpose="collection",
                sent_at=at,
                created_at=at,
            )
            blocked = ContactPlan(
                account_id=account.json()["id"],
                customer_id=customer.json()["id"],
                as_of_date=day,
                stage="early",
                treatment="blocked_sms",
                channel="sms",
                template="reminder",
                tone="neutral",
                status="blocked",
                scheduled_at=at,
                reasons=["base.cease:CEASE"],
                purpose="collection",
                created_at=at,
            )
            contact_repository.add_plans(session, [contact, blocked])
            session.commit()
            return contact.id, day, customer.json()["id"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_compliance_officer_opens_a_decision_record_and_runs_the_audit(
    console_browser: Browser, served_console: ServedConsole, lang: str
) -> None:
    contact_id, day, customer_id = planted_breach(served_console, lang)
    page = new_page(console_browser, lang)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, served_console.base, "compliance")
    page.click("nav.main a[href='/console/compliance']")
    page.wait_for_url("**/console/compliance")
    assert page.locator("code", has_text="base.cease").count() >= 1
    assert page.evaluate(
        "!!window.Chart && !!window.Chart.getChart(document.getElementById('held-chart'))"
    ), "the chart of blocks was not drawn"
    shot(page, f"compliance-overview-{lang}")

    page.fill("input[name=contact_id]", str(contact_id))
    page.click("form[action='/console/compliance/contacts'] button[type=submit]")
    page.wait_for_url(f"**/console/compliance/contacts/{contact_id}")
    assert str(contact_id) in page.inner_text("h1")
    assert "王芳" not in page.content(), "the customer is masked"
    shot(page, f"compliance-decision-record-{lang}")

    page.goto(f"{served_console.base}/console/compliance/audit")
    page.fill("input[name=from]", day.isoformat())
    page.fill("input[name=to]", (day + dt.timedelta(days=1)).isoformat())
    page.click("form[action='/console/compliance/audit'] button[type=submit]")
    page.wait_for_selector("#audit-result")
    breaches = page.locator("tr.breach")
    assert breaches.count() >= 1
    assert (
        page.locator(f"tr.breach a[href='/console/compliance/contacts/{contact_id}']").count() >= 1
    )
    shot(page, f"compliance-audit-{lang}")

    # QA: a seeded sample of yesterday and today, the first item reviewed with the checklist.
    page.goto(f"{served_console.base}/console/compliance/qa")
    page.fill("input[name=from]", day.isoformat())
    page.fill("input[name=to]", (day + dt.timedelta(days=1)).isoformat())
    page.fill("input[name=size]", "5")
    page.fill("input[name=seed]", "20261206")
    page.click("form[action='/console/compliance/qa/samples'] button[type=submit]")
    page.wait_for_url("**/console/compliance/qa/samples/*")
    first = page.locator("form[action^='/console/compliance/qa/reviews/']").first
    first.locator("textarea[name=findings]").fill("texted at 23:30 local: outside the hours")
    first.locator("input[name=within_hours][value=no]").check()
    first.locator("button[type=submit]").click()
    page.wait_for_selector(".badge.bad")
    shot(page, f"compliance-qa-sample-{lang}")

    # The customer's consents: one recorded with its evidence.
    page.goto(f"{served_console.base}/console/compliance/customers/{customer_id}")
    page.select_option("select[name=kind]", "electronic")
    page.select_option("select[name=channel]", "sms")
    page.fill("input[name=evidence]", "call 8812, agent wang, recording r-8812")
    page.click("form[action$='/consents'] button[type=submit]")
    page.wait_for_selector("tr.consent")
    assert "recording r-8812" in page.inner_text("tr.consent")
    shot(page, f"compliance-consents-{lang}")
    assert not errors, errors

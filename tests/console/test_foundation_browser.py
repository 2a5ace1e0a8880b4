"""The console in Chromium: signing in, the language switch, and an audited reveal done in place
by htmx (which proves the library loads from this site under the page's Content-Security-Policy)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser

from tests.console.browser import TABLET, console_browser, new_page, shot, sign_in
from tests.console.conftest import ServedConsole

__all__ = ["console_browser"]

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure


def _customer(served: ServedConsole, ref: str) -> tuple[int, str]:
    number = f"1381234{sum(map(ord, ref)) % 10_000:04d}"
    answer = httpx.post(
        f"{served.base}/v1/customers",
        json={
            "external_ref": f"u-{ref}",
            "name": "王芳",
            "phones": [{"number": number}],
            "jurisdiction": "CN",
        },
        headers=served.api_headers,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], number


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_an_agent_signs_in_and_reveals_a_number_for_a_reason(
    console_browser: Browser, served_console: ServedConsole, lang: str
) -> None:
    customer_id, number = _customer(served_console, f"reveal-{lang}")
    page = new_page(console_browser, lang)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, served_console.base, "agent")
    assert page.locator("nav.main a[href='/console/work']").count() == 1
    shot(page, f"agent-home-{lang}")
    page.goto(f"{served_console.base}/console/customers/{customer_id}")
    assert number not in page.content()
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not load"
    page.click(f"#reveal-{customer_id}-phones summary")
    page.fill(f"#reveal-{customer_id}-phones input[name=reason]", "debtor asked for a call back")
    page.click(f"#reveal-{customer_id}-phones button[type=submit]")
    page.wait_for_selector(f"#reveal-{customer_id}-phones.revealed")
    assert page.url.endswith(f"/console/customers/{customer_id}"), "htmx swapped in place"
    assert number in page.inner_text(f"#reveal-{customer_id}-phones")
    shot(page, f"agent-customer-revealed-{lang}")
    assert not errors, errors
    log = httpx.get(
        f"{served_console.base}/v1/customers/{customer_id}/data-access",
        headers=served_console.api_headers,
    )
    assert log.status_code == 200, log.text
    reveals = [e for e in log.json() if e["kind"] == "reveal"]
    assert [(e["actor"], e["reason"]) for e in reveals] == [
        ("staff:agent", "debtor asked for a call back")
    ]


def test_the_console_fits_a_tablet_and_switches_language(
    console_browser: Browser, served_console: ServedConsole
) -> None:
    page = new_page(console_browser, "en", TABLET)
    sign_in(page, served_console.base, "supervisor")
    assert "Approvals" in page.inner_text("nav.main")
    page.click("a.lang")
    assert "审批" in page.inner_text("nav.main")
    shot(page, "supervisor-home-tablet-zh-CN")

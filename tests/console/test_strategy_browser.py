"""The strategy desk in Chromium: a collections manager edits the active policy, sees a validation
error at its line, fixes it, dry-runs the draft against the active policy on today's portfolio,
sees which accounts change, and submits; a second manager approves and it is active. In English
and in Chinese, with screenshots."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.console.browser import console_browser, new_page, shot, sign_in
from tests.console.conftest import PASSWORD, ServedConsole

__all__ = ["console_browser"]

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure

POLICY = Path(__file__).resolve().parents[2] / "src/recoup/strategy/policies/cn-wallet.yaml"
SECOND = "strategist2"


@pytest.fixture(scope="module")
def desk(served_console: ServedConsole) -> ServedConsole:
    """The shipped China policy activated by the operator at the host, a second collections
    manager, and a few late accounts (10, 12 and 45 days) created through the API."""
    served_console.recoup("strategy", "activate", str(POLICY), "--author", "operator")
    served_console.recoup("staff", "add", SECOND, "--role", "strategist", "--password", PASSWORD)
    today = dt.datetime.now(dt.UTC).date()
    for n, days_late in enumerate((10, 12, 45)):
        ref = f"desk-{n}"
        for path, body in (
            (
                "/v1/customers",
                {
                    "external_ref": f"u-{ref}",
                    "name": "王芳",
                    "phones": [{"number": f"138123470{n:02d}"}],
                    "jurisdiction": "CN",
                },
            ),
            (
                "/v1/accounts",
                {
                    "external_ref": f"bnpl-{ref}",
                    "customer_ref": f"u-{ref}",
                    "product": "bnpl",
                    "currency": "CNY",
                    "opened_date": "2026-01-01",
                },
            ),
            (
                "/v1/bills",
                {
                    "account_ref": f"bnpl-{ref}",
                    "external_ref": "b-1",
                    "due_date": (today - dt.timedelta(days=days_late)).isoformat(),
                    "principal_minor": 50_000,
                },
            ),
        ):
            answer = httpx.post(
                f"{served_console.base}{path}", json=body, headers=served_console.api_headers
            )
            assert answer.status_code == 201, answer.text
    return served_console


# The early stage's range, per run: the English run narrows it (the accounts 10 and 12 days late
# leave it), the Chinese run, starting from what the English run activated, widens it again (to
# 29 days: 30 would be the shipped text, the operator's version, which is not a new draft).
EARLY = {"en": 5, "zh-CN": 29}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_manager_edits_dry_runs_and_submits_and_a_second_approves(
    console_browser: Browser, desk: ServedConsole, lang: str
) -> None:
    base = desk.base
    page = new_page(console_browser, lang)
    errors: list[str] = []
    # The check that finds a problem answers 422 (the page with the problem), which Chromium
    # reports on its console; anything else (a script refused by the CSP, a 500) fails the test.
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "422" not in m.text else None,
    )
    sign_in(page, base, "strategist")
    page.goto(f"{base}/console/strategy")
    assert page.locator("#active-policy").count() == 1
    shot(page, f"strategist-strategy-{lang}")

    page.click("#active-policy a.button")
    area = page.locator("#policy-text")
    text = area.input_value()
    assert "name: early" in text
    # A mistake: a condition left unfinished.
    broken = text.replace("when: reachable_push\n", "when: reachable_push and\n", 1)
    assert broken != text
    area.fill(broken)
    page.click("#check")
    page.wait_for_selector("#problem")
    line = broken[: broken.index("when: reachable_push and\n")].count("\n") + 1
    assert page.get_attribute("#problem", "data-line") == str(line)
    marked = page.inner_text("#problem-line td.num")
    assert marked.strip() == str(line)
    assert "^" in page.inner_text("#problem-line")
    # The cursor went to the problem (strategy.js).
    cursor = page.evaluate("document.getElementById('policy-text').selectionStart")
    assert broken[:cursor].count("\n") + 1 == line
    shot(page, f"strategist-strategy-error-{lang}")

    fixed = re.sub(r"dpd: \[1, \d+\]", f"dpd: [1, {EARLY[lang]}]", text, count=1)
    assert fixed != text
    page.locator("#policy-text").fill(fixed)
    page.click("#check")
    page.wait_for_selector("#no-problem")
    page.click("#save")
    page.wait_for_url(re.compile(r".*/console/strategy/versions/\d+\?saved=1$"))
    version_id = int(re.findall(r"/versions/(\d+)", page.url)[0])
    assert page.get_attribute("#status", "class") == "badge status-draft"

    page.click(f"a[href='/console/strategy/versions/{version_id}/dry-run']")
    page.wait_for_selector("#counts")
    changed = int(page.inner_text("#changed").replace(",", ""))
    assert changed == 2, "the accounts 10 and 12 days late change stage"
    stage = page.inner_text("#counts li[data-change=stage] strong")
    assert stage == "2"
    assert page.locator("#changed-accounts tbody tr").count() == 2
    refs = page.locator("#changed-accounts .masked .value").all_inner_texts()
    assert all(r.startswith("*") for r in refs), refs
    shot(page, f"strategist-strategy-dry-run-{lang}")

    page.goto(f"{base}/console/strategy/versions/{version_id}")
    page.click("#submit")
    page.wait_for_selector("#own")
    assert page.get_attribute("#status", "class") == "badge status-submitted"
    assert page.locator("#approve").count() == 0, "the author is not offered the approval"
    shot(page, f"strategist-strategy-submitted-{lang}")
    assert not errors, errors

    second = new_page(console_browser, lang)
    sign_in(second, base, SECOND)
    second.goto(f"{base}/console/strategy/versions/{version_id}")
    second.click("#approve")
    second.wait_for_selector("#status.status-active")
    shot(second, f"strategist-strategy-approved-{lang}")
    second.goto(f"{base}/console/strategy")
    assert second.get_attribute(f"#version-{version_id}", "data-status") == "active"
    second.goto(f"{base}/console/strategy/versions/{version_id}")
    assert f"dpd: [1, {EARLY[lang]}]" in second.inner_text(".policy-text")

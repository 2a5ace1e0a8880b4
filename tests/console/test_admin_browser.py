"""Four eyes in Chromium: administrator A proposes an agent, administrator B approves and hands
over the one-time code, the new agent chooses a password and signs in; an agent opening the staff
page gets the 403 page. Screenshots in zh-CN and en."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.console.browser import TABLET, console_browser, new_page, shot, sign_in
from tests.console.conftest import PASSWORD, ServedConsole

__all__ = ["console_browser"]

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure

NEW_PASSWORD = "the agent's own password"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_second_administrator_approves_an_agent_who_sets_a_password_and_signs_in(
    console_browser: Browser, served_console: ServedConsole, lang: str
) -> None:
    base = served_console.base
    second = f"admin.b.{lang.lower()}"
    served_console.recoup("staff", "add", second, "--role", "administrator", "--password", PASSWORD)
    newcomer = f"new.agent.{lang.lower()}"

    proposer = new_page(console_browser, lang)
    sign_in(proposer, base, "admin")
    proposer.goto(f"{base}/console/admin/staff")
    proposer.fill("input[name=username]", newcomer)
    proposer.fill("input[name=display_name]", "陈刚" if lang == "zh-CN" else "Chen Gang")
    proposer.select_option("select[name=role]", "agent")
    proposer.click("form[action='/console/admin/staff/propose'] button[type=submit]")
    proposer.wait_for_url(f"{base}/console/admin/staff?done=proposed")
    row = proposer.locator(f"table.proposals tr:has-text('{newcomer}')")
    assert row.get_attribute("data-status") == "pending"
    assert row.locator("form[action$='/approve']").count() == 0, "the proposer cannot approve"
    shot(proposer, f"admin-staff-proposed-{lang}")

    approver = new_page(console_browser, lang)
    sign_in(approver, base, second)
    approver.goto(f"{base}/console/admin/staff")
    approver.click(f"table.proposals tr:has-text('{newcomer}') form[action$='/approve'] button")
    approver.wait_for_selector("#set-password-code")
    code = approver.inner_text("#set-password-code").strip()
    assert len(code) == 24
    shot(approver, f"admin-proposal-approved-{lang}")

    agent = new_page(console_browser, lang)
    agent.goto(f"{base}/console/set-password")
    agent.fill("input[name=username]", newcomer)
    agent.fill("input[name=code]", code)
    agent.fill("input[name=password]", NEW_PASSWORD)
    agent.fill("input[name=password_again]", NEW_PASSWORD)
    shot(agent, f"agent-set-password-{lang}")
    agent.click("form[action='/console/set-password'] button[type=submit]")
    agent.wait_for_selector("a[href='/console/sign-in']")
    sign_in(agent, base, newcomer, NEW_PASSWORD)
    assert agent.locator("nav.main a[href='/console/work']").count() == 1
    assert agent.locator("nav.main a[href='/console/admin/staff']").count() == 0

    response = agent.goto(f"{base}/console/admin/staff")
    assert response is not None
    assert response.status == 403
    assert agent.locator(".error-page[data-status='403']").count() == 1
    shot(agent, f"agent-admin-forbidden-{lang}")

    proposer.goto(f"{base}/console/admin/staff")
    assert (
        proposer.locator(f"table.proposals tr:has-text('{newcomer}')").get_attribute("data-status")
        == "approved"
    )
    assert code not in proposer.content(), "the proposer never sees the code"
    shot(proposer, f"admin-staff-{lang}")

    tablet = new_page(console_browser, lang, TABLET)
    sign_in(tablet, base, "admin")
    tablet.goto(f"{base}/console/admin/keys")
    assert tablet.locator("input[name=scopes]").count() >= 10
    shot(tablet, f"admin-keys-tablet-{lang}")

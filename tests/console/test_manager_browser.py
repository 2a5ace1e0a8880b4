"""The manager in Chromium: the dashboard of a small simulated portfolio with its charts drawn by
Chart.js (served by the console, under the page's Content-Security-Policy), and the templates
desk's live verdict (htmx posts the text as it is typed; a threat is refused where a content rule
forbids it). Screenshots in en and zh-CN, no horizontal scroll at 1280 px."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console.browser import TABLET, console_browser, new_page, shot, sign_in
from tests.console.conftest import PASSWORD, ServedConsole
from tests.processes import wait_until_serving
from tests.test_serve import free_port

__all__ = ["console_browser"]

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure

GOOD = (
    "{{ creditor_name }}: Hi {{ first_name }}, {{ overdue_minor|money(currency) }} is late. "
    "Pay or choose a plan: {{ pay_link }} {{ opt_out }}"
)
THREAT = GOOD + " We know where you live."


class Simulated(NamedTuple):
    base: str


@pytest.fixture(scope="module")
def simulated(served_console: ServedConsole) -> Iterator[Simulated]:
    """`recoup simulate` (300 accounts, 8 days: a few seconds) writes a database of its own; it is
    served here, with the served console's keys, as the manager would look at it."""
    home = Path(served_console.env["RECOUP_ENCRYPTION_KEY_FILE"]).parent
    out = home / "simulations"
    served_console.recoup(
        "simulate", "--accounts", "300", "--days", "8", "--start", "2026-06-01", "--out", str(out)
    )
    [database] = sorted(out.glob("*.db"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **served_console.env,
        "RECOUP_DATABASE_URL": f"sqlite:///{database}",
        "RECOUP_PUBLIC_URL": base,
    }
    command = [sys.executable, "-m", "recoup.cli"]
    for username, role in (("strategist", "strategist"), ("compliance", "compliance_officer")):
        done = subprocess.run(
            [*command, "staff", "add", username, "--role", role, "--password", PASSWORD],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env={**env, **({"PYTHONUNBUFFERED": "1"} if os.environ.get("CI") else {})},
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(base)
        yield Simulated(base)
    finally:
        process.terminate()
        process.wait(timeout=10)


def watch(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_dashboard_draws_its_charts(
    console_browser: Browser, simulated: Simulated, lang: str
) -> None:
    page = new_page(console_browser, lang)
    errors = watch(page)
    sign_in(page, simulated.base, "strategist")
    page.goto(f"{simulated.base}/console/dashboard?days=7&lang={lang}")
    assert page.evaluate("typeof window.Chart") == "function", "Chart.js did not load"
    for name in ("cure", "contacts", "curves"):
        canvas = page.locator(f"#chart-{name}")
        box = canvas.bounding_box()
        assert box is not None, name
        assert box["width"] > 100, name
        assert box["height"] > 100, name
        drawn = page.evaluate(f"!!window.Chart.getChart(document.getElementById('chart-{name}'))")
        assert drawn, f"no chart drawn on #chart-{name}"
    # The figures are also in the tables under the charts: a simulated portfolio has contacts.
    assert page.locator("#contacts tbody tr").count() >= 1
    assert page.locator("ul.kpis li.kpi").count() >= 8
    shot(page, f"manager-dashboard-{lang}")
    assert not errors, errors
    tablet = new_page(console_browser, lang, TABLET)
    sign_in(tablet, simulated.base, "strategist")
    tablet.goto(f"{simulated.base}/console/dashboard?days=30&lang={lang}")
    shot(tablet, f"manager-dashboard-tablet-{lang}")  # no sideways scroll at 820 px either


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_template_desk_shows_the_guards_verdict_as_one_types(
    console_browser: Browser, simulated: Simulated, lang: str
) -> None:
    page = new_page(console_browser, lang)
    errors = watch(page)
    sign_in(page, simulated.base, "strategist")
    page.goto(f"{simulated.base}/console/templates/new?lang={lang}")
    page.fill("input[name=name]", "early_reminder")
    page.select_option("select[name=language]", "en")
    page.fill("textarea[name=body]", GOOD)
    expect(page.locator("#verdicts tr.allowed")).to_have_count(4)  # CN, US, US-NY-NYC, GB
    page.locator("textarea[name=body]").press_sequentially(" We know where you live.", delay=5)
    page.wait_for_selector("#verdicts tr.refused[data-jurisdiction='CN']")
    assert "/console/templates/new" in page.url, "htmx checked in place"
    page.fill("input[name=account_id]", "1")
    page.click("fieldset.preview-box button")
    page.wait_for_selector("#preview .message-text")
    shot(page, f"manager-templates-{lang}")
    assert not errors, errors

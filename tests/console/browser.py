"""Driving the console in Debian's Chromium (Playwright): a browser per module, signing in, and
screenshots kept in `test-artifacts/screenshots/console/` (RECOUP_TEST_ARTIFACTS moves them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browsers import chromium
from tests.console.conftest import PASSWORD

DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}
ARTIFACTS = (
    Path(os.environ.get("RECOUP_TEST_ARTIFACTS", "test-artifacts")) / "screenshots" / "console"
)


@pytest.fixture(scope="module")
def console_browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def new_page(browser: Browser, lang: str = "en", viewport: dict[str, int] = DESKTOP) -> Page:
    context = browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        locale=lang,
        extra_http_headers={"Accept-Language": lang},
    )
    return context.new_page()


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/console")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/console/sign-in'] button[type=submit]")
    page.wait_for_url(f"{base}/console**")
    assert "/console/sign-in" not in page.url, "sign-in failed"


def shot(page: Page, name: str) -> None:
    """A full-page screenshot, and the page fits its width (no horizontal scroll)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size or DESKTOP
    assert width <= viewport["width"], (
        f"{name} scrolls sideways ({width}px > {viewport['width']}px)"
    )

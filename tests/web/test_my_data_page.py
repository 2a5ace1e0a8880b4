"""The portal's "my data" page as the debtor reads it: the messages we sent, with their links, fit
a phone's width, every time on the page is the debtor's own clock, and who looked at the data and
why reads in the page's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from sqlalchemy.orm import Session, sessionmaker

from recoup.audit import service as audit_service
from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.ledger import service as ledger_service
from recoup.ledger.schemas import RevealField, RevealRequest
from recoup.models import Account
from tests.browsers import chromium
from tests.contact.test_dispatch import AS_OF, dispatcher, drain, spool
from tests.contact.test_replies import add_contact
from tests.factories import shanghai
from tests.web.test_portal import late, link
from tests.web.test_selfservice import csrf, verify

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def sent_sms_at_seven_pm(
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    settings: Settings,
    tmp_path: Path,
) -> Account:
    """A debtor in Shanghai sent one SMS, with its pay link, at 19:00 their time (11:00 UTC)."""
    account = late(session, clock, "王芳", 50_000)
    clock.set(shanghai(AS_OF, 19))
    add_contact(session, clock, account, channel="sms", treatment="early_sms")
    base = settings.public_url.rstrip("/")
    assert drain(dispatcher(sessions, clock, spool(tmp_path), public_url=base)) == {"sent": 1}
    return account


def my_data(
    anonymous: TestClient, session: Session, settings: Settings, path: str, lang: str
) -> str:
    verify(anonymous, session, settings, path, csrf(anonymous.get(f"{path}/verify").text))
    page = anonymous.get(f"{path}/data?lang={lang}")
    assert page.status_code == 200, page.text
    return page.text


class TestMyDataOnAPhone:
    def test_a_sent_message_with_its_link_fits_a_phone(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        tmp_path: Path,
        browser: Browser,
    ) -> None:
        # Catches the removal of `overflow-wrap: anywhere` from `.message p` in portal.css: the
        # SMS's pay link is one unbroken word of ~150 characters, and the page scrolled sideways
        # (1,005 px wide on a 390 px phone in the demo).
        account = sent_sms_at_seven_pm(session, sessions, clock, settings, tmp_path)
        path = link(settings, account, clock)
        html = my_data(anonymous, session, settings, path, "en")
        assert "/p/" in html.split('id="sent"', 1)[1]  # the message and its link are on the page
        css = anonymous.get("/static/portal.css")
        assert css.status_code == 200
        context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
        page = context.new_page()
        page.set_content(html.replace('<link rel="stylesheet" href="/static/portal.css">', ""))
        page.add_style_tag(content=css.text)
        width = page.evaluate("document.documentElement.scrollWidth")
        context.close()
        assert width <= PHONE["width"], f"my data scrolls sideways on a phone ({width}px)"


class TestMyDataTimes:
    def test_a_message_sent_at_seven_pm_in_shanghai_reads_seven_pm(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        tmp_path: Path,
    ) -> None:
        # Catches the page printing the stored UTC time (`m.at[:16]`, "2026-06-20 11:00"): to a
        # debtor in Shanghai a reminder at 11:00 UTC reads as one at 11:00, and one sent at 10:00
        # their time read as 02:00, in the night.
        account = sent_sms_at_seven_pm(session, sessions, clock, settings, tmp_path)
        path = link(settings, account, clock)
        chinese = my_data(anonymous, session, settings, path, "zh-CN").split('id="sent"', 1)[1]
        assert "2026年6月20日 19:00" in chinese
        assert "11:00" not in chinese
        english = anonymous.get(f"{path}/data?lang=en").text.split('id="sent"', 1)[1]
        assert "Jun 20, 2026 7:00" in english
        assert "11:00" not in english
        assert "2026-06-20" not in english


class TestWhoViewedMyData:
    def test_who_looked_and_why_read_in_the_pages_language(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        # Catches the page printing the log's raw actor and reason ("staff:chen.gang", "console:
        # account 360 (masked)", "the customer read their own data in the portal"): English
        # jargon on a Chinese page. A reveal's reason is the agent's own words and stays as typed.
        account = late(session, clock, "王芳", 50_000)
        audit_service.log_access(
            session,
            customer_id=account.customer_id,
            actor="staff:chen.gang",
            kind="view",
            fields=[],
            reason="console: account 360 (masked)",
            clock=clock,
        )
        ledger_service.reveal(
            session,
            account.customer_id,
            RevealRequest(fields=[RevealField.phones], reason="客户要求换号码回电"),
            actor="staff:chen.gang",
            clock=clock,
        )
        session.commit()
        path = link(settings, account, clock)
        my_data(anonymous, session, settings, path, "zh-CN")  # this first read is logged too
        chinese = anonymous.get(f"{path}/data").text.split('id="access"', 1)[1]
        chinese = chinese.split('id="sent"', 1)[0]
        assert "工作人员 chen.gang" in chinese
        assert "查看了您的账户记录" in chinese
        assert "查看了完整信息：电话。原因：客户要求换号码回电" in chinese
        assert "您本人" in chinese
        assert "您查看了自己的数据" in chinese
        for raw in ("staff:", "console:", "the customer read", ">customer<"):
            assert raw not in chinese
        english = anonymous.get(f"{path}/data?lang=en").text.split('id="access"', 1)[1]
        assert "Saw in full: Phones. Reason given: 客户要求换号码回电" in english
        assert "You read your own data" in english

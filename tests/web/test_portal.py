"""The pay link's portal: balances and bills in the debtor's language, only the linked
customer's, and nothing at all for a link that is forged, expired or withdrawn."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from recoup.arrangements import service as arrangement_service
from recoup.arrangements.links import pay_link
from recoup.config import Settings
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.models import Account
from tests.contact.test_dispatch import AS_OF, dispatcher, drain, spool
from tests.contact.test_replies import add_contact
from tests.factories import add_bill, create_account, create_customer, shanghai
from tests.test_serve import free_port


def late(session: Session, clock: SettableClock, name: str, amount: int) -> Account:
    clock.set(shanghai(AS_OF, 10))
    customer = create_customer(session, clock, name=name)
    account = create_account(session, clock, customer=customer)
    add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), amount)
    add_bill(session, clock, account, AS_OF + dt.timedelta(days=20), amount)
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    session.commit()
    return account


def link(
    settings: Settings, account: Account, clock: SettableClock, contact: int | None = None
) -> str:
    url = pay_link(
        settings.public_url,
        settings.link_signing_keys[0],
        customer_id=account.customer_id,
        contact_id=contact,
        now=clock.now(),
    )
    return url.removeprefix(settings.public_url.rstrip("/"))


class TestPortal:
    def test_the_debtor_sees_balance_and_bills_in_their_language(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late(session, clock, "王芳", 50_000)
        page = anonymous.get(link(settings, account, clock))
        assert page.status_code == 200
        assert "王*，您好" in page.text
        assert "王芳" not in page.text
        assert "待还总额" in page.text
        assert "¥1,000.00" in page.text  # both bills
        assert "¥500.00" in page.text  # overdue
        assert "逾期 10 天" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "script-src" not in page.headers["content-security-policy"]

    def test_the_language_switch(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late(session, clock, "王芳", 50_000)
        path = link(settings, account, clock)
        english = anonymous.get(path, params={"lang": "en"})
        assert "Total to pay" in english.text
        assert 'lang="en"' in english.text
        traditional = anonymous.get(path, params={"lang": "zh-TW"})
        assert "待付總額" in traditional.text
        assert 'href="?lang=zh-CN"' in traditional.text
        unknown = anonymous.get(path, params={"lang": "xx"})
        assert "待还总额" in unknown.text  # the debtor's own language

    def test_a_link_shows_only_its_own_customer(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        mine = late(session, clock, "王芳", 50_000)
        theirs = late(session, clock, "赵磊", 73_300)
        page = anonymous.get(link(settings, mine, clock))
        assert mine.external_ref in page.text
        assert theirs.external_ref not in page.text
        assert "¥733.00" not in page.text

    def test_forged_expired_and_withdrawn_links_show_nothing(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
    ) -> None:
        account = late(session, clock, "王芳", 50_000)
        path = link(settings, account, clock)
        body, _, tag = path.removeprefix("/p/").partition(".")
        forged = anonymous.get(f"/p/{body}.{tag[::-1]}")
        assert forged.status_code == 410
        assert account.external_ref not in forged.text
        other = Settings(env="test", link_keys=["another deployment's key"])
        foreign = link(other, account, clock)
        assert anonymous.get(foreign).status_code == 410

        # Two messages the customer was sent, each with its own link (a revocation names a
        # contact of the customer's own: tests/security checks another's is refused).
        first = add_contact(session, clock, account, channel="sms", treatment="sms_reminder").id
        second = add_contact(session, clock, account, channel="email", treatment="email").id
        one = link(settings, account, clock, contact=first)
        two = link(settings, account, clock, contact=second)
        with sessions() as s:
            arrangement_service.revoke(
                s,
                account.customer_id,
                contact_id=first,
                actor="agent:1",
                reason="sent to a wrong number",
                clock=clock,
            )
            s.commit()
        assert anonymous.get(one).status_code == 410
        assert anonymous.get(two).status_code == 200

        clock.set(clock.now() + dt.timedelta(seconds=1))
        with sessions() as s:
            arrangement_service.revoke(
                s,
                account.customer_id,
                contact_id=None,
                actor="agent:1",
                reason="phone lost",
                clock=clock,
            )
            s.commit()
        assert anonymous.get(two).status_code == 410
        clock.set(clock.now() + dt.timedelta(seconds=1))
        assert anonymous.get(link(settings, account, clock)).status_code == 200  # issued after

        clock.set(clock.now() + dt.timedelta(days=15))
        expired = anonymous.get(path)
        assert expired.status_code == 410
        assert "链接已失效" in expired.text

    def test_the_link_in_a_sent_message_opens_the_portal(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        tmp_path: Path,
    ) -> None:
        account = late(session, clock, "王芳", 50_000)
        clock.set(shanghai(AS_OF, 19))
        add_contact(session, clock, account, channel="sms", treatment="early_sms")
        base = settings.public_url.rstrip("/")
        assert drain(dispatcher(sessions, clock, spool(tmp_path), public_url=base)) == {"sent": 1}
        [sent] = [
            json.loads(p.read_text(encoding="utf-8"))
            for p in (tmp_path / "spool").glob("sms/*.json")
        ]
        found = re.search(re.escape(base) + r"(/p/[A-Za-z0-9_.-]+)", sent["body"])
        assert found is not None
        page = anonymous.get(found.group(1))
        assert page.status_code == 200
        assert account.external_ref in page.text


class TestWalletDown:
    @pytest.mark.parametrize(
        ("lang", "said"),
        [
            ("zh-CN", "无法发起还款：钱包暂时没有响应，请稍后再试"),
            ("en", "The payment could not start: the wallet is not answering right now"),
        ],
    )
    def test_a_wallet_that_does_not_answer_is_said_in_the_debtors_words(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        lang: str,
        said: str,
    ) -> None:
        """Removal caught: the page printing the service's message, "the wallet did not take the
        payment: wallet-payments: connection failed (ConnectError)", in English and in the
        provider's terms, on the debtor's Chinese page."""
        settings.wallet_payments_url = f"http://127.0.0.1:{free_port()}"  # nobody listens
        settings.wallet_api_secrets = [SecretStr("wallet-api-secret")]
        account = late(session, clock, "王芳", 50_000)
        path = link(settings, account, clock)
        page = anonymous.get(f"{path}?lang={lang}")
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert found is not None
        form = {"csrf": found.group(1), "account": account.external_ref, "amount": "100"}
        refused = anonymous.post(
            f"{path}/pay?lang={lang}",
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert refused.status_code == 502
        assert said in refused.text
        assert "ConnectError" not in refused.text
        assert "wallet-payments" not in refused.text

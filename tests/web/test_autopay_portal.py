"""The portal's autopay page over the app (a local wallet behind it): after the one-time code,
turning autopay on sends the debtor to the wallet and back; turning it off cancels it at the
wallet; every form needs the link's CSRF field; another customer's link can neither see nor
cancel the mandate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.models import Account, AutopayMandate
from tests.arrangements.test_flows import DAY0, on
from tests.autopay.wallet import SECRET, FakeWallet
from tests.conftest import MASTER, WEBHOOK_SECRET
from tests.factories import add_bill, create_account, create_customer
from tests.web.test_portal import link
from tests.web.test_selfservice import csrf, verify

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def fake_wallet() -> Iterator[FakeWallet]:
    with FakeWallet() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, fake_wallet: FakeWallet) -> Settings:
    return Settings(
        env="test",
        database_url="sqlite://",
        encryption_keys=MASTER.to_json(),
        wallet_webhook_secrets=[WEBHOOK_SECRET],
        wallet_payments_url=fake_wallet.url,
        wallet_api_secrets=[SECRET],
    )


def debtor(session: Session, clock: SettableClock, name: str = "王芳") -> Account:
    on(clock, DAY0)
    customer = create_customer(session, clock, name=name)
    account = create_account(session, clock, customer=customer)
    add_bill(session, clock, account, DAY0.replace(day=30), 28_000)
    session.commit()
    return account


def post(client: TestClient, path: str, data: dict[str, str]) -> object:
    return client.post(path, content=urlencode(data), headers=FORM, follow_redirects=False)


def signed_in(client: TestClient, session: Session, settings: Settings, path: str) -> str:
    token_csrf = csrf(client.get(path).text)
    verify(client, session, settings, path, token_csrf)
    return token_csrf


def mandate_of(session: Session, account: Account) -> AutopayMandate:
    session.expire_all()
    return session.scalars(
        select(AutopayMandate).where(AutopayMandate.account_id == account.id)
    ).one()


class TestAutopayPage:
    def test_the_page_asks_for_the_code_first(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        path = link(settings, debtor(session, clock), clock)
        page = anonymous.get(f"{path}/autopay", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == f"{path}/verify?next=/autopay"
        assert "自动还款" in anonymous.get(path).text  # the overview links to it

    def test_on_through_the_wallet_then_off(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        fake_wallet: FakeWallet,
    ) -> None:
        account = debtor(session, clock)
        path = link(settings, account, clock)
        token_csrf = signed_in(anonymous, session, settings, path)
        page = anonymous.get(f"{path}/autopay")
        assert page.status_code == 200
        assert "未开通" in page.text
        started = post(
            anonymous, f"{path}/autopay", {"csrf": token_csrf, "account": account.external_ref}
        )
        assert started.status_code == 303  # type: ignore[attr-defined]
        assert started.headers["location"] == f"{fake_wallet.url}/approve"  # type: ignore[attr-defined]
        mandate = mandate_of(session, account)
        assert mandate.state == "pending"
        assert mandate.wallet_ref is not None
        fake_wallet.approve(mandate.wallet_ref)
        back = anonymous.get(f"{path}/autopay")  # where the wallet sends the debtor back
        assert "自动还款已开通" in back.text
        assert "已开通" in back.text
        assert mandate_of(session, account).state == "active"
        off = post(
            anonymous, f"{path}/autopay/cancel", {"csrf": token_csrf, "mandate": str(mandate.id)}
        )
        assert off.status_code == 303  # type: ignore[attr-defined]
        assert "自动还款已关闭" in anonymous.get(off.headers["location"]).text  # type: ignore[attr-defined]
        assert mandate_of(session, account).state == "cancelled"
        assert fake_wallet.mandates[mandate.wallet_ref]["status"] == "cancelled"

    def test_in_each_language(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        path = link(settings, debtor(session, clock), clock)
        signed_in(anonymous, session, settings, path)
        for lang, words in (
            ("zh-CN", "开通自动还款"),
            ("zh-TW", "設定自動扣繳"),
            ("en", "Turn on autopay"),
        ):
            assert words in anonymous.get(f"{path}/autopay?lang={lang}").text

    def test_forms_without_the_links_csrf_field_change_nothing(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        fake_wallet: FakeWallet,
    ) -> None:
        account = debtor(session, clock)
        path = link(settings, account, clock)
        signed_in(anonymous, session, settings, path)
        forged = post(
            anonymous, f"{path}/autopay", {"csrf": "0" * 32, "account": account.external_ref}
        )
        assert forged.status_code == 403  # type: ignore[attr-defined]
        assert fake_wallet.requests == []

    def test_another_customers_link_cannot_see_or_cancel_the_mandate(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        fake_wallet: FakeWallet,
    ) -> None:
        owner = debtor(session, clock)
        path = link(settings, owner, clock)
        token_csrf = signed_in(anonymous, session, settings, path)
        post(anonymous, f"{path}/autopay", {"csrf": token_csrf, "account": owner.external_ref})
        mandate = mandate_of(session, owner)
        assert mandate.wallet_ref is not None
        fake_wallet.approve(mandate.wallet_ref)
        anonymous.cookies.clear()
        stranger = debtor(session, clock, name="张伟")
        other = link(settings, stranger, clock)
        other_csrf = signed_in(anonymous, session, settings, other)
        page = anonymous.get(f"{other}/autopay")
        assert owner.external_ref not in page.text
        refused = post(
            anonymous, f"{other}/autopay/cancel", {"csrf": other_csrf, "mandate": str(mandate.id)}
        )
        assert refused.status_code == 404  # type: ignore[attr-defined]
        someone_elses = post(
            anonymous, f"{other}/autopay", {"csrf": other_csrf, "account": owner.external_ref}
        )
        assert someone_elses.status_code == 404  # type: ignore[attr-defined]
        assert (
            mandate_of(session, owner).state == "pending"
        )  # untouched: approved, not yet read back
        assert fake_wallet.requests_to("/mandates/cancel") == []

    @pytest.mark.parametrize("mandate", ["", "abc", "9" * 40, "-1"])
    def test_a_bad_mandate_field_is_a_4xx_page(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        mandate: str,
    ) -> None:
        path = link(settings, debtor(session, clock), clock)
        token_csrf = signed_in(anonymous, session, settings, path)
        answer = post(anonymous, f"{path}/autopay/cancel", {"csrf": token_csrf, "mandate": mandate})
        assert 400 <= answer.status_code < 500  # type: ignore[attr-defined]
        assert re.search("无法完成", answer.text)  # type: ignore[attr-defined]

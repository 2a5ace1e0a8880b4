"""What the debtor reads speaks the debtor's money, creditor and country: amount labels carry the
currency's symbol as the amounts beside them do, never an ISO code."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.models import Account
from tests.arrangements.test_flows import DAY0, activate, on
from tests.factories import add_bill, create_account, create_customer
from tests.web.test_portal import link


def late_in(
    session: Session, clock: SettableClock, *, currency: str, jurisdiction: str = "CN"
) -> Account:
    """A debtor of `jurisdiction` owing in `currency`, a bill 10 days late, with the arrangements
    the test policy offers."""
    on(clock, DAY0)
    customer = create_customer(session, clock, jurisdiction=jurisdiction, name="王芳")
    account = create_account(session, clock, customer=customer, currency=currency)
    add_bill(session, clock, account, DAY0.replace(day=10), 28_000, interest=2_000)
    add_bill(session, clock, account, DAY0.replace(day=30), 28_000, interest=2_000)
    activate(session, clock)
    delinquency_service.run_daily(session, DAY0, clock=clock)
    session.commit()
    return account


def labels(html: str) -> list[str]:
    return re.findall(r"<label for=\"[^\"]+\">([^<]*)</label>", html)


class TestAmountLabelsShowTheSymbol:
    @pytest.mark.parametrize(
        ("currency", "language", "pay"),
        [
            ("CNY", "zh-CN", "还款金额（¥）"),
            ("CNY", "zh-TW", "付款金額（CN¥）"),  # Babel's zh_TW: ¥ alone would read as the yen
            ("CNY", "en", "Amount to pay (CN¥)"),  # as the page's amounts: CN¥300.00
            ("EUR", "zh-CN", "还款金额（€）"),
            ("EUR", "en", "Amount to pay (€)"),
            ("USD", "en", "Amount to pay ($)"),
            ("USD", "zh-CN", "还款金额（US$）"),
        ],
    )
    def test_the_pay_now_label_carries_the_symbol_of_the_amounts_beside_it(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        currency: str,
        language: str,
        pay: str,
    ) -> None:
        """Catches `symbol` dropped from `web.portal.page` (the label reads 还款金额（CNY）)."""
        account = late_in(session, clock, currency=currency)
        page = anonymous.get(link(settings, account, clock), params={"lang": language})
        assert page.status_code == 200
        assert pay in labels(page.text)
        assert f"（{currency}）" not in page.text
        assert f"({currency}" not in page.text
        owed = re.search(r'<dd class="big">([^<]+)</dd>', page.text)
        assert owed is not None
        symbol = re.split(r"[（(]", pay)[1].rstrip("）)")
        assert symbol in owed.group(1)  # the label and the amount show the currency alike

    @pytest.mark.parametrize(
        ("language", "expected"),
        [
            ("zh-CN", {"promise": ["金额（€）"], "plan": ["每月能还（€）", "或：每月收入（€）"]}),
            (
                "en",
                {
                    "promise": ["Amount (€)"],
                    "plan": ["I can pay each month (€)", "or: my monthly income (€)"],
                },
            ),
        ],
    )
    def test_the_arrangement_forms_label_amounts_with_the_symbol(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        language: str,
        expected: dict[str, list[str]],
    ) -> None:
        account = late_in(session, clock, currency="EUR", jurisdiction="IE")
        path = link(settings, account, clock)
        for kind, wanted in expected.items():
            page = anonymous.get(
                f"{path}/a/{account.external_ref}/{kind}", params={"lang": language}
            )
            assert page.status_code == 200, page.text
            for label in wanted:
                assert label in labels(page.text)
            assert "EUR" not in page.text

    def test_every_currency_a_template_fills_goes_through_the_symbol(self) -> None:
        """The one place: a template filling `{currency}` with the account's code directly
        (`currency=pos.currency`) would show the ISO code again."""
        folder = resources.files("recoup.web") / "templates"
        fills = [
            (entry.name, found)
            for entry in folder.iterdir()
            if entry.name.endswith(".html")
            for found in re.findall(r"currency=([^,)]+\)?)", entry.read_text("utf-8"))
        ]
        assert fills, "no template fills {currency}: this test no longer guards anything"
        assert all(value.startswith("symbol(") for _, value in fills), fills

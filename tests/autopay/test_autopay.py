"""Autopay: the mandate's life at the wallet, the daily run's collections (idempotent on rerun,
retried within the policy's limits, a failure re-entering the strategy), the facts the policy
reads, and scope (a customer's mandates are theirs alone)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.autopay import flows as autopay_flows
from recoup.autopay import service as autopay_service
from recoup.channels.wallet import WalletPaymentsAdapter
from recoup.daily import flows as daily_flows
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.errors import NotFound
from recoup.models import (
    Account,
    AuditEvent,
    AutopayCollection,
    AutopayMandate,
    Bill,
    Payment,
    StrategyDecision,
)
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import PolicyError, parse_policy
from tests.api.test_ingest_api import signed
from tests.autopay.wallet import SECRET, FakeWallet
from tests.channels.providers import Response
from tests.factories import add_bill, create_account, shanghai

DAY = dt.date(2026, 7, 10)
ONE = dt.timedelta(days=1)
POLICY = """
policy: autopay-test
version: "1"
segments:
  - {name: everyone, when: "true"}
autopay: {retries: RETRIES, every_days: 2}
stages:
  - name: pre_due
    days_to_due: [0, 3]
    when: dpd == 0
    treatments:
      - {id: autopay_failed_push, channel: push, template: pre_due_reminder, tone: gentle,
         when: "autopay_failed_days == 0", priority: 20}
      - {id: pre_due_sms, channel: sms, template: pre_due_reminder, tone: gentle,
         when: "days_to_due == 1 and not autopay", priority: 10}
  - name: late
    dpd: [1, 999]
    treatments:
      - {id: late_sms, channel: sms, template: early_reminder, tone: gentle}
"""


@pytest.fixture
def wallet() -> Iterator[tuple[FakeWallet, WalletPaymentsAdapter]]:
    with FakeWallet() as fake:
        adapter = WalletPaymentsAdapter(url=fake.url, secret=SECRET)
        try:
            yield fake, adapter
        finally:
            adapter.close()


def activate(session: Session, clock: SettableClock, retries: int = 2) -> None:
    text = POLICY.replace("RETRIES", str(retries))
    version = strategy_service.save_policy(session, text, author="lin", clock=clock, source="test")
    strategy_service.activate(session, version.id, actor="lin", clock=clock)


def on(clock: SettableClock, day: dt.date, hour: int = 6) -> dt.date:
    clock.set(shanghai(day, hour))
    return day


def with_mandate(
    session: Session,
    clock: SettableClock,
    wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    *,
    amount: int = 30_000,
    retries: int = 2,
) -> tuple[Account, Bill, AutopayMandate]:
    """An account with a bill of `amount` due on DAY and an active mandate set up the day before."""
    fake, adapter = wallet
    on(clock, DAY - ONE, 12)
    account = create_account(session, clock)
    bill = add_bill(session, clock, account, DAY, amount)
    activate(session, clock, retries)
    mandate = autopay_service.start(
        session,
        account.customer_id,
        account.external_ref,
        wallet=adapter,
        return_url="https://recoup.test/p/x/autopay",
        by="debtor",
        clock=clock,
    )
    assert mandate.wallet_ref is not None
    fake.approve(mandate.wallet_ref)
    autopay_service.refresh(session, mandate, wallet=adapter, clock=clock)
    assert mandate.state == "active"
    return account, bill, mandate


def collect(
    session: Session, clock: SettableClock, adapter: WalletPaymentsAdapter, day: dt.date
) -> autopay_flows.CollectionRun:
    on(clock, day)
    return autopay_flows.collect_day(session, day, wallet=adapter, clock=clock)


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestMandateLifecycle:
    def test_a_mandate_is_pending_until_approved_at_the_wallet_then_cancelled_there_first(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        fake, adapter = wallet
        on(clock, DAY)
        account = create_account(session, clock)
        mandate = autopay_service.start(
            session,
            account.customer_id,
            account.external_ref,
            wallet=adapter,
            return_url="https://recoup.test/back",
            by="debtor",
            clock=clock,
        )
        assert (mandate.state, mandate.redirect_url) == ("pending", f"{fake.url}/approve")
        assert fake.requests_to("/mandates")[0].headers["idempotency-key"] == (
            f"recoup-mandate-{mandate.id}"
        )
        # Asked again before approving: the same mandate, to the wallet's page again.
        again = autopay_service.start(
            session,
            account.customer_id,
            account.external_ref,
            wallet=adapter,
            return_url="https://recoup.test/back",
            by="debtor",
            clock=clock,
        )
        assert again.id == mandate.id
        assert mandate.wallet_ref is not None
        fake.approve(mandate.wallet_ref)
        autopay_service.refresh(session, mandate, wallet=adapter, clock=clock)
        assert mandate.state == "active"
        assert mandate.activated_at == clock.now()
        with pytest.raises(autopay_service.MandateExists):
            autopay_service.start(
                session,
                account.customer_id,
                account.external_ref,
                wallet=adapter,
                return_url="https://recoup.test/back",
                by="debtor",
                clock=clock,
            )
        autopay_service.cancel(
            session, account.customer_id, mandate.id, wallet=adapter, by="debtor", clock=clock
        )
        assert fake.mandates[mandate.wallet_ref]["status"] == "cancelled"
        assert (mandate.state, mandate.cancelled_by) == ("cancelled", "debtor")
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("autopay.%"))
            .order_by(AuditEvent.seq)
        ).all()
        assert actions == [
            "autopay.mandate_requested",
            "autopay.mandate_active",
            "autopay.mandate_cancelled",
        ]

    def test_a_cancellation_the_wallet_does_not_take_is_refused_not_shown_as_done(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        fake, adapter = wallet
        account, _, mandate = with_mandate(session, clock, wallet)
        fake.script(Response(503, {"error": "busy"}), path="/mandates/cancel")
        with pytest.raises(autopay_service.AutopayWalletUnavailable):
            autopay_service.cancel(
                session, account.customer_id, mandate.id, wallet=adapter, by="debtor", clock=clock
            )
        assert mandate.state == "active"


class TestScope:
    def test_another_customers_mandate_and_account_answer_as_missing(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        fake, adapter = wallet
        account, _, mandate = with_mandate(session, clock, wallet)
        stranger = create_account(session, clock)
        with pytest.raises(NotFound):
            autopay_service.cancel(
                session, stranger.customer_id, mandate.id, wallet=adapter, by="x", clock=clock
            )
        with pytest.raises(NotFound):
            autopay_service.start(
                session,
                stranger.customer_id,
                account.external_ref,
                wallet=adapter,
                return_url="https://recoup.test/back",
                by="x",
                clock=clock,
            )
        assert mandate.state == "active"
        assert fake.requests_to("/mandates/cancel") == []
        assert autopay_service.mandates_of(session, stranger.customer_id) == []


class TestCollection:
    def test_the_bill_due_is_collected_on_its_day_through_the_ledger(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        fake, adapter = wallet
        account, bill, mandate = with_mandate(session, clock, wallet)
        assert collect(session, clock, adapter, DAY - ONE).asked == 0  # not due yet
        run = collect(session, clock, adapter, DAY)
        assert (run.asked, run.succeeded) == (1, 1)
        (asked,) = fake.collections()
        assert asked.json()["amount_minor"] == 30_000
        assert asked.headers["idempotency-key"] == f"recoup-autopay-{mandate.id}-{bill.id}-1"
        payment = session.scalars(select(Payment).where(Payment.account_id == account.id)).one()
        assert payment.amount_minor == 30_000
        session.refresh(bill)
        assert bill.paid_minor == 30_000
        row = session.scalars(select(AutopayCollection)).one()
        assert (row.status, row.payment_id) == ("succeeded", payment.id)

    def test_a_rerun_of_the_day_asks_the_wallet_nothing_twice(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        """Catches a step that asks before claiming its (mandate, bill, attempt) row: with the
        filter on bills already tried (`repository.due_bills`) and the row's unique constraint
        both gone, the rerun asks the wallet again for the bill it could not collect."""
        fake, adapter = wallet
        account, _, _ = with_mandate(session, clock, wallet)
        fake.balance[account.external_ref] = 100  # short: the bill stays unpaid
        assert collect(session, clock, adapter, DAY).failed == 1
        again = collect(session, clock, adapter, DAY)
        assert again.asked == 0
        assert len(fake.collections()) == 1
        assert count(session, AutopayCollection) == 1

    def test_an_unanswered_request_is_asked_again_with_the_same_key_and_collected_once(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        """Catches a new key per try (the wallet could not tell the second ask from a new
        collection): the lost answer's request and its retry carry one key."""
        fake, adapter = wallet
        with_mandate(session, clock, wallet)
        fake.script(Response(503, {"error": "try later"}), path="/mandates/collect")
        first = collect(session, clock, adapter, DAY)
        assert (first.asked, first.unanswered) == (1, 1)
        assert session.scalars(select(AutopayCollection.status)).one() == "requested"
        second = collect(session, clock, adapter, DAY + ONE)
        assert second.succeeded == 1
        keys = {r.headers["idempotency-key"] for r in fake.collections()}
        assert len(fake.collections()) == 2
        assert len(keys) == 1
        assert count(session, Payment) == 1

    def test_a_failed_collection_is_retried_within_the_policys_limits(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        """`autopay: {retries: 2, every_days: 2}`: the due day, then two days later, then two
        more, and never again."""
        fake, adapter = wallet
        account, bill, mandate = with_mandate(session, clock, wallet, retries=2)
        fake.balance[account.external_ref] = 0
        asked = [collect(session, clock, adapter, DAY + n * ONE).asked for n in range(8)]
        assert asked == [1, 0, 1, 0, 1, 0, 0, 0]
        attempts = session.scalars(
            select(AutopayCollection.attempt).order_by(AutopayCollection.id)
        ).all()
        assert attempts == [1, 2, 3]
        keys = [r.headers["idempotency-key"] for r in fake.collections()]
        assert keys == [f"recoup-autopay-{mandate.id}-{bill.id}-{n}" for n in (1, 2, 3)]

    def test_a_retry_collects_once_the_balance_is_back(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        fake, adapter = wallet
        account, bill, _ = with_mandate(session, clock, wallet, retries=1)
        fake.balance[account.external_ref] = 0
        assert collect(session, clock, adapter, DAY).failed == 1
        fake.balance[account.external_ref] = 50_000
        assert collect(session, clock, adapter, DAY + 2 * ONE).succeeded == 1
        session.refresh(bill)
        assert bill.paid_off_date is not None

    def test_a_cancelled_mandate_collects_nothing(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        fake, adapter = wallet
        account, _, mandate = with_mandate(session, clock, wallet)
        autopay_service.cancel(
            session, account.customer_id, mandate.id, wallet=adapter, by="debtor", clock=clock
        )
        assert collect(session, clock, adapter, DAY).asked == 0
        assert fake.collections() == []


class TestStrategy:
    def decided(self, session: Session, account: Account, day: dt.date) -> str | None:
        row = session.scalars(
            select(StrategyDecision).where(
                StrategyDecision.account_id == account.id, StrategyDecision.as_of_date == day
            )
        ).first()
        return None if row is None else row.treatment

    def run_day(
        self, session: Session, clock: SettableClock, adapter: WalletPaymentsAdapter, day: dt.date
    ) -> daily_flows.DayRun:
        on(clock, day)
        return daily_flows.run_day(
            session, day, clock=clock, zone="Asia/Shanghai", actor="test", wallet=adapter
        )

    def test_a_failed_collection_re_enters_the_strategy_on_the_day(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        fake, adapter = wallet
        account, _, _ = with_mandate(session, clock, wallet)
        fake.balance[account.external_ref] = 0
        delinquency_service.run_daily(session, DAY - ONE, clock=clock)
        ran = self.run_day(session, clock, adapter, DAY)
        assert ran.autopay is not None
        assert ran.autopay.failed == 1
        assert self.decided(session, account, DAY) == "autopay_failed_push"
        facts = strategy_service.facts(session, DAY, [account.id])
        assert facts.select("autopay", "autopay_failed_days").row(0) == (True, 0)

    def test_a_collected_bill_needs_no_reminder(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        _, adapter = wallet
        account, _, _ = with_mandate(session, clock, wallet)
        delinquency_service.run_daily(session, DAY - ONE, clock=clock)
        ran = self.run_day(session, clock, adapter, DAY)
        assert ran.autopay is not None
        assert ran.autopay.succeeded == 1
        assert self.decided(session, account, DAY) in (None, "")
        facts = strategy_service.facts(session, DAY, [account.id])
        assert facts.select("autopay", "autopay_failed_days").row(0) == (True, None)

    def test_the_autopay_fact_silences_the_reminder_the_day_before(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> None:
        _, adapter = wallet
        account, _, _ = with_mandate(session, clock, wallet)
        other = create_account(session, clock)
        add_bill(session, clock, other, DAY, 30_000)
        self.run_day(session, clock, adapter, DAY - ONE)
        assert self.decided(session, other, DAY - ONE) == "pre_due_sms"
        assert self.decided(session, account, DAY - ONE) in (None, "")


class TestPolicy:
    @pytest.mark.parametrize(
        ("section", "problem"),
        [
            ("{retries: 9}", "between 0 and 5"),
            ("{retries: -1}", "between 0 and 5"),
            ("{retries: two}", "whole number"),
            ("{every_days: 0}", "1 or more"),
            ("{every_days: 60}", "at most 30"),
            ("{retries: 1, often: 3}", "unknown key"),
        ],
    )
    def test_the_autopay_limits_are_validated(self, section: str, problem: str) -> None:
        text = POLICY.replace("{retries: RETRIES, every_days: 2}", section)
        with pytest.raises(PolicyError, match=problem):
            parse_policy(text, source="p.yaml")

    def test_a_policy_without_the_section_retries_nothing(self) -> None:
        text = POLICY.replace("autopay: {retries: RETRIES, every_days: 2}\n", "")
        rules = parse_policy(text, source="p.yaml").autopay
        assert (rules.retries, rules.every_days) == (0, 1)


class TestWebhook:
    """A collection the wallet answers `pending` is settled by its payment webhook naming it."""

    URL = "/v1/webhooks/wallet/payments"

    def pending(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
    ) -> tuple[Account, AutopayCollection]:
        fake, adapter = wallet
        account, _, _ = with_mandate(session, clock, wallet)
        fake.script(Response(200, {"id": "c-pending", "status": "pending"}), path="/collect")
        assert collect(session, clock, adapter, DAY).pending == 1
        row = session.scalars(select(AutopayCollection)).one()
        assert row.status == "pending"
        session.commit()
        return account, row

    def deliver(
        self, anonymous: TestClient, clock: SettableClock, event: dict[str, object]
    ) -> None:
        body = json.dumps(event).encode()
        answer = anonymous.post(
            self.URL, content=body, headers=signed(body, int(clock.now().timestamp()))
        )
        assert answer.status_code == 200, answer.text

    def test_the_webhook_confirms_a_pending_collection_once(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
        anonymous: TestClient,
    ) -> None:
        account, row = self.pending(session, clock, wallet)
        event = {
            "event_id": "evt-autopay-1",
            "type": "payment.succeeded",
            "intent_reference": row.reference,
            "payment": {
                "external_id": "c-pending",
                "account_ref": account.external_ref,
                "amount_minor": 30_000,
                "currency": "CNY",
                "received_at": clock.now().isoformat(),
            },
        }
        self.deliver(anonymous, clock, event)
        session.expire_all()
        done = session.get(AutopayCollection, row.id)
        assert done is not None
        assert done.status == "succeeded"
        payment = session.scalars(select(Payment).where(Payment.account_id == account.id)).one()
        assert done.payment_id == payment.id

    def test_a_declined_collection_fails_and_is_retried_later(
        self,
        session: Session,
        clock: SettableClock,
        wallet: tuple[FakeWallet, WalletPaymentsAdapter],
        anonymous: TestClient,
    ) -> None:
        _, row = self.pending(session, clock, wallet)
        event = {
            "event_id": "evt-autopay-2",
            "type": "payment.declined",
            "intent_reference": row.reference,
            "reason": "balance short",
        }
        self.deliver(anonymous, clock, event)
        session.expire_all()
        done = session.get(AutopayCollection, row.id)
        assert done is not None
        assert (done.status, done.reason) == ("failed", "balance short")
        _, adapter = wallet
        assert collect(session, clock, adapter, DAY + 2 * ONE).asked == 1  # attempt 2

"""Each arrangement's exact effect on the ledger, on days past due and on the strategy: promises kept
and broken, plans that pause the count or re-age the balance, extensions and settlements."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from recoup.arrangements import flows, offers, review
from recoup.arrangements.review import Review
from recoup.audit import service as audit_service
from recoup.daily import flows as daily_flows
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.errors import Conflict, Forbidden
from recoup.models import (
    Account,
    Allocation,
    Arrangement,
    AuditEvent,
    Bill,
    BillAdjustment,
    DelinquencyPause,
    StrategyDecision,
)
from recoup.strategy import service as strategy_service
from tests.factories import add_bill, create_account, pay, shanghai

DAY0 = dt.date(2026, 6, 20)
ONE_DAY = dt.timedelta(days=1)

POLICY = """
policy: arrangements-test
version: "1"
segments:
  - {name: everyone, when: "true"}
pauses:
  - {reason: plan_in_good_standing, when: plan_active}
  - {reason: promise_pending, when: promise_pending}
stages:
  - name: late
    dpd: [1, 999]
    treatments:
      - {id: late_sms, channel: sms, template: early_reminder, tone: gentle}
offers:
  - {kind: promise, when: "dpd >= 1", max_days: 7, grace_days: 1, min_share_bps: 2000}
  - {kind: extension, when: "dpd between 1 and 30", min_days: 7, max_days: 14, fee_bps: 100,
     grace_days: 1}
  - {kind: plan, when: "dpd >= 1", min_instalments: 2, max_instalments: 6, every_days: 30,
     min_instalment_minor: 5000, fee_bps: 200, grace_days: 3, reage: REAGE}
  - {kind: settlement, when: "dpd >= 1", min_share_bps: 6000, approval_below_bps: 8000,
     pay_within_days: 7}
"""


def activate(session: Session, clock: SettableClock, reage: str = "pause") -> None:
    version = strategy_service.save_policy(
        session, POLICY.replace("REAGE", reage), author="lin", clock=clock, source="test"
    )
    strategy_service.activate(session, version.id, actor="lin", clock=clock)


def on(clock: SettableClock, day: dt.date) -> dt.date:
    clock.set(shanghai(day, 18))
    return day


def late_account(
    session: Session, clock: SettableClock, *, reage: str = "pause", days_late: int = 10
) -> Account:
    """¥300 (interest ¥20, principal ¥280) due `days_late` days before DAY0, and ¥300 due in 20."""
    on(clock, DAY0)
    account = create_account(session, clock)
    add_bill(session, clock, account, DAY0 - dt.timedelta(days=days_late), 28_000, interest=2_000)
    add_bill(session, clock, account, DAY0 + dt.timedelta(days=20), 28_000, interest=2_000)
    activate(session, clock, reage)
    delinquency_service.run_daily(session, DAY0, clock=clock)
    return account


def daily(session: Session, clock: SettableClock, day: dt.date) -> Review:
    """The day's run, as `recoup run daily` does it."""
    on(clock, day)
    ran = daily_flows.run_day(session, day, clock=clock, zone="Asia/Shanghai", actor="test")
    assert ran.review is not None
    return ran.review


def state(session: Session, account: Account) -> tuple[int, int, int]:
    s = delinquency_service.get_state(session, account.id)
    assert s is not None
    return s.dpd, s.overdue_minor, s.outstanding_minor


def owed(session: Session, account: Account) -> int:
    bills = session.execute(select(Bill).where(Bill.account_id == account.id)).scalars().all()
    return sum(b.amount_due_minor - b.paid_minor for b in bills)


def decision(session: Session, account: Account) -> StrategyDecision:
    return (
        session.execute(
            select(StrategyDecision)
            .where(StrategyDecision.account_id == account.id)
            .order_by(StrategyDecision.as_of_date.desc())
        )
        .scalars()
        .first()
    )  # type: ignore[return-value]


def made(session: Session, account: Account) -> Arrangement:
    return session.execute(
        select(Arrangement).where(Arrangement.account_id == account.id)
    ).scalar_one()


class TestPromises:
    def test_a_promise_kept_pauses_reminders_and_leaves_the_ledger_alone(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        promise = flows.promise(
            session,
            account,
            amount_minor=10_000,
            on=DAY0 + 3 * ONE_DAY,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        assert decision(session, account).pause_reason == "promise_pending"
        on(clock, DAY0 + 2 * ONE_DAY)
        pay(session, clock, account, 6_000, shanghai(DAY0 + ONE_DAY))
        assert (promise.status, promise.paid_minor) == ("active", 6_000)  # not yet the amount
        pay(session, clock, account, 4_000, shanghai(DAY0 + 2 * ONE_DAY))
        assert (promise.status, promise.ended_on) == ("kept", DAY0 + 2 * ONE_DAY)
        assert decision(session, account).pause_reason is None
        assert owed(session, account) == 60_000 - 10_000
        assert session.scalar(select(func.count()).select_from(BillAdjustment)) == 0
        assert state(session, account)[0] == 12  # DPD went on counting

    def test_a_promise_broken_after_its_grace_counts_against_the_account(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        promise = flows.promise(
            session,
            account,
            amount_minor=10_000,
            on=DAY0 + 3 * ONE_DAY,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        on(clock, DAY0 + ONE_DAY)
        pay(session, clock, account, 9_999, shanghai(DAY0 + ONE_DAY))
        assert daily(session, clock, DAY0 + 4 * ONE_DAY).broken == 0  # the day of grace
        assert daily(session, clock, DAY0 + 5 * ONE_DAY).broken == 1
        assert (promise.status, promise.ended_on) == ("broken", DAY0 + 4 * ONE_DAY)
        facts = strategy_service.facts(session, DAY0 + 5 * ONE_DAY, [account.id])
        assert facts.select("broken_promises", "promise_pending").row(0) == (1, False)

    def test_the_bounds_of_the_offer_hold(self, session: Session, clock: SettableClock) -> None:
        account = late_account(session, clock)
        with pytest.raises(flows.TermsRefused, match="within 7 days"):
            flows.promise(
                session,
                account,
                amount_minor=10_000,
                on=DAY0 + 8 * ONE_DAY,
                made_by="debtor",
                channel="portal",
                clock=clock,
            )
        with pytest.raises(flows.TermsRefused, match="at least"):
            flows.promise(
                session,
                account,
                amount_minor=5_000,
                on=DAY0 + ONE_DAY,
                made_by="debtor",
                channel="portal",
                clock=clock,
            )  # 20 % of ¥300 is ¥60
        flows.promise(
            session,
            account,
            amount_minor=6_000,
            on=DAY0 + ONE_DAY,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        with pytest.raises(Conflict, match="already has an arrangement"):
            flows.promise(
                session,
                account,
                amount_minor=6_000,
                on=DAY0 + ONE_DAY,
                made_by="debtor",
                channel="portal",
                clock=clock,
            )

    def test_nothing_is_offered_to_an_account_that_is_not_late(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        pay(session, clock, account, 30_000, shanghai(DAY0))
        assert offers.offered(session, account, clock=clock) == {}
        with pytest.raises(offers.NotOffered):
            flows.promise(
                session,
                account,
                amount_minor=6_000,
                on=DAY0 + ONE_DAY,
                made_by="debtor",
                channel="portal",
                clock=clock,
            )


class TestTheReviewsEndings:
    def test_the_endings_lock_their_accounts_together_and_append_their_entries_in_order(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Three promises: one kept by its payment, two broken at one morning's review. The
        outcome and the audit entries, in the arrangements' order, are what one ending at a time
        gave, and the review reads the accounts twice (its read, and the lock of the ended ones)
        and appends its entries in one INSERT. Catches the review going back to a lock and an
        append per ending (`effects.lock` and `audit_service.record` in its loop: 3 reads of the
        accounts and 2 INSERTs here, tried once)."""
        on(clock, DAY0)
        accounts = [create_account(session, clock) for _ in range(3)]
        for account in accounts:
            add_bill(session, clock, account, DAY0 - 10 * ONE_DAY, 28_000, interest=2_000)
        activate(session, clock)
        delinquency_service.run_daily(session, DAY0, clock=clock)
        promises = [
            flows.promise(
                session,
                account,
                amount_minor=10_000,
                on=DAY0 + 2 * ONE_DAY,
                made_by="debtor",
                channel="portal",
                clock=clock,
            )
            for account in accounts
        ]
        on(clock, DAY0 + ONE_DAY)
        pay(session, clock, accounts[1], 10_000, shanghai(DAY0 + ONE_DAY))  # kept at once
        daily(session, clock, DAY0 + ONE_DAY)
        on(clock, DAY0 + 4 * ONE_DAY)
        before = session.scalar(select(func.max(AuditEvent.seq)))
        statements: list[str] = []

        def note(conn: object, cursor: object, statement: str, *args: object) -> None:
            statements.append(statement)

        event.listen(session.get_bind(), "before_cursor_execute", note)
        try:
            ended = review.review(session, clock=clock, as_of=DAY0 + 4 * ONE_DAY)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", note)

        assert [p.status for p in promises] == ["broken", "kept", "broken"]
        assert (ended.reviewed, ended.broken, ended.kept) == (2, 2, 0)
        assert sorted(ended.ended) == [accounts[0].id, accounts[2].id]
        entries = session.execute(
            select(AuditEvent.action, AuditEvent.subject_id, AuditEvent.details)
            .where(AuditEvent.seq > before)
            .order_by(AuditEvent.seq)
        ).all()
        assert [(action, subject) for action, subject, _ in entries] == [
            ("arrangement.broken", str(accounts[0].id)),
            ("arrangement.broken", str(accounts[2].id)),
        ]
        assert [details["arrangement"] for _, _, details in entries] == [
            promises[0].id,
            promises[2].id,
        ]
        assert audit_service.verify(session).ok
        reads = [s for s in statements if "FROM accounts" in s]
        inserts = [s for s in statements if s.startswith("INSERT INTO audit_events")]
        assert (len(reads), len(inserts)) == (2, 1), reads


class TestPlans:
    def test_a_plan_in_good_standing_freezes_dpd_and_a_missed_instalment_resumes_it(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        plan = flows.plan(
            session,
            account,
            instalments=3,
            monthly_budget=30_000,
            monthly_income=None,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        # ¥600 owed plus a 2 % fee of ¥12, in three instalments 30 days apart.
        assert (plan.amount_minor, plan.fee_minor) == (61_200, 1_200)
        fee_bill = session.execute(
            select(Bill).where(Bill.external_ref == f"arrangement-{plan.id}-fee")
        ).scalar_one()
        assert (fee_bill.fees_minor, fee_bill.due_date) == (1_200, DAY0 + 30 * ONE_DAY)
        assert decision(session, account).pause_reason == "plan_in_good_standing"
        on(clock, DAY0 + 30 * ONE_DAY)
        pay(session, clock, account, 20_400, shanghai(DAY0 + 30 * ONE_DAY))
        daily(session, clock, DAY0 + 33 * ONE_DAY)
        assert plan.status == "active"
        assert state(session, account)[0] == 10  # frozen since the plan began
        assert daily(session, clock, DAY0 + 63 * ONE_DAY).broken == 0  # grace runs to day 63
        assert daily(session, clock, DAY0 + 64 * ONE_DAY).broken == 1
        assert (plan.status, plan.ended_on) == ("broken", DAY0 + 63 * ONE_DAY)
        # The first bill is still the oldest unpaid (the ¥204 went to it): 10 days late when the
        # plan began, the 63 paused days do not count, and day 64 does: 11.
        assert state(session, account)[0] == 11
        assert decision(session, account).pause_reason is None

    def test_a_plan_paid_in_full_completes_and_its_pause_ends(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        plan = flows.plan(
            session,
            account,
            instalments=2,
            monthly_budget=40_000,
            monthly_income=None,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        on(clock, DAY0 + 5 * ONE_DAY)
        pay(session, clock, account, 61_200, shanghai(DAY0 + 5 * ONE_DAY))  # early and all of it
        assert (plan.status, plan.ended_on) == ("kept", DAY0 + 5 * ONE_DAY)
        assert owed(session, account) == 0
        assert state(session, account) == (0, 0, 0)

    def test_a_plan_lifts_its_own_pause_even_after_its_reason_was_reworded(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The plan finds its pause by the reference the pause holds, not by the reason the plan
        wrote into it."""
        account = late_account(session, clock)
        plan = flows.plan(
            session,
            account,
            instalments=2,
            monthly_budget=40_000,
            monthly_income=None,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        pause = session.execute(
            select(DelinquencyPause).where(DelinquencyPause.account_id == account.id)
        ).scalar_one()
        assert (pause.kind, pause.arrangement_id, pause.end_date) == ("plan", plan.id, None)
        pause.reason = "plan agreed on the phone with agent 7"
        on(clock, DAY0 + 5 * ONE_DAY)
        flows.cancel(session, plan.id, by="staff:li", reason="debtor changed mind", clock=clock)
        assert (plan.status, pause.end_date) == ("cancelled", DAY0 + 5 * ONE_DAY)

    def test_a_rescheduling_plan_re_ages_at_once_and_moves_every_component_exactly(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock, reage="reschedule")
        pay(session, clock, account, 1_000, shanghai(DAY0 - ONE_DAY))  # before: ¥10 of interest
        before = owed(session, account)
        plan = flows.plan(
            session,
            account,
            instalments=3,
            monthly_budget=30_000,
            monthly_income=None,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        assert state(session, account)[:2] == (0, 0)
        bills = (
            session.execute(select(Bill).where(Bill.account_id == account.id).order_by(Bill.id))
            .scalars()
            .all()
        )
        old, new = bills[:2], bills[2:]
        assert [b.amount_due_minor for b in old] == [1_000, 0]  # only what was paid stays
        assert [b.due_date for b in new] == [DAY0 + k * 30 * ONE_DAY for k in (1, 2, 3)]
        assert sum(b.amount_due_minor for b in new) == before + plan.fee_minor
        assert sum(b.interest_minor for b in new) == 3_000  # ¥40 of interest less the ¥10 paid
        assert sum(b.principal_minor for b in new) == 56_000
        adjustments = session.execute(
            select(BillAdjustment.kind, func.sum(BillAdjustment.amount_minor))
            .where(BillAdjustment.arrangement_id == plan.id)
            .group_by(BillAdjustment.kind)
        ).all()
        assert dict(adjustments) == {"rescheduled": 0, "fee": plan.fee_minor}
        # The first instalment, paid, lands on the first new bill.
        on(clock, DAY0 + 3 * ONE_DAY)
        pay(session, clock, account, new[0].amount_due_minor, shanghai(DAY0 + 3 * ONE_DAY))
        assert new[0].paid_minor == new[0].amount_due_minor
        # Missing the second: the plan breaks, and DPD counts from that instalment's due date.
        assert daily(session, clock, DAY0 + 64 * ONE_DAY).broken == 1
        assert state(session, account)[0] == 4

    def test_the_affordability_check_suggests_what_fits(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        with pytest.raises(flows.TermsRefused, match="3 instalments would fit"):
            flows.plan_quote(
                session,
                account,
                instalments=2,
                monthly_budget=21_000,
                monthly_income=None,
                clock=clock,
            )
        with pytest.raises(flows.TermsRefused, match="what you can afford"):
            flows.plan_quote(
                session,
                account,
                instalments=2,
                monthly_budget=None,
                monthly_income=None,
                clock=clock,
            )
        _, schedule, _ = flows.plan_quote(
            session, account, instalments=3, monthly_budget=None, monthly_income=80_000, clock=clock
        )
        assert [i.amount_minor for i in schedule] == [20_400, 20_400, 20_400]  # ≤ 30 % of ¥800


class TestExtensions:
    def test_paying_the_fee_moves_the_overdue_balance_to_the_new_date(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        ext = flows.extension(
            session, account, days=14, made_by="debtor", channel="portal", clock=clock
        )
        assert (ext.fee_minor, ext.status) == (280, "active")  # 1 % of ¥280 principal overdue
        assert owed(session, account) == 60_000  # nothing changes until the fee is paid
        on(clock, DAY0 + ONE_DAY)
        pay(session, clock, account, 280, shanghai(DAY0 + ONE_DAY))
        assert (ext.status, ext.ended_on) == ("kept", DAY0 + ONE_DAY)
        bills = {
            b.external_ref: b
            for b in session.execute(select(Bill).where(Bill.account_id == account.id)).scalars()
        }
        fee = bills[f"arrangement-{ext.id}-fee"]
        moved = bills[f"arrangement-{ext.id}-1"]
        assert (fee.amount_due_minor, fee.paid_minor) == (280, 280)  # the fee, paid by the money
        assert (moved.due_date, moved.amount_due_minor) == (DAY0 + 14 * ONE_DAY, 30_000)
        assert owed(session, account) == 60_000
        assert state(session, account)[:2] == (0, 0)
        allocated = session.scalar(
            select(func.sum(Allocation.amount_minor)).where(Allocation.account_id == account.id)
        )
        assert allocated == 280  # the payment counted once

    def test_an_unpaid_fee_lapses_and_changes_nothing(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        ext = flows.extension(
            session, account, days=7, made_by="debtor", channel="portal", clock=clock
        )
        assert daily(session, clock, DAY0 + 2 * ONE_DAY).broken == 1
        assert ext.status == "broken"
        assert owed(session, account) == 60_000
        assert state(session, account)[0] == 12
        assert session.scalar(select(func.count()).select_from(BillAdjustment)) == 0


class TestSettlements:
    def test_a_deep_discount_waits_for_a_supervisor_and_the_rest_is_waived_once_paid(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        deal = flows.settlement(
            session, account, amount_minor=42_000, made_by="agent-7", channel="agent", clock=clock
        )  # 70 % of ¥600: below 80 %
        assert deal.status == "awaiting_approval"
        with pytest.raises(Forbidden):
            flows.decide_approval(session, deal.id, approve=True, by="agent-7", clock=clock)
        flows.decide_approval(session, deal.id, approve=True, by="sup-1", clock=clock)
        assert (deal.status, deal.approved_by) == ("active", "sup-1")
        on(clock, DAY0 + 3 * ONE_DAY)
        pay(session, clock, account, 42_000, shanghai(DAY0 + 3 * ONE_DAY))
        assert deal.status == "kept"
        assert owed(session, account) == 0
        assert state(session, account) == (0, 0, 0)
        waived = session.scalar(
            select(func.sum(BillAdjustment.amount_minor)).where(BillAdjustment.kind == "waived")
        )
        assert waived == -18_000

    def test_a_settlement_below_the_floor_is_refused_and_one_unpaid_breaks(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        with pytest.raises(flows.TermsRefused):
            flows.settlement(
                session,
                account,
                amount_minor=35_000,
                made_by="debtor",
                channel="portal",
                clock=clock,
            )
        deal = flows.settlement(
            session, account, amount_minor=50_000, made_by="debtor", channel="portal", clock=clock
        )
        assert deal.status == "active"  # 83 %: no approval needed
        on(clock, DAY0 + ONE_DAY)
        pay(session, clock, account, 40_000, shanghai(DAY0 + ONE_DAY))
        assert daily(session, clock, DAY0 + 8 * ONE_DAY).broken == 1
        assert owed(session, account) == 20_000  # what was paid counts; nothing is waived

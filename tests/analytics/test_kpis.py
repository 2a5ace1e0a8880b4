"""The KPIs of a small portfolio built through the real services, day by day, with outcomes known
in advance: every figure is asserted exactly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from recoup.analytics import schemas
from recoup.analytics import service as analytics_service
from recoup.arrangements import flows as arrangement_flows
from recoup.arrangements import review as arrangement_review
from recoup.cases import flows as case_flows
from recoup.contact import flows as contact_flows
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.ledger import flows as ledger_flows
from recoup.models import Account, AgentTask, ContactPlan
from recoup.strategy import service as strategy_service
from tests.factories import add_bill, create_account, create_customer, pay, shanghai

FROM, TO = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
PERIOD = schemas.Period(from_date=FROM, to_date=TO)
ONE_DAY = dt.timedelta(days=1)

POLICY = """
policy: analytics-test
version: "1"
segments:
  - {name: everyone, when: "true"}
stages:
  - name: late
    dpd: [1, 999]
    treatments:
      - {id: late_sms, channel: sms, template: early_reminder, tone: gentle}
offers:
  - {kind: promise, when: "dpd >= 1", max_days: 7, grace_days: 1, min_share_bps: 2000}
"""


@dataclass
class Book:
    """The accounts of the portfolio, by the story each one tells."""

    cured_m1: Account  # ¥1,000 due 20 May; pays ¥400 on 5 June and ¥600 on 10 June
    rolls_m2: Account  # ¥2,000 due 10 May; never pays (M1 to M2 on 10 June); breaks a promise
    falls_late: Account  # ¥500 due 15 June; promises ¥200 by 20 June and keeps it
    on_time: Account  # ¥300 due 10 June, paid the day before
    cured_m2: Account  # ¥800 due 15 April; pays it all on 3 June


def build(session: Session, clock: SettableClock) -> Book:
    clock.set(shanghai(dt.date(2026, 5, 1), 9))
    version = strategy_service.save_policy(
        session, POLICY, author="t", clock=clock, source="analytics-test"
    )
    strategy_service.activate(session, version.id, actor="t", clock=clock)

    def account(due: dt.date, amount: int) -> Account:
        made = create_account(session, clock, customer=create_customer(session, clock))
        add_bill(session, clock, made, due, amount)
        return made

    book = Book(
        cured_m1=account(dt.date(2026, 5, 20), 100_000),
        rolls_m2=account(dt.date(2026, 5, 10), 200_000),
        falls_late=account(dt.date(2026, 6, 15), 50_000),
        on_time=account(dt.date(2026, 6, 10), 30_000),
        cured_m2=account(dt.date(2026, 4, 15), 80_000),
    )

    def promise(target: Account, amount: int, by: dt.date) -> Callable[[], object]:
        return lambda: arrangement_flows.promise(
            session,
            target,
            amount_minor=amount,
            on=by,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )

    def paying(target: Account, amount: int, day: dt.date) -> Callable[[], object]:
        return lambda: pay(session, clock, target, amount, shanghai(day, 12))

    def complaint() -> object:
        return case_flows.open_case(
            session,
            book.cured_m1.customer_id,
            kind="complaint",
            reason="rude",
            text=None,
            account_ref=None,
            opened_by="debtor",
            channel="portal",
            clock=clock,
        )

    def opt_out() -> object:
        return contact_flows.opt_out_customer(
            session,
            book.falls_late.customer_id,
            channel="sms",
            address_index=None,
            source="sms_reply",
            evidence="TD",
            clock=clock,
        )

    actions: dict[dt.date, list[Callable[[], object]]] = {
        dt.date(2026, 6, 3): [paying(book.cured_m2, 80_000, dt.date(2026, 6, 3))],
        dt.date(2026, 6, 5): [paying(book.cured_m1, 40_000, dt.date(2026, 6, 5))],
        dt.date(2026, 6, 9): [paying(book.on_time, 30_000, dt.date(2026, 6, 9))],
        dt.date(2026, 6, 10): [paying(book.cured_m1, 60_000, dt.date(2026, 6, 10))],
        dt.date(2026, 6, 11): [promise(book.rolls_m2, 100_000, dt.date(2026, 6, 14))],
        dt.date(2026, 6, 12): [complaint],
        dt.date(2026, 6, 17): [promise(book.falls_late, 20_000, dt.date(2026, 6, 20))],
        dt.date(2026, 6, 18): [opt_out],
        dt.date(2026, 6, 20): [paying(book.falls_late, 20_000, dt.date(2026, 6, 20))],
    }
    day = dt.date(2026, 5, 31)
    while day <= TO:
        clock.set(shanghai(day, 18))
        for act in actions.get(day, []):
            act()
        # The daily flow's review and delinquency pass; the contacts are the test's own.
        ledger_flows.settle_ended(
            session, arrangement_review.review(session, clock=clock), clock=clock
        )
        delinquency_service.run_daily(session, day, clock=clock)
        day += ONE_DAY
    return book


@pytest.fixture
def book(session: Session, clock: SettableClock) -> Book:
    return build(session, clock)


class TestRecovery:
    def test_recovery_by_amount_and_count(self, session: Session, book: Book) -> None:
        kpis = analytics_service.kpis(session, PERIOD)
        [cny] = kpis.recovery
        # Overdue: ¥1,000 + ¥2,000 + ¥800 at the start, ¥500 falling due in June; the ¥300 paid
        # on time never was. Collected on it: ¥1,000 + ¥800 + ¥200.
        assert (cny.currency, cny.base_minor, cny.collected_minor) == ("CNY", 430_000, 200_000)
        assert cny.rate_amount == pytest.approx(200_000 / 430_000)
        assert (cny.accounts, cny.accounts_paying, cny.accounts_recovered) == (4, 3, 2)
        assert cny.rate_count == pytest.approx(0.75)

    def test_a_later_period_counts_only_what_was_still_overdue(
        self, session: Session, book: Book
    ) -> None:
        later = schemas.Period(from_date=dt.date(2026, 6, 8), to_date=TO)
        [cny] = analytics_service.kpis(session, later).recovery
        # ¥600 still owed by cured_m1, ¥2,000, and ¥500 falling due: ¥600 + ¥200 collected.
        assert (cny.base_minor, cny.collected_minor) == (310_000, 80_000)


class TestBuckets:
    def test_cure_rate_by_bucket(self, session: Session, book: Book) -> None:
        cure = {
            c.bucket: (c.accounts, c.cured) for c in analytics_service.kpis(session, PERIOD).cure
        }
        # M1: cured_m1 and rolls_m2 at the start, falls_late from 16 June; only cured_m1 cured.
        # M2: cured_m2 at the start (cured 3 June), rolls_m2 from 10 June.
        assert cure == {"M1": (3, 1), "M2": (2, 1)}

    def test_roll_rates_month_over_month(self, session: Session, book: Book) -> None:
        rolls = analytics_service.roll_rates(session, PERIOD)
        assert rolls.snapshots == [dt.date(2026, 5, 31), dt.date(2026, 6, 30)]
        cells = {(c.from_bucket, c.to_bucket): (c.accounts, c.share) for c in rolls.cells}
        assert cells == {
            ("M0", "M0"): (1, 0.5),
            ("M0", "M1"): (1, 0.5),
            ("M1", "M0"): (1, 0.5),
            ("M1", "M2"): (1, 0.5),
            ("M2", "M0"): (1, 1.0),
        }
        assert rolls.buckets == ["M0", "M1", "M2"]


class TestBehaviour:
    def test_promises_complaints_opt_outs_and_agent_work(
        self, session: Session, book: Book
    ) -> None:
        kpis = analytics_service.kpis(session, PERIOD)
        assert (kpis.promises.kept, kpis.promises.broken) == (1, 1)
        assert kpis.promises.rate == pytest.approx(0.5)
        assert (kpis.complaints, kpis.opt_outs) == (1, 1)
        assert [(t.queue, t.status, t.tasks) for t in kpis.agent_tasks] == [
            ("complaints", "open", 1)
        ]


def outbox(
    session: Session, account: Account, rows: list[tuple[str, str] | tuple[str, str, str]]
) -> None:
    """Contacts as the dispatcher leaves them: (channel, status[, a call's result]) on successive
    June days, sent at noon Shanghai time when a channel accepted them."""
    for n, (channel, status, *results) in enumerate(rows):
        result = results[0] if results else None
        day = FROM + dt.timedelta(days=n)
        sent = shanghai(day, 12) if status in ("sent", "delivered", "bounced") else None
        plan = ContactPlan(
            account_id=account.id,
            customer_id=account.customer_id,
            as_of_date=day,
            stage="late",
            treatment=f"t{n}",
            channel=channel,
            template="early_reminder",
            tone="gentle",
            status=status,
            scheduled_at=shanghai(day, 12),
            sent_at=sent,
            reasons=["cn.hours.house: outside 08:00-21:00"] if status == "deferred" else [],
            created_at=shanghai(day, 1),
        )
        if result is not None:
            plan.result = result
        session.add(plan)
        session.flush()


class TestContacts:
    def test_contacts_reach_costs_and_rates_per_thousand(
        self, session: Session, clock: SettableClock, book: Book
    ) -> None:
        outbox(
            session,
            book.rolls_m2,
            [
                ("sms", "delivered"),
                ("sms", "delivered"),
                ("sms", "sent"),
                ("sms", "bounced"),
                ("push", "delivered"),
                ("sms", "blocked"),
                ("sms", "deferred"),
                ("call", "sent"),  # a place in the agents' queue: no contact with anyone
                ("dial", "sent", "conversation"),  # the agent talked to the debtor
                ("dial", "sent", "connected"),  # someone answered: not a right-party contact
                ("dial", "sent"),  # nobody said how it went
                ("email", "failed"),  # never accepted: not an attempt
            ],
        )
        session.add(
            AgentTask(
                account_id=book.rolls_m2.id,
                as_of_date=dt.date(2026, 6, 8),
                queue="calls",
                priority=1.0,
                status="done",
                created_at=clock.now(),
            )
        )
        session.flush()
        kpis = analytics_service.kpis(session, PERIOD)
        reach = {r.channel: (r.attempts, r.reached) for r in kpis.reach}
        assert reach == {"sms": (4, 2), "push": (1, 1), "dial": (3, 1)}
        assert (kpis.attempts, kpis.reached) == (8, 4)
        assert (kpis.calls, kpis.conversations) == (3, 1)
        assert kpis.right_party_rate == pytest.approx(1 / 3)
        by_status = {(c.channel, c.status): c.contacts for c in kpis.contacts}
        assert by_status[("sms", "delivered")] == 2
        assert by_status[("email", "failed")] == 1
        assert kpis.complaints_per_1000 == pytest.approx(1000 / 8)
        assert kpis.opt_outs_per_1000 == pytest.approx(1000 / 8)
        assert [(h.status, h.reason, h.contacts) for h in kpis.held] == [
            # The real guard, planning SMS for falls_late after its opt-out (two re-decisions).
            ("blocked", "base.opt_out", 2),
            ("blocked", "unstated", 1),
            ("deferred", "cn.hours.house", 1),
        ]
        # Shipped costs: SMS 5, push 0, a placed call 20 a contact; 500 an agent task (two: the
        # complaint's and the call's). Collected in CNY: ¥2,000.
        costs = kpis.costs
        assert (costs.contacts_minor, costs.agents_minor) == (4 * 5 + 3 * 20, 2 * 500)
        assert costs.per_unit_collected == pytest.approx(1_080 / 200_000)
        # Sent at noon in Shanghai, the customers' zone; China allows 08:00 to 21:00 (house rule).
        hours = {h.hour: h.contacts for h in kpis.local_hours if h.contacts}
        assert hours == {12: 8}
        [window] = kpis.allowed_windows
        assert (window.jurisdiction, window.start_minute, window.end_minute) == ("CN", 480, 1260)


class TestPeriods:
    def test_defaults_end_on_the_last_pass_and_cover_thirty_days(
        self, session: Session, clock: SettableClock, book: Book
    ) -> None:
        p = analytics_service.period(session, None, None, clock=clock)
        assert (p.from_date, p.to_date) == (dt.date(2026, 6, 1), TO)

    def test_a_start_after_the_end_is_refused(self, session: Session, clock: SettableClock) -> None:
        with pytest.raises(analytics_service.BadPeriod, match="starts"):
            analytics_service.period(session, TO, FROM, clock=clock)

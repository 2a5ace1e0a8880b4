"""What the simulated debtors pay from, read through the tables' owners' repositories (the
simulator runs no SQL of its own): what each account owes, what falls due on a day, what its
arrangements promise on a day, who is on open-ended hard times, which accounts repaid a bill
before. Runs on SQLite and on PostgreSQL (the simulator's own tests run on SQLite only)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from recoup.arrangements import flows as arrangement_flows
from recoup.arrangements import repository as arrangements_repo
from recoup.delinquency import repository as delinquency_repo
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.ledger import repository as ledger_repo
from recoup.models import PauseKind
from tests.arrangements.test_flows import DAY0, late_account
from tests.factories import add_bill, create_account, pay, shanghai

IN_20 = DAY0 + dt.timedelta(days=20)


class TestWhatTheDebtorsPayFrom:
    def test_owed_due_promised_and_hard_times_per_account(
        self, session: Session, clock: SettableClock
    ) -> None:
        late = late_account(session, clock)  # ¥300 ten days late, ¥300 due in 20 days
        paid = create_account(session, clock)
        add_bill(session, clock, paid, IN_20, 10_000)
        pay(session, clock, paid, 10_000, shanghai(DAY0, 17))
        arrangement_flows.make(
            session,
            late,
            "promise",
            amount_minor=12_000,
            on=DAY0 + dt.timedelta(days=3),
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        delinquency_service.add_pause(
            session,
            late,
            start=DAY0,
            end=None,
            kind=PauseKind.hardship,
            reason="job loss",
            by="test",
            clock=clock,
            exclusive=False,
        )
        delinquency_service.add_pause(
            session,
            paid,
            start=DAY0,
            end=DAY0 + dt.timedelta(days=30),
            kind=PauseKind.hardship,
            reason="a month's relief",
            by="test",
            clock=clock,
            exclusive=False,
        )
        session.flush()

        owed = delinquency_repo.amounts_owed(session, [late.id, paid.id])
        assert owed[late.id] == (30_000, 60_000)
        assert owed.get(paid.id, (0, 0)) == (0, 0)
        owing = dict(
            delinquency_repo.owing_states(session).select("account_id", "overdue_minor").iter_rows()
        )
        assert owing.get(late.id) == 30_000
        assert paid.id not in owing  # it owes nothing
        due = dict(delinquency_repo.due_on(session, IN_20).iter_rows())
        assert due.get(late.id) == 30_000
        assert paid.id not in due  # its bill due that day is paid off
        promised = arrangements_repo.promised_on(session, DAY0 + dt.timedelta(days=3))
        assert promised.get(late.id) == 12_000
        assert late.id not in arrangements_repo.promised_on(session, DAY0 + dt.timedelta(days=4))
        hard_times = delinquency_repo.open_ended_hardship(session)
        assert late.id in hard_times
        assert paid.id not in hard_times  # its pause has an end date
        repaid = ledger_repo.accounts_with_a_paid_off_bill(session)
        assert paid.id in repaid
        assert late.id not in repaid
        portfolio = ledger_repo.accounts_with_customer(session)
        row = portfolio.filter(account_id=late.id).to_dicts()
        assert row == [
            {
                "account_id": late.id,
                "customer_id": late.customer_id,
                "ref": late.external_ref,
                "product": late.product_code,
                "currency": "CNY",
                "jurisdiction": "CN",
            }
        ]

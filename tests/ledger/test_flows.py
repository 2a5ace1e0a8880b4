from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.ledger import service as ledger_service
from tests.factories import add_bill, create_account, create_customer, pay, shanghai

D = dt.date


class TestPaymentAllocation:
    def test_partial_payment_pays_fees_then_interest_then_principal(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = create_account(session, clock)
        bill = add_bill(session, clock, account, D(2026, 5, 5), 100_000, interest=5_000, fees=2_000)
        payment = pay(session, clock, account, 6_000, shanghai(D(2026, 5, 20)))
        lines = {
            (a.component, a.amount_minor)
            for a in ledger_service.allocations_of(session, payment.id)
        }
        assert lines == {("fees", 2_000), ("interest", 4_000)}
        assert ledger_service.paid_by_bill(session, account.id) == {bill.id: 6_000}

    def test_overpayment_becomes_credit_applied_to_next_bill(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 5, 5), 30_000)
        pay(session, clock, account, 50_000, shanghai(D(2026, 5, 4)))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert state.credit_minor == 20_000
        later = add_bill(session, clock, account, D(2026, 6, 5), 30_000)
        assert ledger_service.paid_by_bill(session, account.id)[later.id] == 20_000
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert state.credit_minor == 0
        assert state.outstanding_minor == 10_000


class TestBackdatedPayments:
    def test_backdated_payment_rewrites_bucket_history(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 6, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 4, 1), 50_000)
        history = [
            (e.effective_date, e.to_bucket)
            for e in delinquency_service.history(session, account.id)
        ]
        assert history == [(D(2026, 4, 2), "M1"), (D(2026, 5, 2), "M2"), (D(2026, 6, 1), "M3")]
        # The wallet reports late that the debt was paid on 10 April.
        pay(session, clock, account, 50_000, shanghai(D(2026, 4, 10)))
        history = [
            (e.effective_date, e.from_bucket, e.to_bucket)
            for e in delinquency_service.history(session, account.id)
        ]
        assert history == [(D(2026, 4, 2), "M0", "M1"), (D(2026, 4, 10), "M1", "M0")]
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket, state.overdue_minor) == (0, "M0", 0)

    def test_reversal_reopens_what_the_payment_paid(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 6, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 5, 1), 50_000)
        payment = pay(session, clock, account, 50_000, shanghai(D(2026, 5, 3)))
        from recoup.ledger import flows, schemas

        flows.reverse_payment(
            session, payment.id, schemas.PaymentReversal(reason="chargeback"), clock=clock
        )
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket, state.overdue_minor) == (
            31,
            "M2",
            50_000,
        )
        events = [
            (e.effective_date, e.to_bucket)
            for e in delinquency_service.history(session, account.id)
        ]
        assert events == [(D(2026, 5, 2), "M1"), (D(2026, 6, 1), "M2")]


class TestEncryptionAtRest:
    def test_personal_fields_are_not_readable_in_the_table(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock, name="王强")
        session.flush()
        raw = session.execute(
            text("SELECT name, national_id FROM customers WHERE id = :id"), {"id": customer.id}
        ).one()
        phones = session.execute(
            text("SELECT number FROM customer_phones WHERE customer_id = :id"), {"id": customer.id}
        ).all()
        blob = b"".join(bytes(v) for v in (*raw, *(p[0] for p in phones)))
        assert "王强".encode() not in blob
        assert b"110101199003071234" not in blob
        assert b"+86138" not in blob
        assert ledger_service.get_customer(session, customer.id).name == "王强"

"""Ledger changes that ripple into delinquency, in the caller's one transaction.

A payment, reversal or bill locks its account row (serialising concurrent changes to one account on
PostgreSQL), replays the waterfall, and recomputes the account's delinquency from the earliest business
date the change touched. Later issues hook here: a payment that clears what is overdue cancels the
account's pending contacts in this same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from recoup.arrangements import flows as arrangement_flows
from recoup.audit import service as audit_service
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.kit.logging import get_logger
from recoup.ledger import schemas
from recoup.ledger import service as ledger_service
from recoup.models import Account, Bill, Payment
from recoup.strategy import service as strategy_service

MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
log = get_logger(__name__)


def _settle(
    session: Session, account: Account, *, since: dt.date | None, clock: Clock, cause: str
) -> None:
    changed = ledger_service.reallocate(session, account)
    starts = [d for d in (changed, since) if d is not None]
    if starts:
        delinquency_service.recompute_account(
            session, account, from_date=min(starts), clock=clock, cause=cause
        )
    # Money keeps (or a reversal may no longer keep) the account's arrangement; then the account
    # is re-decided at once: pending reminders are cancelled in this same transaction, so none
    # leaves after the payment commits.
    arrangement_flows.review(session, clock=clock, account_id=account.id, cause=cause)
    strategy_service.redecide(session, account.id, clock=clock, cause=cause)


def receive_payment(
    session: Session, data: schemas.PaymentCreate, *, clock: Clock
) -> tuple[Payment, bool]:
    """Record a payment (idempotent on its external id) and bring the account up to date."""
    if data.received_at > clock.now() + MAX_CLOCK_SKEW:
        raise ValidationFailed(f"received_at {data.received_at.isoformat()} is in the future")
    account = ledger_service.account_by_ref(session, data.account_ref, lock=True)
    payment, created = ledger_service.record_payment(session, account, data, clock=clock)
    if created:
        _settle(session, account, since=payment.value_date, clock=clock, cause="payment")
        log.info(
            "ledger.payment_recorded",
            account_id=account.id,
            payment_id=payment.id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            value_date=payment.value_date.isoformat(),
        )
    return payment, created


def reverse_payment(
    session: Session,
    payment_id: int,
    data: schemas.PaymentReversal,
    *,
    clock: Clock,
    actor: str = "wallet",
) -> Payment:
    payment = ledger_service.get_payment(session, payment_id)
    account = ledger_service.get_account(session, payment.account_id)
    ledger_service.account_by_ref(session, account.external_ref, lock=True)
    if ledger_service.reverse_payment(
        session, payment, reason=data.reason, reversed_at=data.reversed_at, clock=clock
    ):
        _settle(session, account, since=payment.value_date, clock=clock, cause="reversal")
        audit_service.record(
            session,
            actor=actor,
            action="payment.reversed",
            subject_type="payment",
            subject_id=payment.id,
            clock=clock,
            details={
                "account_id": account.id,
                "amount_minor": payment.amount_minor,
                "reason": data.reason,
            },
        )
    return payment


def add_bill(session: Session, data: schemas.BillCreate, *, clock: Clock) -> Bill:
    account = ledger_service.account_by_ref(session, data.account_ref, lock=True)
    bill = ledger_service.add_bill(session, account, data, clock=clock)
    _settle(session, account, since=bill.due_date, clock=clock, cause="bill")
    return bill

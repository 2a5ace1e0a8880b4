"""The settle flow: what every way money moves sets off, in the caller's one transaction.

A payment (webhook, API), a reversal, a bill, an imported settlement or bills file, an arrangement
made, cancelled or ended, and the simulator all come here. For the accounts touched, the flow:

1. replays the waterfall (`ledger.service.reallocate`, or `reallocate_many` for a batch);
2. recomputes delinquency from the earliest business date the change touched (the exact engine);
3. asks arrangements what ended (`arrangements.review`: kept or broken by the money now there),
   and settles the endings that moved the ledger (bills rescheduled or waived, a plan's pause lifted);
4. re-decides each touched account exactly once (`strategy.service.deferred_redecisions`), so
   pending reminders are cancelled in this same transaction and none leaves after the payment commits.

A single change locks its account row first (serialising concurrent changes to one account on
PostgreSQL); a file is one transaction, read and written set-based.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from recoup.arrangements import review as arrangement_review
from recoup.audit import service as audit_service
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.kit.logging import get_logger
from recoup.ledger import schemas
from recoup.ledger.service import accounts as ledger_accounts
from recoup.ledger.service import billing as ledger_billing
from recoup.ledger.service import payments as ledger_payments
from recoup.ledger.service import reallocation as ledger_reallocation
from recoup.models import Account, Bill, Payment
from recoup.strategy import service as strategy_service

MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
log = get_logger(__name__)


def settle(
    session: Session,
    since: Mapping[int, dt.date],
    *,
    clock: Clock,
    cause: str,
    tracked_only: bool = False,
) -> None:
    """Bring the accounts (account → earliest business date the change touched) up to date, as
    the module says. `tracked_only` leaves the delinquency of accounts the daily pass has never
    seen to it (a portfolio's first load), as imports always have."""
    if not since:
        return
    with strategy_service.deferred_redecisions(session, clock=clock):
        if len(since) == 1:
            ((account_id, day),) = since.items()
            changed = ledger_reallocation.reallocate(
                session, ledger_accounts.get_account(session, account_id)
            )
            starts = {account_id: min(d for d in (changed, day) if d is not None)}
        else:
            ledger_reallocation.reallocate_many(session, sorted(since))
            starts = dict(since)
        delinquency_service.recompute_many(
            session, starts, clock=clock, cause=cause, tracked_only=tracked_only
        )
        for account_id in since:
            strategy_service.redecide(session, account_id, clock=clock, cause=cause)
        ended = arrangement_review.review(
            session, clock=clock, account_ids=list(since), cause=cause
        )
        settle_ended(session, ended, clock=clock)


def settle_ended(session: Session, review: arrangement_review.Review, *, clock: Clock) -> None:
    """The arrangements a review ended: those whose ending moved the ledger have the waterfall
    replayed and DPD recomputed from the day they ended; each account is re-decided (once, with the
    others, when the caller's `deferred_redecisions` block ends, or now)."""
    if not review.ended:
        return
    with strategy_service.deferred_redecisions(session, clock=clock):
        for account_id, ended in review.ended.items():
            if ended.moves_the_ledger:
                account = ledger_accounts.get_account(session, account_id)
                changed = ledger_reallocation.reallocate(session, account)
                delinquency_service.recompute_many(
                    session,
                    {account_id: min(d for d in (changed, ended.on) if d is not None)},
                    clock=clock,
                    cause="arrangement",
                )
            strategy_service.redecide(session, account_id, clock=clock, cause=ended.why)


def receive_payment(
    session: Session, data: schemas.PaymentCreate, *, clock: Clock
) -> tuple[Payment, bool]:
    """Record a payment (idempotent on its external id) and bring the account up to date."""
    if data.received_at > clock.now() + MAX_CLOCK_SKEW:
        raise ValidationFailed(f"received_at {data.received_at.isoformat()} is in the future")
    account = ledger_accounts.account_by_ref(session, data.account_ref, lock=True)
    payment, created = ledger_payments.record_payment(session, account, data, clock=clock)
    if created:
        settle(session, {account.id: payment.value_date}, clock=clock, cause="payment")
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
    payment = ledger_payments.get_payment(session, payment_id)
    account = ledger_accounts.get_account(session, payment.account_id)
    ledger_accounts.account_by_ref(session, account.external_ref, lock=True)
    if ledger_payments.reverse_payment(
        session, payment, reason=data.reason, reversed_at=data.reversed_at, clock=clock
    ):
        settle(session, {account.id: payment.value_date}, clock=clock, cause="reversal")
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
    account: Account = ledger_accounts.account_by_ref(session, data.account_ref, lock=True)
    bill = ledger_billing.add_bill(session, account, data, clock=clock)
    settle(session, {account.id: bill.due_date}, clock=clock, cause="bill")
    return bill

"""Payments: recorded once per external id, reversed once, and where each went."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.kit.money import MAX_MINOR
from recoup.ledger import schemas
from recoup.ledger.repository import AllocationRepository, PaymentRepository
from recoup.ledger.service.errors import DuplicateReference, PaymentNotFound
from recoup.ledger.service.products import product, value_date
from recoup.models import Account, Payment


def record_payment(
    session: Session, account: Account, data: schemas.PaymentCreate, *, clock: Clock
) -> tuple[Payment, bool]:
    """Record a payment once. Returns (payment, created); a repeat of the same external id with the
    same facts returns the first one, with different facts it is a conflict."""
    repo = PaymentRepository(session)
    existing = repo.by_external_id(data.external_id)
    if existing is not None:
        same = (
            existing.account_id == account.id
            and existing.amount_minor == data.amount_minor
            and existing.currency == data.currency
            and existing.received_at == data.received_at
        )
        if not same:
            raise DuplicateReference(
                f"payment {data.external_id!r} was already recorded with different details"
            )
        return existing, False
    if data.currency != account.currency:
        raise ValidationFailed(
            f"payment currency {data.currency} does not match account currency {account.currency}"
        )
    if repo.paid([account.id]).get(account.id, 0) + data.amount_minor > MAX_MINOR:
        raise ValidationFailed(
            f"amount_minor: with this payment {account.external_ref}'s payments would total more "
            f"than {MAX_MINOR:,} minor units, the most an account may hold"
        )
    tz = product(session, account.product_code).timezone
    payment = Payment(
        account_id=account.id,
        external_id=data.external_id,
        amount_minor=data.amount_minor,
        currency=data.currency,
        received_at=data.received_at,
        value_date=value_date(data.received_at, tz),
        source=data.source,
        created_at=clock.now(),
    )
    return repo.create(payment), True


def get_payment(session: Session, payment_id: int) -> Payment:
    found = PaymentRepository(session).get(payment_id)
    if found is None:
        raise PaymentNotFound(f"no payment {payment_id}")
    return found


def reverse_payment(
    session: Session,
    payment: Payment,
    *,
    reason: str,
    reversed_at: dt.datetime | None,
    clock: Clock,
) -> bool:
    """Stamp a payment as reversed. Returns False when it already was (reversal is idempotent)."""
    if payment.reversed_at is not None:
        return False
    payment.reversed_at = reversed_at or clock.now()
    payment.reversal_reason = reason
    session.flush()
    return True


def allocations_of(session: Session, payment_id: int) -> list[schemas.AllocationOut]:
    return [
        schemas.AllocationOut(bill_id=a.bill_id, component=a.component, amount_minor=a.amount_minor)
        for a in AllocationRepository(session).for_payment(payment_id)
    ]

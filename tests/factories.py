"""Plain factory functions: each makes one thing through the real services."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session

from recoup.kit.clock import Clock
from recoup.ledger import flows, schemas
from recoup.ledger import service as ledger_service
from recoup.models import Account, Bill, Customer, Payment

_seq = itertools.count(1)


def create_customer(
    session: Session,
    clock: Clock,
    *,
    jurisdiction: str = "CN",
    name: str = "李娜",
    birth_year: int | None = None,
    sex: str | None = None,
) -> Customer:
    n = next(_seq)
    phone = f"+86138{n:08d}"[:14] if jurisdiction == "CN" else f"+1212555{n % 10000:04d}"
    return ledger_service.create_customer(
        session,
        schemas.CustomerCreate(
            external_ref=f"u-{n}",
            name=name,
            national_id="110101199003071234",
            phones=[schemas.PhoneIn(number=phone)],
            emails=[schemas.EmailIn(address=f"user{n}@example.com")],
            addresses=[
                schemas.AddressIn(country=jurisdiction[:2], city="深圳", postal_code="518000")
            ],
            jurisdiction=jurisdiction,
            birth_year=birth_year,
            sex=sex,
        ),
        clock=clock,
    )


def create_account(
    session: Session,
    clock: Clock,
    *,
    customer: Customer | None = None,
    product: str = "bnpl",
    currency: str = "CNY",
    opened: dt.date = dt.date(2026, 1, 1),
) -> Account:
    customer = customer or create_customer(session, clock)
    return ledger_service.create_account(
        session,
        schemas.AccountCreate(
            external_ref=f"acc-{next(_seq)}",
            customer_ref=customer.external_ref,
            product=product,
            currency=currency,
            opened_date=opened,
        ),
        clock=clock,
    )


def add_bill(
    session: Session,
    clock: Clock,
    account: Account,
    due: dt.date,
    principal: int,
    *,
    interest: int = 0,
    fees: int = 0,
) -> Bill:
    return flows.add_bill(
        session,
        schemas.BillCreate(
            account_ref=account.external_ref,
            external_ref=f"bill-{next(_seq)}",
            due_date=due,
            principal_minor=principal,
            interest_minor=interest,
            fees_minor=fees,
        ),
        clock=clock,
    )


def pay(
    session: Session,
    clock: Clock,
    account: Account,
    amount: int,
    at: dt.datetime,
    *,
    external_id: str | None = None,
) -> Payment:
    payment, _ = flows.receive_payment(
        session,
        schemas.PaymentCreate(
            external_id=external_id or f"pay-{next(_seq)}",
            account_ref=account.external_ref,
            amount_minor=amount,
            currency=account.currency,
            received_at=at,
        ),
        clock=clock,
    )
    return payment


def shanghai(day: dt.date, hour: int = 12) -> dt.datetime:
    """Noon (by default) on `day` in Shanghai, as an aware UTC instant."""
    return dt.datetime(
        day.year, day.month, day.day, hour, tzinfo=dt.timezone(dt.timedelta(hours=8))
    ).astimezone(dt.UTC)

"""Accounts: opened, found by id or reference, and locked for a change of money."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.ledger import schemas
from recoup.ledger.repository import AccountRepository, CustomerRepository
from recoup.ledger.service.errors import AccountNotFound, CustomerNotFound, DuplicateReference
from recoup.ledger.service.products import product
from recoup.models import Account


def create_account(session: Session, data: schemas.AccountCreate, *, clock: Clock) -> Account:
    customer = CustomerRepository(session).by_ref(data.customer_ref)
    if customer is None:
        raise CustomerNotFound(f"no customer with external_ref {data.customer_ref!r}")
    product(session, data.product)
    repo = AccountRepository(session)
    if repo.by_ref(data.external_ref) is not None:
        raise DuplicateReference(f"account {data.external_ref!r} already exists")
    if data.closed_date and data.closed_date < data.opened_date:
        raise ValidationFailed("closed_date is before opened_date")
    return repo.create(
        Account(
            external_ref=data.external_ref,
            customer_id=customer.id,
            product_code=data.product,
            currency=data.currency,
            credit_limit_minor=data.credit_limit_minor,
            opened_date=data.opened_date,
            closed_date=data.closed_date,
            status=data.status,
            collector=data.collector,
            agency_ref=data.agency_ref,
            created_at=clock.now(),
        )
    )


def get_account(session: Session, account_id: int) -> Account:
    found = AccountRepository(session).get(account_id)
    if found is None:
        raise AccountNotFound(f"no account {account_id}")
    return found


def account_by_ref(session: Session, external_ref: str, *, lock: bool = False) -> Account:
    repo = AccountRepository(session)
    found = repo.by_ref(external_ref)
    if found is None:
        raise AccountNotFound(f"no account with external_ref {external_ref!r}")
    if lock:
        locked = repo.for_update(found.id)
        assert locked is not None
        return locked
    return found

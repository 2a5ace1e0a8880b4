"""Bills: added by the lender, issued by another domain (an arrangement's instalments and fee), their
components taken off when an arrangement moves or waives them, and what has been paid of each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.kit.money import MAX_MINOR
from recoup.ledger import schemas
from recoup.ledger.repository import AllocationRepository, BillRepository
from recoup.ledger.service.errors import DuplicateReference
from recoup.models import Account, Bill


def add_bill(session: Session, account: Account, data: schemas.BillCreate, *, clock: Clock) -> Bill:
    repo = BillRepository(session)
    if repo.by_ref(account.id, data.external_ref) is not None:
        raise DuplicateReference(
            f"bill {data.external_ref!r} already exists on {account.external_ref}"
        )
    billed = repo.billed(account.id) + data.principal_minor + data.interest_minor + data.fees_minor
    if billed > MAX_MINOR:
        raise ValidationFailed(
            f"principal_minor: with this bill {account.external_ref}'s bills would total more than "
            f"{MAX_MINOR:,} minor units, the most an account may hold"
        )
    return repo.create(
        Bill(
            account_id=account.id,
            external_ref=data.external_ref,
            due_date=data.due_date,
            principal_minor=data.principal_minor,
            interest_minor=data.interest_minor,
            fees_minor=data.fees_minor,
            created_at=clock.now(),
        )
    )


def issue_bill(
    session: Session,
    account: Account,
    *,
    external_ref: str,
    due_date: dt.date,
    principal_minor: int,
    interest_minor: int,
    fees_minor: int,
    created_at: dt.datetime,
) -> Bill:
    """Store a bill another domain issues on the account (an arrangement's instalments and fee),
    flushed for its id. Unlike `add_bill` there is no duplicate check: the issuer's references are
    its own."""
    return BillRepository(session).create(
        Bill(
            account_id=account.id,
            external_ref=external_ref,
            due_date=due_date,
            principal_minor=principal_minor,
            interest_minor=interest_minor,
            fees_minor=fees_minor,
            created_at=created_at,
        )
    )


COMPONENTS = ("fees", "interest", "principal")


def take_off(session: Session, bill: Bill, amounts: Mapping[str, int]) -> None:
    """Take amounts off a bill's components (`fees`, `interest`, `principal`): what an
    arrangement moved to other bills or waived. The caller records why (its adjustments) and
    settles the account (`ledger.flows.settle`), which replays the waterfall."""
    left: dict[str, int] = {}
    for component, amount in amounts.items():
        if component not in COMPONENTS:
            raise ValueError(f"a bill has no component {component!r}")
        left[f"{component}_minor"] = getattr(bill, f"{component}_minor") - amount
        if left[f"{component}_minor"] < 0:
            raise ValueError(f"bill {bill.id}: {component} would go below zero")
    for column, value in left.items():  # all or nothing
        setattr(bill, column, value)


def bills(session: Session, account_id: int) -> list[Bill]:
    return list(BillRepository(session).for_account(account_id))


def paid_by_bill(session: Session, account_id: int) -> dict[int, int]:
    paid: dict[int, int] = {}
    for line in AllocationRepository(session).for_account(account_id):
        paid[line.bill_id] = paid.get(line.bill_id, 0) + line.amount_minor
    return paid

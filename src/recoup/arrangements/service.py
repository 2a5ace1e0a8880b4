"""Opening and revoking pay links, and what the portal shows the customer who opens one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from recoup.arrangements.links import PayLink, read_pay_link
from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import NotAuthenticated, NotFound
from recoup.models import Account, AccountDelinquency, Bill, Customer, PayLinkRevocation


class LinkRevoked(NotAuthenticated):
    code = "link_revoked"


def open_link(session: Session, token: str, *, keys: Sequence[bytes], clock: Clock) -> PayLink:
    """The customer a genuine, unexpired, unrevoked link stands for; 401 otherwise."""
    link = read_pay_link(keys, token, now=clock.now())
    r = PayLinkRevocation
    matches: list[ColumnElement[bool]] = [r.contact_id.is_(None) & (r.at > link.issued_at)]
    if link.contact_id is not None:
        matches.append(r.contact_id == link.contact_id)
    revoked = session.execute(
        select(r.id).where(r.customer_id == link.customer_id, or_(*matches))
    ).first()
    if revoked is not None:
        raise LinkRevoked("this link was withdrawn; open the latest message or call us")
    return link


def revoke(
    session: Session,
    customer_id: int,
    *,
    contact_id: int | None,
    actor: str,
    reason: str,
    clock: Clock,
) -> PayLinkRevocation:
    """Withdraw one link (the contact that carried it) or all of a customer's links issued so far."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    revocation = PayLinkRevocation(
        customer_id=customer_id, contact_id=contact_id, at=clock.now(), by=actor, reason=reason
    )
    session.add(revocation)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="pay_link.revoked",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={"contact_id": contact_id, "reason": reason},
    )
    return revocation


@dataclass(frozen=True)
class BillLine:
    due_date: dt.date
    amount_minor: int
    paid_minor: int

    @property
    def remaining_minor(self) -> int:
        return self.amount_minor - self.paid_minor


@dataclass(frozen=True)
class AccountView:
    reference: str
    product: str
    currency: str
    outstanding_minor: int
    overdue_minor: int
    dpd: int
    bills: list[BillLine]

    @property
    def next_due(self) -> dt.date | None:
        return min((b.due_date for b in self.bills if b.remaining_minor > 0), default=None)


@dataclass(frozen=True)
class PortalView:
    name: str  # as held; the page masks it
    language: str
    jurisdiction: str
    accounts: list[AccountView]


def portal_view(session: Session, customer_id: int) -> PortalView:
    """The customer's open accounts with their balances and bills, newest bills last."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    accounts = session.execute(
        select(Account, AccountDelinquency)
        .outerjoin(AccountDelinquency, AccountDelinquency.account_id == Account.id)
        .where(Account.customer_id == customer_id, Account.closed_date.is_(None))
        .order_by(Account.id)
    ).all()
    bills: dict[int, list[BillLine]] = {}
    for bill in session.execute(
        select(Bill)
        .where(Bill.account_id.in_([a.id for a, _ in accounts]))
        .order_by(Bill.due_date, Bill.id)
    ).scalars():
        bills.setdefault(bill.account_id, []).append(
            BillLine(
                bill.due_date,
                bill.principal_minor + bill.interest_minor + bill.fees_minor,
                bill.paid_minor,
            )
        )
    views = [
        AccountView(
            reference=account.external_ref,
            product=account.product_code,
            currency=account.currency,
            outstanding_minor=sum(b.remaining_minor for b in bills.get(account.id, [])),
            overdue_minor=state.overdue_minor if state else 0,
            dpd=state.dpd if state else 0,
            bills=bills.get(account.id, []),
        )
        for account, state in accounts
    ]
    return PortalView(customer.name, customer.preferred_language, customer.jurisdiction, views)

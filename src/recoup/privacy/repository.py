from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from recoup.kit.repository import Repository
from recoup.models import (
    Account,
    AccountDelinquency,
    AccountNote,
    Arrangement,
    AuditEvent,
    Bill,
    Case,
    Consent,
    ContactMessage,
    ContactPlan,
    Customer,
    DataAccess,
    DelinquencyEvent,
    ErasureRequest,
    OptOut,
    Payment,
    Product,
    StrategyDecision,
)


class ConsentRepository(Repository[Consent]):
    model = Consent

    def for_customer(self, customer_id: int) -> Sequence[Consent]:
        stmt = select(Consent).where(Consent.customer_id == customer_id).order_by(Consent.given_at)
        return self.session.execute(stmt).scalars().all()


class ErasureRepository(Repository[ErasureRequest]):
    model = ErasureRequest

    def for_customer(self, customer_id: int) -> Sequence[ErasureRequest]:
        stmt = select(ErasureRequest).where(ErasureRequest.customer_id == customer_id)
        return self.session.execute(stmt.order_by(ErasureRequest.id)).scalars().all()

    def due(self, status: str, as_of: dt.date) -> Sequence[ErasureRequest]:
        stmt = select(ErasureRequest).where(
            ErasureRequest.status == status, ErasureRequest.not_before <= as_of
        )
        return self.session.execute(stmt).scalars().all()


def accounts_of(session: Session, customer_id: int) -> Sequence[Account]:
    stmt = select(Account).where(Account.customer_id == customer_id).order_by(Account.id)
    return session.execute(stmt).scalars().all()


def bills_of(session: Session, account_ids: Sequence[int]) -> Sequence[Bill]:
    stmt = (
        select(Bill)
        .where(Bill.account_id.in_(account_ids))
        .order_by(Bill.account_id, Bill.due_date)
    )
    return session.execute(stmt).scalars().all()


def payments_of(session: Session, account_ids: Sequence[int]) -> Sequence[Payment]:
    stmt = (
        select(Payment)
        .where(Payment.account_id.in_(account_ids))
        .order_by(Payment.account_id, Payment.received_at)
    )
    return session.execute(stmt).scalars().all()


def delinquency_of(
    session: Session, account_ids: Sequence[int]
) -> tuple[Sequence[AccountDelinquency], Sequence[DelinquencyEvent]]:
    states = (
        session.execute(
            select(AccountDelinquency).where(AccountDelinquency.account_id.in_(account_ids))
        )
        .scalars()
        .all()
    )
    events = (
        session.execute(
            select(DelinquencyEvent)
            .where(DelinquencyEvent.account_id.in_(account_ids))
            .order_by(DelinquencyEvent.effective_date)
        )
        .scalars()
        .all()
    )
    return states, events


def access_log(session: Session, customer_id: int) -> Sequence[DataAccess]:
    stmt = select(DataAccess).where(DataAccess.customer_id == customer_id).order_by(DataAccess.at)
    return session.execute(stmt).scalars().all()


def messages_to(session: Session, customer_id: int) -> Sequence[tuple[ContactPlan, ContactMessage]]:
    """What was sent to the customer, newest first, with the contact that carried it."""
    stmt = (
        select(ContactPlan, ContactMessage)
        .join(ContactMessage, ContactMessage.contact_id == ContactPlan.id)
        .where(ContactPlan.customer_id == customer_id)
        .order_by(ContactMessage.id.desc())
    )
    return [(plan, message) for plan, message in session.execute(stmt).all()]


def opt_outs_of(session: Session, customer_id: int) -> Sequence[OptOut]:
    stmt = select(OptOut).where(OptOut.customer_id == customer_id).order_by(OptOut.id)
    return session.execute(stmt).scalars().all()


def arrangements_of(session: Session, customer_id: int) -> Sequence[Arrangement]:
    stmt = select(Arrangement).where(Arrangement.customer_id == customer_id)
    return session.execute(stmt.order_by(Arrangement.id)).scalars().all()


def cases_of(session: Session, customer_id: int) -> Sequence[Case]:
    stmt = select(Case).where(Case.customer_id == customer_id).order_by(Case.id)
    return session.execute(stmt).scalars().all()


def notes_of(session: Session, account_ids: Sequence[int]) -> Sequence[AccountNote]:
    """Staff notes on these accounts (agents' words about the person), oldest first."""
    stmt = select(AccountNote).where(AccountNote.account_id.in_(list(account_ids)))
    return session.execute(stmt.order_by(AccountNote.id)).scalars().all()


def audit_about(
    session: Session, customer_id: int, account_ids: Sequence[int]
) -> Sequence[AuditEvent]:
    subjects = [("customer", str(customer_id))] + [("account", str(a)) for a in account_ids]
    clauses = [
        (AuditEvent.subject_type == kind) & (AuditEvent.subject_id == sid) for kind, sid in subjects
    ]
    stmt = select(AuditEvent).where(or_(*clauses)).order_by(AuditEvent.seq)
    return session.execute(stmt).scalars().all()


def owed_minor(session: Session, customer_id: int) -> int:
    """What the person still owes across their accounts (amount due less paid, every bill)."""
    due = Bill.principal_minor + Bill.interest_minor + Bill.fees_minor - Bill.paid_minor
    stmt = (
        select(func.coalesce(func.sum(due), 0))
        .join(Account, Account.id == Bill.account_id)
        .where(Account.customer_id == customer_id)
    )
    return int(session.execute(stmt).scalar_one())


def last_activity(session: Session, customer: Customer) -> dt.date:
    """The last day anything happened on the person's accounts (opened, billed, paid, closed)."""
    ids = select(Account.id).where(Account.customer_id == customer.id).scalar_subquery()
    candidates = [
        session.execute(
            select(func.max(Account.closed_date)).where(Account.customer_id == customer.id)
        ).scalar(),
        session.execute(
            select(func.max(Account.opened_date)).where(Account.customer_id == customer.id)
        ).scalar(),
        session.execute(select(func.max(Bill.due_date)).where(Bill.account_id.in_(ids))).scalar(),
        session.execute(
            select(func.max(Payment.value_date)).where(Payment.account_id.in_(ids))
        ).scalar(),
        customer.created_at.date(),
    ]
    return max(d for d in candidates if d is not None)


def open_accounts(session: Session, customer_id: int) -> int:
    stmt = select(func.count()).where(
        Account.customer_id == customer_id, Account.closed_date.is_(None)
    )
    return int(session.execute(stmt).scalar_one())


def closed_customers(session: Session) -> Sequence[Customer]:
    """Customers whose every account is closed and who are not erased yet."""
    has_open = select(Account.customer_id).where(Account.closed_date.is_(None))
    has_any = select(Account.customer_id)
    stmt = select(Customer).where(
        Customer.id.in_(has_any),
        Customer.id.not_in(has_open),
        ~Customer.external_ref.like("erased-%"),
    )
    return session.execute(stmt).scalars().all()


def latest_decisions(session: Session, account_ids: Sequence[int]) -> Sequence[StrategyDecision]:
    """The strategy's latest decision record of each account (strategy's rows, read here)."""
    d = StrategyDecision
    last = (
        select(d.account_id, func.max(d.as_of_date).label("day"))
        .where(d.account_id.in_(list(account_ids)))
        .group_by(d.account_id)
        .subquery("last_decision")
    )
    stmt = select(d).join(last, (last.c.account_id == d.account_id) & (last.c.day == d.as_of_date))
    return session.execute(stmt.order_by(d.account_id)).scalars().all()


def product_kinds(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """The kind (bnpl, credit_line...) of each product code (the ledger's rows, read here)."""
    stmt = select(Product.code, Product.kind).where(Product.code.in_(list(codes)))
    return {str(code): str(kind) for code, kind in session.execute(stmt).tuples()}


def planned_channels(
    session: Session, decisions: Sequence[StrategyDecision]
) -> dict[tuple[int, dt.date, str], str]:
    """The channel of the contact each decision planned, by (account, day, treatment) (contact's
    rows, read here); a decision whose contact was never planned has none."""
    chosen = [d for d in decisions if d.treatment]
    if not chosen:
        return {}
    p = ContactPlan
    stmt = select(p.account_id, p.as_of_date, p.treatment, p.channel).where(
        p.account_id.in_([d.account_id for d in chosen]),
        p.as_of_date.in_(sorted({d.as_of_date for d in chosen})),
    )
    return {(a, day, t): channel for a, day, t, channel in session.execute(stmt)}

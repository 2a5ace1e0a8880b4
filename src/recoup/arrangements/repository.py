"""SQL for arrangements: the open ones, their instalments, and the money that arrived since each began."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from recoup.kit.db import among
from recoup.kit.repository import Repository
from recoup.models import (
    OPEN_STATUSES,
    Account,
    AccountDelinquency,
    Allocation,
    Arrangement,
    ArrangementInstalment,
    ArrangementStatus,
    Bill,
    BillAdjustment,
    CustomerEmail,
    CustomerPhone,
    OneTimeCode,
    PayLinkRevocation,
    Payment,
    PaymentIntent,
)


class ArrangementRepository(Repository[Arrangement]):
    model = Arrangement

    def open_for_account(self, account_id: int) -> Arrangement | None:
        return self.get_one_or_none(
            select(Arrangement).where(
                Arrangement.account_id == account_id, Arrangement.status.in_(OPEN_STATUSES)
            )
        )

    def active(self, account_ids: Collection[int] | None = None) -> Sequence[Arrangement]:
        stmt = select(Arrangement).where(Arrangement.status == "active")
        if account_ids is not None:
            stmt = stmt.where(among(self.session, Arrangement.account_id, account_ids))
        return self.session.execute(stmt.order_by(Arrangement.id)).scalars().all()

    def awaiting_approval(self, *, limit: int) -> Sequence[Arrangement]:
        """Arrangements waiting for a supervisor, oldest first (the longest wait at the top)."""
        stmt = (
            select(Arrangement)
            .where(Arrangement.status == ArrangementStatus.awaiting_approval)
            .order_by(Arrangement.created_at, Arrangement.id)
            .limit(limit)
        )
        return self.session.execute(stmt).scalars().all()

    def for_customer(self, customer_id: int) -> Sequence[Arrangement]:
        return (
            self.session.execute(
                select(Arrangement)
                .where(Arrangement.customer_id == customer_id)
                .order_by(Arrangement.id.desc())
            )
            .scalars()
            .all()
        )

    def for_account(self, account_id: int) -> Sequence[Arrangement]:
        return (
            self.session.execute(
                select(Arrangement)
                .where(Arrangement.account_id == account_id)
                .order_by(Arrangement.id.desc())
            )
            .scalars()
            .all()
        )


def add_arrangement(
    session: Session, instalments: Sequence[tuple[int, dt.date, int]], **values: Any
) -> Arrangement:
    """A new arrangement with its instalments (seq, due date, amount), flushed for ids."""
    arrangement = Arrangement(**values)
    session.add(arrangement)
    session.flush()
    session.add_all(
        ArrangementInstalment(
            arrangement_id=arrangement.id, seq=seq, due_date=due, amount_minor=amount
        )
        for seq, due, amount in instalments
    )
    session.flush()
    return arrangement


def set_paid(
    session: Session, arrangement: Arrangement, paid: int, *, at: dt.datetime | None = None
) -> None:
    """What the money that arrived since the start has paid of it (`at`: when it changed)."""
    arrangement.paid_minor = paid
    if at is not None:
        arrangement.updated_at = at


def approved(
    session: Session, arrangement: Arrangement, *, approve: bool, by: str, at: dt.datetime
) -> None:
    """A supervisor's answer to a settlement awaiting approval (a rejection is ended by `end`)."""
    arrangement.status = ArrangementStatus.active if approve else ArrangementStatus.rejected
    arrangement.approved_by, arrangement.updated_at = by, at


def end(
    session: Session,
    arrangement: Arrangement,
    status: ArrangementStatus,
    *,
    on: dt.date,
    reason: str | None,
    at: dt.datetime | None = None,
) -> None:
    arrangement.status, arrangement.ended_on, arrangement.end_reason = status, on, reason
    if at is not None:
        arrangement.updated_at = at


def add_adjustment(session: Session, **values: Any) -> None:
    """One move of a bill component (`bill_adjustments`): what a bill row's sum is made of."""
    session.add(BillAdjustment(**values))


def link_instalment_bill(session: Session, instalment: ArrangementInstalment, bill_id: int) -> None:
    instalment.bill_id = bill_id


def accounts_by_id(session: Session, account_ids: set[int]) -> dict[int, Account]:
    found = session.execute(select(Account).where(among(session, Account.id, account_ids)))
    return {a.id: a for a in found.scalars()}


def instalments(
    session: Session, arrangement_ids: Sequence[int]
) -> dict[int, list[ArrangementInstalment]]:
    out: dict[int, list[ArrangementInstalment]] = defaultdict(list)
    if arrangement_ids:
        for row in session.execute(
            select(ArrangementInstalment)
            .where(ArrangementInstalment.arrangement_id.in_(arrangement_ids))
            .order_by(ArrangementInstalment.arrangement_id, ArrangementInstalment.seq)
        ).scalars():
            out[row.arrangement_id].append(row)
    return out


def payments_since_start(
    session: Session, arrangement_ids: Sequence[int]
) -> dict[int, list[tuple[dt.date, int]]]:
    """Live payments on each arrangement's account dated on or after its start, in one query."""
    out: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    if arrangement_ids:
        a, p = Arrangement, Payment
        for arrangement_id, value_date, amount in session.execute(
            select(a.id, p.value_date, p.amount_minor)
            .join(p, p.account_id == a.account_id)
            .where(a.id.in_(arrangement_ids), p.value_date >= a.start_date, p.reversed_at.is_(None))
        ):
            out[arrangement_id].append((value_date, amount))
    return out


def unpaid_components(
    session: Session, account_id: int, *, before: dt.date | None = None
) -> list[tuple[Bill, dict[str, int]]]:
    """Each of the account's bills with what is unpaid of each component, counting allocations
    dated before `before` only (None: all of them). Bills with nothing unpaid are left out."""
    paid: dict[tuple[int, str], int] = defaultdict(int)
    stmt = select(Allocation.bill_id, Allocation.component, Allocation.amount_minor).where(
        Allocation.account_id == account_id
    )
    if before is not None:
        stmt = stmt.where(Allocation.value_date < before)
    for bill_id, component, amount in session.execute(stmt):
        paid[(bill_id, component)] += amount
    bills = session.execute(
        select(Bill).where(Bill.account_id == account_id).order_by(Bill.due_date, Bill.id)
    ).scalars()
    return _unpaid(bills, paid)


def unpaid_components_many(
    session: Session, account_ids: Collection[int]
) -> dict[int, list[tuple[dt.date, dict[str, int]]]]:
    """`unpaid_components` (all allocations counted) for several accounts in two queries: account
    → the due date and unpaid components of each of its bills with something unpaid (an account
    with none maps to an empty list). Dates, not the bills: a bill held by the caller and expired
    (`expire_all` after set-based writes) would be read again, one query each."""
    out: dict[int, list[tuple[dt.date, dict[str, int]]]] = {a: [] for a in account_ids}
    if not out:
        return out
    paid: dict[tuple[int, str], int] = defaultdict(int)
    for bill_id, component, amount in session.execute(
        select(Allocation.bill_id, Allocation.component, Allocation.amount_minor).where(
            among(session, Allocation.account_id, out)
        )
    ):
        paid[(bill_id, component)] += amount
    bills: dict[int, list[Bill]] = defaultdict(list)
    for bill in session.execute(
        select(Bill)
        .where(among(session, Bill.account_id, out))
        .order_by(Bill.account_id, Bill.due_date, Bill.id)
    ).scalars():
        bills[bill.account_id].append(bill)
    for account_id, held in bills.items():
        out[account_id] = [(bill.due_date, left) for bill, left in _unpaid(held, paid)]
    return out


def _unpaid(
    bills: Iterable[Bill], paid: Mapping[tuple[int, str], int]
) -> list[tuple[Bill, dict[str, int]]]:
    """The bills (in order) with what is unpaid of each component, given what was paid of each
    (bill, component); bills with nothing unpaid are left out."""
    out = []
    for bill in bills:
        left = {
            c: getattr(bill, f"{c}_minor") - paid.get((bill.id, c), 0)
            for c in ("fees", "interest", "principal")
        }
        left = {c: v for c, v in left.items() if v > 0}
        if left:
            out.append((bill, left))
    return out


def accounts_with_open_arrangement(session: Session, account_ids: Collection[int]) -> set[int]:
    """Those of the accounts that have an open arrangement (`open_for_account` for several)."""
    if not account_ids:
        return set()
    found = session.execute(
        select(Arrangement.account_id).where(
            among(session, Arrangement.account_id, account_ids),
            Arrangement.status.in_(OPEN_STATUSES),
        )
    )
    return set(found.scalars())


# Pay links, pay-now intents, one-time codes and what the portal shows (`arrangements.service`).


def revoked(
    session: Session, customer_id: int, *, contact_id: int | None, issued_at: dt.datetime
) -> bool:
    """Whether a link of the customer's, carried by `contact_id` and issued at `issued_at`, was
    withdrawn: by its contact, or with all the customer's links issued before a moment."""
    r = PayLinkRevocation
    matches: list[ColumnElement[bool]] = [r.contact_id.is_(None) & (r.at > issued_at)]
    if contact_id is not None:
        matches.append(r.contact_id == contact_id)
    found = session.execute(select(r.id).where(r.customer_id == customer_id, or_(*matches)))
    return found.first() is not None


def add_revocation(session: Session, **values: Any) -> PayLinkRevocation:
    revocation = PayLinkRevocation(**values)
    session.add(revocation)
    session.flush()
    return revocation


def bills_of(session: Session, account_ids: Collection[int]) -> Sequence[Bill]:
    """The accounts' bills, by due date."""
    stmt = select(Bill).where(Bill.account_id.in_(sorted(account_ids)))
    return session.execute(stmt.order_by(Bill.due_date, Bill.id)).scalars().all()


def open_accounts_with_state(
    session: Session, customer_id: int
) -> list[tuple[Account, AccountDelinquency | None]]:
    """The customer's open accounts, each with its delinquency state (None: never computed)."""
    rows = session.execute(
        select(Account, AccountDelinquency)
        .outerjoin(AccountDelinquency, AccountDelinquency.account_id == Account.id)
        .where(Account.customer_id == customer_id, Account.closed_date.is_(None))
        .order_by(Account.id)
    ).all()
    return [(account, state) for account, state in rows]


def add_intent(session: Session, **values: Any) -> PaymentIntent:
    intent = PaymentIntent(**values)
    session.add(intent)
    session.flush()
    return intent


def intent_created(
    session: Session, intent: PaymentIntent, *, wallet_id: str, redirect_url: str
) -> None:
    """The wallet took the intent: it is pending there."""
    intent.status, intent.wallet_id, intent.redirect_url = "pending", wallet_id, redirect_url
    session.flush()


def intent(session: Session, intent_id: int) -> PaymentIntent | None:
    return session.get(PaymentIntent, intent_id)


def intent_ended(
    session: Session,
    intent: PaymentIntent,
    *,
    payment_id: int | None,
    reason: str | None,
    at: dt.datetime,
) -> None:
    """Succeeded (with the payment) or declined."""
    intent.status = "succeeded" if payment_id is not None else "declined"
    intent.payment_id, intent.reason, intent.updated_at = payment_id, reason, at
    session.flush()


def intents_of_contacts(session: Session, contact_ids: Sequence[int]) -> list[PaymentIntent]:
    """The payments started from the links these contacts carried, oldest first."""
    if not contact_ids:
        return []
    p = PaymentIntent
    stmt = select(p).where(p.contact_id.in_(list(contact_ids))).order_by(p.id)
    return list(session.execute(stmt).scalars())


def latest_intent(
    session: Session, customer_id: int, *, since: dt.datetime
) -> PaymentIntent | None:
    p = PaymentIntent
    return session.execute(
        select(p)
        .where(p.customer_id == customer_id, p.created_at >= since)
        .order_by(p.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def own_mobile(session: Session, customer_id: int) -> str | None:
    """The customer's first mobile number that is their own (given by them or the wallet)."""
    p = CustomerPhone
    return session.execute(
        select(p.number)
        .where(
            p.customer_id == customer_id, p.type == "mobile", p.source.in_(("customer", "wallet"))
        )
        .order_by(p.position)
        .limit(1)
    ).scalar_one_or_none()


def first_email(session: Session, customer_id: int) -> str | None:
    e = CustomerEmail
    return session.execute(
        select(e.address).where(e.customer_id == customer_id).order_by(e.position).limit(1)
    ).scalar_one_or_none()


def codes_since(session: Session, customer_id: int, since: dt.datetime) -> list[dt.datetime]:
    """When the customer's one-time codes since a moment were made."""
    c = OneTimeCode
    stmt = select(c.created_at).where(c.customer_id == customer_id, c.created_at > since)
    return list(session.execute(stmt).scalars())


def add_code(session: Session, **values: Any) -> OneTimeCode:
    row = OneTimeCode(**values)
    session.add(row)
    session.flush()
    return row


def code_sent(session: Session, row: OneTimeCode, *, code_hash: str, contact_id: int) -> None:
    """The code's keyed hash, for the record, and the service message that carries it."""
    row.code_hash, row.contact_id = code_hash, contact_id
    session.flush()


def live_code_for_update(
    session: Session, customer_id: int, now: dt.datetime
) -> OneTimeCode | None:
    """The customer's latest unused, unexpired code, locked for this transaction."""
    c = OneTimeCode
    return session.execute(
        select(c)
        .where(c.customer_id == customer_id, c.used_at.is_(None), c.expires_at > now)
        .order_by(c.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()


def code_tried(session: Session, row: OneTimeCode, *, good: bool, at: dt.datetime) -> None:
    """A right try spends the code; a wrong one counts."""
    if good:
        row.used_at = at
    else:
        row.attempts += 1
    session.flush()


def promised_on(session: Session, day: dt.date) -> dict[int, int]:
    """Per account, what its active arrangements' instalments promise on `day`."""
    from sqlalchemy import func  # appended here: the imports above are shared work

    a, i = Arrangement, ArrangementInstalment
    stmt = (
        select(a.account_id, func.sum(i.amount_minor))
        .join(i, i.arrangement_id == a.id)
        .where(a.status == "active", i.due_date == day)
        .group_by(a.account_id)
    )
    return {account_id: int(total) for account_id, total in session.execute(stmt)}

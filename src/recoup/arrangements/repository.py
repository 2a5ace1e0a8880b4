"""SQL for arrangements: the open ones, their instalments, and the money that arrived since each began."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.kit.db import among
from recoup.kit.repository import Repository
from recoup.models import (
    OPEN_STATUSES,
    Account,
    Allocation,
    Arrangement,
    ArrangementInstalment,
    Bill,
    Payment,
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
    out = []
    for bill in session.execute(
        select(Bill).where(Bill.account_id == account_id).order_by(Bill.due_date, Bill.id)
    ).scalars():
        left = {
            c: getattr(bill, f"{c}_minor") - paid[(bill.id, c)]
            for c in ("fees", "interest", "principal")
        }
        left = {c: v for c, v in left.items() if v > 0}
        if left:
            out.append((bill, left))
    return out


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

"""What arrangements do to the ledger and to delinquency when they are made and when they end:
rescheduled bills, fee bills, waived balances (each move a `bill_adjustments` row, the bill rows holding
the sum), and the pause a plan holds. Called by the making flows and the review; the settle flow
(`ledger.flows`) then replays the waterfall and recomputes DPD.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy.orm import Session

from recoup.arrangements import repository as repo
from recoup.arrangements import terms
from recoup.delinquency import service as delinquency_service
from recoup.delinquency.repository import DelinquencyRepository
from recoup.kit.clock import Clock
from recoup.kit.errors import NotFound
from recoup.ledger import service as ledger_service
from recoup.ledger.allocation import Waterfall
from recoup.ledger.repository import AccountRepository
from recoup.models import (
    Account,
    Arrangement,
    ArrangementKind,
    ArrangementStatus,
    Bill,
)


def lock(session: Session, account: Account) -> Account:
    locked = AccountRepository(session).for_update(account.id)
    if locked is None:
        raise NotFound("no such account")
    return locked


def lock_many(session: Session, account_ids: Collection[int]) -> dict[int, Account]:
    """`lock` of several accounts at once (in the order of their ids)."""
    locked = AccountRepository(session).for_update_many(account_ids)
    if len(locked) != len(set(account_ids)):
        raise NotFound("no such account")
    return locked


def account_of(session: Session, arrangement: Arrangement) -> Account:
    return ledger_service.get_account(session, arrangement.account_id)


def keep(
    session: Session,
    account: Account,
    arrangement: Arrangement,
    *,
    on: dt.date,
    paid: int,
    clock: Clock,
) -> None:
    repo.set_paid(session, arrangement, paid)
    if arrangement.kind == ArrangementKind.extension:
        new_due = dt.date.fromisoformat(arrangement.terms["new_due_date"])
        overdue = [
            (bill, left)
            for bill, left in unpaid_before(session, arrangement)
            if bill.due_date < arrangement.start_date
        ]
        if arrangement.fee_minor:
            fee_bill(session, account, arrangement, arrangement.start_date)
        moved = sum(sum(left.values()) for _, left in overdue)
        reschedule(session, account, arrangement, overdue, [terms.Instalment(1, new_due, moved)])
    elif arrangement.kind == ArrangementKind.settlement:
        waive(session, account, arrangement, on=on)
    end(session, account, arrangement, ArrangementStatus.kept, on=on, reason=None, clock=clock)


def end(
    session: Session,
    account: Account,
    arrangement: Arrangement,
    status: ArrangementStatus,
    *,
    on: dt.date,
    reason: str | None,
    clock: Clock,
) -> None:
    repo.end(session, arrangement, status, on=on, reason=reason, at=clock.now())
    if arrangement.kind == ArrangementKind.plan:
        plan_pauses = DelinquencyRepository(session).open_for_arrangement(arrangement.id)
        for pause in plan_pauses:
            delinquency_service.lift_pause(session, account, pause, last_day=on, clock=clock)
    session.flush()


def moves_the_ledger(ended: Arrangement) -> bool:
    """Whether ending this arrangement changed bills, adjustments or pauses (so the waterfall is
    replayed and DPD recomputed): a plan (its pause lifted), a kept extension or settlement."""
    return ended.kind == ArrangementKind.plan or (
        ended.status == ArrangementStatus.kept
        and ended.kind in (ArrangementKind.extension, ArrangementKind.settlement)
    )


def unpaid_before(session: Session, arrangement: Arrangement) -> list[tuple[Bill, dict[str, int]]]:
    return repo.unpaid_components(session, arrangement.account_id, before=arrangement.start_date)


def fee_bill(session: Session, account: Account, arrangement: Arrangement, due: dt.date) -> Bill:
    bill = ledger_service.issue_bill(
        session,
        account,
        external_ref=f"arrangement-{arrangement.id}-fee",
        due_date=due,
        principal_minor=0,
        interest_minor=0,
        fees_minor=arrangement.fee_minor,
        created_at=arrangement.updated_at or arrangement.created_at,
    )
    _adjust(
        session, arrangement, bill, "fees", arrangement.fee_minor, "fee", arrangement.start_date
    )
    return bill


def _adjust(
    session: Session,
    arrangement: Arrangement,
    bill: Bill,
    component: str,
    amount: int,
    kind: str,
    on: dt.date,
) -> None:
    repo.add_adjustment(
        session,
        account_id=bill.account_id,
        bill_id=bill.id,
        arrangement_id=arrangement.id,
        component=component,
        amount_minor=amount,
        kind=kind,
        effective_date=on,
        created_at=arrangement.updated_at or arrangement.created_at,
    )


def reschedule(
    session: Session,
    account: Account,
    arrangement: Arrangement,
    unpaid: list[tuple[Bill, dict[str, int]]],
    schedule: list[terms.Instalment],
) -> None:
    """Move what these bills had unpaid before the start (`_unpaid_before`) into one new bill per
    instalment."""
    moved: list[dict[str, int]] = []
    for bill, left in unpaid:
        ledger_service.take_off(session, bill, left)
        for component, amount in left.items():
            _adjust(
                session,
                arrangement,
                bill,
                component,
                -amount,
                "rescheduled",
                arrangement.start_date,
            )
        moved.append(left)
    waterfall = Waterfall.from_config(
        ledger_service.product(session, account.product_code).allocation
    )
    parts = terms.fill_components(moved, [i.amount_minor for i in schedule], waterfall.components)
    instalment_rows = {
        i.seq: i for i in repo.instalments(session, [arrangement.id]).get(arrangement.id, [])
    }
    for inst, part in zip(schedule, parts, strict=True):
        bill = ledger_service.issue_bill(
            session,
            account,
            external_ref=f"arrangement-{arrangement.id}-{inst.seq}",
            due_date=inst.due_date,
            principal_minor=part.get("principal", 0),
            interest_minor=part.get("interest", 0),
            fees_minor=part.get("fees", 0) + part.get("fee", 0),
            created_at=arrangement.updated_at or arrangement.created_at,
        )
        for component, amount in part.items():
            kind = "fee" if component == "fee" else "rescheduled"
            _adjust(
                session,
                arrangement,
                bill,
                "fees" if component == "fee" else component,
                amount,
                kind,
                arrangement.start_date,
            )
        if inst.seq in instalment_rows:
            repo.link_instalment_bill(session, instalment_rows[inst.seq], bill.id)
    session.flush()


def waive(session: Session, account: Account, arrangement: Arrangement, *, on: dt.date) -> None:
    """A kept settlement: whatever is still unpaid is forgiven, component by component."""
    for bill, left in repo.unpaid_components(session, account.id):
        ledger_service.take_off(session, bill, left)
        for component, amount in left.items():
            _adjust(session, arrangement, bill, component, -amount, "waived", on)
    session.flush()

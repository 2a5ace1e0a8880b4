"""Replaying the waterfall: an account's live payments through its product's allocation, one account
(`reallocate`, which says from which business date balances changed) or many set-based
(`reallocate_many`, the path of imports and loads), with the same result."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

from recoup.kit.background import writes_behind
from recoup.ledger.allocation import (
    BillDue,
    PaymentIn,
    Waterfall,
    allocate,
    allocate_frames,
    summarise,
    summarise_frames,
)
from recoup.ledger.repository import (
    AllocationRepository,
    BillRepository,
    LedgerFrames,
    PaymentRepository,
    ProductRepository,
)
from recoup.ledger.service.products import product
from recoup.models import Account


def reallocate(session: Session, account: Account) -> dt.date | None:
    """Replay the account's live payments through its waterfall and store the result.

    Returns the earliest value date at which any bill's paid amount changed (None: nothing changed).
    """
    waterfall = Waterfall.from_config(product(session, account.product_code).allocation)
    bill_rows = BillRepository(session).for_account(account.id)
    payments = PaymentRepository(session).live_for_account(account.id)
    dues = [
        BillDue(b.id, b.due_date, b.fees_minor, b.interest_minor, b.principal_minor)
        for b in bill_rows
    ]
    result = allocate(
        dues,
        [PaymentIn(p.id, p.value_date, p.amount_minor, p.received_at) for p in payments],
        waterfall,
    )
    alloc_repo = AllocationRepository(session)
    before = _paid_timeline(
        (a.bill_id, a.value_date, a.amount_minor) for a in alloc_repo.for_account(account.id)
    )
    after = _paid_timeline((line.bill_id, line.value_date, line.amount) for line in result.lines)
    alloc_repo.replace_for_account(
        account.id,
        [
            {
                "account_id": account.id,
                "payment_id": line.payment_id,
                "bill_id": line.bill_id,
                "component": line.component,
                "amount_minor": line.amount,
                "value_date": line.value_date,
            }
            for line in result.lines
        ],
    )
    summary = summarise(result, dues)
    for bill in bill_rows:
        bill.paid_minor, bill.paid_off_date = summary[bill.id]
    account.credit_minor = result.credit
    session.flush()
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return min((day for _, day in changed), default=None)


# From this many allocation lines, `reallocate_many` writes them on a second thread while it works
# out the caches (below it, the thread's start is not worth the overlap).
LINES_BEHIND = 10_000


def reallocate_many(session: Session, account_ids: list[int] | None) -> None:
    """`reallocate`, set-based, for many accounts (None: all): the bulk path of imports and loads.
    Allocations, bill caches and account credits come out exactly as `reallocate` writes them.

    The allocations are written (COPY on PostgreSQL) on the session's connection by a second
    thread while the bills' caches and the credits are worked out (`kit.background`), in the same
    transaction; the caches are written after them."""
    store = LedgerFrames(session)
    bills = store.bills(account_ids)
    payments = store.live_payments(account_ids)
    waterfalls = {
        p.code: Waterfall.from_config(p.allocation) for p in ProductRepository(session).all()
    }
    stale = store.accounts_with_allocations(account_ids)
    cached_credits = store.credits(account_ids)
    lines, credits = allocate_frames(bills, payments, waterfalls)
    # From here to the block's end the session is the writer's: only frames are computed.
    with writes_behind(background=lines.height >= LINES_BEHIND) as writer:
        # Write only what changed: a file of new bills with no payments rewrites nothing but
        # the bills.
        writer.submit(store.replace_allocations, stale, lines)
        summaries = summarise_frames(
            lines,
            bills.select(
                "bill_id", amount_due=pl.col("fees") + pl.col("interest") + pl.col("principal")
            ),
        ).join(bills.select("bill_id", "cached_paid", "cached_paid_off"), on="bill_id")
        summaries = summaries.filter(
            (pl.col("paid") != pl.col("cached_paid"))
            | pl.col("paid_off_date").eq_missing(pl.col("cached_paid_off")).not_()
        )
        credits = (
            cached_credits.join(credits, on="account_id", how="left")
            .with_columns(credit=pl.col("credit").fill_null(0))
            .filter(pl.col("credit") != pl.col("cached_credit"))
        )
    store.store_caches(summaries, credits)
    session.expire_all()


def _paid_timeline(lines: object) -> dict[tuple[int, dt.date], int]:
    """Paid per (bill, value date): two allocations that agree here give the same delinquency."""
    timeline: dict[tuple[int, dt.date], int] = {}
    for bill_id, day, amount in lines:  # type: ignore[attr-defined]
        timeline[(bill_id, day)] = timeline.get((bill_id, day), 0) + amount
    return timeline

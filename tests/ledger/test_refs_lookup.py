"""Customers and accounts found by their references when a file names more of them than an IN list
should carry: the list goes to a temporary table the read joins (`frames.read_frame_matching`),
on SQLite and on PostgreSQL. Why (a large table is no longer read whole for a file's references):
`benchmarks/bench_refs_lookup.py`; here, that the rows found are exactly the ones named."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy.orm import Session

from recoup.kit import db
from recoup.kit.clock import SettableClock
from recoup.ledger import repository
from tests.factories import add_bill, create_account, create_customer


@pytest.fixture
def long_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every list counts as long: the temporary table's road, not the IN list's."""
    monkeypatch.setattr(repository.LedgerFrames, "SCOPE_LIMIT", 1)


def test_the_customers_named_and_only_those(
    session: Session, clock: SettableClock, long_lists: None
) -> None:
    customers = [create_customer(session, clock) for _ in range(4)]
    named = [customers[0].external_ref, customers[2].external_ref]
    refs = [*named, named[0], "no-such-ref", 'it\'s "quoted",\n新']  # repeats and strangers

    found = repository.customer_ids_by_ref(session, refs)

    assert sorted(found.rows()) == sorted(
        (c.external_ref, c.id) for c in (customers[0], customers[2])
    )


def test_the_same_transaction_looks_up_twice(
    session: Session, clock: SettableClock, long_lists: None
) -> None:
    """The second list replaces the first in the temporary table; nothing of the first is found."""
    a, b = create_customer(session, clock), create_customer(session, clock)

    first = repository.customer_ids_by_ref(session, [a.external_ref, "x"])
    second = repository.customer_ids_by_ref(session, [b.external_ref, "y"])

    assert first.rows() == [(a.external_ref, a.id)]
    assert second.rows() == [(b.external_ref, b.id)]


def test_accounts_too(session: Session, clock: SettableClock, long_lists: None) -> None:
    accounts = [create_account(session, clock) for _ in range(3)]

    found = repository.accounts_by_ref(session, [accounts[1].external_ref, "nope", "另一个"])

    assert found.select("external_ref", "id").rows() == [(accounts[1].external_ref, accounts[1].id)]


def test_bills_of_many_accounts_by_their_ids_inline(
    session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payments file's reallocation reads the bills of its accounts by id however many there
    are (the ids inline past `INLINE_IDS_FROM`), not every bill of the portfolio filtered here."""
    monkeypatch.setattr(db, "INLINE_IDS_FROM", 1)
    accounts = [create_account(session, clock) for _ in range(3)]
    for account in accounts:
        add_bill(session, clock, account, clock.now().date(), 10_000)
        add_bill(session, clock, account, clock.now().date() + dt.timedelta(days=30), 10_000)
    store = repository.LedgerFrames(session)

    wanted = [accounts[0].id, accounts[2].id, 10**9]
    bills = store.bills(wanted)

    every = store.bills(None).filter(pl.col("account_id").is_in(wanted))
    assert bills.height == 4
    assert bills.sort("bill_id").equals(every.sort("bill_id"))
    assert set(bills["account_id"]) == {accounts[0].id, accounts[2].id}


def test_bill_totals_of_more_accounts_than_an_in_list(
    session: Session, clock: SettableClock, long_lists: None
) -> None:
    """A bills file's check reads the bill totals of its accounts by id past `SCOPE_LIMIT` too.
    Fails when the ids go to the temporary table of texts (`_by`), which raised a TypeError for
    every bills file of more than 20,000 accounts (seen once, `bench_import`'s bills file)."""
    accounts = [create_account(session, clock) for _ in range(3)]
    add_bill(session, clock, accounts[0], clock.now().date(), 10_000, interest=150, fees=50)
    add_bill(session, clock, accounts[2], clock.now().date(), 5_000)

    found = repository.bill_totals(session, [accounts[0].id, accounts[2].id, 10**9])

    assert sorted(found.select("account_id", "total_minor").rows()) == sorted(
        [(accounts[0].id, 10_200), (accounts[2].id, 5_000)]
    )

"""A payments file's allocation, bills' caches and credits equal the exact waterfall's, account by
account (`ledger.allocation.allocate`, the per-account replay in Python, as the reference), over a
generated portfolio: several bills an account with components left at zero, partial payments,
overpayments, payments received at the same instant, a product filled component first, closed
accounts, and the bad rows of a file (an unknown account, a duplicate, another currency) reported
with their lines while the good rows are imported; then a second file that repeats rows of the
first (counted as existing), changes one (an error) and adds payments dated before the ones
recorded (the accounts' allocations replaced).

Fails when the set-based waterfall orders payments by id rather than by value date, when it
allocates past an account's dues, or when the writer thread's allocations are not written (each
tried once)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.ingest.importer import Importer, ImportResult
from recoup.kit.clock import SettableClock
from recoup.ledger.allocation import BillDue, PaymentIn, Waterfall, allocate, summarise
from recoup.ledger.service import reallocation
from recoup.models import Account, Allocation, Bill, Payment, Product

NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)
ACCOUNTS = 90
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def received(rng: random.Random) -> str:
    """An instant between January and May, often on the hour (so that payments tie)."""
    day = dt.datetime(2026, 1, 10, 9, tzinfo=SHANGHAI) + dt.timedelta(days=rng.randint(0, 140))
    if rng.random() < 0.5:
        day += dt.timedelta(minutes=rng.randint(0, 600))
    return day.isoformat()


class Portfolio:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.first: list[str] = []
        self.first_errors: set[tuple[int, str]] = set()
        self.first_rows: list[tuple[str, str, int, str, str]] = []

    def customers(self) -> str:
        rows = [f"c{i},Li Na {i},CN" for i in range(ACCOUNTS)]
        return "external_ref,name,jurisdiction\n" + "\n".join(rows) + "\n"

    def accounts(self) -> str:
        rows = []
        for i in range(ACCOUNTS):
            product = ("bnpl", "credit_line", "micro_loan")[i % 3]
            closed = i % 7 == 0
            rows.append(
                f"a{i},c{i},{product},CNY,2026-01-05,"
                + ("2026-04-01,closed" if closed else ",open")
            )
        header = "external_ref,customer_ref,product,currency,opened_date,closed_date,status\n"
        return header + "\n".join(rows) + "\n"

    def bills(self) -> str:
        rng, rows = self.rng, []
        for i in range(ACCOUNTS):
            for k in range(rng.choice([0, 1, 2, 3, 3, 4])):
                due = dt.date(2026, 1, 20) + dt.timedelta(days=30 * k + rng.randint(-3, 3))
                principal = rng.choice([0, 1, 5_000, 30_000, 120_000])
                interest = rng.choice([0, 0, 150, 2_400])
                fees = rng.choice([0, 0, 500])
                principal = principal or (0 if interest + fees else 1)  # something due
                rows.append(f"a{i},b{k},{due},{principal},{interest},{fees}")
        header = "account_ref,external_ref,due_date,principal_minor,interest_minor,fees_minor\n"
        return header + "\n".join(rows) + "\n"

    def payments(self) -> str:
        """The first file: good rows with three bad ones among them (line numbers kept)."""
        rng, rows = self.rng, []
        n = 0
        for i in range(ACCOUNTS):
            for _ in range(rng.choice([0, 1, 2, 3, 5])):
                amount = rng.choice([1, 999, 5_150, 30_000, 60_000, 250_000])  # partial .. over
                rows.append((f"p{n}", f"a{i}", amount, "CNY", received(rng)))
                n += 1
        tie = rows[5]
        rows.append((f"p{n}", tie[1], 777, "CNY", tie[4]))  # received at the same instant
        self.first_rows = list(rows)
        lines: list[str] = [",".join(map(str, r)) for r in rows]
        for position, bad, field in (
            (10, f"p{n + 1},zz9,5000,CNY,{received(rng)}", "account_ref"),
            (20, f"{rows[3][0]},a1,5000,CNY,{received(rng)}", "external_id"),
            (30, f"p{n + 2},a2,5000,USD,{received(rng)}", "currency"),
        ):
            lines.insert(position, bad)
            self.first_errors.add((position + 2, field))  # the header is line 1
        return "external_id,account_ref,amount_minor,currency,received_at\n" + "\n".join(lines)

    def second_payments(self) -> tuple[str, int, set[tuple[int, str]]]:
        """Rows of the first file again, one of them with another amount, and new payments
        dated before the ones recorded. Returns the text, the rows repeated unchanged, and the
        problems."""
        rng = self.rng
        again = rng.sample(self.first_rows, 25)
        changed = again.pop()
        lines = [",".join(map(str, r)) for r in again]
        lines.append(f"{changed[0]},{changed[1]},{changed[2] + 1},CNY,{changed[4]}")
        for n in range(40):
            early = dt.datetime(2026, 1, 6, 9, tzinfo=SHANGHAI) + dt.timedelta(hours=n)
            lines.append(f"q{n},a{rng.randrange(ACCOUNTS)},{rng.choice([300, 40_000])},CNY,{early}")
        header = "external_id,account_ref,amount_minor,currency,received_at\n"
        text = header + "\n".join(lines).replace(" ", "T")
        return text, len(again), {(len(again) + 2, "external_id")}


def assert_as_the_exact_waterfall(session: Session) -> int:
    """Every account's stored allocations, bills' caches and credit are `allocate`'s and
    `summarise`'s over its stored bills and live payments. Returns the allocation lines."""
    waterfalls = {
        p.code: Waterfall.from_config(p.allocation) for p in session.scalars(select(Product))
    }
    lines = 0
    for account in session.scalars(select(Account).order_by(Account.id)):
        bills = session.scalars(select(Bill).where(Bill.account_id == account.id)).all()
        payments = session.scalars(
            select(Payment).where(Payment.account_id == account.id, Payment.reversed_at.is_(None))
        ).all()
        dues = [
            BillDue(b.id, b.due_date, b.fees_minor, b.interest_minor, b.principal_minor)
            for b in bills
        ]
        exact = allocate(
            dues,
            [PaymentIn(p.id, p.value_date, p.amount_minor, p.received_at) for p in payments],
            waterfalls[account.product_code],
        )
        stored = sorted(
            (a.payment_id, a.bill_id, a.component, a.amount_minor, a.value_date)
            for a in session.scalars(select(Allocation).where(Allocation.account_id == account.id))
        )
        expected = sorted(
            (x.payment_id, x.bill_id, x.component, x.amount, x.value_date) for x in exact.lines
        )
        assert stored == expected, account.external_ref
        summary = summarise(exact, dues)
        assert {b.id: (b.paid_minor, b.paid_off_date) for b in bills} == summary
        assert account.credit_minor == exact.credit, account.external_ref
        lines += len(stored)
    return lines


def problems(result: ImportResult) -> set[tuple[int, str]]:
    return {(e.line, e.field) for e in result.errors}


@pytest.mark.parametrize("behind", [False, True], ids=["inline", "writer thread"])
def test_payments_files_allocate_as_the_exact_waterfall(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behind: bool
) -> None:
    # `True`: the allocations are written by the writer thread however few they are.
    monkeypatch.setattr(reallocation, "LINES_BEHIND", 0 if behind else 10**9)
    product = session.get(Product, "micro_loan")
    assert product is not None
    product.allocation = {
        "order": "component_first",
        "components": ["principal", "interest", "fees"],
    }
    session.flush()
    importer = Importer(session, clock=SettableClock(NOW))
    portfolio = Portfolio(seed=23)
    for name, text in (
        ("customers.csv", portfolio.customers()),
        ("accounts.csv", portfolio.accounts()),
        ("bills.csv", portfolio.bills()),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = importer.import_file(tmp_path / name)
        assert result.errors == [], result.errors[:3]

    first = tmp_path / "payments.csv"
    first.write_text(portfolio.payments(), encoding="utf-8")
    refused = importer.import_file(first)
    assert refused.imported == 0
    assert problems(refused) == portfolio.first_errors
    assert session.scalars(select(Payment.id)).first() is None  # nothing half-imported

    result = importer.import_file(first, skip_invalid=True)
    assert problems(result) == portfolio.first_errors
    assert result.imported == len(portfolio.first_rows)
    lines = assert_as_the_exact_waterfall(session)
    assert lines > 150
    closed = session.scalars(select(Account).where(Account.status == "closed")).all()
    assert any(a.credit_minor > 0 for a in closed)  # money on a closed account is credit
    assert session.scalars(select(Account).where(Account.credit_minor > 0)).first()
    assert session.scalars(select(Bill).where(Bill.paid_off_date.is_not(None))).first()
    assert session.scalars(
        select(Bill).where(Bill.paid_minor > 0, Bill.paid_off_date.is_(None))
    ).first()  # a bill partly paid

    again = importer.import_file(first, skip_invalid=True)
    assert (again.imported, again.existing) == (0, len(portfolio.first_rows))
    assert_as_the_exact_waterfall(session)

    text, repeated, expected_problems = portfolio.second_payments()
    second = tmp_path / "payments_2.csv"
    second.write_text(text, encoding="utf-8")
    before = {a.id for a in session.scalars(select(Allocation))}
    result = importer.import_file(second, skip_invalid=True)
    assert problems(result) == expected_problems
    assert (result.imported, result.existing) == (40, repeated)
    assert_as_the_exact_waterfall(session)
    # The accounts paid earlier than recorded had their allocations replaced, not added to.
    assert before - {a.id for a in session.scalars(select(Allocation))}

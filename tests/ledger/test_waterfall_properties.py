"""The waterfall's invariants on random accounts, and the set-based version equal to the exact one."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from recoup.ledger.allocation import (
    COMPONENTS,
    BillDue,
    PaymentIn,
    Waterfall,
    WaterfallOrder,
    allocate,
    allocate_frames,
    summarise,
    summarise_frames,
)

DAY0 = dt.date(2026, 1, 1)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

amounts = st.integers(min_value=0, max_value=50_000)
waterfalls = st.builds(
    Waterfall,
    order=st.sampled_from(list(WaterfallOrder)),
    components=st.permutations(COMPONENTS).map(tuple),
)


@st.composite
def accounts(draw: st.DrawFn) -> tuple[list[BillDue], list[PaymentIn]]:
    bills = [
        BillDue(
            i,
            DAY0 + dt.timedelta(days=draw(st.integers(0, 120))),
            draw(amounts),
            draw(amounts),
            draw(amounts),
        )
        for i in range(1, draw(st.integers(0, 6)) + 1)
    ]
    payments = [
        PaymentIn(
            100 + i,
            DAY0 + dt.timedelta(days=draw(st.integers(0, 150))),
            draw(st.integers(1, 80_000)),
            T0 + dt.timedelta(minutes=draw(st.integers(0, 10_000))),
        )
        for i in range(draw(st.integers(0, 6)))
    ]
    return bills, payments


def due_of(bill: BillDue, component: str) -> int:
    return bill.component(component)


class TestWaterfallInvariants:
    @settings(max_examples=300, deadline=None)
    @given(account=accounts(), waterfall=waterfalls)
    def test_money_is_conserved_and_nothing_is_overpaid(
        self, account: tuple[list[BillDue], list[PaymentIn]], waterfall: Waterfall
    ) -> None:
        bills, payments = account
        result = allocate(bills, payments, waterfall)
        paid = sum(p.amount for p in payments)
        due = sum(b.fees + b.interest + b.principal for b in bills)
        allocated = sum(line.amount for line in result.lines)
        assert allocated + result.credit == paid
        assert allocated == min(paid, due)
        for payment in payments:
            assert (
                sum(x.amount for x in result.lines if x.payment_id == payment.payment_id)
                <= payment.amount
            )
        for bill in bills:
            for component in COMPONENTS:
                taken = sum(
                    x.amount
                    for x in result.lines
                    if x.bill_id == bill.bill_id and x.component == component
                )
                assert 0 <= taken <= due_of(bill, component)
        assert all(line.amount > 0 for line in result.lines)

    @settings(max_examples=200, deadline=None)
    @given(account=accounts(), waterfall=waterfalls, data=st.data())
    def test_order_of_arrival_does_not_matter(
        self,
        account: tuple[list[BillDue], list[PaymentIn]],
        waterfall: Waterfall,
        data: st.DataObject,
    ) -> None:
        bills, payments = account
        shuffled = data.draw(st.permutations(payments))
        assert (
            allocate(bills, payments, waterfall).lines == allocate(bills, shuffled, waterfall).lines
        )

    @settings(max_examples=200, deadline=None)
    @given(account=accounts(), waterfall=waterfalls, data=st.data())
    def test_a_reversal_equals_never_having_had_the_payment(
        self,
        account: tuple[list[BillDue], list[PaymentIn]],
        waterfall: Waterfall,
        data: st.DataObject,
    ) -> None:
        bills, payments = account
        if not payments:
            return
        gone = data.draw(st.sampled_from(payments))
        rest = [p for p in payments if p is not gone]
        replayed = allocate(bills, rest, waterfall)
        assert all(line.payment_id != gone.payment_id for line in replayed.lines)
        assert sum(x.amount for x in replayed.lines) + replayed.credit == sum(
            p.amount for p in rest
        )

    def test_default_waterfall_pays_oldest_bill_first_fees_before_principal(self) -> None:
        bills = [
            BillDue(2, DAY0 + dt.timedelta(days=30), 10, 20, 300),
            BillDue(1, DAY0, 5, 15, 100),
        ]
        result = allocate(bills, [PaymentIn(9, DAY0, 130, T0)], Waterfall())
        assert [(x.bill_id, x.component, x.amount) for x in result.lines] == [
            (1, "fees", 5),
            (1, "interest", 15),
            (1, "principal", 100),
            (2, "fees", 10),
        ]

    def test_component_first_pays_every_bills_fees_before_any_principal(self) -> None:
        bills = [BillDue(1, DAY0, 5, 0, 100), BillDue(2, DAY0 + dt.timedelta(days=30), 10, 0, 300)]
        waterfall = Waterfall(order=WaterfallOrder.component_first)
        result = allocate(bills, [PaymentIn(9, DAY0, 20, T0)], waterfall)
        assert [(x.bill_id, x.component, x.amount) for x in result.lines] == [
            (1, "fees", 5),
            (2, "fees", 10),
            (1, "principal", 5),
        ]


def frames_of(
    accounts_: list[tuple[list[BillDue], list[PaymentIn]]], products: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    bill_rows, pay_rows = [], []
    for n, (bills, payments) in enumerate(accounts_):
        for b in bills:
            bill_rows.append(
                {
                    "account_id": n,
                    "product_code": products[n],
                    "bill_id": n * 1000 + b.bill_id,
                    "due_date": b.due_date,
                    "fees": b.fees,
                    "interest": b.interest,
                    "principal": b.principal,
                }
            )
        for p in payments:
            pay_rows.append(
                {
                    "account_id": n,
                    "payment_id": n * 1000 + p.payment_id,
                    "value_date": p.value_date,
                    "received_at": p.received_at,
                    "amount": p.amount,
                }
            )
    bill_schema = {
        "account_id": pl.Int64,
        "product_code": pl.String,
        "bill_id": pl.Int64,
        "due_date": pl.Date,
        "fees": pl.Int64,
        "interest": pl.Int64,
        "principal": pl.Int64,
    }
    pay_schema = {
        "account_id": pl.Int64,
        "payment_id": pl.Int64,
        "value_date": pl.Date,
        "received_at": pl.Datetime("us", "UTC"),
        "amount": pl.Int64,
    }
    return pl.DataFrame(bill_rows, schema=bill_schema), pl.DataFrame(pay_rows, schema=pay_schema)


class TestSetBasedEqualsExact:
    @settings(max_examples=60, deadline=None)
    @given(
        portfolio=st.lists(accounts(), min_size=1, max_size=8),
        by_product=st.dictionaries(
            st.sampled_from(["bnpl", "credit_line"]), waterfalls, min_size=2, max_size=2
        ),
        data=st.data(),
    )
    def test_allocate_frames_equals_allocate_for_every_account(
        self,
        portfolio: list[tuple[list[BillDue], list[PaymentIn]]],
        by_product: dict[str, Waterfall],
        data: st.DataObject,
    ) -> None:
        products = [data.draw(st.sampled_from(sorted(by_product))) for _ in portfolio]
        bills, payments = frames_of(portfolio, products)
        lines, credits = allocate_frames(bills, payments, by_product)
        summaries = summarise_frames(
            lines,
            bills.select(
                "bill_id", amount_due=pl.col("fees") + pl.col("interest") + pl.col("principal")
            ),
        )
        for n, (account_bills, account_payments) in enumerate(portfolio):
            exact = allocate(account_bills, account_payments, by_product[products[n]])
            expected: dict[tuple[int, int, str], int] = {}
            for x in exact.lines:
                key = (n * 1000 + x.payment_id, n * 1000 + x.bill_id, x.component)
                expected[key] = expected.get(key, 0) + x.amount
            got = {
                (r["payment_id"], r["bill_id"], r["component"]): r["amount"]
                for r in lines.filter(pl.col("account_id") == n).iter_rows(named=True)
            }
            assert got == expected
            credit = credits.filter(pl.col("account_id") == n)["credit"].sum()
            assert credit == exact.credit
            exact_summary = summarise(exact, account_bills)
            for bill_id, (paid, off) in exact_summary.items():
                row = summaries.filter(pl.col("bill_id") == n * 1000 + bill_id).row(0, named=True)
                assert (row["paid"], row["paid_off_date"]) == (paid, off)

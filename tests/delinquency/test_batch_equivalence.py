"""The set-based portfolio pass computes exactly what the per-account engine computes."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from recoup.delinquency.batch import compute_states, scheme_key
from recoup.delinquency.engine import (
    AccountAging,
    AgingRules,
    BillAmount,
    BucketScheme,
    PaidLine,
    Pause,
)

DAY0 = dt.date(2026, 1, 1)
day_offsets = st.integers(min_value=0, max_value=200)
schemes = st.sampled_from(
    [BucketScheme(), BucketScheme((1, 8, 31)), BucketScheme((1, 31, 61, 91, 121, 151))]
)


@st.composite
def account(draw: st.DrawFn) -> tuple[list[BillAmount], list[PaidLine], list[Pause], AgingRules]:
    bills = [
        BillAmount(i, DAY0 + dt.timedelta(days=draw(day_offsets)), draw(st.integers(0, 10_000)))
        for i in range(1, draw(st.integers(0, 5)) + 1)
    ]
    paid = [
        PaidLine(
            b.bill_id, DAY0 + dt.timedelta(days=draw(day_offsets)), draw(st.integers(1, 6_000))
        )
        for b in bills
        for _ in range(draw(st.integers(0, 2)))
    ]
    pauses: list[Pause] = []
    cursor = DAY0 + dt.timedelta(days=draw(st.integers(0, 60)))
    for _ in range(draw(st.integers(0, 2))):
        length = draw(st.integers(0, 30))
        open_ended = draw(st.booleans()) and not pauses
        end = None if open_ended else cursor + dt.timedelta(days=length)
        pauses.append(Pause(cursor, end))
        if end is None:
            break
        cursor = end + dt.timedelta(days=draw(st.integers(1, 40)))
    rules = AgingRules(grace_days=draw(st.integers(0, 5)), scheme=draw(schemes))
    return bills, paid, pauses, rules


def frames(
    portfolio: list[tuple[list[BillAmount], list[PaidLine], list[Pause], AgingRules]],
) -> dict[str, pl.LazyFrame]:
    accounts, bills, paid, pauses = [], [], [], []
    for n, (account_bills, lines, account_pauses, rules) in enumerate(portfolio):
        accounts.append(
            {"account_id": n, "grace_days": rules.grace_days, "scheme": scheme_key(rules.scheme)}
        )
        bills += [
            {
                "account_id": n,
                "bill_id": n * 100 + b.bill_id,
                "due_date": b.due_date,
                "amount_due": b.amount_due,
            }
            for b in account_bills
        ]
        paid += [
            {
                "account_id": n,
                "bill_id": n * 100 + x.bill_id,
                "value_date": x.value_date,
                "amount": x.amount,
            }
            for x in lines
        ]
        pauses += [
            {"account_id": n, "start_date": p.start, "end_date": p.end} for p in account_pauses
        ]
    return {
        "accounts": pl.LazyFrame(
            accounts, schema={"account_id": pl.Int64, "grace_days": pl.Int32, "scheme": pl.String}
        ),
        "bills": pl.LazyFrame(
            bills,
            schema={
                "account_id": pl.Int64,
                "bill_id": pl.Int64,
                "due_date": pl.Date,
                "amount_due": pl.Int64,
            },
        ),
        "paid": pl.LazyFrame(
            paid,
            schema={
                "account_id": pl.Int64,
                "bill_id": pl.Int64,
                "value_date": pl.Date,
                "amount": pl.Int64,
            },
        ),
        "payments": pl.LazyFrame(
            schema={"account_id": pl.Int64, "value_date": pl.Date, "amount": pl.Int64}
        ),
        "pauses": pl.LazyFrame(
            pauses, schema={"account_id": pl.Int64, "start_date": pl.Date, "end_date": pl.Date}
        ),
    }


class TestBatchEqualsEngine:
    @settings(max_examples=150, deadline=None)
    @given(portfolio=st.lists(account(), min_size=1, max_size=10), as_of=day_offsets)
    def test_states_agree_for_every_account(
        self,
        portfolio: list[tuple[list[BillAmount], list[PaidLine], list[Pause], AgingRules]],
        as_of: int,
    ) -> None:
        day = DAY0 + dt.timedelta(days=as_of)
        f = frames(portfolio)
        keys = sorted({scheme_key(rules.scheme) for *_, rules in portfolio})
        batch = compute_states(
            day, f["accounts"], f["bills"], f["paid"], f["payments"], f["pauses"], keys
        )
        rows = {r["account_id"]: r for r in batch.iter_rows(named=True)}
        for n, (bills, lines, pauses, rules) in enumerate(portfolio):
            exact = AccountAging(bills, lines, pauses, rules).state(day)
            got = rows[n]
            assert (got["dpd"], got["bucket"], got["overdue_minor"], got["outstanding_minor"]) == (
                exact.dpd,
                exact.bucket,
                exact.overdue,
                exact.outstanding,
            ), (n, day)
            assert got["oldest_unpaid_due_date"] == exact.oldest_unpaid_due_date


class TestEngineConsistency:
    @settings(max_examples=100, deadline=None)
    @given(acct=account())
    def test_history_replays_the_daily_states(
        self, acct: tuple[list[BillAmount], list[PaidLine], list[Pause], AgingRules]
    ) -> None:
        bills, lines, pauses, rules = acct
        aging = AccountAging(bills, lines, pauses, rules)
        end = DAY0 + dt.timedelta(days=220)
        changes = {c.effective_date: c for c in aging.history(DAY0, end, bucket_before=None)}
        bucket = None
        day = DAY0
        while day <= end:
            state = aging.state(day)
            assert aging.dpd(day) == state.dpd
            if state.bucket != bucket:
                assert changes[day].to_bucket == state.bucket
                bucket = state.bucket
            else:
                assert day not in changes
            day += dt.timedelta(days=1)

    @settings(max_examples=100, deadline=None)
    @given(acct=account(), offset=day_offsets, amount=st.integers(1, 10_000))
    def test_a_backdated_payment_changes_nothing_before_its_value_date(
        self,
        acct: tuple[list[BillAmount], list[PaidLine], list[Pause], AgingRules],
        offset: int,
        amount: int,
    ) -> None:
        bills, lines, pauses, rules = acct
        if not bills:
            return
        value_date = DAY0 + dt.timedelta(days=offset)
        before = AccountAging(bills, lines, pauses, rules)
        after = AccountAging(
            bills, [*lines, PaidLine(bills[0].bill_id, value_date, amount)], pauses, rules
        )
        day = DAY0
        while day < value_date:
            assert before.state(day) == after.state(day)
            day += dt.timedelta(days=1)

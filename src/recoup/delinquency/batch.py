"""The delinquency pass over a whole portfolio, set-based in Polars.

Same semantics as `engine.py` (see its docstring); a property test holds the two equal. Inputs are
frames the service reads in bulk; the output is one row per account.

    accounts: account_id i64, grace_days i32, scheme str        (scheme: comma-joined bucket bounds)
              [credit_minor i64: the credit as of the day, when the caller knows it; otherwise it is
               received minus allocated from `payments` and `paid`]
    bills:    account_id i64, bill_id i64, due_date date, amount_due i64
    paid:     account_id i64, bill_id i64, value_date date, amount i64   (allocations)
    payments: account_id i64, value_date date, amount i64              (live payments)
    pauses:   account_id i64, start_date date, end_date date|null      (not overlapping per account)
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from recoup.delinquency.engine import BucketScheme

STATE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "account_id": pl.Int64,
    "dpd": pl.Int32,
    "bucket": pl.String,
    "oldest_unpaid_due_date": pl.Date,
    "overdue_minor": pl.Int64,
    "outstanding_minor": pl.Int64,
    "credit_minor": pl.Int64,
}


def scheme_key(scheme: BucketScheme) -> str:
    return ",".join(str(b) for b in scheme.bounds)


def bucket_expr(dpd: pl.Expr, schemes: list[str]) -> pl.Expr:
    """Label per account from its scheme; a handful of schemes, so a when/then chain per scheme."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for key in schemes:
        scheme = BucketScheme(tuple(int(b) for b in key.split(",")))
        labels = scheme.labels
        by_dpd = pl.lit(labels[0])
        for bound, label in zip(scheme.bounds, labels[1:], strict=True):
            by_dpd = pl.when(dpd >= bound).then(pl.lit(label)).otherwise(by_dpd)
        expr = pl.when(pl.col("scheme") == key).then(by_dpd).otherwise(expr)
    return expr


def compute_states(
    as_of: dt.date,
    accounts: pl.LazyFrame,
    bills: pl.LazyFrame,
    paid: pl.LazyFrame,
    payments: pl.LazyFrame,
    pauses: pl.LazyFrame,
    schemes: list[str],
) -> pl.DataFrame:
    day = pl.lit(as_of, dtype=pl.Date)
    known_credit = "credit_minor" in accounts.collect_schema()
    paid_by_bill = (
        paid.filter(pl.col("value_date") <= day)
        .group_by("bill_id")
        .agg(pl.col("amount").sum().alias("paid"))
    )
    open_bills = (
        bills.join(paid_by_bill, on="bill_id", how="left")
        .with_columns(remaining=pl.col("amount_due") - pl.col("paid").fill_null(0))
        .filter(pl.col("remaining") > 0)
    )
    overdue = pl.col("due_date") < day
    per_account = open_bills.group_by("account_id").agg(
        outstanding_minor=pl.col("remaining").sum(),
        overdue_minor=pl.col("remaining").filter(overdue).sum(),
        oldest_unpaid_due_date=pl.col("due_date").filter(overdue).min(),
    )
    received = (
        payments.filter(pl.col("value_date") <= day)
        .group_by("account_id")
        .agg(received=pl.col("amount").sum())
    )
    allocated = (
        paid.filter(pl.col("value_date") <= day)
        .group_by("account_id")
        .agg(allocated=pl.col("amount").sum())
    )
    base = (
        accounts.join(per_account, on="account_id", how="left")
        .join(received, on="account_id", how="left")
        .join(allocated, on="account_id", how="left")
    )
    oldest = pl.col("oldest_unpaid_due_date")
    paused = (
        pauses.join(
            base.select("account_id", "oldest_unpaid_due_date").filter(oldest.is_not_null()),
            on="account_id",
        )
        .with_columns(
            lo=pl.max_horizontal(pl.col("start_date"), oldest + pl.duration(days=1)),
            hi=pl.min_horizontal(pl.col("end_date").fill_null(day), day),
        )
        .with_columns(
            days=pl.when(pl.col("hi") >= pl.col("lo"))
            .then((pl.col("hi") - pl.col("lo")).dt.total_days() + 1)
            .otherwise(0)
        )
        .group_by("account_id")
        .agg(paused=pl.col("days").sum())
    )
    raw = (day - oldest).dt.total_days() - pl.col("paused").fill_null(0)
    return (
        base.join(paused, on="account_id", how="left")
        .with_columns(
            dpd=pl.when(oldest.is_null() | (raw <= pl.col("grace_days")))
            .then(0)
            .otherwise(raw)
            .cast(pl.Int32)
        )
        .with_columns(
            bucket=bucket_expr(pl.col("dpd"), schemes),
            overdue_minor=pl.col("overdue_minor").fill_null(0),
            outstanding_minor=pl.col("outstanding_minor").fill_null(0),
            credit_minor=pl.col("credit_minor").fill_null(0)
            if known_credit
            else pl.col("received").fill_null(0) - pl.col("allocated").fill_null(0),
        )
        .select(list(STATE_SCHEMA))
        .collect()
    )

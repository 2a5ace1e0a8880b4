"""The features the risk models learn from and score on: ONE definition, used for training (many
snapshot dates at once) and for the daily run (one date), computed set-based from the history's
frames AS OF each date. Pure: frames in, frames out.

No leakage: a feature as of D reads only what was known on D.
- bills: due on or before D count as due (paid by D or overdue: a bill recorded late for a past
  due date counts, the ledger restating history); due later, as scheduled, and only when recorded
  on or before D (`created_date`);
- allocations and payments: value date on or before D (a payment reversed after D was live on D);
- bucket history, contact events, call results, replies, pay-link opens: dated on or before D;
- arrangements: made on or before D; broken or kept on or before D; a plan active on D;
- pauses: started on or before D, not ended or cancelled before D.
`tests/risk/test_features.py` adds rows dated after D to every frame and finds every feature
unchanged.

Not features, on purpose: sex and age (and anything standing for them). Using them would make a
person's treatment depend on who they are rather than on what they did; they are kept for the
fairness report only (see docs/models.md).

Amounts are `log1p` of minor units (the currency's scale is the same for an account's lifetime;
the trees only need the order). `bucket` and `product` are categorical; the rest numeric.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import polars as pl

KINDS = ("p_pay", "p_roll")
CONTACT_LOOKBACK = 365  # days: an older last contact reads as none
CALLS_ANSWERED = ("connected", "conversation")


@dataclass(frozen=True)
class Feature:
    kind: str  # "numeric" | "categorical"
    description: str


FEATURES: dict[str, Feature] = {
    "on_time_ratio_180d": Feature(
        "numeric", "share of bills due in the last 180 days paid in full by their due date"
    ),
    "max_days_late_180d": Feature(
        "numeric", "most days late of a bill due in the last 180 days (unpaid: late until D)"
    ),
    "mean_days_late_180d": Feature(
        "numeric", "mean days late of the bills due in the last 180 days"
    ),
    "partial_bills_180d": Feature(
        "numeric", "bills due in the last 180 days part-paid by their due date"
    ),
    "promises_made_60d": Feature("numeric", "promises to pay made in the last 60 days"),
    "promises_broken_60d": Feature("numeric", "promises broken in the last 60 days"),
    "promises_kept_60d": Feature("numeric", "promises kept in the last 60 days"),
    "days_since_last_payment": Feature(
        "numeric", "days since the last live payment (null: never paid)"
    ),
    "payments_30d": Feature("numeric", "live payments in the last 30 days"),
    "overdue_log": Feature("numeric", "log1p of the overdue amount (minor units) on D"),
    "outstanding_log": Feature(
        "numeric", "log1p of the outstanding amount (overdue plus scheduled)"
    ),
    "overdue_ratio": Feature("numeric", "overdue / outstanding"),
    "bills_overdue": Feature("numeric", "bills due on or before D not paid by D"),
    "dpd": Feature(
        "numeric",
        "days past due of the oldest bill unpaid on D (from the bills; pauses not deducted)",
    ),
    "bucket": Feature(
        "categorical",
        "the delinquency bucket on D (the bucket history's last change on or before D)",
    ),
    "product": Feature("categorical", "the account's product"),
    "tenure_days": Feature("numeric", "days since the account was opened"),
    "contacts_delivered_30d": Feature("numeric", "messages delivered in the last 30 days"),
    "link_opens_30d": Feature(
        "numeric", "payment links opened (a payment started from the portal) in the last 30 days"
    ),
    "conversations_30d": Feature(
        "numeric", "calls answered (connected or a conversation) in the last 30 days"
    ),
    "replies_30d": Feature("numeric", "messages the customer sent us in the last 30 days"),
    "days_since_last_contact": Feature(
        "numeric", "days since the last contact sent (null: none within 365 days)"
    ),
    "plan_active": Feature("numeric", "1 when a payment plan is active on D"),
    "hardship_open": Feature("numeric", "1 when a hardship pause holds on D"),
    "dispute_open": Feature("numeric", "1 when a dispute pause holds on D"),
}
CATEGORICAL = tuple(n for n, f in FEATURES.items() if f.kind == "categorical")

# Monotone constraints that make sense (+1: the probability rises with the feature).
MONOTONE: dict[str, dict[str, int]] = {
    "p_pay": {"promises_broken_60d": -1, "on_time_ratio_180d": 1, "max_days_late_180d": -1},
    "p_roll": {"promises_broken_60d": 1, "on_time_ratio_180d": -1, "max_days_late_180d": 1},
}

# The frames a history is made of (the repository reads them; tests build them by hand).
SCHEMAS: dict[str, dict[str, pl.DataType | type[pl.DataType]]] = {
    "accounts": {"account_id": pl.Int64, "customer_id": pl.Int64, "product": pl.String, "opened_date": pl.Date, "closed_date": pl.Date},
    "bills": {"bill_id": pl.Int64, "account_id": pl.Int64, "due_date": pl.Date, "amount_minor": pl.Int64, "created_date": pl.Date},
    "allocations": {"bill_id": pl.Int64, "amount_minor": pl.Int64, "value_date": pl.Date},
    "payments": {"account_id": pl.Int64, "amount_minor": pl.Int64, "value_date": pl.Date, "reversed_date": pl.Date},
    "buckets": {"account_id": pl.Int64, "effective_date": pl.Date, "to_bucket": pl.String},
    "contacts": {"account_id": pl.Int64, "day": pl.Date, "status": pl.String},
    "calls": {"account_id": pl.Int64, "day": pl.Date, "result": pl.String},
    "intents": {"account_id": pl.Int64, "day": pl.Date},
    "inbound": {"customer_id": pl.Int64, "day": pl.Date},
    "arrangements": {"account_id": pl.Int64, "kind": pl.String, "status": pl.String, "start_date": pl.Date, "ended_on": pl.Date},
    "pauses": {"account_id": pl.Int64, "kind": pl.String, "start_date": pl.Date, "end_date": pl.Date, "cancelled_date": pl.Date},
}  # fmt: skip


@dataclass(frozen=True)
class History:
    """What Recoup knows of its accounts, one frame per kind of row (columns as `SCHEMAS`)."""

    accounts: pl.DataFrame
    bills: pl.DataFrame
    allocations: pl.DataFrame
    payments: pl.DataFrame
    buckets: pl.DataFrame
    contacts: pl.DataFrame
    calls: pl.DataFrame
    intents: pl.DataFrame
    inbound: pl.DataFrame
    arrangements: pl.DataFrame
    pauses: pl.DataFrame

    @classmethod
    def empty(cls) -> History:
        return cls(**{name: pl.DataFrame(schema=schema) for name, schema in SCHEMAS.items()})

    def of_accounts(self, account_ids: Collection[int]) -> History:
        """The rows of those accounts alone: the frames keyed by account by its id, the
        allocations by their bills', the customers' replies by the accounts' customers. No
        feature of an account reads anything else (`compute`)."""
        ids = pl.Series(sorted(account_ids), dtype=pl.Int64).implode()
        accounts = self.accounts.filter(pl.col("account_id").is_in(ids))
        bills = self.bills.filter(pl.col("account_id").is_in(ids))
        keys = {
            "account_id": ids,
            "customer_id": accounts["customer_id"].unique().implode(),
            "bill_id": bills["bill_id"].implode(),
        }
        out = {"accounts": accounts, "bills": bills}
        for name in SCHEMAS.keys() - out.keys():
            frame: pl.DataFrame = getattr(self, name)
            key = next(k for k in keys if k in frame.columns)
            out[name] = frame.filter(pl.col(key).is_in(keys[key]))
        return History(**out)


def compute(history: History, dates: Sequence[dt.date], *, kind: str | None = None) -> pl.DataFrame:
    """One row per account open on each date: account_id, customer_id, as_of_date, every feature
    of `FEATURES`, and the raw `overdue_minor` and `outstanding_minor` (the populations' tests).

    `kind`: only the rows of that kind's `population`, the same rows and values as filtering the
    whole result, at a fraction of the cost: the balances are computed first and the rest only
    for the accounts owing (a training frame's snapshots are mostly of accounts owing nothing).
    Exact because no feature of an (account, date) depends on another account's rows."""
    snaps = _snapshots(history, dates)
    if snaps.height == 0:
        return _empty(snaps)
    keys = snaps.lazy().select("account_id", "as_of_date")
    balances = _bill_features(history, keys)
    if kind is not None:
        # An (account, date) with no bill row owes nothing: in no population.
        balances = balances.filter(population(kind)).collect().lazy()
        snaps = snaps.join(
            balances.select("account_id", "as_of_date").collect(), on=["account_id", "as_of_date"]
        )
        if snaps.height == 0:
            return _empty(snaps)
        keys = snaps.lazy().select("account_id", "as_of_date")
    d = pl.col("as_of_date")
    out = (
        snaps.lazy()
        .join(balances, on=["account_id", "as_of_date"], how="left")
        .join(_payment_features(history, keys), on=["account_id", "as_of_date"], how="left")
        .join(_bucket(history, keys), on=["account_id", "as_of_date"], how="left")
        .join(_arrangement_features(history, keys), on=["account_id", "as_of_date"], how="left")
        .join(_pause_features(history, keys), on=["account_id", "as_of_date"], how="left")
        .join(_contact_features(history, keys), on=["account_id", "as_of_date"], how="left")
        .join(_reply_counts(history, snaps), on=["account_id", "as_of_date"], how="left")
        .with_columns(
            pl.col(
                "overdue_minor", "outstanding_minor", "bills_overdue", "partial_bills_180d"
            ).fill_null(0),
            pl.col(
                "promises_made_60d",
                "promises_broken_60d",
                "promises_kept_60d",
                "payments_30d",
                "contacts_delivered_30d",
                "link_opens_30d",
                "conversations_30d",
                "replies_30d",
                "plan_active",
                "hardship_open",
                "dispute_open",
            ).fill_null(0),
            pl.col("bucket").fill_null("M0"),
            tenure_days=(d - pl.col("opened_date")).dt.total_days(),
            dpd=pl.when(pl.col("oldest_unpaid").is_null())
            .then(0)
            .otherwise((d - pl.col("oldest_unpaid")).dt.total_days()),
            days_since_last_payment=(d - pl.col("last_payment")).dt.total_days(),
            days_since_last_contact=(d - pl.col("last_contact")).dt.total_days(),
        )
        .with_columns(
            overdue_log=pl.col("overdue_minor").clip(0).cast(pl.Float64).log1p(),
            outstanding_log=pl.col("outstanding_minor").clip(0).cast(pl.Float64).log1p(),
            overdue_ratio=pl.when(pl.col("outstanding_minor") > 0)
            .then(pl.col("overdue_minor") / pl.col("outstanding_minor"))
            .otherwise(0.0),
        )
        .select(
            "account_id",
            "customer_id",
            "as_of_date",
            *(pl.col(n) if n in CATEGORICAL else pl.col(n).cast(pl.Float64) for n in FEATURES),
            pl.col("overdue_minor").cast(pl.Int64),
            pl.col("outstanding_minor").cast(pl.Int64),
        )
        .sort("as_of_date", "account_id")
    )
    return out.collect()


def _empty(snaps: pl.DataFrame) -> pl.DataFrame:
    return snaps.select("account_id", "customer_id", "as_of_date").with_columns(
        **{n: pl.lit(None, pl.String if n in CATEGORICAL else pl.Float64) for n in FEATURES},
        overdue_minor=pl.lit(None, pl.Int64),
        outstanding_minor=pl.lit(None, pl.Int64),
    )


def population(kind: str) -> pl.Expr:
    """The accounts a kind of model is trained on and scores: p_pay those with money overdue
    (paying what is overdue means nothing otherwise), p_roll those owing anything."""
    if kind == "p_pay":
        return pl.col("overdue_minor") > 0
    if kind == "p_roll":
        return pl.col("outstanding_minor") > 0
    raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")


def labels(
    history: History, features: pl.DataFrame, *, kind: str, horizon_days: int
) -> pl.DataFrame:
    """`features` (from `compute`) restricted to the kind's population, with `label` (0/1) from
    what happened in the `horizon_days` after each snapshot: p_pay, the account paid at least
    what was overdue on D (live payments valued in (D, D+h]) or the bills due by D were all paid
    by D+h; p_roll, its bucket rose above D's in (D, D+h]."""
    frame = features.filter(population(kind))
    if frame.height == 0:
        return frame.with_columns(label=pl.lit(None, pl.Int8))
    h = dt.timedelta(days=horizon_days)
    keys = frame.lazy().select("account_id", "as_of_date", "overdue_minor", "bucket")
    d = pl.col("as_of_date")
    if kind == "p_pay":
        paid = (
            keys.join(history.payments.lazy(), on="account_id", how="inner")
            .filter(
                (pl.col("value_date") > d)
                & (pl.col("value_date") <= d + h)
                & (pl.col("reversed_date").is_null() | (pl.col("reversed_date") > d + h))
            )
            .group_by("account_id", "as_of_date")
            .agg(pl.col("amount_minor").sum().alias("paid_after"))
        )
        later = (
            _bill_state(history, keys.select("account_id", "as_of_date"), at=d + h, due_by=d)
            .group_by("account_id", "as_of_date")
            .agg(pl.col("unpaid").clip(0).sum().alias("left_after"))
        )
        out = (
            keys.join(paid, on=["account_id", "as_of_date"], how="left")
            .join(later, on=["account_id", "as_of_date"], how="left")
            .select(
                "account_id",
                "as_of_date",
                label=(
                    (pl.col("paid_after").fill_null(0) >= pl.col("overdue_minor"))
                    | (pl.col("left_after").fill_null(0) <= 0)
                ).cast(pl.Int8),
            )
        )
    elif kind == "p_roll":
        rose = (
            keys.join(history.buckets.lazy(), on="account_id", how="inner")
            .filter((pl.col("effective_date") > d) & (pl.col("effective_date") <= d + h))
            .filter(_rank(pl.col("to_bucket")) > _rank(pl.col("bucket")))
            .select("account_id", "as_of_date")
            .unique()
            .with_columns(label=pl.lit(1, pl.Int8))
        )
        out = (
            keys.select("account_id", "as_of_date")
            .join(rose, on=["account_id", "as_of_date"], how="left")
            .with_columns(pl.col("label").fill_null(0))
        )
    else:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    return frame.join(out.collect(), on=["account_id", "as_of_date"], how="left")


def _rank(bucket: pl.Expr) -> pl.Expr:
    """M0 < M1 < ... < M3 < M3+ (the scheme's labels; anything else ranks as current)."""
    parts = bucket.str.extract_groups(r"^M(\d+)(\+?)$")
    n = parts.struct.field("1").cast(pl.Int64, strict=False)
    plus = (parts.struct.field("2") == "+").cast(pl.Int64)
    return (n * 2 + plus).fill_null(0)


def _snapshots(history: History, dates: Sequence[dt.date]) -> pl.DataFrame:
    days = pl.DataFrame({"as_of_date": sorted(set(dates))}, schema={"as_of_date": pl.Date})
    d = pl.col("as_of_date")
    return (
        history.accounts.join(days, how="cross")
        .filter(
            (pl.col("opened_date") <= d)
            & (pl.col("closed_date").is_null() | (pl.col("closed_date") > d))
        )
        .select("account_id", "customer_id", "as_of_date", "product", "opened_date")
    )


def _running(history: History) -> pl.DataFrame:
    """Per bill and value date, `paid`: the bill's allocations valued on or before that date (the
    running total), sorted by value date for the as-of joins."""
    return (
        history.allocations.lazy()
        .sort("bill_id", "value_date")
        .group_by("bill_id", "value_date", maintain_order=True)
        .agg(pl.col("amount_minor").sum())
        .with_columns(paid=pl.col("amount_minor").cum_sum().over("bill_id"))
        .select("bill_id", "value_date", "paid")
        .sort("value_date")
        .collect()
    )


def _paid_by(
    history: History,
    pairs: pl.LazyFrame,
    at_column: str,
    running: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """`pairs` (bill_id and a date column `at_column`) with `paid`: the bill's allocations valued
    on or before that date (an as-of join on the bill's running total, `_running`: computed once
    by a caller that joins it more than once)."""
    totals = (running if running is not None else _running(history)).lazy()
    return (
        pairs.sort(at_column)
        .join_asof(
            totals, left_on=at_column, right_on="value_date", by="bill_id", check_sortedness=False
        )
        .drop("value_date")
        .with_columns(pl.col("paid").fill_null(0))
    )


def _bill_state(
    history: History,
    keys: pl.LazyFrame,
    *,
    at: pl.Expr,
    due_by: pl.Expr | None = None,
    running: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Per (account, as_of_date, bill): the bill, what was paid of it by `at` and `unpaid`; only
    bills due by `due_by` when given."""
    pairs = keys.join(history.bills.lazy(), on="account_id", how="inner").filter(
        (pl.col("due_date") <= pl.col("as_of_date"))
        | (pl.col("created_date") <= pl.col("as_of_date"))
    )
    if due_by is not None:
        pairs = pairs.filter(pl.col("due_date") <= due_by)
    pairs = pairs.with_columns(_at=at)
    return _paid_by(history, pairs, "_at", running).with_columns(
        unpaid=pl.col("amount_minor") - pl.col("paid")
    )


def _bill_features(history: History, keys: pl.LazyFrame) -> pl.LazyFrame:
    d = pl.col("as_of_date")
    running = _running(history)  # computed once, joined three times
    state = _bill_state(history, keys, at=d, running=running)
    # The day each bill was paid off (the first running total to cover it), as of D.
    paid_off = (
        running.lazy()
        .join(history.bills.lazy().select("bill_id", "amount_minor"), on="bill_id")
        .filter(pl.col("paid") >= pl.col("amount_minor"))
        .group_by("bill_id")
        .agg(pl.col("value_date").min().alias("paid_off"))
    )
    # What was paid of each bill due by D by its due date: the same as-of join on the due date.
    due = (
        _paid_by(
            history,
            state.filter(pl.col("due_date") <= d).rename({"paid": "paid_at_d"}),
            "due_date",
            running,
        )
        .rename({"paid": "paid_by_due", "paid_at_d": "paid"})
        .join(paid_off, on="bill_id", how="left")
        .with_columns(
            recent=pl.col("due_date") > d - dt.timedelta(days=180),
            late=(
                pl.when(pl.col("paid_off") <= d).then(pl.col("paid_off")).otherwise(d)
                - pl.col("due_date")
            )
            .dt.total_days()
            .clip(0),
        )
    )
    recent = pl.col("recent") & (pl.col("amount_minor") > 0)
    due_agg = due.group_by("account_id", "as_of_date").agg(
        overdue_minor=pl.col("unpaid").clip(0).sum(),
        bills_overdue=(pl.col("unpaid") > 0).sum(),
        oldest_unpaid=pl.col("due_date").filter(pl.col("unpaid") > 0).min(),
        on_time_ratio_180d=(pl.col("paid_by_due") >= pl.col("amount_minor")).filter(recent).mean(),
        max_days_late_180d=pl.col("late").filter(recent).max(),
        mean_days_late_180d=pl.col("late").filter(recent).mean(),
        partial_bills_180d=(
            (pl.col("paid_by_due") > 0) & (pl.col("paid_by_due") < pl.col("amount_minor"))
        )
        .filter(recent)
        .sum(),
    )
    scheduled = (
        state.filter(pl.col("due_date") > d)
        .group_by("account_id", "as_of_date")
        .agg(scheduled_minor=pl.col("unpaid").clip(0).sum())
    )
    return (
        due_agg.join(scheduled, on=["account_id", "as_of_date"], how="full", coalesce=True)
        .with_columns(pl.col("overdue_minor", "scheduled_minor").fill_null(0))
        .with_columns(outstanding_minor=pl.col("overdue_minor") + pl.col("scheduled_minor"))
        .drop("scheduled_minor")
    )


def _payment_features(history: History, keys: pl.LazyFrame) -> pl.LazyFrame:
    d = pl.col("as_of_date")
    p = history.payments.lazy()
    # Never reversed: the last one on or before D by an as-of join; reversed ones (few) by a
    # join, counted as live on the days before their reversal.
    kept = (
        p.filter(pl.col("reversed_date").is_null())
        .select("account_id", pl.col("value_date").alias("last_payment"))
        .unique()
        .sort("last_payment")
    )
    last_kept = keys.sort("as_of_date").join_asof(
        kept, left_on="as_of_date", right_on="last_payment", by="account_id", check_sortedness=False
    )
    reversed_last = (
        keys.join(p.filter(pl.col("reversed_date").is_not_null()), on="account_id")
        .filter((pl.col("value_date") <= d) & (pl.col("reversed_date") > d))
        .group_by("account_id", "as_of_date")
        .agg(pl.col("value_date").max().alias("last_reversed"))
    )
    recent = (
        keys.join(p, on="account_id")
        .filter(
            (pl.col("value_date") <= d)
            & (pl.col("value_date") > d - dt.timedelta(days=30))
            & (pl.col("reversed_date").is_null() | (pl.col("reversed_date") > d))
        )
        .group_by("account_id", "as_of_date")
        .agg(payments_30d=pl.len())
    )
    return (
        last_kept.join(reversed_last, on=["account_id", "as_of_date"], how="left")
        .join(recent, on=["account_id", "as_of_date"], how="left")
        .select(
            "account_id",
            "as_of_date",
            "payments_30d",
            last_payment=pl.max_horizontal("last_payment", "last_reversed"),
        )
    )


def _bucket(history: History, keys: pl.LazyFrame) -> pl.LazyFrame:
    changes = (
        history.buckets.lazy()
        .sort("effective_date")
        .select("account_id", "effective_date", pl.col("to_bucket").alias("bucket"))
    )
    return (
        keys.sort("as_of_date")
        .join_asof(
            changes,
            left_on="as_of_date",
            right_on="effective_date",
            by="account_id",
            check_sortedness=False,
        )
        .select("account_id", "as_of_date", "bucket")
    )


def _arrangement_features(history: History, keys: pl.LazyFrame) -> pl.LazyFrame:
    d = pl.col("as_of_date")
    window = d - dt.timedelta(days=60)
    promise = pl.col("kind") == "promise"
    ended = (
        pl.col("ended_on").is_not_null() & (pl.col("ended_on") <= d) & (pl.col("ended_on") > window)
    )
    return (
        keys.join(history.arrangements.lazy(), on="account_id")
        .filter(pl.col("start_date") <= d)
        .group_by("account_id", "as_of_date")
        .agg(
            promises_made_60d=(promise & (pl.col("start_date") > window)).sum(),
            promises_broken_60d=(promise & ended & (pl.col("status") == "broken")).sum(),
            promises_kept_60d=(promise & ended & (pl.col("status") == "kept")).sum(),
            plan_active=(
                (pl.col("kind") == "plan")
                & ~pl.col("status").is_in(["rejected", "awaiting_approval"])
                & (pl.col("ended_on").is_null() | (pl.col("ended_on") > d))
            ).any(),
        )
        .with_columns(pl.col("plan_active").cast(pl.Int64))
    )


def _pause_features(history: History, keys: pl.LazyFrame) -> pl.LazyFrame:
    d = pl.col("as_of_date")
    holding = keys.join(history.pauses.lazy(), on="account_id").filter(
        (pl.col("start_date") <= d)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= d))
        & (pl.col("cancelled_date").is_null() | (pl.col("cancelled_date") > d))
    )
    return holding.group_by("account_id", "as_of_date").agg(
        hardship_open=(pl.col("kind") == "hardship").any().cast(pl.Int64),
        dispute_open=(pl.col("kind") == "dispute").any().cast(pl.Int64),
    )


def _window(
    events: pl.DataFrame, keys: pl.LazyFrame, on: str, days: int, name: str
) -> pl.LazyFrame:
    """How many of `events` (keyed by `on`, dated `day`) fell in (D - days, D]."""
    d = pl.col("as_of_date")
    return (
        keys.join(events.lazy(), on=on)
        .filter((pl.col("day") <= d) & (pl.col("day") > d - dt.timedelta(days=days)))
        .group_by(on, "as_of_date")
        .agg(pl.len().alias(name))
    )


def _contact_features(history: History, keys: pl.LazyFrame) -> pl.LazyFrame:
    k = ["account_id", "as_of_date"]
    sent = (
        history.contacts.lazy()
        .filter(pl.col("status").is_in(["sent", "delivered"]))
        .select("account_id", pl.col("day").alias("last_contact"))
        .unique()
        .sort("last_contact")
    )
    last = keys.sort("as_of_date").join_asof(
        sent, left_on="as_of_date", right_on="last_contact", by="account_id", check_sortedness=False
    )
    last = last.with_columns(
        pl.when(pl.col("last_contact") > pl.col("as_of_date") - dt.timedelta(days=CONTACT_LOOKBACK))
        .then(pl.col("last_contact"))
        .alias("last_contact")
    )
    delivered = history.contacts.filter(pl.col("status") == "delivered")
    answered = history.calls.filter(pl.col("result").is_in(CALL_RESULTS_ANSWERED))
    return (
        last.join(
            _window(delivered, keys, "account_id", 30, "contacts_delivered_30d"), on=k, how="left"
        )
        .join(_window(history.intents, keys, "account_id", 30, "link_opens_30d"), on=k, how="left")
        .join(_window(answered, keys, "account_id", 30, "conversations_30d"), on=k, how="left")
    )


CALL_RESULTS_ANSWERED = list(CALLS_ANSWERED)


def _reply_counts(history: History, snaps: pl.DataFrame) -> pl.LazyFrame:
    keys = snaps.lazy().select("account_id", "customer_id", "as_of_date")
    customers = keys.select("customer_id", "as_of_date").unique()  # one row however many accounts
    return (
        _window(history.inbound, customers, "customer_id", 30, "replies_30d")
        .join(keys, on=["customer_id", "as_of_date"])
        .select("account_id", "as_of_date", "replies_30d")
    )

"""Fairness of treatment, as arithmetic: pure (frames in, frames out), so the API, the console, the
report and the tests compute it the same way. No session, no web.

The unit is an account in collection during the period. For a group of customers (an age band, a
region, a sex; "unknown" when the attribute is not known, never guessed) and a measure (contact
attempts per day in collection, calls per day, the share of attempts in a firm tone, ...), the
group is compared with the rest of the portfolio *at the same risk*: within each risk band, the
group's mean against the mean of the other accounts in that band, and the bands put together with
the group's own accounts as weights (indirect standardisation):

    observed = sum_b w_b * mean(group, b)         w_b = n(group, b) / n(group)
    expected = sum_b w_b * mean(rest, b)
    ratio    = observed / expected
    diff     = observed - expected,  se^2 = sum_b w_b^2 * (var(group, b)/n(group, b)
                                                       + var(rest, b)/n(rest, b))

A band where the group or the rest has no account says nothing and is left out. An alert needs
all of: the ratio above the threshold, at least `min_accounts` accounts in the group and in the
rest (in the bands compared), and the difference above zero beyond chance across every comparison
that could alert (Welch's normal approximation, as the experiments use, with a Bonferroni
correction: one-sided, level 2.5 % over the m comparisons with enough accounts, so that a report of
a few dozen groups does not alert on noise one time in twenty). `ci_low` and `ci_high` are the
plain 95 % interval of one comparison, as shown to people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import polars as pl

from recoup.analytics.stats import CURRENT, Z95, buckets_at

UNKNOWN = "unknown"
# The strategy's bands (`strategy.service.facts.age_band`): "18-24" holds any age under 25.
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, None, "55+"),
)
SEXES = ("F", "M", "X")
ATTRIBUTES = ("age_band", "region", "sex")
# Measures of how hard an account was pursued (an alert may name them) and of how it ended (shown
# beside them, never an alert: a group that pays less is not treated unfairly by that alone).
INTENSITY = ("attempts_per_day", "delivered_per_day", "calls_per_day", "firm_share")
OUTCOMES = ("paused", "cured", "recovery")
MEASURES = (*INTENSITY, *OUTCOMES)
ALERTING = ("attempts_per_day", "calls_per_day", "firm_share")
RATIO = 1.25
MIN_ACCOUNTS = 50

_COMPARISON = {
    "attribute": pl.String,
    "group": pl.String,
    "measure": pl.String,
    "accounts": pl.Int64,
    "rest_accounts": pl.Int64,
    "value": pl.Float64,
    "expected": pl.Float64,
    "ratio": pl.Float64,
    "diff": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "alert": pl.Boolean,
}
_INTERNAL = {"se": pl.Float64}


def age_band(birth_year: pl.Expr, year: int) -> pl.Expr:
    """The band of the age reached in `year` (the period's end; only the year of birth is kept),
    as the strategy's fact `age_band` names it; unknown without a birth year."""
    age = pl.lit(year) - birth_year
    expr: Any = pl.when(birth_year.is_null()).then(pl.lit(UNKNOWN))
    for low, high, label in AGE_BANDS:
        cond = age >= low if high is None else age.is_between(low, high)
        expr = expr.when(cond).then(pl.lit(label))
    out: pl.Expr = expr.otherwise(pl.lit(UNKNOWN))
    return out


def attributes(customers: pl.DataFrame, year: int) -> pl.DataFrame:
    """customer_id, age_band, region, sex from customer_id, birth_year, region, sex: what is not
    known (or not one of the values we keep) is "unknown"."""
    return customers.select(
        "customer_id",
        age_band(pl.col("birth_year"), year).alias("age_band"),
        pl.when(pl.col("region").str.strip_chars().str.len_chars() > 0)
        .then(pl.col("region").str.strip_chars())
        .otherwise(pl.lit(UNKNOWN))
        .alias("region"),
        pl.when(pl.col("sex").is_in(SEXES))
        .then(pl.col("sex"))
        .otherwise(pl.lit(UNKNOWN))
        .alias("sex"),
    )


def in_collection(
    events: pl.DataFrame, accounts: pl.DataFrame, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """account_id, days (days of [start, end] spent in a bucket other than M0), entry_bucket (the
    bucket at the start when delinquent then, else the first one entered), cured (back in M0
    after being delinquent, within the period): the accounts with at least one such day.

    events: id, account_id, effective_date, to_bucket; accounts: account_id, opened_date,
    closed_date."""
    initial = buckets_at(events, accounts, start - dt.timedelta(days=1)).select(
        "account_id", pl.lit(start).alias("day"), "bucket", pl.lit(-1, pl.Int64).alias("id")
    )
    moves = events.filter(pl.col("effective_date").is_between(start, end)).select(
        "account_id",
        pl.col("effective_date").alias("day"),
        pl.col("to_bucket").alias("bucket"),
        pl.col("id").cast(pl.Int64),
    )
    segments = (
        pl.concat([initial, moves])
        .sort("account_id", "day", "id")
        .unique(["account_id", "day"], keep="last", maintain_order=True)
        .with_columns(
            pl.col("day")
            .shift(-1)
            .over("account_id")
            .fill_null(end + dt.timedelta(days=1))
            .alias("until")
        )
        .with_columns(
            (pl.col("until") - pl.col("day")).dt.total_days().alias("length"),
            (pl.col("bucket") != CURRENT).alias("late"),
        )
    )
    return (
        segments.group_by("account_id")
        .agg(
            pl.col("length").filter(pl.col("late")).sum().cast(pl.Int64).alias("days"),
            pl.col("bucket").filter(pl.col("late")).first().alias("entry_bucket"),
            ((~pl.col("late")) & pl.col("late").cast(pl.Int8).cum_max().shift(1).eq(1))
            .any()
            .alias("cured"),
        )
        .filter(pl.col("days") > 0)
        .sort("account_id")
    )


def risk_bands(scores: pl.DataFrame, bands: int = 5) -> pl.DataFrame:
    """account_id, band ("p_pay 1/5" the least likely to pay ... "p_pay 5/5"): quantile bands of
    the accounts' p_pay scores (account_id, score)."""
    if scores.height == 0:
        return pl.DataFrame(schema={"account_id": pl.Int64, "band": pl.String})
    k = max(1, min(bands, scores.height))
    return scores.select(
        "account_id",
        (
            pl.lit("p_pay ")
            + ((pl.col("score").rank("ordinal") - 1) * k // pl.len() + 1).cast(pl.String)
            + pl.lit(f"/{k}")
        ).alias("band"),
    )


def comparisons(
    units: pl.DataFrame,
    *,
    attributes: Sequence[str] = ATTRIBUTES,
    measures: Sequence[str] = MEASURES,
    ratio: float = RATIO,
    min_accounts: int = MIN_ACCOUNTS,
    z: float = Z95,
) -> pl.DataFrame:
    """Every group of every attribute against the rest at the same risk, per measure (the columns
    of `_COMPARISON`).

    units: one row per account: band, each attribute's group, each measure's value (null when it
    says nothing for the account, e.g. the firm share of an account never contacted)."""
    out = []
    for attribute in attributes:
        for measure in measures:
            values = units.select(
                "band", pl.col(attribute).alias("group"), pl.col(measure).cast(pl.Float64)
            ).filter(pl.col(measure).is_not_null() & pl.col(measure).is_not_nan())
            out.append(_compare(values, attribute, measure, z))
    if not out:
        return pl.DataFrame(schema=_COMPARISON)
    rows = pl.concat(out)
    eligible = (
        pl.col("measure").is_in(list(ALERTING))
        & pl.col("ratio").is_not_null()
        & (pl.col("accounts") >= min_accounts)
        & (pl.col("rest_accounts") >= min_accounts)
    )
    tests = max(1, int(rows.select(eligible.sum()).item() or 0))
    z_family = NormalDist().inv_cdf(1 - 0.025 / tests)
    return (
        rows.with_columns(
            (eligible & (pl.col("ratio") > ratio) & (pl.col("diff") - z_family * pl.col("se") > 0))
            .fill_null(False)
            .alias("alert")
        )
        .select(list(_COMPARISON))
        .sort("attribute", "group", "measure")
    )


def _moments(frame: pl.DataFrame, keys: list[str], measure: str) -> pl.DataFrame:
    return frame.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("n"),
        pl.col(measure).sum().alias("s"),
        (pl.col(measure) ** 2).sum().alias("ss"),
    )


def _mean_var(prefix: str) -> list[pl.Expr]:
    n, s, ss = pl.col(f"{prefix}n"), pl.col(f"{prefix}s"), pl.col(f"{prefix}ss")
    mean = s / n
    var = pl.when(n > 1).then(((ss - s * s / n) / (n - 1)).clip(lower_bound=0)).otherwise(0.0)
    return [mean.alias(f"{prefix}mean"), var.alias(f"{prefix}var")]


def _compare(values: pl.DataFrame, attribute: str, measure: str, z: float) -> pl.DataFrame:
    schema = {**_COMPARISON, **_INTERNAL}
    if values.height == 0:
        return pl.DataFrame(schema=schema)
    group = _moments(values, ["band", "group"], measure)
    band = _moments(values, ["band"], measure).rename({"n": "bn", "s": "bs", "ss": "bss"})
    cells = (
        group.join(band, on="band")
        .with_columns(
            (pl.col("bn") - pl.col("n")).alias("rn"),
            (pl.col("bs") - pl.col("s")).alias("rs"),
            (pl.col("bss") - pl.col("ss")).alias("rss"),
        )
        .with_columns(*_mean_var(""), *_mean_var("r"))
    )
    crude = cells.group_by("group").agg(
        (pl.col("s").sum() / pl.col("n").sum()).alias("value"),
        pl.col("n").sum().alias("all_accounts"),
    )
    compared = cells.filter(pl.col("rn") > 0)
    weight = pl.col("n") / pl.col("n").sum().over("group")
    summary = (
        compared.with_columns(weight.alias("w"))
        .group_by("group")
        .agg(
            pl.col("n").sum().alias("accounts"),
            pl.col("rn").sum().alias("rest_accounts"),
            (pl.col("w") * pl.col("mean")).sum().alias("observed"),
            (pl.col("w") * pl.col("rmean")).sum().alias("expected"),
            (pl.col("w") ** 2 * (pl.col("var") / pl.col("n") + pl.col("rvar") / pl.col("rn")))
            .sum()
            .sqrt()
            .alias("se"),
        )
    )
    diff = pl.col("observed") - pl.col("expected")
    out = (
        crude.join(summary, on="group", how="left")
        .with_columns(
            pl.col("accounts").fill_null(pl.col("all_accounts")),
            pl.col("rest_accounts").fill_null(0),
            pl.when(pl.col("expected") > 0)
            .then(pl.col("observed") / pl.col("expected"))
            .alias("ratio"),
            diff.alias("diff"),
            (diff - z * pl.col("se")).alias("ci_low"),
            (diff + z * pl.col("se")).alias("ci_high"),
        )
        .with_columns(pl.lit(False).alias("alert"))
    )
    return out.select(
        pl.lit(attribute).alias("attribute"),
        pl.col("group"),
        pl.lit(measure).alias("measure"),
        *(
            pl.col(c).cast(t)
            for c, t in schema.items()
            if c not in ("attribute", "group", "measure")
        ),
    ).select(list(schema))

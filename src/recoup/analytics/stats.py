"""The statistics behind the KPIs: pure and set-based (frames in, frames or plain numbers out), so
real runs, simulated runs and the tests compute them the same way. No session, no web.

Definitions (docs/analytics.md says the same in prose):

- The bucket of an account at the end of day D is the `to_bucket` of its last bucket change
  dated on or before D, and M0 when it has none (M0 is implied before the first change).
- Cure rate of bucket B: of the accounts that were in B during the period (in B at its start, or
  entering B in it), the share that entered M0 later in the period.
- Roll rates: bucket at one snapshot against bucket at the next, a month apart; each row's shares
  sum to one.
- Recovery of an account: money applied to its bills while they were overdue, in the period,
  over what was overdue at the start plus what fell overdue during the period.
- Experiments: each arm's mean account recovery rate with a normal-approximation (Welch) interval
  for its difference from the reference arm (the holdout when there is one).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95 % interval
CURRENT = "M0"
_BUCKET = re.compile(r"^M(\d+)(\+?)$")


def bucket_order(labels: Sequence[str]) -> list[str]:
    """Buckets in ageing order: M0, M1, ..., M3, M3+ (anything else after them, by name)."""

    def key(label: str) -> tuple[int, int, int, str]:
        m = _BUCKET.match(label)
        if m is None:
            return (1, 0, 0, label)
        return (0, int(m.group(1)), 1 if m.group(2) else 0, label)

    return sorted(set(labels), key=key)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the month's last day when it is shorter. A month end stays a
    month end (31 May, 30 June, 31 July), so snapshots taken at month ends stay at month ends."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _month_end(year, month)
    if day == _month_end(day.year, day.month):
        return last
    return min(day.replace(year=year, month=month, day=1) + dt.timedelta(days=day.day - 1), last)


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def snapshots(start: dt.date, end: dt.date) -> list[dt.date]:
    """Roll-rate snapshot days: `start`, then a month apart while on or before `end`; `end` itself
    closes a period shorter than a month (a partial step rather than none)."""
    days = [start]
    while (following := add_months(start, len(days))) <= end:
        days.append(following)
    if len(days) == 1 and end > start:
        days.append(end)
    return days


def buckets_at(events: pl.DataFrame, accounts: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """account_id, bucket at the end of `day`, for the accounts opened by then.

    events: account_id, effective_date, to_bucket, id (the bucket history);
    accounts: account_id, opened_date, closed_date."""
    last = (
        events.filter(pl.col("effective_date") <= day)
        .sort("account_id", "effective_date", "id")
        .group_by("account_id")
        .agg(pl.col("to_bucket").last().alias("bucket"))
    )
    alive = accounts.filter(
        (pl.col("opened_date") <= day)
        & (pl.col("closed_date").is_null() | (pl.col("closed_date") > day))
    ).select("account_id")
    return alive.join(last, on="account_id", how="left").with_columns(
        pl.col("bucket").fill_null(CURRENT)
    )


def roll_counts(
    events: pl.DataFrame, accounts: pl.DataFrame, days: Sequence[dt.date]
) -> pl.DataFrame:
    """from_bucket, to_bucket, accounts, share: bucket at each snapshot against the next, summed
    over the steps. `share` is the row's share (accounts leaving `from_bucket` that went to
    `to_bucket`)."""
    steps = []
    for first, second in itertools.pairwise(days):
        before = buckets_at(events, accounts, first).rename({"bucket": "from_bucket"})
        after = buckets_at(events, accounts, second).rename({"bucket": "to_bucket"})
        steps.append(before.join(after, on="account_id", how="inner"))
    if not steps:
        return pl.DataFrame(
            schema={
                "from_bucket": pl.String,
                "to_bucket": pl.String,
                "accounts": pl.Int64,
                "share": pl.Float64,
            }
        )
    counts = (
        pl.concat(steps)
        .group_by("from_bucket", "to_bucket")
        .agg(pl.len().cast(pl.Int64).alias("accounts"))
    )
    return counts.with_columns(
        (pl.col("accounts") / pl.col("accounts").sum().over("from_bucket")).alias("share")
    ).sort("from_bucket", "to_bucket")


def cure_counts(
    events: pl.DataFrame, accounts: pl.DataFrame, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """bucket, accounts (in the bucket during [start, end]), cured (entered M0 on or after being
    in it, within the period), rate."""
    at_start = (
        buckets_at(events, accounts, start - dt.timedelta(days=1))
        .filter(pl.col("bucket") != CURRENT)
        .select("account_id", "bucket", pl.lit(start).alias("since"))
    )
    during = events.filter(pl.col("effective_date").is_between(start, end))
    entered = during.filter(pl.col("to_bucket") != CURRENT).select(
        "account_id", pl.col("to_bucket").alias("bucket"), pl.col("effective_date").alias("since")
    )
    visits = pl.concat([at_start, entered])
    cures = during.filter(pl.col("to_bucket") == CURRENT).select(
        "account_id", pl.col("effective_date").alias("cured_on")
    )
    cured = (
        visits.join(cures, on="account_id", how="inner")
        .filter(pl.col("cured_on") >= pl.col("since"))
        .select("account_id", "bucket")
        .unique()
        .group_by("bucket")
        .agg(pl.len().cast(pl.Int64).alias("cured"))
    )
    counts = (
        visits.select("account_id", "bucket")
        .unique()
        .group_by("bucket")
        .agg(pl.len().cast(pl.Int64).alias("accounts"))
    )
    out = counts.join(cured, on="bucket", how="left").with_columns(
        pl.col("cured").fill_null(0),
    )
    out = out.with_columns((pl.col("cured") / pl.col("accounts")).alias("rate"))
    order = bucket_order(out["bucket"].to_list())
    return out.sort(pl.col("bucket").replace_strict(order, list(range(len(order)))))


def account_recovery(
    bills: pl.DataFrame, collected: pl.DataFrame, keys: Sequence[str] = ()
) -> pl.DataFrame:
    """Per account (and `keys`, e.g. experiment and arm): base_minor (overdue at its start plus
    what fell overdue later, each bill's remainder when it did), collected_minor (applied to those
    bills while overdue, in the period).

    bills: *keys, account_id, amount_minor (the bill as it stood then), paid_before_minor;
    collected: *keys, account_id, value_date, collected_minor."""
    group = [*keys, "account_id"]
    base = bills.group_by(group).agg(
        (pl.col("amount_minor") - pl.col("paid_before_minor"))
        .clip(lower_bound=0)
        .sum()
        .cast(pl.Int64)
        .alias("base_minor")
    )
    money = collected.group_by(group).agg(pl.col("collected_minor").sum().cast(pl.Int64))
    return (
        base.join(money, on=group, how="full", coalesce=True)
        .with_columns(pl.col("base_minor").fill_null(0), pl.col("collected_minor").fill_null(0))
        .filter(pl.col("base_minor") > 0)
    )


def recovery_by_currency(per_account: pl.DataFrame) -> pl.DataFrame:
    """currency, accounts, accounts_paying, accounts_recovered, base_minor, collected_minor,
    rate_amount, rate_count. Amounts are summed within a currency only."""
    return (
        per_account.group_by("currency")
        .agg(
            pl.len().cast(pl.Int64).alias("accounts"),
            (pl.col("collected_minor") > 0).sum().cast(pl.Int64).alias("accounts_paying"),
            (pl.col("collected_minor") >= pl.col("base_minor"))
            .sum()
            .cast(pl.Int64)
            .alias("accounts_recovered"),
            pl.col("base_minor").sum().cast(pl.Int64),
            pl.col("collected_minor").sum().cast(pl.Int64),
        )
        .with_columns(
            (pl.col("collected_minor") / pl.col("base_minor")).alias("rate_amount"),
            (pl.col("accounts_paying") / pl.col("accounts")).alias("rate_count"),
        )
        .sort("base_minor", descending=True)
    )


def recovery_curve(
    per_account: pl.DataFrame,
    collected: pl.DataFrame,
    start: dt.date,
    end: dt.date,
    keys: Sequence[str] = (),
) -> pl.DataFrame:
    """*keys, day, rate: the mean over accounts of the share of each one's base collected by the
    end of `day` (each account weighs the same, whatever its balance and currency)."""
    group = [*keys, "account_id"]
    n = per_account.group_by(list(keys) or pl.lit(1).alias("_all")).agg(pl.len().alias("_n"))
    daily = (
        collected.join(per_account.select(*group, "base_minor"), on=group, how="inner")
        .group_by([*keys, "value_date"])
        .agg((pl.col("collected_minor") / pl.col("base_minor")).sum().alias("_sum"))
        .rename({"value_date": "day"})
    )
    days = pl.DataFrame({"day": pl.date_range(start, end, eager=True)})
    grid = days if not keys else n.select(*keys).join(days, how="cross")
    curve = grid.join(daily, on=[*keys, "day"], how="left").with_columns(
        pl.col("_sum").fill_null(0.0)
    )
    if keys:
        curve = curve.sort([*keys, "day"]).join(n, on=list(keys), how="left")
        cumulative = pl.col("_sum").cum_sum().over(list(keys))
    else:
        curve = curve.sort("day").with_columns(pl.lit(n["_n"][0] if n.height else 0).alias("_n"))
        cumulative = pl.col("_sum").cum_sum()
    return curve.select(*keys, "day", (cumulative / pl.col("_n")).fill_nan(0.0).alias("rate"))


@dataclass(frozen=True)
class Estimate:
    """A mean with its sample standard deviation over n units."""

    n: int
    mean: float
    sd: float

    @property
    def se(self) -> float:
        return self.sd / math.sqrt(self.n) if self.n > 0 else math.nan


def estimate(values: Sequence[float]) -> Estimate:
    n = len(values)
    if n == 0:
        return Estimate(0, math.nan, math.nan)
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return Estimate(n, mean, sd)


@dataclass(frozen=True)
class Difference:
    """`arm` minus `reference`: the difference of means, its standard error, a two-sided interval
    and the relative uplift (difference over the reference's mean)."""

    diff: float
    se: float
    low: float
    high: float
    relative: float | None


def difference(arm: Estimate, reference: Estimate, z: float = Z95) -> Difference:
    """Welch's normal approximation: se = sqrt(sd_a²/n_a + sd_r²/n_r), interval diff ± z·se."""
    diff = arm.mean - reference.mean
    se = math.sqrt(arm.se**2 + reference.se**2)
    relative = diff / reference.mean if reference.mean and not math.isnan(reference.mean) else None
    return Difference(diff, se, diff - z * se, diff + z * se, relative)


def arm_rates(per_unit: pl.DataFrame) -> pl.DataFrame:
    """experiment, arm, account_id, rate (collected over base, at most 1) and paid (collected
    anything), from per-account recovery with experiment and arm keys."""
    return per_unit.select(
        "experiment",
        "arm",
        "account_id",
        (pl.col("collected_minor") / pl.col("base_minor")).clip(upper_bound=1.0).alias("rate"),
        (pl.col("collected_minor") > 0).cast(pl.Float64).alias("paid"),
    )


def reference_arm(arms: Sequence[str]) -> str:
    """The holdout when the experiment has one, else the first arm by name."""
    return "holdout" if "holdout" in arms else sorted(arms)[0]

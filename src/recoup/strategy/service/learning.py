"""The learner's rewards, every daily run: the decisions a learning stage (or a learned queue's
call hour, or its "no call today") made (with a choice: two
arms allowed or more) whose horizon ended yesterday earn the money paid to the account in (day, day + horizon] minus the contact's cost (the
chosen channel's, when the contact was handed to a provider; nothing for "no contact"), and the
rewards are added to `learning_arms` per (policy, stage, cell, arm), set-based.

Once per day: the daily run is claimed once per day (`daily_runs`), and, should this be called
twice for a day anyway, an arm's row already updated on the day (`updated_on`) is not added to
again, so a day's rewards are never counted twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy.orm import Session

from recoup.strategy import repository as repo
from recoup.strategy.policy import QUEUE_STAGE_PREFIX, Policy

_QUEUE_HOUR = pl.Struct(
    {
        "queue": pl.String,
        "cell": pl.String,
        "arm": pl.String,
        "channel": pl.String,
        "mode": pl.String,
        "horizon": pl.Int64,
        "cost": pl.Float64,
        "choices": pl.Int64,
    }
)
_EXPLANATION = pl.Struct(
    {
        "policy": pl.String,
        "stage": pl.String,
        "cell": pl.String,
        "arm": pl.String,
        "channel": pl.String,
        "mode": pl.String,
        "horizon": pl.Int64,
        "cost": pl.Float64,
        "choices": pl.Int64,
        "queue_hour": _QUEUE_HOUR,
    }
)


@dataclass
class Learned:
    """What a day's update did: decisions rewarded, arms (rows) updated, money counted."""

    decisions: int = 0
    arms: int = 0
    paid_minor: int = 0


def rewards(session: Session, as_of: dt.date, horizons: set[int]) -> pl.DataFrame:
    """The rewards of the learner's decisions whose horizon (one of `horizons`) ended the day
    before `as_of`: policy, stage, cell, arm, mode, account_id, as_of_date, paid_minor, cost,
    reward."""
    end = as_of - dt.timedelta(days=1)
    days = sorted(end - dt.timedelta(days=h) for h in horizons)
    if not days:
        return pl.DataFrame()
    return _rewards(session, days[0], days[-1], first_end=end, last_end=end)


def rewards_in(session: Session, *, first_end: dt.date, last_end: dt.date) -> pl.DataFrame:
    """The same rewards for every decision whose horizon ended from `first_end` to `last_end`
    (horizons up to `LONGEST_HORIZON` days): what the holdout's uplift is measured on."""
    first = first_end - dt.timedelta(days=LONGEST_HORIZON)
    return _rewards(
        session, first, last_end - dt.timedelta(days=1), first_end=first_end, last_end=last_end
    )


LONGEST_HORIZON = 366


def _rewards(
    session: Session, first: dt.date, last: dt.date, *, first_end: dt.date, last_end: dt.date
) -> pl.DataFrame:
    """Decisions made from `first` to `last` whose horizon ended from `first_end` to
    `last_end`, with the money paid in (day, day + horizon] and the cost of a sent contact."""
    decided = repo.learned_decisions(session, first, last)
    if decided.height == 0:
        return pl.DataFrame()
    end = pl.col("as_of_date") + pl.duration(days=pl.col("horizon"))
    explained = decided.with_columns(pl.col("learning").str.json_decode(_EXPLANATION)).unnest(
        "learning"
    )
    # A stage's choice is one row; the hour of a learned queue's call (`queue_hour`) another,
    # kept under the queue's name (`queue:<name>`): its cost is the agent's call when one was
    # placed to the account that day (a dial refused costs nothing), the message's when the arm
    # was a message in the call's place and it was sent, and nothing when the arm was no call
    # today (`channel: none`; records from before it was written name no channel: every arm
    # was a call).
    stages = explained.filter(pl.col("stage").is_not_null()).select(
        "account_id",
        "as_of_date",
        "policy",
        "stage",
        "cell",
        "arm",
        "channel",
        "mode",
        "horizon",
        "cost",
        "choices",
        pl.lit(False).alias("_queue"),
    )
    queues = (
        explained.filter(pl.col("queue_hour").is_not_null())
        .select("account_id", "as_of_date", "policy", "queue_hour")
        .unnest("queue_hour")
        .select(
            "account_id",
            "as_of_date",
            "policy",
            (pl.lit(QUEUE_STAGE_PREFIX) + pl.col("queue")).alias("stage"),
            "cell",
            "arm",
            pl.col("channel").fill_null("call"),
            "mode",
            "horizon",
            "cost",
            "choices",
            pl.lit(True).alias("_queue"),
        )
    )
    decided = pl.concat([stages, queues]).filter(
        (end >= pl.lit(first_end)) & (end <= pl.lit(last_end)),
        # A decision with one allowed arm (the budget spent: only "none") was no choice: its
        # reward would tell the arm about the accounts that were forced into it.
        pl.col("choices").fill_null(2) >= 2,
    )
    if decided.height == 0:
        return pl.DataFrame()
    accounts = decided["account_id"].unique().to_list()
    paid = repo.payments_between(session, first + dt.timedelta(days=1), last_end, accounts)
    amounts = (
        decided.select("account_id", "as_of_date", "horizon")
        .unique()  # a stage's row and a queue hour's of the same decision: one sum each
        .join(paid, on="account_id", how="inner")
        .filter(
            (pl.col("value_date") > pl.col("as_of_date"))
            & (pl.col("value_date") <= pl.col("as_of_date") + pl.duration(days=pl.col("horizon")))
        )  # (day, day + horizon]
        .group_by("account_id", "as_of_date", "horizon")
        .agg(pl.col("amount_minor").sum().alias("paid_minor"))
    )
    sent = (
        repo.sent_contacts(session, first, last, accounts)
        .rename({"treatment": "arm"})
        .with_columns(pl.lit(True).alias("_sent"))
        .unique()
    )
    dials = (
        repo.dialled(session, first, last, accounts)
        .with_columns(pl.lit(True).alias("_dialled"))
        .unique()
    )
    return (
        decided.join(amounts, on=["account_id", "as_of_date", "horizon"], how="left")
        .join(sent, on=["account_id", "as_of_date", "arm"], how="left")
        .join(dials, on=["account_id", "as_of_date"], how="left")
        .with_columns(
            # A queue's call is paid for when dialled; a message in its place (or a stage's
            # contact) when handed to its provider under the arm's id.
            pl.when(pl.col("_queue") & (pl.col("channel") == "call"))
            .then(pl.col("_dialled").fill_null(False))
            .otherwise(pl.col("_sent").fill_null(False))
            .alias("_sent")
        )
        .with_columns(
            pl.col("paid_minor").fill_null(0),
            pl.when(pl.col("_sent") & (pl.col("channel") != "none"))
            .then(pl.col("cost"))
            .otherwise(0.0)
            .alias("cost"),
        )
        .with_columns((pl.col("paid_minor") - pl.col("cost")).alias("reward"))
        .select(
            "policy",
            "stage",
            "cell",
            "arm",
            "mode",
            "account_id",
            "as_of_date",
            "paid_minor",
            "cost",
            "reward",
        )
    )


def learn(session: Session, as_of: dt.date, policy: Policy) -> Learned:
    """The day's update of the arms (see the module's docstring); `policy` (the active one) says
    which horizons to look back over. Nothing to do without a learning stage."""
    horizons = {s.learn.horizon_days for s in policy.learning_stages if s.learn is not None}
    horizons |= {q.learn.horizon_days for q in policy.learning_queues if q.learn is not None}
    out = Learned()
    earned = rewards(session, as_of, horizons)
    if earned.height == 0:
        return out
    day = earned.group_by("policy", "stage", "cell", "arm").agg(
        pl.len().cast(pl.Int64).alias("n_day"),
        pl.col("reward").sum().alias("sum_day"),
        (pl.col("reward") ** 2).sum().alias("sq_day"),
    )
    rows = []
    for (name,), part in day.group_by("policy"):
        before = repo.learning_stats(session, str(name)).with_columns(pl.lit(name).alias("policy"))
        merged = part.join(before, on=["policy", "stage", "cell", "arm"], how="left")
        # An arm already updated today is not added to again (a second call for the same day).
        merged = merged.filter(pl.col("updated_on").is_null() | (pl.col("updated_on") < as_of))
        rows.append(
            merged.select(
                "policy",
                "stage",
                "cell",
                "arm",
                (pl.col("n").fill_null(0) + pl.col("n_day")).alias("n"),
                (pl.col("reward_sum").fill_null(0.0) + pl.col("sum_day")).alias("reward_sum"),
                (pl.col("reward_sq_sum").fill_null(0.0) + pl.col("sq_day")).alias("reward_sq_sum"),
                pl.lit(as_of).alias("updated_on"),
            )
        )
    update = pl.concat(rows)
    repo.add_learning(session, update)
    out.decisions = earned.height
    out.arms = update.height
    out.paid_minor = int(earned["paid_minor"].sum())
    return out

"""What the learning strategy has learned, for people: the arms of every learning stage (pulls,
mean reward and its interval, pooled over context cells), the leading arm per cell, and the
holdout's uplift over the decisions whose horizon has passed in the last `UPLIFT_DAYS` days
(the learner's — learned or explored — against the random holdout's, on the reward and on the
money recovered per decision). The rewards are the ones the arms learn from
(`learning.rewards_in`, one definition). Read by the console's learning page,
`GET /v1/learning/arms` and `recoup report`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy.orm import Session

from recoup.strategy import learning_view as lv
from recoup.strategy import repository as repo
from recoup.strategy.policy import QUEUE_STAGE_PREFIX
from recoup.strategy.service import learning

UPLIFT_DAYS = 90


@dataclass(frozen=True)
class LearningSummary:
    arms: list[lv.Arm]
    leaders: list[lv.Leader]
    uplift: lv.Uplift
    first_end: dt.date
    last_end: dt.date


def arm_rows(session: Session) -> list[lv.ArmRow]:
    frame = repo.all_learning_arms(session)
    return [
        lv.ArmRow(
            policy=r["policy"],
            stage=r["stage"],
            context=r["cell"],
            arm=r["arm"],
            n=int(r["n"]),
            reward_sum=float(r["reward_sum"]),
            reward_sq_sum=float(r["reward_sq_sum"]),
        )
        for r in frame.iter_rows(named=True)
    ]


def learning_summary(session: Session, *, today: dt.date) -> LearningSummary:
    rows = arm_rows(session)
    last_end = today - dt.timedelta(days=1)
    first_end = today - dt.timedelta(days=UPLIFT_DAYS)
    earned = learning.rewards_in(session, first_end=first_end, last_end=last_end)
    if earned.height:
        # The uplift is the stages' (one decision each): a learned queue hour is the same
        # account's decision again, arms of its own.
        earned = earned.filter(~pl.col("stage").str.starts_with(QUEUE_STAGE_PREFIX))
    if earned.height == 0:
        earned = pl.DataFrame(
            schema={"mode": pl.String, "reward": pl.Float64, "paid_minor": pl.Int64}
        )
    outcomes = earned.select(
        (pl.col("mode") == "holdout").alias("holdout"),
        pl.col("reward").cast(pl.Float64),
        pl.col("paid_minor").alias("recovered_minor"),
    )
    return LearningSummary(
        arms=lv.arms(rows),
        leaders=lv.leaders(rows),
        uplift=lv.uplift(outcomes),
        first_end=first_end,
        last_end=last_end,
    )

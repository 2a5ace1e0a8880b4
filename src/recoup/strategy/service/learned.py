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


def queue_choices(session: Session, *, first: dt.date, last: dt.date) -> dict[str, dict[str, int]]:
    """How often each learned hand-off queue's arm was chosen on the days from `first` to `last`
    (decisions, whatever the mode: learned, explored or held out), per queue and arm: e.g.
    `{"mid_late": {"mid_late_day": 40, "mid_late_skip": 12}}`. A none arm's count is the
    accounts the queue did not call that day."""
    decided = repo.learned_decisions(session, first, last)
    if decided.height == 0:
        return {}
    hours = (
        decided.select(pl.col("learning").str.json_decode(_QUEUE_CHOICE))
        .unnest("learning")
        .filter(pl.col("queue_hour").is_not_null())
        .unnest("queue_hour")
        .group_by("queue", "arm")
        .len()
        .sort("queue", "arm")
    )
    out: dict[str, dict[str, int]] = {}
    for row in hours.iter_rows(named=True):
        out.setdefault(str(row["queue"]), {})[str(row["arm"])] = int(row["len"])
    return out


_QUEUE_CHOICE = pl.Struct({"queue_hour": pl.Struct({"queue": pl.String, "arm": pl.String})})

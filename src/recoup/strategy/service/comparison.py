"""How two policies decide the same portfolio differently (`recoup strategy diff`)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

from recoup.strategy.kernel import decide
from recoup.strategy.policy import Policy
from recoup.strategy.service.facts import facts, with_history


def diff(session: Session, as_of: dt.date, old: Policy, new: Policy) -> pl.DataFrame:
    """How two policies decide the same portfolio differently: per (what changed, segment under the
    new policy), how many accounts, with up to three example account ids. Writes nothing."""
    f = facts(session, as_of)
    if f.height == 0:
        return pl.DataFrame()
    stages = decide(new, f).select("account_id", "stage")
    f = with_history(session, f, stages, as_of)
    a = decide(old, f)
    b = decide(new, f)
    joined = a.join(b, on="account_id", suffix="_new")
    changes = []
    for column in ("stage", "decision", "treatment", "channel", "queue"):
        changed = joined.filter(pl.col(column).ne_missing(pl.col(f"{column}_new")))
        if changed.height:
            changes.append(
                changed.select(
                    pl.lit(column).alias("change"),
                    pl.col("segment_new").fill_null("-").alias("segment"),
                    pl.concat_str(
                        pl.col(column).fill_null("-"),
                        pl.lit(" → "),
                        pl.col(f"{column}_new").fill_null("-"),
                    ).alias("from_to"),
                    "account_id",
                )
            )
    if not changes:
        return pl.DataFrame(
            schema={
                "change": pl.String,
                "segment": pl.String,
                "from_to": pl.String,
                "accounts": pl.UInt32,
                "examples": pl.List(pl.Int64),
            }
        )
    return (
        pl.concat(changes)
        .group_by("change", "segment", "from_to")
        .agg(pl.len().alias("accounts"), pl.col("account_id").sort().head(3).alias("examples"))
        .sort("change", "accounts", descending=[False, True])
    )

"""The learner's choice, pure and set-based: Thompson sampling from a linear model over the
context's facts (LinTS), on rewards measured against their cell's baseline.

For a learning stage, every account has candidate arms (rows of `candidates`: the arms whose
condition holds, that the guard does not block, within the contact budget; `allowed` says which)
and a context cell (`overdue_minor<50000|age_band=25-34|...`: one value per context fact). What the
arms earned so far (`stats`: n, the sum and the sum of squares of the rewards per stage, cell and
arm) gives a Normal posterior on each arm's mean reward per cell:

- **a baseline per cell** (a control variate): most of a decision's reward is money the account
  would have paid whatever was sent, and it differs a lot between cells (large balances earn
  more under every arm). The cell's baseline is the mean reward of every decision in it (all arms
  together), shrunk toward the stage's mean (itself shrunk toward the prior mean) by `strength`
  pseudo-observations. The arms learn their reward minus that baseline: the same for every arm
  of a cell, it decides nothing between them, but it takes the cells' levels out of what is
  pooled and out of the noise;
- **the uplift, linear in the cell's facts**: per arm, uplift = w . x with x the cell's facts
  one-hot (one feature per fact's value, `age_band=25-34`, plus an intercept) and w a Bayesian
  ridge regression shrunk toward 0 by `strength` pseudo-observations a weight. The per-cell sums
  are sufficient for it (X'X = sum n_c x_c x_c', X'y = sum S_c x_c), so nothing per decision is
  kept. Evidence on one fact's value pools over every cell sharing it: with four facts of three
  to six values, a cell holds a handful of decisions but a fact's value holds hundreds;
- **the spread** is the arm's pooled variance of the centered rewards (with `strength`
  pseudo-observations of the prior's), and a cell's sd is spread * sqrt(x' (k I + X'WX)^-1 x).

An arm's value in a cell is the baseline plus its uplift; an arm never tried anywhere is worth the
cell's baseline, with the prior's uncertainty.

Each account then draws one value per allowed arm from its posterior (a standard normal from a
stable hash of the account, the day and the arm: a run is reproducible, on any machine) and takes
the arm with the highest draw, ties to the first listed. Two groups do not learn:

- `holdout` (sticky per account and stage): a uniformly random allowed arm every day, so the
  uplift of learning over random choice stays measurable;
- `explore` (per account and day, with the floor's probability): a uniformly random allowed arm.

A cautious none arm (`none_z`): learning takes the none arm (no contact, no call today) only
where it beats the arm the draws would otherwise pick, its posterior mean above that arm's by
`none_z` standard deviations of their difference (with 0.95, a 95 % posterior probability of
being better): not contacting is the departure from the policy's ladder, and a near tie is no
reason to leave a debtor uncalled. Exploration and the holdout still draw it at random, which is
where its evidence comes from. A hand-off queue's message arms (a message in the call's place)
may be cautious the same way (`message_arms` and `message_z`): a message picked is always sent,
where the queue's call may go undialled, so a near tie would mean one more contact for nothing;
each cautious arm is weighed against the account's best draw among the arms that are not
cautious (the queue's calls).

Calls: when a stage has a call arm and a capacity (`calls_per_day`), the call arm stays allowed
only for the accounts where an agent's minute is worth most, the call's posterior mean minus the
best other allowed arm's, per minute of call (`call_value`), the top `calls_per_day` of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from recoup.strategy.kernel import unit_hash

_U64 = pl.UInt64


@dataclass(frozen=True)
class StageParams:
    """What the choice needs of a stage's `learn:` block."""

    stage: str
    arms: tuple[str, ...]  # in the policy's order (ties go to the first)
    exploration: float
    holdout: float
    prior_mean: float
    prior_sd: float
    strength: float
    call_arms: tuple[str, ...] = ()
    call_minutes: float = 6.0
    calls_per_day: int | None = None
    # The `channel: none` arm and, when it must be sure, the normal quantile of its confidence
    # (1.645 for 0.95): see `_sure`.
    none_arm: str | None = None
    none_z: float | None = None
    # A hand-off queue's message arms and, when they must be sure, the normal quantile of their
    # confidence: see `_sure`.
    message_arms: tuple[str, ...] = ()
    message_z: float | None = None


def seed_of(*parts: object) -> int:
    """A stable 64-bit number from names and dates (the same on every machine and run)."""
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


STATS_SCHEMA = {
    "stage": pl.String,
    "cell": pl.String,
    "arm": pl.String,
    "n": pl.Int64,
    "reward_sum": pl.Float64,
    "reward_sq_sum": pl.Float64,
}


def posterior(
    stats: pl.DataFrame, params: list[StageParams], wanted: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per stage, cell and arm: mean, sd; per stage and arm, the pooled: mean, sd) from the
    rewards so far (`stats`, see STATS_SCHEMA), for every cell of `stats` and of `wanted`
    (stage, cell: the cells the day's accounts are in)."""
    prior = pl.DataFrame(
        {
            "stage": [p.stage for p in params for _ in p.arms],
            "arm": [a for p in params for a in p.arms],
            "_m0": [p.prior_mean for p in params for _ in p.arms],
            "_s0": [p.prior_sd for p in params for _ in p.arms],
            "_k": [p.strength for p in params for _ in p.arms],
        },
        schema={
            "stage": pl.String,
            "arm": pl.String,
            "_m0": pl.Float64,
            "_s0": pl.Float64,
            "_k": pl.Float64,
        },
    )
    stats = stats.select(list(STATS_SCHEMA)).cast(STATS_SCHEMA)  # type: ignore[arg-type]
    baselines = _baselines(stats, prior)
    # The control variate: every arm's rewards less their cell's baseline b, as sums:
    # sum(r - b) = S - n*b and sum((r - b)^2) = SS - 2*b*S + n*b^2.
    stats = (
        stats.join(baselines.select("stage", "cell", "_b"), on=["stage", "cell"], how="left")
        .with_columns(
            (pl.col("reward_sum") - pl.col("n") * pl.col("_b")).alias("reward_sum"),
            (
                pl.col("reward_sq_sum")
                - 2 * pl.col("_b") * pl.col("reward_sum")
                + pl.col("n") * pl.col("_b") ** 2
            ).alias("reward_sq_sum"),
        )
        .drop("_b")
    )
    stage_mean = baselines.select("stage", "_stage_mean").unique("stage")
    pooled = (
        prior.with_columns(pl.lit(0.0).alias("_m0"))
        .join(
            stats.group_by("stage", "arm").agg(
                pl.col("n").sum().alias("_n"),
                pl.col("reward_sum").sum().alias("_s"),
                pl.col("reward_sq_sum").sum().alias("_ss"),
            ),
            on=["stage", "arm"],
            how="left",
        )
        .with_columns(pl.col("_n", "_s", "_ss").fill_null(0))
        .with_columns(
            ((pl.col("_s") + pl.col("_k") * pl.col("_m0")) / (pl.col("_n") + pl.col("_k"))).alias(
                "pooled_mean"
            ),
            # Squared deviations from the arm's own mean, plus the prior's pseudo-observations.
            (
                (
                    (pl.col("_ss") - pl.col("_s") ** 2 / pl.col("_n").clip(1)).clip(0)
                    + pl.col("_k") * pl.col("_s0") ** 2
                )
                / (pl.col("_n") + pl.col("_k"))
            )
            .sqrt()
            .alias("spread"),
        )
    )
    universe = stats.select("stage", "cell")
    if wanted is not None:
        universe = pl.concat([universe, wanted.select("stage", "cell").cast(pl.String)])
    uplift = _linear(stats, pooled, params, universe.unique())
    cells = (
        uplift.join(baselines.select("stage", "cell", "_b"), on=["stage", "cell"], how="left")
        .join(stage_mean, on="stage", how="left")
        .join(stats.select("stage", "cell", "arm", "n"), on=["stage", "cell", "arm"], how="left")
        .with_columns(
            (pl.col("_b").fill_null(pl.col("_stage_mean")) + pl.col("uplift")).alias("mean"),
            pl.col("n").fill_null(0),
        )
        .select("stage", "cell", "arm", "mean", "sd", "n")
    )
    # A cell nobody has earned in yet has the stage's mean for a baseline.
    pooled_out = pooled.join(stage_mean, on="stage", how="left").select(
        "stage",
        "arm",
        (pl.col("_stage_mean") + pl.col("pooled_mean")).alias("pooled_mean"),
        (pl.col("spread") / (pl.col("_n") + pl.col("_k")).sqrt()).alias("pooled_sd"),
    )
    return cells, pooled_out


def _tokens(cell: str) -> list[str]:
    """A cell's features: its facts' values (`overdue_minor<50000`, `age_band=25-34`, ...) and
    the intercept every cell shares."""
    return ["", *cell.split("|")]


def _linear(
    stats: pl.DataFrame, pooled: pl.DataFrame, params: list[StageParams], universe: pl.DataFrame
) -> pl.DataFrame:
    """Per stage, arm and cell of `universe`: the arm's uplift there (`uplift`) and its sd, by a
    Bayesian linear model over the cell's features (LinTS): uplift = w . x, x the one-hot facts
    of the cell and an intercept, w shrunk toward 0 by `strength` pseudo-observations a weight.

    `stats` holds the centered sums per cell (sufficient for one-hot features: the design's
    X'X is sum n_c x_c x_c' and X'y is sum S_c x_c), so w = (k I + X'WX)^-1 X'S and the cell's
    sd is spread * sqrt(x' (k I + X'WX)^-1 x), `spread` the arm's (from `pooled`). Evidence on
    one fact's value pools over every cell sharing it: a call's worth for large balances is
    learned from the large balances of every age and score, not cell by cell."""
    out: list[pl.DataFrame] = []
    spread = {(st, a): sp for st, a, sp in pooled.select("stage", "arm", "spread").iter_rows()}
    for p in params:
        cells = sorted(
            c for c in universe.filter(pl.col("stage") == p.stage)["cell"].to_list() if c
        )
        if not cells:
            continue
        names = sorted({t for c in cells for t in _tokens(c)})
        col = {t: i for i, t in enumerate(names)}
        design = np.zeros((len(cells), len(names)))
        for i, c in enumerate(cells):
            design[i, [col[t] for t in _tokens(c)]] = 1.0
        row = {c: i for i, c in enumerate(cells)}
        here = stats.filter(pl.col("stage") == p.stage)
        for arm in p.arms:
            mine = here.filter(pl.col("arm") == arm)
            n = np.zeros(len(cells))
            total = np.zeros(len(cells))
            for c, k, t in mine.select("cell", "n", "reward_sum").iter_rows():
                if c in row:
                    n[row[c]] += k
                    total[row[c]] += t
            gram = p.strength * np.eye(len(names)) + design.T @ (n[:, None] * design)
            inverse = np.linalg.inv(gram)
            weights = inverse @ (design.T @ total)
            var = np.einsum("ij,jk,ik->i", design, inverse, design)
            sd = spread.get((p.stage, arm), p.prior_sd) * np.sqrt(np.clip(var, 0.0, None))
            out.append(
                pl.DataFrame(
                    {
                        "stage": [p.stage] * len(cells),
                        "cell": cells,
                        "arm": [arm] * len(cells),
                        "uplift": design @ weights,
                        "sd": sd,
                    },
                    schema={
                        "stage": pl.String,
                        "cell": pl.String,
                        "arm": pl.String,
                        "uplift": pl.Float64,
                        "sd": pl.Float64,
                    },
                )
            )
    if not out:
        return pl.DataFrame(
            schema={
                "stage": pl.String,
                "cell": pl.String,
                "arm": pl.String,
                "uplift": pl.Float64,
                "sd": pl.Float64,
            }
        )
    return pl.concat(out)


def _baselines(stats: pl.DataFrame, prior: pl.DataFrame) -> pl.DataFrame:
    """Per stage and cell, the baseline `_b`: the cell's mean reward over all its arms, shrunk
    toward the stage's mean by `strength` pseudo-observations; the stage's mean `_stage_mean` is
    shrunk toward the prior's mean likewise. Every stage of `prior` has a row (cell null when
    nothing was earned in it yet)."""
    per_stage = prior.group_by("stage").agg(pl.col("_m0").first(), pl.col("_k").first())
    totals = stats.group_by("stage").agg(
        pl.col("n").sum().alias("_n_s"), pl.col("reward_sum").sum().alias("_s_s")
    )
    per_stage = per_stage.join(totals, on="stage", how="left").with_columns(
        (
            (pl.col("_s_s").fill_null(0) + pl.col("_k") * pl.col("_m0"))
            / (pl.col("_n_s").fill_null(0) + pl.col("_k"))
        ).alias("_stage_mean")
    )
    per_cell = stats.group_by("stage", "cell").agg(
        pl.col("n").sum().alias("_n_c"), pl.col("reward_sum").sum().alias("_s_c")
    )
    return per_stage.join(per_cell, on="stage", how="left").with_columns(
        (
            (pl.col("_s_c").fill_null(0) + pl.col("_k") * pl.col("_stage_mean"))
            / (pl.col("_n_c").fill_null(0) + pl.col("_k"))
        ).alias("_b")
    )


def _row_key(arm_seed: pl.Expr) -> pl.Expr:
    return pl.col("account_id").cast(_U64).xor(arm_seed)


def choose(
    candidates: pl.DataFrame,
    stats: pl.DataFrame,
    params: list[StageParams],
    *,
    day: dt.date,
) -> pl.DataFrame:
    """One arm per account. `candidates`: account_id, stage, cell, arm, allowed (one row per
    account and arm of its stage). Returns account_id, stage, cell, arm, mode (learn, explore,
    holdout), value and sd (the chosen arm's posterior), draw, call_value (a call arm's value per
    agent minute, when the stage has one; null otherwise), choices (how many arms were allowed:
    1 is no choice, and teaches nothing); accounts without an allowed arm get none (no row)."""
    by_stage = {p.stage: p for p in params}
    cells, pooled = posterior(stats, params, candidates.select("stage", "cell").unique())
    order = pl.DataFrame(
        {
            "stage": [p.stage for p in params for _ in p.arms],
            "arm": [a for p in params for a in p.arms],
            "_order": [i for p in params for i, _ in enumerate(p.arms)],
            "_arm_seed": [
                seed_of("arm", p.stage, a, day.isoformat()) for p in params for a in p.arms
            ],
            "_exploration": [p.exploration for p in params for _ in p.arms],
            "_holdout": [p.holdout for p in params for _ in p.arms],
            "_holdout_seed": [seed_of("holdout", p.stage) for p in params for _ in p.arms],
            "_is_call": [a in p.call_arms for p in params for a in p.arms],
            "_sure_z": [
                p.none_z if a == p.none_arm else p.message_z if a in p.message_arms else None
                for p in params
                for a in p.arms
            ],
        },
        schema={
            "stage": pl.String,
            "arm": pl.String,
            "_order": pl.Int64,
            "_arm_seed": _U64,
            "_exploration": pl.Float64,
            "_holdout": pl.Float64,
            "_holdout_seed": _U64,
            "_is_call": pl.Boolean,
            "_sure_z": pl.Float64,
        },
    )
    day_seed = seed_of("explore", day.isoformat())
    allowed = (
        candidates.lazy()
        .filter(pl.col("allowed"))
        .select("account_id", "stage", "cell", "arm")
        .join(order.lazy(), on=["stage", "arm"], how="inner")
    )
    # Per account (not per row): the sticky holdout and the day's exploration.
    modes = (
        allowed.select("account_id", "_holdout", "_holdout_seed", "_exploration")
        .unique("account_id")
        .select(
            "account_id",
            pl.when(
                unit_hash(pl.col("account_id").cast(_U64).xor(pl.col("_holdout_seed")), 0)
                < pl.col("_holdout")
            )
            .then(pl.lit("holdout"))
            .when(unit_hash(pl.col("account_id"), day_seed) < pl.col("_exploration"))
            .then(pl.lit("explore"))
            .otherwise(pl.lit("learn"))
            .alias("mode"),
        )
    )
    # One hash per (account, day, arm), split in two uniforms (26 and 27 bits) for Box-Muller:
    # a standard normal per row, the same on every run and machine.
    u = unit_hash(_row_key(pl.col("_arm_seed")), 1) * float(1 << 26)
    frame = (
        allowed.join(cells.lazy(), on=["stage", "cell", "arm"], how="left")
        .join(pooled.lazy(), on=["stage", "arm"], how="left")
        .join(modes, on="account_id", how="left")
        .with_columns(
            pl.coalesce("mean", "pooled_mean").alias("mean"),
            pl.coalesce("sd", "pooled_sd").alias("sd"),
            ((u.floor() + 0.5) / float(1 << 26)).alias("_u1"),
            (u - u.floor()).alias("_u2"),
        )
        .with_columns(
            ((-2.0 * pl.col("_u1").log()).sqrt() * (2 * math.pi * pl.col("_u2")).cos()).alias("_z")
        )
        .with_columns((pl.col("mean") + pl.col("sd") * pl.col("_z")).alias("draw"))
    )
    if any(p.call_arms and p.calls_per_day is not None for p in params):
        frame = _call_capacity(frame, by_stage)
    else:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias("call_value"))
    if any(p.none_z is not None or p.message_z is not None for p in params):
        frame = _sure(frame)
    else:
        frame = frame.with_columns(pl.col("draw").alias("_pick"))
    # Learning: the highest draw (a cautious arm's as `_sure` says). Holdout and
    # exploration: the highest of independent standard normals, i.e. a uniformly random allowed
    # arm. Ties (continuous draws make them vanishingly rare) go to the arm listed first.
    score = pl.when(pl.col("mode") == "learn").then(pl.col("_pick")).otherwise(pl.col("_z"))
    frame = frame.with_columns(
        (score - pl.col("_order") * 1e-9 * (score.abs() + 1)).alias("_score")
    )
    best = pl.col("_score").arg_max()
    chosen = (
        frame.group_by("account_id")
        .agg(
            *(
                pl.col(c).get(best)
                for c in ("stage", "cell", "arm", "mode", "mean", "sd", "draw", "call_value")
            ),
            pl.len().cast(pl.Int64).alias("choices"),
        )
        .sort("account_id")
    )
    return (
        chosen.select(
            "account_id",
            "stage",
            "cell",
            "arm",
            "mode",
            "mean",
            "sd",
            "draw",
            "call_value",
            "choices",
        )
        .rename({"mean": "value"})
        .collect()
    )


def _sure(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The draw learning ranks by (`_pick`): a cautious arm's (rows with `_sure_z`: a none arm,
    a queue's message arm) above the account's best draw among the arms that are not cautious
    where its mean beats that arm's by `_sure_z` sds of their difference, below it otherwise;
    every other row's, and a cautious arm's of an account with no other kind of arm allowed,
    its own draw."""
    cautious = pl.col("_sure_z").is_not_null()
    top = pl.col("draw").arg_max()
    best = (
        frame.filter(~cautious)
        .group_by("account_id")
        .agg(
            pl.col("draw").get(top).alias("_best_draw"),
            pl.col("mean").get(top).alias("_best_mean"),
            pl.col("sd").get(top).alias("_best_sd"),
        )
    )
    sure = (pl.col("mean") - pl.col("_best_mean")) >= pl.col("_sure_z") * (
        pl.col("sd") ** 2 + pl.col("_best_sd") ** 2
    ).sqrt()
    return (
        frame.join(best, on="account_id", how="left")
        .with_columns(
            pl.when(cautious & pl.col("_best_draw").is_not_null())
            .then(
                pl.when(sure)
                .then(pl.max_horizontal("draw", pl.col("_best_draw") + 1.0))
                .otherwise(pl.min_horizontal("draw", pl.col("_best_draw") - 1.0))
            )
            .otherwise(pl.col("draw"))
            .alias("_pick")
        )
        .drop("_best_draw", "_best_mean", "_best_sd")
    )


def _call_capacity(frame: pl.LazyFrame, by_stage: dict[str, StageParams]) -> pl.LazyFrame:
    """Keeps a call arm only for the stage's top `calls_per_day` accounts by the value of an
    agent's minute: (the call's mean - the best other allowed arm's mean) / call minutes."""
    minutes = pl.DataFrame(
        {
            "stage": list(by_stage),
            "_minutes": [p.call_minutes for p in by_stage.values()],
            "_capacity": [p.calls_per_day for p in by_stage.values()],
        },
        schema={"stage": pl.String, "_minutes": pl.Float64, "_capacity": pl.Int64},
    )
    best_other = (
        frame.filter(~pl.col("_is_call"))
        .group_by("account_id")
        .agg(pl.col("mean").max().alias("_best_other"))
    )
    calls = (
        frame.filter(pl.col("_is_call"))
        .join(best_other, on="account_id", how="left")
        .join(minutes.lazy(), on="stage", how="left")
        .with_columns(
            ((pl.col("mean") - pl.col("_best_other").fill_null(0)) / pl.col("_minutes")).alias(
                "call_value"
            )
        )
        .with_columns(
            pl.col("call_value").rank("ordinal", descending=True).over("stage").alias("_rank")
        )
        .with_columns(
            (pl.col("_capacity").is_null() | (pl.col("_rank") <= pl.col("_capacity"))).alias(
                "_within"
            )
        )
        .select("account_id", "arm", "call_value", "_within")
    )
    return (
        frame.join(calls, on=["account_id", "arm"], how="left")
        .filter(pl.col("_within").fill_null(True))
        .drop("_within")
    )

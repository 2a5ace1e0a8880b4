"""What the learning strategy has learned, as people read it: per stage and arm the pulls, the mean
reward and its 95 % interval; per context cell the leading arm; and the holdout's uplift (the
learner's decisions against the random holdout's). Pure: plain rows and frames in, plain objects
out; no session, no web.

Definitions (docs/models.md, "Watching the models"):

- An arm's mean reward is reward_sum / n; its standard deviation comes from the sums,
  sd² = (reward_sq_sum − n·mean²) / (n − 1); the interval is mean ± 1.96·sd/√n (none under n = 2).
- The leading arm of a (policy, stage, context) cell is the one with the highest mean among arms
  pulled at least once; ties go to the arm with more pulls, then by name.
- The uplift is the learner's mean minus the holdout's, with Welch's normal-approximation
  interval: se = √(sd_l²/n_l + sd_h²/n_h), difference ± 1.96·se.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

Z95 = 1.959963984540054


@dataclass(frozen=True)
class ArmRow:
    """One `learning_arms` row."""

    policy: str
    stage: str
    context: str
    arm: str
    n: int
    reward_sum: float
    reward_sq_sum: float


@dataclass(frozen=True)
class Estimate:
    n: int
    mean: float | None
    sd: float | None

    @property
    def low(self) -> float | None:
        if self.mean is None or self.sd is None or self.n < 2:
            return None
        return self.mean - Z95 * self.sd / math.sqrt(self.n)

    @property
    def high(self) -> float | None:
        if self.mean is None or self.sd is None or self.n < 2:
            return None
        return self.mean + Z95 * self.sd / math.sqrt(self.n)


def from_sums(n: int, total: float, squares: float) -> Estimate:
    """Mean and sample standard deviation from a count, a sum and a sum of squares."""
    if n <= 0:
        return Estimate(0, None, None)
    mean = total / n
    if n == 1:
        return Estimate(1, mean, None)
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    return Estimate(n, mean, math.sqrt(variance))


def of_values(values: Sequence[float]) -> Estimate:
    return from_sums(len(values), math.fsum(values), math.fsum(v * v for v in values))


@dataclass(frozen=True)
class Arm:
    policy: str
    stage: str
    arm: str
    estimate: Estimate
    contexts: int


@dataclass(frozen=True)
class Leader:
    policy: str
    stage: str
    context: str
    arm: str
    estimate: Estimate
    arms: int  # arms pulled in the cell


def arms(rows: Iterable[ArmRow]) -> list[Arm]:
    """Per policy, stage and arm, over every context: the pulls, mean reward and interval."""
    sums: dict[tuple[str, str, str], list[float]] = {}
    cells: dict[tuple[str, str, str], set[str]] = {}
    for r in rows:
        key = (r.policy, r.stage, r.arm)
        acc = sums.setdefault(key, [0.0, 0.0, 0.0])
        acc[0] += r.n
        acc[1] += r.reward_sum
        acc[2] += r.reward_sq_sum
        if r.n > 0:
            cells.setdefault(key, set()).add(r.context)
    return [
        Arm(policy, stage, arm, from_sums(int(n), total, sq), len(cells.get(key, ())))
        for key, (n, total, sq) in sorted(sums.items())
        for policy, stage, arm in [key]
    ]


def leaders(rows: Iterable[ArmRow]) -> list[Leader]:
    """Per (policy, stage, context) cell, the arm with the highest mean reward."""
    by_cell: dict[tuple[str, str, str], list[tuple[str, Estimate]]] = {}
    for r in rows:
        if r.n <= 0:
            continue
        by_cell.setdefault((r.policy, r.stage, r.context), []).append(
            (r.arm, from_sums(r.n, r.reward_sum, r.reward_sq_sum))
        )
    out: list[Leader] = []
    for (policy, stage, context), pulled in sorted(by_cell.items()):
        arm, est = min(pulled, key=lambda p: (-(p[1].mean or 0.0), -p[1].n, p[0]))
        out.append(Leader(policy, stage, context, arm, est, len(pulled)))
    return out


@dataclass(frozen=True)
class Uplift:
    """The learner's decisions against the holdout's, on the reward and on money recovered per
    account (minor units)."""

    learner: Estimate
    holdout: Estimate
    diff: float | None
    low: float | None
    high: float | None
    recovered_learner: Estimate
    recovered_holdout: Estimate
    recovered_diff: float | None
    recovered_low: float | None
    recovered_high: float | None


def _welch(a: Estimate, b: Estimate) -> tuple[float | None, float | None, float | None]:
    if a.mean is None or b.mean is None:
        return None, None, None
    diff = a.mean - b.mean
    if a.sd is None or b.sd is None:
        return diff, None, None
    se = math.sqrt(a.sd**2 / a.n + b.sd**2 / b.n)
    return diff, diff - Z95 * se, diff + Z95 * se


def uplift(outcomes: pl.DataFrame) -> Uplift:
    """`outcomes`: holdout (bool), reward (float), recovered_minor (int); one row per matured
    decision (a decision whose treatment's horizon has passed)."""
    learner = outcomes.filter(~pl.col("holdout"))
    holdout = outcomes.filter(pl.col("holdout"))
    le, ho = of_values(learner["reward"].to_list()), of_values(holdout["reward"].to_list())
    rl = of_values([float(v) for v in learner["recovered_minor"].to_list()])
    rh = of_values([float(v) for v in holdout["recovered_minor"].to_list()])
    diff, low, high = _welch(le, ho)
    rdiff, rlow, rhigh = _welch(rl, rh)
    return Uplift(le, ho, diff, low, high, rl, rh, rdiff, rlow, rhigh)

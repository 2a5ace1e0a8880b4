"""Watching a model after it is trained: how well its scores of each day sorted the outcomes that
arrived since (AUC), and whether its probabilities were right on average (calibration). Pure:
arrays and frames in, plain numbers out; no session, no web.

Definitions (docs/models.md, "Watching the models", says the same in prose):

- AUC of a day: the probability that a randomly chosen account whose outcome happened (label 1)
  was scored above a randomly chosen one whose outcome did not, ties counting one half. Computed
  with the rank formula (Mann-Whitney U): with average ranks r over all n scores,
  AUC = (Σ r over positives − n₊(n₊+1)/2) / (n₊·n₋). A day with no positive or no negative has
  no AUC (None), not 0.5.
- Calibration: the scores sorted and cut into `bins` groups of (nearly) equal count (deciles by
  default); per group the mean predicted probability, the observed share of label 1, and the
  count. A calibrated model's two means agree in every group.
- Brier score: the mean of (score − label)².
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

DECILES = 10


def average_ranks(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Ranks 1..n of `values`, ties sharing the mean of the ranks they span."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return np.zeros(0)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)  # the highest rank each distinct value spans
    mean_rank = ends - (counts - 1) / 2.0
    return np.asarray(mean_rank[inverse], dtype=np.float64)


def auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float | None:
    """Area under the ROC curve by the rank formula; None without both outcomes."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores against {y.size} labels")
    positives = int(y.sum())
    negatives = int(y.size - positives)
    if positives == 0 or negatives == 0:
        return None
    ranks = average_ranks(s)
    u = float(ranks[y].sum()) - positives * (positives + 1) / 2.0
    return u / (positives * negatives)


@dataclass(frozen=True)
class Bin:
    """One calibration group: the mean predicted probability, the observed share, the count."""

    predicted: float
    observed: float
    n: int


def reliability(scores: npt.ArrayLike, labels: npt.ArrayLike, bins: int = DECILES) -> list[Bin]:
    """Predicted against observed by equal-count groups of the sorted scores (fewer groups than
    `bins` when there are fewer scores than groups)."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores against {y.size} labels")
    if s.size == 0:
        return []
    order = np.argsort(s, kind="stable")
    groups = np.array_split(order, min(bins, s.size))
    return [
        Bin(predicted=float(s[g].mean()), observed=float(y[g].mean()), n=int(g.size))
        for g in groups
        if g.size
    ]


def brier(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float | None:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if s.size == 0:
        return None
    return float(np.mean((s - y) ** 2))


@dataclass(frozen=True)
class Day:
    """A scoring day whose outcomes have arrived: its AUC, Brier score, accounts and positives,
    and the mean score against the observed rate."""

    as_of_date: dt.date
    n: int
    positives: int
    auc: float | None
    brier: float | None
    mean_score: float
    observed: float


@dataclass(frozen=True)
class Performance:
    """A model's days (oldest first) and the calibration over all of them together."""

    days: list[Day]
    reliability: list[Bin]
    auc: float | None  # over every matured score together
    n: int


def performance(scored: pl.DataFrame, *, bins: int = DECILES) -> Performance:
    """`scored`: as_of_date, score, label (0/1), one row per account scored that day whose
    outcome has arrived."""
    days: list[Day] = []
    for (day,), part in sorted(
        scored.partition_by("as_of_date", as_dict=True).items(), key=lambda kv: kv[0]
    ):
        s = part["score"].to_numpy()
        y = part["label"].to_numpy()
        days.append(
            Day(
                as_of_date=day,
                n=part.height,
                positives=int(y.sum()),
                auc=auc(s, y),
                brier=brier(s, y),
                mean_score=float(s.mean()),
                observed=float(y.mean()),
            )
        )
    s = scored["score"].to_numpy() if scored.height else np.zeros(0)
    y = scored["label"].to_numpy() if scored.height else np.zeros(0)
    return Performance(
        days=days,
        reliability=reliability(s, y, bins),
        auc=auc(s, y) if scored.height else None,
        n=scored.height,
    )


def matured_days(days: Sequence[dt.date], *, horizon_days: int, today: dt.date) -> list[dt.date]:
    """The scoring days whose horizon has passed by `today` (their outcomes are all known)."""
    return sorted(d for d in set(days) if d + dt.timedelta(days=horizon_days) <= today)

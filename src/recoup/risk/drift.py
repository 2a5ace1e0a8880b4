"""Drift: how far today's population has moved from the one a model was trained on.

The population stability index of one column (or the score) against the training distribution kept
in the model (`Model.reference`): PSI = sum over bins of (actual - expected) * ln(actual /
expected), with the same bins as the reference (deciles of the training values for a number, the
training categories for text, and a bin for missing or unseen). A share of zero is floored at
`FLOOR` so that an empty bin counts as a large but finite shift. The usual reading: below `WATCH`
stable, `WATCH` to `ALERT` worth a look, past `ALERT` the model no longer sees the population it
learned from.

Pure: arrays and frames in, numbers out.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from recoup.risk.tabular import Bins, Model, ModelError, bin_counts

WATCH, ALERT = 0.1, 0.25
FLOOR = 1e-4


def psi(reference: Bins, values: np.ndarray | pl.Series) -> float:
    """PSI of `values` against `reference`; NaN when there are no values (nothing to compare)."""
    counts = bin_counts(reference, values)
    total = counts.sum()
    if total == 0:
        return float("nan")
    actual = np.maximum(counts / total, FLOOR)
    expected = np.maximum(np.asarray(reference.shares, dtype=np.float64), FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def drift(model: Model, frame: pl.DataFrame, scores: np.ndarray) -> dict[str, float]:
    """PSI of every model column of `frame` and of `scores` (the model's predictions on it),
    keyed by column name and "score"."""
    absent = [c.name for c in model.columns if c.name not in frame.columns]
    if absent:
        raise ModelError(f"the data lacks column(s) the model needs: {', '.join(absent)}")
    out = {c.name: psi(model.reference[c.name], frame.get_column(c.name)) for c in model.columns}
    out["score"] = psi(model.reference["score"], np.asarray(scores, dtype=np.float64))
    return out

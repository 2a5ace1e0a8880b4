"""Drift (recoup.risk.drift): PSI is about zero when today's population is the training one and past
the alert threshold when it has moved, for numbers, categories and the score."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from recoup.risk import drift, tabular
from recoup.risk.drift import ALERT, WATCH

pytestmark = pytest.mark.pure


def population(n: int, seed: int, *, shift: float = 0.0, south: float = 1 / 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(loc=shift, size=n)
    rest = (1 - south) / 2
    region = rng.choice(["north", "south", "east"], size=n, p=[rest, south, rest])
    paid = (rng.random(n) < 1 / (1 + np.exp(-2 * income))).astype(np.int8)
    return pl.DataFrame({"income": income, "region": region, "paid": paid})


@pytest.fixture(scope="module")
def model() -> tabular.Model:
    return tabular.train(population(4000, 1), "paid", folds=2, params={"num_rounds": 30})


def test_the_same_distribution_is_stable(model: tabular.Model) -> None:
    today = population(4000, 2)
    found = drift.drift(model, today, tabular.predict(model, today))
    assert set(found) == {"income", "region", "score"}
    assert all(value < WATCH / 2 for value in found.values()), found


def test_a_shifted_population_is_past_the_alert(model: tabular.Model) -> None:
    """Catches PSI reading today's values with other bins than the training's, or not at all: a
    shift of one standard deviation in income, and twice the share of the south."""
    today = population(4000, 3, shift=1.0, south=0.66)
    found = drift.drift(model, today, tabular.predict(model, today))
    assert found["income"] > ALERT
    assert found["region"] > ALERT
    assert found["score"] > ALERT


def test_missing_and_unseen_values_count_in_the_missing_bin() -> None:
    reference = tabular.categorical_bins(np.array([0.0, 1.0, 0.0, 1.0]), ("a", "b"))
    assert reference.shares == (0.5, 0.5, 0.0)
    assert drift.psi(reference, pl.Series(["a", "b", "a", "b"])) == pytest.approx(0.0)
    moved = drift.psi(reference, pl.Series(["a", "b", "zzz", None]))
    # half the values moved to the (floored) missing bin
    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) * 2 + (0.5 - 1e-4) * np.log(0.5 / 1e-4)
    assert moved == pytest.approx(expected)
    numbers = tabular.numeric_bins(np.array([1.0, 2.0, 3.0, np.nan]))
    assert numbers.shares[-1] == 0.25
    assert sum(numbers.shares) == pytest.approx(1.0)
    assert drift.psi(numbers, np.array([1.0, 2.0, 3.0, np.nan])) == pytest.approx(0.0)


def test_no_values_give_nan_and_a_missing_column_is_named(model: tabular.Model) -> None:
    assert np.isnan(drift.psi(model.reference["income"], np.array([])))
    with pytest.raises(tabular.ModelError, match="region"):
        drift.drift(model, population(10, 4).drop("region"), np.zeros(10))

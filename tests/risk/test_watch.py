"""The pure arithmetic of watching a model (`recoup.risk.watch`): AUC by the rank formula against
hand-counted pairs, equal-count calibration bins, the per-day performance over crafted scores and
outcomes, and the days whose horizon has passed."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import polars as pl
import pytest

from recoup.risk import watch

pytestmark = pytest.mark.pure


def pairs_auc(scores: list[float], labels: list[int]) -> float:
    """The definition itself: over every (positive, negative) pair, 1 when the positive is scored
    higher, 1/2 for a tie."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


class TestAuc:
    def test_hand_counted(self) -> None:
        # Positives 0.9 and 0.7; negatives 0.8, 0.6, 0.5: 0.9 beats three, 0.7 beats two: 5/6.
        assert watch.auc([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 0]) == pytest.approx(5 / 6)

    def test_ties_count_one_half(self) -> None:
        """Catches ranks without tie averaging (a tie would count 0 or 1, not one half)."""
        assert watch.auc([0.5, 0.5], [1, 0]) == pytest.approx(0.5)
        scores = [0.3, 0.3, 0.3, 0.7, 0.7, 0.1]
        labels = [1, 0, 0, 1, 0, 1]
        assert watch.auc(scores, labels) == pytest.approx(pairs_auc(scores, labels))

    def test_agrees_with_the_pair_count_on_random_scores(self) -> None:
        rng = np.random.default_rng(7)
        scores = np.round(rng.random(200), 2).tolist()  # rounded: many ties
        labels = (rng.random(200) < 0.3).astype(int).tolist()
        assert watch.auc(scores, labels) == pytest.approx(pairs_auc(scores, labels))

    def test_one_outcome_only_has_no_auc(self) -> None:
        assert watch.auc([0.2, 0.4], [1, 1]) is None
        assert watch.auc([0.2, 0.4], [0, 0]) is None

    def test_mismatched_lengths_are_refused(self) -> None:
        with pytest.raises(ValueError, match="3 scores against 2 labels"):
            watch.auc([0.1, 0.2, 0.3], [1, 0])


class TestReliability:
    def test_equal_count_bins_in_score_order(self) -> None:
        scores = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]
        labels = [0, 0, 0, 1, 0, 1, 1, 0, 1, 1]
        bins = watch.reliability(scores, labels, bins=5)
        assert [b.n for b in bins] == [2, 2, 2, 2, 2]
        assert [round(b.predicted, 4) for b in bins] == [0.1, 0.3, 0.5, 0.7, 0.9]
        assert [b.observed for b in bins] == [0.0, 0.5, 0.5, 0.5, 1.0]

    def test_fewer_scores_than_bins(self) -> None:
        bins = watch.reliability([0.2, 0.8, 0.5], [0, 1, 1])
        assert [(b.predicted, b.observed, b.n) for b in bins] == [
            (0.2, 0.0, 1),
            (0.5, 1.0, 1),
            (0.8, 1.0, 1),
        ]

    def test_deciles_cover_every_score_once(self) -> None:
        rng = np.random.default_rng(3)
        scores = rng.random(1003)
        labels = rng.random(1003) < scores
        bins = watch.reliability(scores, labels)
        assert len(bins) == 10
        assert sum(b.n for b in bins) == 1003
        assert [b.predicted for b in bins] == sorted(b.predicted for b in bins)

    def test_brier(self) -> None:
        assert watch.brier([0.9, 0.2], [1, 0]) == pytest.approx((0.01 + 0.04) / 2)


class TestPerformance:
    def test_per_day_auc_counts_and_overall_calibration(self) -> None:
        d1, d2, d3 = dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 3)
        scored = pl.DataFrame(
            {
                "as_of_date": [d2] * 4 + [d1] * 5 + [d3] * 2,
                "score": [*(0.9, 0.1, 0.4, 0.6), *(0.9, 0.8, 0.7, 0.6, 0.5), *(0.3, 0.7)],
                "label": [*(1, 0, 0, 1), *(1, 0, 1, 0, 0), *(1, 1)],
            }
        )
        p = watch.performance(scored, bins=2)
        assert [d.as_of_date for d in p.days] == [d1, d2, d3]  # oldest first
        assert [d.n for d in p.days] == [5, 4, 2]
        assert [d.positives for d in p.days] == [2, 2, 2]
        assert p.days[0].auc == pytest.approx(5 / 6)
        assert p.days[1].auc == pytest.approx(1.0)
        assert p.days[2].auc is None  # only payers that day
        assert p.days[0].mean_score == pytest.approx(0.7)
        assert p.days[0].observed == pytest.approx(0.4)
        assert p.n == 11
        assert sum(b.n for b in p.reliability) == 11
        assert p.auc == pytest.approx(
            pairs_auc(scored["score"].to_list(), scored["label"].to_list())
        )

    def test_nothing_matured(self) -> None:
        empty = pl.DataFrame(schema={"as_of_date": pl.Date, "score": pl.Float64, "label": pl.Int64})
        p = watch.performance(empty)
        assert (p.days, p.reliability, p.auc, p.n) == ([], [], None, 0)

    def test_matured_days_are_those_whose_horizon_has_passed(self) -> None:
        days = [dt.date(2026, 5, d) for d in (1, 2, 3, 2)]
        got = watch.matured_days(days, horizon_days=30, today=dt.date(2026, 6, 1))
        assert got == [dt.date(2026, 5, 1), dt.date(2026, 5, 2)]

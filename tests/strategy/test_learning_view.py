"""The pure arithmetic of the learning view (`recoup.strategy.learning_view`): arms' means and
intervals from their running sums, the leading arm per context cell, and the holdout's uplift
with Welch's interval, on crafted sets computed by hand."""

from __future__ import annotations

import math
import statistics

import polars as pl
import pytest

from recoup.strategy import learning_view as lv

pytestmark = pytest.mark.pure


def row(context: str, arm: str, rewards: list[float], stage: str = "early") -> lv.ArmRow:
    return lv.ArmRow(
        policy="learning",
        stage=stage,
        context=context,
        arm=arm,
        n=len(rewards),
        reward_sum=sum(rewards),
        reward_sq_sum=sum(r * r for r in rewards),
    )


class TestArms:
    def test_mean_and_interval_from_the_sums_equal_those_of_the_values(self) -> None:
        """Catches a variance from the sums without Bessel's n − 1 (it would be narrower)."""
        rewards = [10.0, 0.0, 25.0, 5.0, -3.0]
        est = lv.from_sums(len(rewards), sum(rewards), sum(r * r for r in rewards))
        assert est.mean == pytest.approx(statistics.mean(rewards))
        assert est.sd == pytest.approx(statistics.stdev(rewards))
        half = 1.959963984540054 * statistics.stdev(rewards) / math.sqrt(5)
        assert est.low == pytest.approx(statistics.mean(rewards) - half)
        assert est.high == pytest.approx(statistics.mean(rewards) + half)

    def test_arms_pool_their_contexts(self) -> None:
        rows = [
            row("young", "sms", [1.0, 3.0]),
            row("old", "sms", [5.0]),
            row("young", "call", [10.0, 0.0]),
            row("old", "call", []),
        ]
        got = {a.arm: a for a in lv.arms(rows)}
        assert got["sms"].estimate.n == 3
        assert got["sms"].estimate.mean == pytest.approx(3.0)
        assert got["sms"].contexts == 2
        assert got["call"].estimate.n == 2
        assert got["call"].contexts == 1  # never pulled in "old"

    def test_one_pull_has_a_mean_and_no_interval(self) -> None:
        est = lv.from_sums(1, 4.0, 16.0)
        assert (est.mean, est.sd, est.low, est.high) == (4.0, None, None, None)
        assert lv.from_sums(0, 0.0, 0.0).mean is None


class TestLeaders:
    def test_the_highest_mean_leads_each_cell(self) -> None:
        rows = [
            row("young", "sms", [1.0, 3.0]),
            row("young", "call", [10.0, 0.0]),
            row("old", "sms", [5.0]),
            row("old", "call", [2.0, 2.0, 2.0]),
            row("old", "email", []),  # never pulled: never leads
        ]
        got = {(x.context, x.arm): x for x in lv.leaders(rows)}
        assert set(got) == {("young", "call"), ("old", "sms")}
        assert got[("young", "call")].arms == 2
        assert got[("old", "sms")].estimate.mean == 5.0


class TestUplift:
    def test_learner_against_holdout_with_welch_interval(self) -> None:
        learner = [12.0, 8.0, 10.0, 14.0]
        holdout = [5.0, 7.0, 3.0]
        frame = pl.DataFrame(
            {
                "holdout": [False] * 4 + [True] * 3,
                "reward": learner + holdout,
                "recovered_minor": [1200, 800, 1000, 1400, 500, 700, 300],
            }
        )
        u = lv.uplift(frame)
        assert u.learner.n == 4
        assert u.holdout.n == 3
        assert u.diff == pytest.approx(11.0 - 5.0)
        se = math.sqrt(statistics.variance(learner) / 4 + statistics.variance(holdout) / 3)
        assert u.low == pytest.approx(6.0 - 1.959963984540054 * se)
        assert u.high == pytest.approx(6.0 + 1.959963984540054 * se)
        assert u.recovered_diff == pytest.approx(1100 - 500)
        assert u.recovered_low == pytest.approx(600 - 1.959963984540054 * se * 100)

    def test_no_holdout_yet_has_no_difference(self) -> None:
        frame = pl.DataFrame(
            {"holdout": [False, False], "reward": [1.0, 2.0], "recovered_minor": [100, 200]}
        )
        u = lv.uplift(frame)
        assert u.learner.mean == pytest.approx(1.5)
        assert (u.holdout.n, u.diff, u.low, u.high) == (0, None, None, None)

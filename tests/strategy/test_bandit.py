"""The learner's choice (`strategy/bandit.py`), pure: it converges to the best arm, per context
cell; exploration and holdout take their shares; the same inputs choose the same arms; disallowed
arms are never chosen; call capacity goes to the highest value per agent minute."""

from __future__ import annotations

import datetime as dt
import math
import random

import polars as pl
import pytest

from recoup.strategy import bandit

pytestmark = pytest.mark.pure

DAY = dt.date(2026, 6, 20)
ARMS = ("none", "push", "sms")


def params(**kw: object) -> bandit.StageParams:
    base: dict[str, object] = {
        "stage": "early",
        "arms": ARMS,
        "exploration": 0.05,
        "holdout": 0.05,
        "prior_mean": 0.0,
        "prior_sd": 1_000.0,
        "strength": 10.0,
    }
    base.update(kw)
    return bandit.StageParams(**base)  # type: ignore[arg-type]


def candidates(
    accounts: range, cells: list[str] | None = None, arms: tuple[str, ...] = ARMS
) -> pl.DataFrame:
    rows = [
        (a, "early", cells[a % len(cells)] if cells else "all", arm, True)
        for a in accounts
        for arm in arms
    ]
    return pl.DataFrame(
        rows,
        schema={
            "account_id": pl.Int64,
            "stage": pl.String,
            "cell": pl.String,
            "arm": pl.String,
            "allowed": pl.Boolean,
        },
        orient="row",
    )


def no_stats() -> pl.DataFrame:
    return pl.DataFrame(schema=bandit.STATS_SCHEMA)


def strong_sms() -> pl.DataFrame:
    """Ten thousand rewards for each arm: sms earns 5,000 on average, the others nothing."""
    return pl.DataFrame(
        [
            ("early", "all", "sms", 10_000, 50_000_000.0, 2.6e11),
            ("early", "all", "none", 10_000, 0.0, 1e10),
            ("early", "all", "push", 10_000, 0.0, 1e10),
        ],
        schema=bandit.STATS_SCHEMA,
        orient="row",
    )


def simulate(
    true_means: dict[tuple[str, str], float],
    *,
    cells: list[str],
    days: int,
    accounts: int = 400,
    sd: float = 300.0,
) -> pl.DataFrame:
    """A synthetic world: each day every account's chosen arm earns its cell's true mean plus
    noise, and the rewards are added to the stats (as the daily update does)."""
    rng = random.Random(7)
    totals: dict[tuple[str, str, str], list[float]] = {}
    chosen = pl.DataFrame()
    for d in range(days):
        day = DAY + dt.timedelta(days=d)
        stats = pl.DataFrame(
            [("early", c, a, int(v[0]), v[1], v[2]) for (_, c, a), v in totals.items()],
            schema=bandit.STATS_SCHEMA,
            orient="row",
        )
        chosen = bandit.choose(
            candidates(range(accounts), cells), stats, [params(holdout=0.0)], day=day
        )
        for cell, arm in chosen.select("cell", "arm").iter_rows():
            reward = true_means[(cell, arm)] + rng.gauss(0, sd)
            n, s, ss = totals.get(("early", cell, arm), [0.0, 0.0, 0.0])
            totals[("early", cell, arm)] = [n + 1, s + reward, ss + reward * reward]
    return chosen


class TestConvergence:
    def test_it_converges_to_the_best_arm(self) -> None:
        means = {("all", "none"): 0.0, ("all", "push"): 100.0, ("all", "sms"): 400.0}
        last = simulate(means, cells=["all"], days=12)
        learning = last.filter(pl.col("mode") == "learn")
        share = (learning["arm"] == "sms").mean()
        assert share is not None
        assert float(share) > 0.9

    def test_it_picks_per_context_when_cells_differ(self) -> None:
        means = {
            ("small", "none"): 0.0,
            ("small", "push"): 300.0,
            ("small", "sms"): 0.0,
            ("large", "none"): 0.0,
            ("large", "push"): 0.0,
            ("large", "sms"): 500.0,
        }
        last = simulate(means, cells=["small", "large"], days=15)
        learning = last.filter(pl.col("mode") == "learn")
        by_cell = dict(learning.group_by("cell").agg(pl.col("arm").mode().first()).iter_rows())
        assert by_cell == {"small": "push", "large": "sms"}


class TestShares:
    def test_exploration_and_holdout_take_their_shares(self) -> None:
        out = bandit.choose(
            candidates(range(40_000)), no_stats(), [params(exploration=0.1, holdout=0.05)], day=DAY
        )
        shares = dict(out["mode"].value_counts(normalize=True).iter_rows())
        assert shares["holdout"] == pytest.approx(0.05, abs=0.006)
        # Exploration among the accounts outside the holdout.
        assert shares["explore"] == pytest.approx(0.95 * 0.1, abs=0.008)

    def test_the_holdout_is_sticky_and_random(self) -> None:
        first = bandit.choose(candidates(range(20_000)), no_stats(), [params()], day=DAY)
        later = bandit.choose(
            candidates(range(20_000)), no_stats(), [params()], day=DAY + dt.timedelta(days=9)
        )
        held = first.filter(pl.col("mode") == "holdout")["account_id"].sort()
        assert held.equals(later.filter(pl.col("mode") == "holdout")["account_id"].sort())
        arms = first.filter(pl.col("mode") == "holdout")["arm"].value_counts(normalize=True)
        for share in arms["proportion"]:
            assert share == pytest.approx(1 / 3, abs=0.05)

    def test_strong_evidence_does_not_move_the_holdout(self) -> None:
        stats = strong_sms()
        out = bandit.choose(candidates(range(20_000)), stats, [params()], day=DAY)
        held = out.filter(pl.col("mode") == "holdout")
        share = float((held["arm"] == "sms").mean())  # type: ignore[arg-type]
        assert share == pytest.approx(1 / 3, abs=0.05)
        learn = out.filter(pl.col("mode") == "learn")
        assert float((learn["arm"] == "sms").mean()) > 0.99  # type: ignore[arg-type]


class TestDeterminism:
    def test_the_same_inputs_choose_the_same_arms(self) -> None:
        one = bandit.choose(candidates(range(5_000)), no_stats(), [params()], day=DAY)
        two = bandit.choose(candidates(range(5_000)), no_stats(), [params()], day=DAY)
        assert one.equals(two)

    def test_another_day_draws_again(self) -> None:
        one = bandit.choose(candidates(range(5_000)), no_stats(), [params()], day=DAY)
        two = bandit.choose(
            candidates(range(5_000)), no_stats(), [params()], day=DAY + dt.timedelta(days=1)
        )
        assert not one["arm"].equals(two["arm"])


class TestAllowed:
    def test_an_arm_not_allowed_is_never_chosen(self) -> None:
        # The guard or the budget said no to sms for even accounts: even with sms far the best,
        # in every mode (learn, explore, holdout), they never get it. Removing the filter on
        # `allowed` in `choose` makes this fail.
        frame = candidates(range(10_000)).with_columns(
            ~((pl.col("arm") == "sms") & (pl.col("account_id") % 2 == 0)).alias("allowed")
        )
        stats = strong_sms()
        out = bandit.choose(frame, stats, [params()], day=DAY)
        assert out.height == 10_000
        assert out.filter((pl.col("account_id") % 2 == 0) & (pl.col("arm") == "sms")).height == 0
        assert (
            out.filter((pl.col("account_id") % 2 == 1) & (pl.col("mode") == "learn"))[
                "arm"
            ].to_list()
            == ["sms"]
            * out.filter((pl.col("account_id") % 2 == 1) & (pl.col("mode") == "learn")).height
        )


class TestPosterior:
    def test_sparse_cells_borrow_the_pooled_uplift(self) -> None:
        # A rich cell where sms earns 100 more than push, and a sparse one (two rewards an arm)
        # where accounts pay far more whatever is sent, and push looks better by chance.
        stats = pl.DataFrame(
            [
                ("early", "rich", "sms", 1_000, 1_000 * 300.0, 1_000 * (300.0**2 + 100.0**2)),
                ("early", "rich", "push", 1_000, 1_000 * 200.0, 1_000 * (200.0**2 + 100.0**2)),
                ("early", "sparse", "sms", 2, 2 * 5_000.0, 2 * 5_000.0**2),
                ("early", "sparse", "push", 2, 2 * 5_100.0, 2 * 5_100.0**2),
            ],
            schema=bandit.STATS_SCHEMA,
            orient="row",
        )
        cells, pooled = bandit.posterior(stats, [params(arms=("push", "sms"))])
        mean = {(c, a): m for c, a, m in cells.select("cell", "arm", "mean").iter_rows()}
        sd = {(c, a): v for c, a, v in cells.select("cell", "arm", "sd").iter_rows()}
        # The rich cell speaks for itself; the sparse cell keeps its own level (~5,000, what
        # accounts there pay anyway) and borrows the uplift: sms ahead, as in the rich cell.
        assert mean[("rich", "sms")] - mean[("rich", "push")] == pytest.approx(100, abs=2)
        assert mean[("sparse", "sms")] > mean[("sparse", "push")]
        assert mean[("sparse", "sms")] > 1_000
        assert sd[("sparse", "sms")] > sd[("rich", "sms")]
        assert math.isfinite(sd[("sparse", "sms")])
        # Every arm's uplift is shrunk toward 0 by ten pseudo-observations, then the stage's
        # mean added back: sms's pooled mean is above push's by about the rich cell's 100.
        pooled_of = dict(pooled.select("arm", "pooled_mean").iter_rows())
        assert 80 < pooled_of["sms"] - pooled_of["push"] < 110

    def test_the_cells_level_does_not_blur_the_arms_difference(self) -> None:
        # The control variate: rewards are measured against their cell's baseline, so the
        # spread between cells' levels (10,000 against 0) is not noise around an arm. Without
        # the baseline (`_baselines` removed from `posterior`), each arm's spread holds the
        # 5,000 between the levels and after 6 days the learner still splits its choices.
        means = {
            ("high", "none"): 10_000.0,
            ("high", "push"): 10_150.0,
            ("high", "sms"): 10_000.0,
            ("low", "none"): 0.0,
            ("low", "push"): 150.0,
            ("low", "sms"): 0.0,
        }
        last = simulate(means, cells=["high", "low"], days=6, sd=300.0)
        learning = last.filter(pl.col("mode") == "learn")
        assert float((learning["arm"] == "push").mean()) > 0.85  # type: ignore[arg-type]

    def test_evidence_on_a_fact_pools_over_the_cells_sharing_it(self) -> None:
        # The linear model (LinTS): a call earns 500 more than an SMS for large balances of the
        # young, 100 less for small balances; nobody old with a large balance has been called
        # yet. The cell `large|old` learns from the fact `large` (seen with the young) that a
        # call is worth it there. Cell by cell (the arm's uplift pooled over every cell, as
        # before `_linear`), the many small balances make the call look worse everywhere.
        def row(cell: str, arm: str, n: int, mean: float) -> tuple[object, ...]:
            return ("early", cell, arm, n, n * mean, n * (mean**2 + 300.0**2))

        stats = pl.DataFrame(
            [
                row("large|young", "call", 200, 1_000.0),
                row("large|young", "sms", 200, 500.0),
                row("small|young", "call", 1_000, 0.0),
                row("small|young", "sms", 1_000, 100.0),
                row("small|old", "call", 1_000, 0.0),
                row("small|old", "sms", 1_000, 100.0),
                row("large|old", "sms", 50, 500.0),
            ],
            schema=bandit.STATS_SCHEMA,
            orient="row",
        )
        p = params(arms=("sms", "call"), prior_sd=1_000.0)
        wanted = pl.DataFrame({"stage": ["early"], "cell": ["large|old"]})
        cells, _ = bandit.posterior(stats, [p], wanted)
        mean = {(c, a): m for c, a, m in cells.select("cell", "arm", "mean").iter_rows()}
        assert mean[("large|old", "call")] > mean[("large|old", "sms")] + 200
        assert mean[("small|old", "call")] < mean[("small|old", "sms")]
        assert mean[("large|young", "call")] > mean[("large|young", "sms")] + 400


class TestCalls:
    def test_calls_go_to_the_highest_value_per_minute_within_capacity(self) -> None:
        # The call arm is worth more in the cells "c0".."c9" the higher the number.
        rows = []
        for cell in range(10):
            rows.append(("early", f"c{cell}", "call", 1_000, 1_000 * 100.0 * cell, 1_000 * 1e6))
            rows.append(("early", f"c{cell}", "sms", 1_000, 1_000 * 50.0, 1_000 * 1e6))
            rows.append(("early", f"c{cell}", "none", 1_000, 0.0, 1_000 * 1e6))
        stats = pl.DataFrame(rows, schema=bandit.STATS_SCHEMA, orient="row")
        frame = pl.DataFrame(
            [
                (a, "early", f"c{a % 10}", arm, True)
                for a in range(1_000)
                for arm in ("none", "sms", "call")
            ],
            schema={
                "account_id": pl.Int64,
                "stage": pl.String,
                "cell": pl.String,
                "arm": pl.String,
                "allowed": pl.Boolean,
            },
            orient="row",
        )
        p = params(
            arms=("none", "sms", "call"),
            call_arms=("call",),
            call_minutes=5.0,
            calls_per_day=150,
            holdout=0.0,
            exploration=0.0,
        )
        out = bandit.choose(frame, stats, [p], day=DAY)
        calls = out.filter(pl.col("arm") == "call")
        assert 0 < calls.height <= 150  # capacity (remove `_call_capacity` and 700+ get calls)
        # Only the most valuable cells' accounts (c9: 100 accounts, then c8) were offered a call.
        assert set(calls["cell"]) <= {"c9", "c8"}
        value = calls.filter(pl.col("cell") == "c9")["call_value"][0]
        assert value == pytest.approx((900 - 50) / 5, rel=0.05)

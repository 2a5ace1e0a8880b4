"""Fairness arithmetic on crafted frames: a group pursued twice as hard at the same risk alerts,
equal treatment does not, a group pursued harder only because it sits in a riskier band does not,
and too few accounts never alert."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from recoup.analytics import parity

pytestmark = pytest.mark.pure


def portfolio(
    *, young_factor: float, per_group: int = 80, young_risky: bool = False, seed: int = 7
) -> pl.DataFrame:
    """Two risk bands; in each, `per_group` accounts aged 18-24 and as many aged 45-54. Attempts
    per day scatter around the band's rate (the riskier band pursued twice as hard), the young
    ones' multiplied by `young_factor`. `young_risky`: the young sit mostly in the riskier band."""
    rng = random.Random(seed)
    rows = []
    for band, rate in (("M1", 0.3), ("M2", 0.6)):
        for group in ("18-24", "45-54"):
            n = per_group
            if young_risky:
                n = per_group + 60 if (group == "18-24") == (band == "M2") else per_group - 60
            factor = young_factor if group == "18-24" else 1.0
            for _ in range(n):
                value = max(0.0, rng.gauss(rate * factor, 0.05))
                rows.append(
                    {
                        "band": band,
                        "age_band": group,
                        "sex": "unknown",
                        "region": "11",
                        "attempts_per_day": value,
                    }
                )
    return pl.DataFrame(rows)


def alerts(frame: pl.DataFrame, **kwargs: object) -> pl.DataFrame:
    out = parity.comparisons(
        frame,
        attributes=["age_band"],
        measures=["attempts_per_day"],
        **kwargs,  # type: ignore[arg-type]
    )
    return out.filter(pl.col("alert"))


class TestAlerts:
    def test_a_group_contacted_twice_as_hard_at_the_same_risk_alerts(self) -> None:
        out = parity.comparisons(
            portfolio(young_factor=2.0), attributes=["age_band"], measures=["attempts_per_day"]
        )
        young = out.filter(pl.col("group") == "18-24").row(0, named=True)
        assert young["alert"] is True
        assert young["ratio"] == pytest.approx(2.0, rel=0.05)
        assert young["accounts"] == 160
        assert young["rest_accounts"] == 160
        assert young["ci_low"] > 0
        old = out.filter(pl.col("group") == "45-54").row(0, named=True)
        assert old["alert"] is False
        assert old["ratio"] == pytest.approx(0.5, rel=0.05)

    def test_equal_treatment_does_not_alert(self) -> None:
        assert alerts(portfolio(young_factor=1.0)).height == 0

    def test_a_riskier_group_pursued_as_its_risk_asks_does_not_alert(self) -> None:
        # Mechanism: the comparison within risk bands. Pooled, the young (mostly in the band
        # pursued twice as hard) get ~1.6 times the attempts of the old, which alone would alert.
        frame = portfolio(young_factor=1.0, young_risky=True)
        pooled = frame.group_by("age_band").agg(pl.col("attempts_per_day").mean())
        means = dict(pooled.iter_rows())
        assert means["18-24"] / means["45-54"] > parity.RATIO
        assert alerts(frame).height == 0

    def test_too_few_accounts_do_not_alert(self) -> None:
        # Mechanism: the `min_accounts` bound (20 a band here: 40 a group, under 50).
        assert alerts(portfolio(young_factor=2.0, per_group=20)).height == 0
        assert alerts(portfolio(young_factor=2.0, per_group=20), min_accounts=40).height == 1

    def test_a_ratio_under_the_threshold_does_not_alert(self) -> None:
        # 1.15 times as hard: more than chance with these many accounts, yet under 1.25.
        out = parity.comparisons(
            portfolio(young_factor=1.15, per_group=400),
            attributes=["age_band"],
            measures=["attempts_per_day"],
        )
        young = out.filter(pl.col("group") == "18-24").row(0, named=True)
        assert young["ci_low"] > 0
        assert young["alert"] is False

    def test_many_groups_treated_alike_do_not_alert_by_chance(self) -> None:
        # Mechanism: the Bonferroni correction over the comparisons that could alert. Forty
        # regions treated alike: some plain 95 % intervals lie above zero by chance alone.
        rng = random.Random(3)
        frame = pl.DataFrame(
            [
                {"band": "M1", "region": f"r{g:02d}", "attempts_per_day": rng.gauss(0.3, 0.1)}
                for g in range(40)
                for _ in range(60)
            ]
        )
        out = parity.comparisons(
            frame, attributes=["region"], measures=["attempts_per_day"], ratio=1.0
        )
        assert (out["ci_low"] > 0).sum() >= 1
        assert out["alert"].sum() == 0

    def test_outcomes_are_compared_but_never_alert(self) -> None:
        frame = portfolio(young_factor=2.0).with_columns(pl.col("attempts_per_day").alias("cured"))
        out = parity.comparisons(frame, attributes=["age_band"], measures=["cured"])
        assert out.filter(pl.col("group") == "18-24")["ratio"][0] > 1.9
        assert not out["alert"].any()


class TestAttributes:
    def test_unknown_attributes_are_their_own_group_never_guessed(self) -> None:
        customers = pl.DataFrame(
            {
                "customer_id": [1, 2, 3, 4, 5],
                "birth_year": [2000, None, 1950, 2010, 1981],
                "sex": ["F", None, "M", "X", "?"],
                "region": ["31", None, " ", "44", "11"],
            },
            schema_overrides={"birth_year": pl.Int64},
        )
        out = parity.attributes(customers, 2026).sort("customer_id")
        assert out["age_band"].to_list() == ["25-34", "unknown", "55+", "18-24", "45-54"]
        assert out["sex"].to_list() == ["F", "unknown", "M", "X", "unknown"]
        assert out["region"].to_list() == ["31", "unknown", "unknown", "44", "11"]


class TestInCollection:
    def test_days_in_collection_entry_bucket_and_cure(self) -> None:
        start, end = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
        accounts = pl.DataFrame(
            {
                "account_id": [1, 2, 3],
                "opened_date": [dt.date(2026, 1, 1)] * 3,
                "closed_date": [None, None, None],
            },
            schema_overrides={"closed_date": pl.Date},
        )
        events = pl.DataFrame(
            {
                "id": [1, 2, 3, 4],
                "account_id": [1, 1, 2, 2],
                "effective_date": [
                    dt.date(2026, 5, 20),  # 1: M1 before the period ...
                    dt.date(2026, 6, 11),  # ... cured on 11 June: 10 days late in the period
                    dt.date(2026, 6, 21),  # 2: M1 from 21 June to the end: 10 days
                    dt.date(2026, 6, 25),  # ... M2 on 25 June
                ],
                "to_bucket": ["M1", "M0", "M1", "M2"],
            }
        )
        out = parity.in_collection(events, accounts, start, end).sort("account_id")
        assert out["account_id"].to_list() == [1, 2]  # 3 was never late
        assert out["days"].to_list() == [10, 10]
        assert out["entry_bucket"].to_list() == ["M1", "M1"]
        assert out["cured"].to_list() == [True, False]

    def test_risk_bands_are_quantiles_of_p_pay(self) -> None:
        scores = pl.DataFrame({"account_id": list(range(10)), "score": [i / 10 for i in range(10)]})
        bands = dict(parity.risk_bands(scores, 5).iter_rows())
        assert bands[0] == bands[1] == "p_pay 1/5"
        assert bands[8] == bands[9] == "p_pay 5/5"

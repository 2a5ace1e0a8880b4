"""The behaviour model reproduces its world's rates with no contact, moves them as configured when
contacted, and draws the same numbers for the same seed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from recoup.simulation import behaviour
from recoup.simulation.world import (
    Autopay,
    ChannelResponse,
    Personalised,
    Repayment,
    Responses,
    Segment,
    Wallet,
    World,
)

pytestmark = pytest.mark.pure
START = dt.date(2026, 6, 1)  # June: 30 days with both paydays in them
N = 20_000
NO_DELIVERIES = pl.DataFrame(
    schema={"account_id": pl.Int64, "day": pl.Int64, "channel": pl.String, "tone": pl.String}
)


def cohort(
    world: World,
    bucket: str,
    deliveries: pl.DataFrame = NO_DELIVERIES,
    seed: int = 3,
    product: str = "bnpl",
) -> float:
    """Share of N accounts entering `bucket` that pay in full within 30 days."""
    ids = np.arange(1, N + 1)
    values, responsiveness = behaviour.debtors(seed, ids, world)
    factor = dict(zip(ids.tolist(), values.tolist(), strict=True))
    owing = set(ids.tolist())
    for day in range(30):
        open_ids = sorted(owing)
        frame = pl.DataFrame(
            {
                "account_id": open_ids,
                "product": [product] * len(open_ids),
                "bucket": [bucket] * len(open_ids),
                "overdue_minor": [10_000] * len(open_ids),
                "due_today_minor": [0] * len(open_ids),
                "hardship": [False] * len(open_ids),
                "promise_minor": [0] * len(open_ids),
                "responsiveness": responsiveness[np.array(open_ids) - 1],
            },
            schema_overrides={"account_id": pl.Int64},
        )
        state = behaviour.DayInput(day, START + dt.timedelta(days=day), frame, deliveries)
        paid = behaviour.decide_payments(world, seed, state, factor)
        owing -= set(paid.filter(pl.col("kind") == "cure")["account_id"].to_list())
    return 1 - len(owing) / N


class TestCalibration:
    @pytest.mark.parametrize(
        ("product", "bucket"),
        [("bnpl", "M1"), ("credit_line", "M1"), ("micro_loan", "M2"), ("bnpl", "M3"), ("x", "M3")],
    )
    def test_with_no_contact_a_bucket_cures_at_the_configured_rate(
        self, product: str, bucket: str
    ) -> None:
        world = World()
        expected = world.repayment.cure(product, bucket)
        assert cohort(world, bucket, product=product) == pytest.approx(expected, abs=0.015)

    def test_with_segments_unlike_each_other_the_bucket_still_cures_at_its_rate(self) -> None:
        world = World(
            segments=[
                Segment(name="thin-file", share=0.3, ability=0.3),
                Segment(name="salaried", share=0.2, ability=3.0),
            ]
        )
        expected = world.repayment.cure("bnpl", "M2")
        assert cohort(world, "M2") == pytest.approx(expected, abs=0.015)
        ids = np.arange(1, N + 1)
        f, _ = behaviour.debtors(3, ids, world)
        plain, _ = behaviour.debtors(3, ids, World())
        ratio = f / plain
        assert np.mean(np.isclose(ratio, 0.3)) == pytest.approx(0.3, abs=0.01)
        assert np.mean(np.isclose(ratio, 3.0)) == pytest.approx(0.2, abs=0.01)

    def test_a_products_own_rate_wins_over_the_buckets(self) -> None:
        r = Repayment(cure_30={"M1": 0.5, "M2": 0.3}, cure_30_by_product={"bnpl": {"M1": 0.9}})
        assert (r.cure("bnpl", "M1"), r.cure("bnpl", "M2"), r.cure("micro_loan", "M1")) == (
            0.9,
            0.3,
            0.5,
        )

    def test_the_hazard_is_solved_across_the_spread_of_debtors(self) -> None:
        h = behaviour.daily_hazard(0.75, 0.6, 30.0)
        assert behaviour.cure_within(h, 0.6, 30.0) == pytest.approx(0.75, abs=1e-9)
        assert h > 1 - (1 - 0.75) ** (1 / 30)  # more than with no spread: the slow pay later

    def test_a_world_without_spread_or_paydays_is_the_textbook_hazard(self) -> None:
        flat = World(repayment=Repayment(heterogeneity=0, payday_boost=1.0))
        assert behaviour.daily_hazard(0.5, 0.0, behaviour.exposure(flat)) == pytest.approx(
            1 - 0.5 ** (1 / 30), rel=1e-9
        )

    @pytest.mark.parametrize("bucket", ["M1", "M3+"])
    def test_promises_are_kept_at_the_buckets_rate_by_those_who_pay_readily(
        self, bucket: str
    ) -> None:
        world = World(
            repayment=Repayment(
                cure_30={"M1": 0.0, "M3+": 0.0}, cure_30_by_product={}, partial_share=0
            )
        )
        ids = np.arange(1, N + 1)
        f = behaviour.factors(5, ids, world.repayment.heterogeneity)
        frame = pl.DataFrame(
            {
                "account_id": ids,
                "product": ["bnpl"] * N,
                "bucket": [bucket] * N,
                "overdue_minor": [10_000] * N,
                "due_today_minor": [0] * N,
                "hardship": [False] * N,
                "promise_minor": [4_000] * N,
            },
            schema_overrides={"account_id": pl.Int64},
        )
        state = behaviour.DayInput(3, START, frame, NO_DELIVERIES)
        paid = behaviour.decide_payments(
            world, 5, state, dict(zip(ids.tolist(), f.tolist(), strict=True))
        )
        assert set(paid["kind"]) == {"promise"}
        assert set(paid["amount_minor"]) == {4_000}
        expected = world.responses.promise_keep[bucket]
        assert paid.height / N == pytest.approx(expected, abs=0.012)
        kept = np.isin(ids, paid["account_id"].to_numpy())
        assert f[kept].mean() > f[~kept].mean()


class TestTreatment:
    def test_an_sms_lifts_the_cure_rate_by_what_its_effect_implies(self) -> None:
        world = World(
            responses=Responses(channels={"sms": ChannelResponse(effect=2.0, days=3)}),
        )
        sms = pl.DataFrame(
            {
                "account_id": list(range(1, N + 1)),
                "day": [0] * N,
                "channel": ["sms"] * N,
                "tone": ["gentle"] * N,
            },
            schema={
                "account_id": pl.Int64,
                "day": pl.Int64,
                "channel": pl.String,
                "tone": pl.String,
            },
        )
        base = cohort(world, "M1")
        treated = cohort(world, "M1", sms)
        r = world.repayment
        h = behaviour.daily_hazard(r.cure("bnpl", "M1"), r.heterogeneity, behaviour.exposure(world))
        # Three days at twice the hazard (June 1-3 hold no payday): 3 more hazard-days.
        analytic = behaviour.cure_within(h, r.heterogeneity, behaviour.exposure(world) + 3)
        assert treated > base
        assert treated == pytest.approx(analytic, abs=0.015)

    def test_contacts_together_lift_it_no_more_than_the_saturation(self) -> None:
        channels = {c: ChannelResponse(effect=2.0, days=3) for c in ("sms", "push", "email")}
        world = World(responses=Responses(channels=channels, max_effect=2.5))
        reached = pl.DataFrame(
            {
                "account_id": [a for a in range(1, N + 1) for _ in channels],
                "day": [0] * (N * len(channels)),
                "channel": list(channels) * N,
                "tone": ["gentle"] * (N * len(channels)),
            },
            schema={
                "account_id": pl.Int64,
                "day": pl.Int64,
                "channel": pl.String,
                "tone": pl.String,
            },
        )
        treated = cohort(world, "M1", reached)
        r = world.repayment
        h = behaviour.daily_hazard(r.cure("bnpl", "M1"), r.heterogeneity, behaviour.exposure(world))
        # Eight times the hazard, saturated at 2.5: 1.5 more hazard-days on each of three days.
        analytic = behaviour.cure_within(h, r.heterogeneity, behaviour.exposure(world) + 4.5)
        assert treated == pytest.approx(analytic, abs=0.015)

    @pytest.mark.parametrize(
        ("hour", "personal", "extra_days"),
        [
            (22, False, 10 * 1.5),  # half of an effect of 4 lands at 22:00: x2.5 for ten days
            (10, False, 10 * 3.0),  # all of it at 10:00: x4
            (22, True, 10 * 2.75),  # greeted by name as well: x2.5 x1.5
        ],
    )
    def test_the_hour_and_a_personal_greeting_scale_a_messages_lift(
        self, hour: int, personal: bool, extra_days: float
    ) -> None:
        world = World(
            responses=Responses(
                channels={"sms": ChannelResponse(effect=4.0, days=10)},
                by_hour={22: 0.5},
                personalised=Personalised(effect=1.5),
                max_effect=10,
            )
        )
        sms = pl.DataFrame(
            {
                "account_id": list(range(1, N + 1)),
                "day": [0] * N,
                "channel": ["sms"] * N,
                "tone": ["gentle"] * N,
                "hour": [hour] * N,
                "personal": [personal] * N,
            },
        )
        r = world.repayment
        h = behaviour.daily_hazard(r.cure("x", "M3"), r.heterogeneity, behaviour.exposure(world))
        # June 1-10 hold the 10th, a payday: its hazard-day counts payday_boost times over.
        extra = extra_days + (extra_days / 10) * (r.payday_boost - 1)
        analytic = behaviour.cure_within(h, r.heterogeneity, behaviour.exposure(world) + extra)
        assert cohort(world, "M3", sms, product="x") == pytest.approx(analytic, abs=0.015)

    def test_a_segment_deaf_to_contact_gets_no_lift_and_a_keen_one_more(self) -> None:
        channels = {"sms": ChannelResponse(effect=2.0, days=10)}
        sms = pl.DataFrame(
            {
                "account_id": list(range(1, N + 1)),
                "day": [0] * N,
                "channel": ["sms"] * N,
                "tone": ["gentle"] * N,
            },
        )

        def world(responsiveness: float) -> World:
            segment = Segment(name="s", share=1.0, responsiveness=responsiveness)
            return World(responses=Responses(channels=channels, max_effect=10), segments=[segment])

        base = cohort(world(1.0), "M2")
        assert cohort(world(0.0), "M2", sms) == pytest.approx(base, abs=0.002)
        r = World().repayment
        h = behaviour.daily_hazard(
            r.cure("bnpl", "M2"), r.heterogeneity, behaviour.exposure(World())
        )
        # Responsiveness 1.5: 2 ** 1.5 = 2.83 times the hazard for ten days (the 10th a payday,
        # whose hazard-day counts payday_boost times over), where 1 would give 2 times.
        extra = 10 * (2**1.5 - 1) * (1 + (r.payday_boost - 1) / 10)
        analytic = behaviour.cure_within(h, r.heterogeneity, behaviour.exposure(World()) + extra)
        assert cohort(world(1.5), "M2", sms) == pytest.approx(analytic, abs=0.015)
        assert cohort(world(1.0), "M2", sms) < analytic - 0.03

    def test_firm_tone_and_fatigue_lower_it(self) -> None:
        world = World(
            responses=Responses(tone={"firm": 0.5, "gentle": 1.0}, fatigue_threshold_7d=1)
        )
        ids = list(range(1, N + 1))
        firm = pl.DataFrame(
            {
                "account_id": ids * 2,
                "day": [0] * (2 * N),
                "channel": ["sms"] * (2 * N),
                "tone": ["firm"] * (2 * N),
            },
            schema={
                "account_id": pl.Int64,
                "day": pl.Int64,
                "channel": pl.String,
                "tone": pl.String,
            },
        )
        gentle = firm.with_columns(pl.lit("gentle").alias("tone"))
        assert cohort(world, "M1", firm) < cohort(world, "M1", gentle)


class TestRandomness:
    def test_the_same_seed_draws_the_same_and_another_seed_does_not(self) -> None:
        ids = np.arange(1, 1_000)
        a = behaviour.uniform(7, ids, 3, behaviour.Salt.pay)
        assert np.array_equal(a, behaviour.uniform(7, ids, 3, behaviour.Salt.pay))
        assert not np.array_equal(a, behaviour.uniform(8, ids, 3, behaviour.Salt.pay))
        assert not np.array_equal(a, behaviour.uniform(7, ids, 4, behaviour.Salt.pay))
        assert 0.45 < a.mean() < 0.55
        assert np.array_equal(a[10:20], behaviour.uniform(7, ids[10:20], 3, behaviour.Salt.pay))

    def test_one_draw_is_the_arrays_draw(self) -> None:
        ids = np.array([1, 2, 131 * 40_000 + 11, 2**40 + 5, 2**63 - 1], dtype=np.uint64)
        for seed, day, salt in ((7, 0, 1), (123_456, 59, behaviour.Salt.answer), (2**31, 400, 12)):
            many = behaviour.uniform(seed, ids, day, salt)
            one = [behaviour.uniform_one(seed, int(i), day, salt) for i in ids]
            assert one == many.tolist()

    def test_factors_have_mean_one(self) -> None:
        f = behaviour.factors(1, np.arange(1, 200_001), 0.6)
        assert f.mean() == pytest.approx(1.0, abs=0.01)
        assert np.log(f).std() == pytest.approx(0.6, abs=0.01)


class TestWallet:
    def test_a_payment_takes_no_more_than_the_wallet_holds(self) -> None:
        world = World(
            repayment=Repayment(cure_30={"M1": 0.999}, cure_30_by_product={}, partial_share=0),
            wallet=Wallet(),
        )
        frame = pl.DataFrame(
            {
                "account_id": [1, 2, 3],
                "product": ["bnpl"] * 3,
                "bucket": ["M1"] * 3,
                "overdue_minor": [10_000] * 3,
                "due_today_minor": [0] * 3,
                "hardship": [False] * 3,
                "promise_minor": [0] * 3,
                "balance_minor": [0, 3_000, 50_000],
            },
        )
        state = behaviour.DayInput(0, START, frame, NO_DELIVERIES)
        paid = behaviour.decide_payments(world, 1, state, {1: 50.0, 2: 50.0, 3: 50.0})
        assert paid.rows() == [(2, 3_000, "partial"), (3, 10_000, "cure")]
        # Without a wallet in the world the balance is not read.
        free = behaviour.decide_payments(
            world.model_copy(update={"wallet": None}), 1, state, {1: 50.0, 2: 50.0, 3: 50.0}
        )
        assert free["amount_minor"].to_list() == [10_000] * 3

    def test_incomes_spread_around_the_median_in_each_currency(self) -> None:
        ids = np.arange(1, 50_001)
        world = World(wallet=Wallet(income_minor=300_000, income_spread=0.8))
        yuan = behaviour.incomes(7, ids, world, np.ones(ids.size))
        assert np.median(yuan) == pytest.approx(300_000, rel=0.02)
        assert np.log(yuan).std() == pytest.approx(0.8, abs=0.02)
        dollars = behaviour.incomes(7, ids, world, np.full(ids.size, 0.15))
        assert np.median(dollars) == pytest.approx(45_000, rel=0.02)
        assert not behaviour.incomes(7, ids, World(), np.ones(ids.size)).any()


class TestAutopay:
    def due_today(self, n: int, balance: int | None = None) -> behaviour.DayInput:
        columns: dict[str, list[object]] = {
            "account_id": list(range(1, n + 1)),
            "product": ["bnpl"] * n,
            "bucket": ["M0"] * n,
            "overdue_minor": [0] * n,
            "due_today_minor": [10_000] * n,
            "hardship": [False] * n,
            "promise_minor": [0] * n,
        }
        if balance is not None:
            columns["balance_minor"] = [balance] * n
        return behaviour.DayInput(0, START, pl.DataFrame(columns), NO_DELIVERIES)

    def test_a_mandate_pays_the_bill_due_unless_the_debtor_is_short(self) -> None:
        """Catches the autopay branch of `decide_payments` gone: with no debtor paying on time by
        themselves, only the mandates pay, about `take_up` of them, less the short."""
        never = Repayment(on_time={"bnpl": 0.0})
        ids = np.arange(1, N + 1)
        f = dict(zip(ids.tolist(), [1.0] * N, strict=True))
        state = self.due_today(N)
        none = behaviour.decide_payments(World(repayment=never), 5, state, f)
        assert none.height == 0
        world = World(repayment=never, autopay=Autopay(take_up=0.3, short=0.1))
        paid = behaviour.decide_payments(world, 5, state, f)
        assert set(paid["kind"].to_list()) == {"autopay"}
        assert paid["amount_minor"].unique().to_list() == [10_000]
        assert paid.height / N == pytest.approx(0.3 * 0.9, abs=0.01)
        # The same accounts have autopay every day: it is the debtor's, not the day's.
        later = behaviour.DayInput(9, START, state.accounts, NO_DELIVERIES)
        again = behaviour.decide_payments(world, 5, later, f)
        has = set(paid["account_id"].to_list())
        assert len(has & set(again["account_id"].to_list())) / len(has) > 0.85

    def test_with_a_wallet_the_balance_decides(self) -> None:
        world = World(
            repayment=Repayment(on_time={"bnpl": 0.0}),
            autopay=Autopay(take_up=1.0, short=0.0),
            wallet=Wallet(),
        )
        f = {1: 1.0, 2: 1.0}
        assert behaviour.decide_payments(world, 5, self.due_today(2, balance=9_999), f).height == 0
        paid = behaviour.decide_payments(world, 5, self.due_today(2, balance=10_000), f)
        assert paid.rows() == [(1, 10_000, "autopay"), (2, 10_000, "autopay")]

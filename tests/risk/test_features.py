"""Features as of a date: their values on a small history written by hand, and no leakage (rows
dated after D change no feature as of D)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from recoup.risk import features as f

pytestmark = pytest.mark.pure

D = dt.date(2026, 6, 30)


def day(n: int) -> dt.date:
    """D plus n days (negative: before D)."""
    return D + dt.timedelta(days=n)


def frame(name: str, rows: list[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=f.SCHEMAS[name], orient="row")


def history() -> f.History:
    """Account 1 (customer 10): three bills, one paid on time, one paid 5 days late, one unpaid
    and 20 days overdue, one scheduled; a broken and a kept promise; contacts, a call answered, a
    reply, a pay link opened, a hardship pause. Account 2 (customer 20): current, nothing else."""
    return f.History(
        accounts=frame(
            "accounts", [(1, 10, "wallet_loan", day(-400), None), (2, 20, "bnpl", day(-100), None)]
        ),
        bills=frame(
            "bills",
            [
                (11, 1, day(-80), 10_000, day(-400)),
                (12, 1, day(-50), 10_000, day(-400)),
                (13, 1, day(-20), 10_000, day(-400)),
                (14, 1, day(10), 10_000, day(-400)),
                (21, 2, day(20), 5_000, day(-100)),
            ],
        ),
        allocations=frame(
            "allocations",
            [
                (11, 10_000, day(-81)),
                (12, 4_000, day(-50)),
                (12, 6_000, day(-45)),
                (13, 2_000, day(-25)),
            ],
        ),
        payments=frame(
            "payments",
            [
                (1, 10_000, day(-81), None),
                (1, 4_000, day(-50), None),
                (1, 6_000, day(-45), None),
                (1, 2_000, day(-25), None),
                (1, 1_000, day(-3), day(-1)),  # reversed before D: not live on D
            ],
        ),
        buckets=frame("buckets", [(1, day(-49), "M1"), (1, day(-45), "M0"), (1, day(-19), "M1")]),
        contacts=frame(
            "contacts",
            [(1, day(-10), "sent"), (1, day(-10), "delivered"), (1, day(-40), "delivered")],
        ),
        calls=frame("calls", [(1, day(-5), "conversation"), (1, day(-6), "no_answer")]),
        intents=frame("intents", [(1, day(-9))]),
        inbound=frame("inbound", [(10, day(-8))]),
        arrangements=frame(
            "arrangements",
            [
                (1, "promise", "broken", day(-30), day(-22)),
                (1, "promise", "kept", day(-55), day(-50)),
                (1, "plan", "active", day(-2), None),
            ],
        ),
        pauses=frame("pauses", [(1, "hardship", day(-7), None, None)]),
    )


def later_rows(h: f.History) -> f.History:
    """The same history plus rows dated after D in every frame (and changes that happen after D
    to rows known on D: a payment reversed, an arrangement ended, a pause cancelled)."""
    after = day(3)
    return f.History(
        accounts=pl.concat(
            [h.accounts, frame("accounts", [(3, 30, "bnpl", after, None)])]
        ).with_columns(
            # account 2 closes after D: it was open on D
            pl.when(pl.col("account_id") == 2).then(after).otherwise(pl.col("closed_date")).alias("closed_date")
        ),
        bills=pl.concat([h.bills, frame("bills", [(15, 1, after, 7_000, day(1)), (31, 3, day(30), 1, after)])]),
        allocations=pl.concat(
            [h.allocations, frame("allocations", [(13, 8_000, after), (14, 500, after)])]
        ),
        payments=pl.concat(
            [h.payments, frame("payments", [(1, 8_500, after, None)])]
        ).with_columns(
            # the payment of day -25 is reversed after D: it was live on D
            pl.when(pl.col("value_date") == day(-25)).then(day(5)).otherwise(pl.col("reversed_date")).alias("reversed_date")
        ),
        buckets=pl.concat([h.buckets, frame("buckets", [(1, after, "M2")])]),
        contacts=pl.concat([h.contacts, frame("contacts", [(1, after, "delivered"), (2, after, "sent")])]),
        calls=pl.concat([h.calls, frame("calls", [(1, after, "connected")])]),
        intents=pl.concat([h.intents, frame("intents", [(1, after), (2, after)])]),
        inbound=pl.concat([h.inbound, frame("inbound", [(10, after), (20, after)])]),
        arrangements=pl.concat(
            [
                h.arrangements.with_columns(
                    # the plan active on D is broken after D
                    pl.when(pl.col("kind") == "plan").then(after).otherwise(pl.col("ended_on")).alias("ended_on"),
                    pl.when(pl.col("kind") == "plan").then(pl.lit("broken")).otherwise(pl.col("status")).alias("status"),
                ),
                frame("arrangements", [(1, "promise", "broken", after, day(4)), (2, "plan", "active", after, None)]),
            ]
        ),
        pauses=pl.concat(
            [
                h.pauses.with_columns(cancelled_date=pl.lit(after)),
                frame("pauses", [(2, "dispute", after, None, None)]),
            ]
        ),
    )  # fmt: skip


def row(h: f.History, account: int) -> dict[str, object]:
    return f.compute(h, [D]).filter(pl.col("account_id") == account).row(0, named=True)


class TestValuesAsOfADate:
    def test_payment_history_and_balance(self) -> None:
        r = row(history(), 1)
        assert r["on_time_ratio_180d"] == pytest.approx(1 / 3)
        assert r["max_days_late_180d"] == 20  # bill 13, unpaid: late until D
        assert r["mean_days_late_180d"] == pytest.approx((0 + 5 + 20) / 3)
        assert r["partial_bills_180d"] == 2  # bills 12 and 13: part-paid by their due dates
        assert r["bills_overdue"] == 1
        assert r["dpd"] == 20
        assert r["overdue_minor"] == 8_000
        assert r["outstanding_minor"] == 18_000  # 8,000 overdue + 10,000 scheduled
        assert r["overdue_ratio"] == pytest.approx(8 / 18)
        assert r["bucket"] == "M1"
        assert r["days_since_last_payment"] == 25  # the payment of day -3 was reversed on day -1
        assert r["payments_30d"] == 1
        assert r["tenure_days"] == 400
        assert r["product"] == "wallet_loan"

    def test_arrangements_contacts_and_pauses(self) -> None:
        r = row(history(), 1)
        assert (r["promises_made_60d"], r["promises_broken_60d"], r["promises_kept_60d"]) == (
            2,
            1,
            1,
        )
        assert r["plan_active"] == 1
        assert r["hardship_open"] == 1
        assert r["dispute_open"] == 0
        assert r["contacts_delivered_30d"] == 1  # the one of day -40 is outside the window
        assert r["conversations_30d"] == 1
        assert r["link_opens_30d"] == 1
        assert r["replies_30d"] == 1
        assert r["days_since_last_contact"] == 10

    def test_a_customers_reply_counts_once_for_each_of_their_accounts(self) -> None:
        # Catches the count multiplied by the customer's accounts (the window joined the replies
        # to every account of the customer before counting per customer).
        h = history()
        second = frame("accounts", [(3, 10, "bnpl", day(-100), None)])
        bill = frame("bills", [(31, 3, day(-5), 1_000, day(-100))])
        h = f.History(
            **{
                **{name: getattr(h, name) for name in f.SCHEMAS},
                "accounts": pl.concat([h.accounts, second]),
                "bills": pl.concat([h.bills, bill]),
            }
        )
        assert row(h, 1)["replies_30d"] == 1
        assert row(h, 3)["replies_30d"] == 1

    def test_an_accounts_own_rows_give_its_features_as_the_whole_history_does(self) -> None:
        # `History.of_accounts` (the daily run's scoring begun ahead computes the accounts whose
        # bucket moved from them): catches a frame left empty or cut by the wrong key (the
        # allocations by their bills, the replies by the accounts' customers, here account 4's
        # through customer 10's), and another account's rows kept.
        h = later_rows(history())
        full = f.History(
            **{
                **{name: getattr(h, name) for name in f.SCHEMAS},
                "accounts": pl.concat(
                    [h.accounts, frame("accounts", [(4, 10, "bnpl", day(-100), None)])]
                ),
                "bills": pl.concat([h.bills, frame("bills", [(41, 4, day(-5), 1_000, day(-100))])]),
            }
        )
        dates = [day(-30), D, day(7)]
        whole = f.compute(full, dates).sort("as_of_date", "account_id")
        for ids in ([1], [4], [2, 4], [3]):
            own = full.of_accounts(ids)
            assert set(own.accounts["account_id"]) == set(ids)
            assert set(own.bills["account_id"]) <= set(ids)
            alone = f.compute(own, dates).sort("as_of_date", "account_id")
            assert alone.equals(whole.filter(pl.col("account_id").is_in(ids)))
        assert full.of_accounts([4]).inbound.equals(
            full.inbound.filter(pl.col("customer_id") == 10)
        )
        assert set(full.of_accounts([2]).inbound["customer_id"]) == {20}
        assert full.of_accounts([4]).allocations.height == 0
        assert full.of_accounts([1]).allocations.equals(full.allocations)

    def test_an_account_with_nothing_but_a_scheduled_bill(self) -> None:
        r = row(history(), 2)
        assert r["overdue_minor"] == 0
        assert r["outstanding_minor"] == 5_000
        assert r["dpd"] == 0
        assert r["bucket"] == "M0"
        assert r["days_since_last_payment"] is None
        assert r["on_time_ratio_180d"] is None

    def test_many_snapshot_dates_at_once_equal_one_date_at_a_time(self) -> None:
        h = later_rows(history())
        dates = [day(-30), D, day(7)]
        together = f.compute(h, dates)
        apart = pl.concat([f.compute(h, [x]) for x in dates]).sort("as_of_date", "account_id")
        assert together.equals(apart)


class TestCost:
    def test_the_running_totals_are_computed_once_a_compute(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The bills' running totals (allocations summed by bill and value date) are joined three
        # times: what was paid by D, by the due date, and the day each bill was paid off. Computed
        # once and shared (the features of 316,375 accounts in 0.95 s instead of 1.6 s); each
        # join computing its own again, as before, fails here (three calls, or none).
        calls: list[int] = []
        real = f._running

        def counted(h: f.History) -> pl.DataFrame:
            calls.append(1)
            return real(h)

        monkeypatch.setattr(f, "_running", counted)
        f.compute(history(), [D])
        assert len(calls) == 1


class TestNoLeakage:
    """Every feature as of D is the same when rows dated after D are added. Each `<= D` filter in
    `risk.features` is what this catches: drop one (e.g. `value_date <= d` on allocations, the
    `reversed_date > d` of live payments, `day <= d` of the contact windows, `start_date <= d`
    of arrangements, the as-of joins of the bucket and the last payment) and the feature built on
    it changes here."""

    def test_a_kinds_population_alone_equals_the_whole_frame_filtered(self) -> None:
        # `compute(kind=...)` computes the balances first and the rest only for the population:
        # catches a population test that drops or adds an (account, date), or a feature that
        # reads other accounts' rows.
        h = history()
        dates = [day(n) for n in (-60, -30, -10, 0, 15)]
        everyone = f.compute(h, dates)
        for kind in f.KINDS:
            alone = f.compute(h, dates, kind=kind)
            assert alone.height > 0
            assert alone.equals(everyone.filter(f.population(kind)))

    def test_rows_after_d_change_no_feature_as_of_d(self) -> None:
        before = f.compute(history(), [D])
        after = f.compute(later_rows(history()), [D])
        assert after["account_id"].to_list() == [1, 2]  # account 3 opened after D
        changed = [
            name
            for name in [*f.FEATURES, "overdue_minor", "outstanding_minor"]
            if not before[name].equals(after[name])
        ]
        assert changed == []

    def test_the_later_rows_do_change_the_features_as_of_a_later_date(self) -> None:
        # The test's later rows are not inert: as of D+7 every kind of them shows.
        before = f.compute(history(), [day(7)]).filter(pl.col("account_id") == 1)
        after = f.compute(later_rows(history()), [day(7)]).filter(pl.col("account_id") == 1)
        changed = {n for n in f.FEATURES if not before[n].equals(after[n])}
        assert {
            "overdue_log",
            "bucket",
            "contacts_delivered_30d",
            "conversations_30d",
            "link_opens_30d",
            "replies_30d",
            "promises_broken_60d",
            "plan_active",
            "hardship_open",
            "payments_30d",
        } <= changed


class TestLabels:
    def test_p_pay_paid_what_was_overdue_within_the_horizon(self) -> None:
        h = later_rows(history())
        feats = f.compute(h, [D])
        out = f.labels(h, feats, kind="p_pay", horizon_days=30)
        assert out["account_id"].to_list() == [1]  # account 2 owes nothing overdue
        assert out["label"].to_list() == [1]  # 8,500 paid on D+3 >= 8,000 overdue
        short = f.labels(history(), f.compute(history(), [D]), kind="p_pay", horizon_days=30)
        assert short["label"].to_list() == [0]  # nothing paid after D

    def test_p_roll_the_bucket_rose_within_the_horizon(self) -> None:
        h = later_rows(history())
        out = f.labels(h, f.compute(h, [D]), kind="p_roll", horizon_days=30)
        assert dict(zip(out["account_id"], out["label"], strict=True)) == {1: 1, 2: 0}
        # M2 on D+3 is outside a 2-day horizon
        out = f.labels(h, f.compute(h, [D]), kind="p_roll", horizon_days=2)
        assert dict(zip(out["account_id"], out["label"], strict=True)) == {1: 0, 2: 0}

"""The pure arithmetic of arrangements: splits, schedules, fees and keeping or breaking."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recoup.arrangements import terms
from recoup.arrangements.terms import Instalment, assess

START = dt.date(2026, 6, 1)
D = dt.timedelta(days=1)


@given(st.integers(0, 10**9), st.integers(1, 60))
def test_a_split_adds_up_and_differs_by_at_most_one(total: int, n: int) -> None:
    parts = terms.split(total, n)
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)


@given(
    st.lists(
        st.fixed_dictionaries(
            {}, optional={c: st.integers(1, 10**6) for c in ("fees", "interest", "principal")}
        ),
        max_size=5,
    ),
    st.integers(1, 8),
    st.integers(0, 10**5),
)
def test_filling_new_bills_keeps_every_component_total(
    moved: list[dict[str, int]], n: int, fee: int
) -> None:
    total = sum(sum(m.values()) for m in moved)
    amounts = terms.split(total + fee, n)
    bills = terms.fill_components(moved, amounts, ("fees", "interest", "principal"))
    assert [sum(b.values()) for b in bills] == amounts
    for c in ("fees", "interest", "principal"):
        assert sum(b.get(c, 0) for b in bills) == sum(m.get(c, 0) for m in moved)
    assert sum(b.get("fee", 0) for b in bills) == fee


def test_fees_are_rounded_half_up_in_minor_units() -> None:
    assert terms.share_of(28_050, 100) == 281  # 280.5 → 281
    assert terms.share_of(28_049, 100) == 280


class TestAssess:
    plan = (Instalment(1, START + 30 * D, 100), Instalment(2, START + 60 * D, 100))

    def test_early_money_counts_for_later_instalments(self) -> None:
        out = assess(
            self.plan, start=START, grace_days=3, payments=[(START + D, 200)], today=START + 2 * D
        )
        assert (out.status, out.on, out.paid) == ("kept", START + D, 200)

    def test_money_before_the_start_or_after_today_does_not_count(self) -> None:
        out = assess(
            self.plan,
            start=START,
            grace_days=3,
            payments=[(START - D, 200), (START + 40 * D, 200)],
            today=START + 35 * D,
        )
        assert (out.status, out.missed, out.on) == ("broken", 1, START + 33 * D)

    def test_a_late_payment_within_grace_keeps_it_and_one_after_does_not(self) -> None:
        within = assess(
            self.plan,
            start=START,
            grace_days=3,
            payments=[(START + 33 * D, 100)],
            today=START + 40 * D,
        )
        assert within.status == "active"
        after = assess(
            self.plan,
            start=START,
            grace_days=3,
            payments=[(START + 34 * D, 100)],
            today=START + 40 * D,
        )
        assert (after.status, after.missed) == ("broken", 1)

    def test_a_shortfall_in_the_second_instalment_breaks_it_after_its_grace(self) -> None:
        pays = [(START + 30 * D, 100), (START + 60 * D, 99)]
        assert (
            assess(self.plan, start=START, grace_days=0, payments=pays, today=START + 60 * D).status
            == "active"
        )
        out = assess(self.plan, start=START, grace_days=0, payments=pays, today=START + 61 * D)
        assert (out.status, out.missed, out.paid) == ("broken", 2, 199)


class TestBounds:
    def test_unknown_and_wrong_bounds_are_named(self) -> None:
        assert "no max_discount_bps" in (
            terms.bounds_error("settlement", {"max_discount_bps": 1}) or ""
        )
        assert "reage must be" in (terms.bounds_error("plan", {"reage": "never"}) or "")
        assert "whole number" in (terms.bounds_error("plan", {"fee_bps": 1.5}) or "")
        assert terms.bounds_error("plan", {"reage": "reschedule", "fee_bps": 100}) is None

    def test_a_plan_longer_than_its_tenor_is_refused(self) -> None:
        with pytest.raises(terms.TermsRefused, match="at most 60 days: 2 instalments"):
            terms.plan_quote(
                {"max_tenor_days": 60},
                balance=90_000,
                instalments=3,
                start=START,
                monthly_budget=10**9,
            )

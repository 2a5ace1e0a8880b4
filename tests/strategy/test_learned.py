"""The holdout's uplift on the database (`strategy.service.learning_summary`): the learner's
decisions against the random holdout's, each rewarded with the money paid within its horizon
(the arms' own reward, `learning.rewards_in`), on a crafted set computed by hand."""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics

import polars as pl
import pytest
from sqlalchemy.orm import Session

from recoup.kit.clock import SettableClock
from recoup.strategy import repository as strategy_repository
from recoup.strategy import service as strategy_service
from tests.factories import add_bill, create_account, pay, shanghai
from tests.risk.seeding import add_arms

DECIDED = dt.date(2026, 5, 1)
HORIZON = 7
TODAY = dt.date(2026, 6, 1)
Z95 = 1.959963984540054


def decide(
    session: Session,
    clock: SettableClock,
    modes_and_payments: list[tuple[str, list[tuple[int, int]]]],
) -> None:
    """One account per entry, decided on DECIDED by a learning stage in `mode`, paying
    (days after the decision, amount) for each payment listed."""
    rows = []
    for mode, payments in modes_and_payments:
        account = create_account(session, clock)
        add_bill(session, clock, account, dt.date(2026, 4, 20), 50_000)
        for days, amount in payments:
            pay(session, clock, account, amount, shanghai(DECIDED + dt.timedelta(days=days)))
        rows.append(
            {
                "account_id": account.id,
                "as_of_date": DECIDED,
                "policy_version_id": 1,
                "stage": "early",
                "decision": "contact",
                "treatment": "sms",
                "offers": "[]",
                "compliance": "[]",
                "learning": json.dumps(
                    {
                        "policy": "cn-wallet-learning",
                        "stage": "early",
                        "cell": "young",
                        "arm": "sms",
                        "channel": "sms",
                        "mode": mode,
                        "horizon": HORIZON,
                        "cost": 5.0,
                    }
                ),
                "created_at": clock.now(),
            }
        )
    strategy_repository.insert_decisions(session, pl.DataFrame(rows))
    session.flush()


def test_the_learner_against_the_holdout_on_money_paid_within_the_horizon(
    session: Session, clock: SettableClock
) -> None:
    """Catches counting money paid after the horizon (the `value_date <= as_of_date + horizon`
    bound in `learning._rewards`): the learner's first account pays 900 more on day 10."""
    decide(
        session,
        clock,
        [
            ("learn", [(2, 1_200), (10, 900)]),
            ("learn", [(7, 800)]),
            ("explore", [(1, 1_000)]),
            ("learn", [(3, 1_400)]),
            ("holdout", [(4, 500)]),
            ("holdout", [(6, 700)]),
            ("holdout", []),
        ],
    )
    add_arms(session, "cn-wallet-learning", "early", {("young", "sms"): [1_200.0, 800.0]})
    summary = strategy_service.learning_summary(session, today=TODAY)
    u = summary.uplift
    learner, holdout = [1_200.0, 800.0, 1_000.0, 1_400.0], [500.0, 700.0, 0.0]
    assert (u.learner.n, u.holdout.n) == (4, 3)
    # No contact went to a provider: no cost, the reward is the money paid.
    assert u.learner.mean == pytest.approx(statistics.mean(learner))
    assert u.holdout.mean == pytest.approx(statistics.mean(holdout))
    assert u.diff == pytest.approx(1_100 - 400)
    se = math.sqrt(statistics.variance(learner) / 4 + statistics.variance(holdout) / 3)
    assert u.low == pytest.approx(700 - Z95 * se)
    assert u.high == pytest.approx(700 + Z95 * se)
    assert u.recovered_diff == pytest.approx(700)
    assert [(a.arm, a.estimate.n) for a in summary.arms] == [("sms", 2)]


def test_decisions_whose_horizon_has_not_ended_are_not_counted(
    session: Session, clock: SettableClock
) -> None:
    decide(session, clock, [("learn", [(2, 1_000)]), ("holdout", [])])
    early = strategy_service.learning_summary(session, today=DECIDED + dt.timedelta(days=HORIZON))
    assert (early.uplift.learner.n, early.uplift.holdout.n) == (0, 0)
    ended = strategy_service.learning_summary(
        session, today=DECIDED + dt.timedelta(days=HORIZON + 1)
    )
    assert (ended.uplift.learner.n, ended.uplift.holdout.n) == (1, 1)

"""The terms of a learner's `channel: none` arm (`none_arm:` in a `learn:` block): `hold` (a
hand-off queue's skip holds for the horizon, so its reward is the money of days without the
queue's call) and `confidence` (learning takes the none arm only where its posterior says it
beats the arm it would replace with at least that probability). Without them the none arm is
decided every day by plain Thompson draws (tests/strategy/test_queue_skip.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy.orm import Session

from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.strategy import bandit
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import PolicyError, parse_policy
from tests.factories import shanghai
from tests.strategy.test_queue_hour import AS_OF, SMALL, as_utc, late, tasks_of
from tests.strategy.test_queue_skip import (
    SKIP_POLICY,
    activate,
    decided_on,
    evidence,
    queue_choice,
)

HOLD = "      none_arm: {hold: true}\n"
HOLD_POLICY = SKIP_POLICY.replace("      horizon_days: 7\n", "      horizon_days: 7\n" + HOLD)
STAGE_POLICY = """
policy: none-arm-stage
version: "1"
stages:
  - name: early
    dpd: [1, 30]
    treatments:
      - {id: early_sms, channel: sms, template: early_reminder, priority: 10}
    learn:
      arms:
        - {id: early_none, channel: none}
        - {treatment: early_sms}
      none_arm: {confidence: 0.95}
"""


class TestPolicy:
    def test_the_terms_are_read(self) -> None:
        [queue] = parse_policy(
            SKIP_POLICY.replace(
                "      horizon_days: 7\n",
                "      horizon_days: 7\n      none_arm: {hold: true, confidence: 0.9}\n",
            ),
            source="p.yaml",
        ).learning_queues
        assert queue.learn is not None
        assert (queue.learn.none_hold, queue.learn.none_confidence) == (True, 0.9)
        [stage] = parse_policy(STAGE_POLICY, source="p.yaml").stages
        assert stage.learn is not None
        assert (stage.learn.none_hold, stage.learn.none_confidence) == (False, 0.95)

    def test_without_them_the_none_arm_is_decided_daily_by_its_draws(self) -> None:
        [queue] = parse_policy(SKIP_POLICY, source="p.yaml").learning_queues
        assert queue.learn is not None
        assert (queue.learn.none_hold, queue.learn.none_confidence) == (False, None)

    @pytest.mark.parametrize(
        ("text", "where", "problem"),
        [
            (
                STAGE_POLICY.replace("{confidence: 0.95}", "{hold: true}"),
                "stages[0].learn.none_arm.hold",
                "only a hand-off queue's",
            ),
            (
                STAGE_POLICY.replace("0.95", "1.0"),
                "stages[0].learn.none_arm.confidence",
                "from 0.5 to below 1",
            ),
            (
                STAGE_POLICY.replace("0.95", "0.3"),
                "stages[0].learn.none_arm.confidence",
                "from 0.5 to below 1",
            ),
            (
                STAGE_POLICY.replace("        - {id: early_none, channel: none}\n", "").replace(
                    "        - {treatment: early_sms}\n",
                    "        - {treatment: early_sms}\n"
                    "        - {treatment: early_sms, id: early_sms_b,"
                    ' window: {from: "08:00", to: "09:00"}}\n',
                ),
                "stages[0].learn.none_arm",
                "needs an arm whose channel is none",
            ),
            (
                STAGE_POLICY.replace("{confidence: 0.95}", "{confidence: 0.95, hlod: true}"),
                "stages[0].learn.none_arm",
                "hlod",
            ),
        ],
    )
    def test_bad_terms_are_refused_naming_where(self, text: str, where: str, problem: str) -> None:
        with pytest.raises(PolicyError) as refused:
            parse_policy(text, source="p.yaml")
        assert f"{where}" in str(refused.value)
        assert problem in str(refused.value)


def _candidates(accounts: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": [a for a in range(1, accounts + 1) for _ in range(2)],
            "stage": ["queue:q"] * (2 * accounts),
            "cell": ["c"] * (2 * accounts),
            "arm": ["call", "none"] * accounts,
            "allowed": [True] * (2 * accounts),
        }
    )


def _stats(none_ahead: float, spread: float, n: int = 400) -> pl.DataFrame:
    """What the two arms earned in the one cell: `n` decisions each, the none arm
    `none_ahead` above the call's 10,000 on average, with `spread`."""
    rows = []
    for arm, mean in (("call", 10_000.0), ("none", 10_000.0 + none_ahead)):
        rows.append(
            {
                "stage": "queue:q",
                "cell": "c",
                "arm": arm,
                "n": n,
                "reward_sum": n * mean,
                "reward_sq_sum": n * (mean**2 + spread**2),
            }
        )
    return pl.DataFrame(rows, schema=bandit.STATS_SCHEMA)


def _params(confidence: float | None) -> list[bandit.StageParams]:
    from statistics import NormalDist

    return [
        bandit.StageParams(
            stage="queue:q",
            arms=("call", "none"),
            exploration=0.0,
            holdout=0.0,
            prior_mean=0.0,
            prior_sd=30_000.0,
            strength=10.0,
            none_arm="none",
            none_z=None if confidence is None else NormalDist().inv_cdf(confidence),
        )
    ]


class TestConfidence:
    def test_a_near_tie_leaves_the_call_in_place(self) -> None:
        """The none arm ¥2 ahead of the call with a ¥50 spread over 400 decisions each (a
        posterior probability of being better well under 0.95): plain draws skip about half of the
        accounts; at 0.95 learning skips none. Remove `_sure` from `bandit.choose` (the
        draws decide alone) and about half are skipped (tried: fails)."""
        stats = _stats(none_ahead=200.0, spread=5_000.0)
        plain = bandit.choose(_candidates(400), stats, _params(None), day=AS_OF)
        sure = bandit.choose(_candidates(400), stats, _params(0.95), day=AS_OF)
        assert 100 < (plain["arm"] == "none").sum() < 300
        assert (sure["arm"] == "none").sum() == 0
        assert set(sure["mode"]) == {"learn"}

    def test_clear_evidence_skips_everyone(self) -> None:
        """The none arm ¥10 ahead with a ¥10 spread over 400 decisions each: past any doubt, learning skips every
        account at 0.95 as the plain draws do."""
        stats = _stats(none_ahead=1_000.0, spread=1_000.0)
        sure = bandit.choose(_candidates(200), stats, _params(0.95), day=AS_OF)
        assert (sure["arm"] == "none").all()

    def test_exploration_still_draws_the_none_arm(self) -> None:
        """Everyone exploring: the none arm is drawn at random whatever the confidence."""
        stats = _stats(none_ahead=-2_000.0, spread=1_000.0)
        params = [bandit.StageParams(**{**_params(0.95)[0].__dict__, "exploration": 0.999})]
        chosen = bandit.choose(_candidates(200), stats, params, day=AS_OF)
        assert set(chosen["mode"]) == {"explore"}
        assert 60 < (chosen["arm"] == "none").sum() < 140


class TestHold:
    def test_a_skip_holds_for_the_horizon_then_the_account_is_decided_again(
        self, session: Session, clock: SettableClock
    ) -> None:
        """With `hold`, a skip is "no call from this queue for the horizon" (7 days here), the
        window its reward is measured over: on the next six days the account gets no task
        whatever the evidence now says, each held day recorded as the none arm with mode
        "held" and one choice (so it earns nothing of its own and does not extend the hold);
        on the seventh the bandit decides again. Remove the hold (`_held_skips` in planning.py
        returning no row) and the account is called the next day (tried: fails)."""
        [account] = late(session, clock, [50_000])
        evidence(session, {SMALL: "callers_skip"})
        activate(session, clock, HOLD_POLICY)
        strategy_service.run(session, AS_OF, clock=clock)
        assert tasks_of(session, [account]) == {}
        for days in range(1, 8):
            day = AS_OF + dt.timedelta(days=days)
            evidence(session, {SMALL: "callers_evening"}, on=day)
            delinquency_service.run_daily(session, day, clock=clock)
            strategy_service.run(session, day, clock=clock)
            chosen = queue_choice(decided_on(session, account.id, day))
            if days < 7:
                assert tasks_of(session, [account]) == {}, day
                assert (chosen["arm"], chosen["mode"], chosen["choices"]) == (
                    "callers_skip",
                    "held",
                    1,
                )
        [task] = tasks_of(session, [account]).values()
        assert task.as_of_date == AS_OF + dt.timedelta(days=7)
        assert as_utc(task.due_at) == shanghai(AS_OF + dt.timedelta(days=7), 18)
        assert (chosen["arm"], chosen["mode"]) == ("callers_evening", "learn")
        assert strategy_service.queue_choices(
            session, first=AS_OF + dt.timedelta(days=1), last=AS_OF + dt.timedelta(days=6)
        ) == {"callers": {"callers_skip": 6}}

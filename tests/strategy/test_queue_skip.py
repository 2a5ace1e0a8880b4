"""A learned hand-off queue may list a `channel: none` arm: when the bandit picks it for an
account, the account gets no task from the queue that day (it is decided again the next), the
decision record says so in `learning.queue_hour`, and the skip earns the money paid within the
horizon with no call's cost, under the queue's own name beside its hours. A queue without a none
arm keeps its floor (tests/strategy/test_queue_hour.py, unchanged)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.cli.contact import learning_line
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan, LearningArm, StrategyDecision
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import NO_CONTACT, PolicyError, parse_policy
from recoup.strategy.service.learning import learn, rewards
from tests.factories import pay, shanghai
from tests.strategy.test_queue_hour import (
    AS_OF,
    LARGE,
    POLICY,
    SMALL,
    STAGE,
    as_utc,
    late,
    records,
    tasks_of,
)

NAME = "queue-skip-test"
SKIP_ARM = "        - {id: callers_skip, channel: none}\n"
EVENING_ARM = """        - {id: callers_evening, channel: call, template: mid_call_script,
           window: {from: "18:00", to: "20:00"}}
"""
SKIP_POLICY = POLICY.replace("policy: queue-hour-test", f"policy: {NAME}").replace(
    EVENING_ARM, EVENING_ARM + SKIP_ARM
)
ARMS = ("callers_day", "callers_evening", "callers_skip")


def activate(session: Session, clock: SettableClock, text: str = SKIP_POLICY) -> None:
    version = strategy_service.save_policy(session, text, author="lin", clock=clock, source="t")
    strategy_service.activate(session, version.id, actor="lin", clock=clock)


def evidence(session: Session, best: dict[str, str], *, on: dt.date = AS_OF) -> None:
    """What the arms earned so far (replacing what they had): in each cell, 400 decisions per
    arm, the `best` arm ¥100 ahead of the others, with little spread (the learner is sure)."""
    for cell, winner in best.items():
        for arm in ARMS:
            mean = 20_000.0 if arm == winner else 10_000.0
            row = session.execute(
                select(LearningArm).where(
                    LearningArm.policy == NAME,
                    LearningArm.stage == STAGE,
                    LearningArm.cell == cell,
                    LearningArm.arm == arm,
                )
            ).scalar_one_or_none()
            if row is None:
                row = LearningArm(policy=NAME, stage=STAGE, cell=cell, arm=arm)
                session.add(row)
            row.n = 400
            row.reward_sum = 400 * mean
            row.reward_sq_sum = 400 * (mean**2 + 100.0**2)
            row.updated_on = on - dt.timedelta(days=1)
    session.flush()


def offered_all_day(session: Session, day: dt.date) -> set[int]:
    """The accounts the agents' rounds offer on `day`, from the morning to the evening's end
    (`agents.service.next_round`, what "next account" and the simulated agents ask for)."""
    offered: set[int] = set()
    for hour in (10, 14, 18, 19):
        dial = agents_service.next_round(session, day, shanghai(day, hour), limit=100).dial
        offered |= {t.account_id for t in agents_service.get_many(session, dial).values()}
    return offered


class TestPolicy:
    def test_a_none_arm_is_read_beside_the_hours(self) -> None:
        [queue] = parse_policy(SKIP_POLICY, source="p.yaml").learning_queues
        assert queue.learn is not None
        assert [(a.id, a.channel, a.window) for a in queue.learn.arms][2] == (
            "callers_skip",
            NO_CONTACT,
            None,
        )

    def test_a_queue_with_only_a_none_arm_is_refused_naming_where(self) -> None:
        text = POLICY.replace(
            """        - {id: callers_day, channel: call, template: mid_call_script,
           window: {from: "10:00", to: "18:00"}}
""",
            "",
        ).replace(EVENING_ARM, SKIP_ARM)
        with pytest.raises(PolicyError) as refused:
            parse_policy(text, source="p.yaml")
        assert str(refused.value).startswith("p.yaml")
        assert "handoff[0].learn.arms: " in str(refused.value)
        assert "needs a call at an hour" in refused.value.problem
        assert refused.value.path == ("handoff", 0, "learn", "arms")

    def test_two_none_arms_without_a_call_are_refused(self) -> None:
        text = POLICY.replace(
            """        - {id: callers_day, channel: call, template: mid_call_script,
           window: {from: "10:00", to: "18:00"}}
""",
            "        - {id: callers_rest, channel: none}\n",
        ).replace(EVENING_ARM, SKIP_ARM)
        with pytest.raises(PolicyError, match=r"handoff\[0\]\.learn\.arms: .*at most one none"):
            parse_policy(text, source="p.yaml")

    def test_a_none_arm_with_a_window_is_refused_naming_where(self) -> None:
        text = SKIP_POLICY.replace(
            "{id: callers_skip, channel: none}",
            '{id: callers_skip, channel: none, window: {from: "10:00", to: "18:00"}}',
        )
        with pytest.raises(PolicyError) as refused:
            parse_policy(text, source="p.yaml")
        assert "handoff[0].learn.arms[2].window: " in str(refused.value)
        assert "has no hour" in refused.value.problem
        assert refused.value.path == ("handoff", 0, "learn", "arms", 2, "window")


class TestSkip:
    def test_a_skipped_account_gets_no_task_and_the_record_says_why(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The small balances paid most when not called, the large ones after day calls: the
        small ones get no task, are never offered to the agents that day, and their records
        name the queue and the none arm. Remove the nulling of `queue` for a skip in
        `_learn_queue_hours` (planning.py) and the small accounts get tasks (tried: fails)."""
        small = late(session, clock, [50_000] * 4)
        large = late(session, clock, [150_000] * 4)
        evidence(session, {SMALL: "callers_skip", LARGE: "callers_day"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        tasks = tasks_of(session, small + large)
        assert set(tasks) == {a.id for a in large}
        for account in large:
            assert as_utc(tasks[account.id].due_at) == shanghai(AS_OF, 10)
        assert offered_all_day(session, AS_OF) == {a.id for a in large}
        explained = records(session, small + large)
        for account in small:
            record = explained[account.id]
            assert record.queue is None
            assert record.queue_priority is None
            assert record.learning is not None
            chosen = record.learning["queue_hour"]
            assert (chosen["queue"], chosen["cell"], chosen["arm"], chosen["channel"]) == (
                "callers",
                SMALL,
                "callers_skip",
                NO_CONTACT,
            )
            assert chosen["window_from"] is None
            assert chosen["mode"] == "learn"
            assert chosen["choices"] == 3
            assert chosen["value"] == pytest.approx(20_000, abs=500)
            assert learning_line(record.learning).startswith(
                "queue callers: no call today, arm callers_skip (learn)"
            )
        for account in large:
            assert explained[account.id].queue == "callers"
            assert queue_choice(explained[account.id])["channel"] == "call"

    def test_the_choices_are_counted_per_queue_and_arm(
        self, session: Session, clock: SettableClock
    ) -> None:
        """What the learning-worlds benchmark reports per run (`queue_choices`): the skips are
        the accounts the queue did not call."""
        late(session, clock, [50_000] * 3)
        late(session, clock, [150_000] * 2)
        evidence(session, {SMALL: "callers_skip", LARGE: "callers_day"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        assert strategy_service.queue_choices(session, first=AS_OF, last=AS_OF) == {
            "callers": {"callers_day": 2, "callers_skip": 3}
        }
        assert (
            strategy_service.queue_choices(
                session, first=AS_OF - dt.timedelta(days=1), last=AS_OF - dt.timedelta(days=1)
            )
            == {}
        )

    def test_a_skipped_account_is_decided_again_the_next_day(
        self, session: Session, clock: SettableClock
    ) -> None:
        [account] = late(session, clock, [50_000])
        evidence(session, {SMALL: "callers_skip"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        assert tasks_of(session, [account]) == {}
        tomorrow = AS_OF + dt.timedelta(days=1)
        evidence(session, {SMALL: "callers_evening"}, on=tomorrow)
        delinquency_service.run_daily(session, tomorrow, clock=clock)
        strategy_service.run(session, tomorrow, clock=clock)
        [task] = tasks_of(session, [account]).values()
        assert task.as_of_date == tomorrow
        assert as_utc(task.due_at) == shanghai(tomorrow, 18)

    def test_the_holdout_draws_among_every_arm_the_skip_included(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Nearly everyone held out (99 %): their arms are drawn at random whatever the evidence
        says (it favours the day call), so the skip is drawn too, and only the skipped accounts
        get no task."""
        accounts = late(session, clock, [50_000] * 30)
        evidence(session, {SMALL: "callers_day"})
        activate(session, clock, SKIP_POLICY.replace("holdout: 0", "holdout: 0.99"))
        strategy_service.run(session, AS_OF, clock=clock)
        explained = records(session, accounts)
        chosen = {a.id: queue_choice(explained[a.id]) for a in accounts}
        held_out = [c["arm"] for c in chosen.values() if c["mode"] == "holdout"]
        assert len(held_out) >= 25
        assert set(held_out) == set(ARMS)
        skipped = {a for a, c in chosen.items() if c["arm"] == "callers_skip"}
        assert set(tasks_of(session, accounts)) == {a.id for a in accounts} - skipped


def decided_on(session: Session, account_id: int, day: dt.date) -> StrategyDecision:
    return session.execute(
        select(StrategyDecision).where(
            StrategyDecision.account_id == account_id, StrategyDecision.as_of_date == day
        )
    ).scalar_one()


def queue_choice(record: StrategyDecision) -> dict[str, Any]:
    assert record.learning is not None
    choice: dict[str, Any] = record.learning["queue_hour"]
    return choice


class TestRewards:
    def test_a_skip_earns_what_was_paid_with_no_call_cost_under_the_queues_name(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The skipped account pays ¥300 within the horizon: the none arm of `queue:callers` is
        credited 30,000 (no call's cost even though a call from elsewhere reached the account
        that day), and the day's update adds it to the arm's row. The nil cost holds twice over:
        the none arm's recorded cost is `none`'s (0) and its reward row's channel is `none`.
        Remove both (price the arm as a call in `_learn_queue_hours` and fix the queue rows'
        channel to `call` in `learning._rewards`) and the cost is 520 (tried: fails); either
        alone is caught by the other (tried: passes)."""
        [account] = late(session, clock, [50_000])
        evidence(session, {SMALL: "callers_skip"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        # A dial placed to the account that day by something else (a stage's call, say).
        session.add(
            ContactPlan(
                account_id=account.id,
                customer_id=account.customer_id,
                as_of_date=AS_OF,
                stage="early",
                treatment="agent_dial_1",
                channel="dial",
                template="callers",
                tone="neutral",
                status="planned",
                scheduled_at=shanghai(AS_OF, 18),
                reasons=[],
                created_at=shanghai(AS_OF, 18),
            )
        )
        session.flush()
        session.execute(
            update(ContactPlan).where(ContactPlan.account_id == account.id).values(status="sent")
        )
        clock.set(shanghai(AS_OF + dt.timedelta(days=9)))
        pay(session, clock, account, 30_000, shanghai(AS_OF + dt.timedelta(days=2)))
        day = AS_OF + dt.timedelta(days=8)
        [row] = rewards(session, day, {7}).iter_rows(named=True)
        assert (row["stage"], row["cell"], row["arm"]) == (STAGE, SMALL, "callers_skip")
        assert (row["paid_minor"], row["cost"], row["reward"]) == (30_000, 0.0, 30_000.0)
        before = arm_row(session, "callers_skip")
        n, total = before.n, before.reward_sum
        assert learn(session, day, parse_policy(SKIP_POLICY, source="t")).decisions == 1
        after = arm_row(session, "callers_skip")
        assert (after.n, after.reward_sum) == (n + 1, total + 30_000)


def arm_row(session: Session, arm: str) -> LearningArm:
    row = session.execute(
        select(LearningArm).where(
            LearningArm.policy == NAME, LearningArm.cell == SMALL, LearningArm.arm == arm
        )
    ).scalar_one()
    session.refresh(row)
    return row

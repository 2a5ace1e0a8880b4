"""The learner chooses the hour of a hand-off queue's call: every account the queue holds keeps
its call (the floor), and the bandit picks, per context cell, whether the agents are offered it by
day or from the evening; the hour is the task's `due_at`, which "next account" (and the simulated
agents' rounds) honour, and the decision record explains the choice. Rewards are kept under the
queue's own name (`queue:<name>`), net of the call's cost when one was placed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.cli.contact import learning_line
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.models import Account, AgentTask, ContactPlan, LearningArm, StrategyDecision
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import PolicyError, parse_policy
from recoup.strategy.service.learning import rewards
from tests.factories import add_bill, create_account, create_customer, pay, shanghai

AS_OF = dt.date(2026, 6, 20)
STAGE = "queue:callers"

POLICY = """
policy: queue-hour-test
version: "1"
stages:
  - name: early
    dpd: [1, 30]
    treatments:
      - {id: early_push, channel: push, template: early_reminder, window: {from: "12:00", to: "13:30"}}
handoff:
  - queue: callers
    when: dpd >= 1
    priority: overdue_minor / 100
    learn:
      arms:
        - {id: callers_day, channel: call, template: mid_call_script,
           window: {from: "10:00", to: "18:00"}}
        - {id: callers_evening, channel: call, template: mid_call_script,
           window: {from: "18:00", to: "20:00"}}
      context: {overdue_minor: [100_000]}
      horizon_days: 7
      exploration: 0
      holdout: 0
"""
SMALL, LARGE = "overdue_minor<100000", "overdue_minor>=100000"


def activate(session: Session, clock: SettableClock, text: str = POLICY) -> None:
    version = strategy_service.save_policy(session, text, author="lin", clock=clock, source="t")
    strategy_service.activate(session, version.id, actor="lin", clock=clock)


def late(session: Session, clock: SettableClock, amounts: list[int]) -> list[Account]:
    out = []
    for amount in amounts:
        account = create_account(session, clock, customer=create_customer(session, clock))
        add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), amount)
        out.append(account)
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    return out


def evidence(session: Session, best: dict[str, str]) -> None:
    """What the arms earned so far: in each cell, 400 decisions per arm, the `best` arm ¥100
    ahead of the other, with little spread (the learner is sure)."""
    for cell, winner in best.items():
        for arm in ("callers_day", "callers_evening"):
            mean = 20_000.0 if arm == winner else 10_000.0
            session.add(
                LearningArm(
                    policy="queue-hour-test",
                    stage=STAGE,
                    cell=cell,
                    arm=arm,
                    n=400,
                    reward_sum=400 * mean,
                    reward_sq_sum=400 * (mean**2 + 100.0**2),
                    updated_on=AS_OF - dt.timedelta(days=1),
                )
            )
    session.flush()


def tasks_of(session: Session, accounts: list[Account]) -> dict[int, AgentTask]:
    rows = session.execute(
        select(AgentTask).where(AgentTask.account_id.in_([a.id for a in accounts]))
    ).scalars()
    return {t.account_id: t for t in rows}


def records(session: Session, accounts: list[Account]) -> dict[int, StrategyDecision]:
    rows = session.execute(
        select(StrategyDecision).where(StrategyDecision.account_id.in_([a.id for a in accounts]))
    ).scalars()
    return {r.account_id: r for r in rows}


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=dt.UTC) if moment and moment.tzinfo is None else moment


class TestPolicy:
    def test_a_queue_call_without_an_hour_is_refused(self) -> None:
        text = POLICY.replace(
            """{id: callers_evening, channel: call, template: mid_call_script,
           window: {from: "18:00", to: "20:00"}}""",
            "{id: callers_evening, channel: call, template: mid_call_script}",
        )
        with pytest.raises(PolicyError, match="channel: call, with a window"):
            parse_policy(text, source="p.yaml")

    def test_the_queue_learns_under_its_own_name(self) -> None:
        policy = parse_policy(POLICY, source="p.yaml")
        [queue] = policy.learning_queues
        assert queue.learning_stage == STAGE
        assert policy.learns
        assert not policy.learning_stages


class TestTheHourPerContext:
    def test_each_cell_gets_its_best_hour_every_account_keeps_its_call_and_the_record_explains(
        self, session: Session, clock: SettableClock
    ) -> None:
        # The small balances paid after evening calls, the large ones after day calls. Remove
        # `_learn_queue_hours` from `planning.plan` and no task has a moment and no record a
        # `queue_hour` (tried: fails); give `bandit.choose` no evidence (the queue's stats
        # emptied in `_learn_queue_hours`) and the cells no longer get their best hours (tried:
        # fails).
        small = late(session, clock, [50_000] * 4)
        large = late(session, clock, [150_000] * 4)
        evidence(session, {SMALL: "callers_evening", LARGE: "callers_day"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        tasks = tasks_of(session, small + large)
        explained = records(session, small + large)
        assert len(tasks) == 8  # the floor: every account the queue holds is called
        for accounts, cell, arm, hour in (
            (small, SMALL, "callers_evening", 18),
            (large, LARGE, "callers_day", 10),
        ):
            for account in accounts:
                assert as_utc(tasks[account.id].due_at) == shanghai(AS_OF, hour)
                # The window's end: 18:00 for a day call, 20:00 for an evening one.
                assert tasks[account.id].due_until == shanghai(AS_OF, 18 if hour == 10 else 20)
                learning = explained[account.id].learning
                assert learning is not None
                assert learning["policy"] == "queue-hour-test"
                assert learning["stage"] is None  # no stage of this policy learns
                chosen = learning["queue_hour"]
                assert (chosen["queue"], chosen["cell"], chosen["arm"]) == ("callers", cell, arm)
                assert chosen["mode"] == "learn"
                assert chosen["window_from"] == ("18:00" if hour == 18 else "10:00")
                assert chosen["value"] == pytest.approx(20_000, abs=500)
                assert chosen["sd"] > 0
                assert chosen["choices"] == 2
                assert chosen["context"] == [
                    {"fact": "overdue_minor", "value": str(account_overdue(account, small))}
                ]
                # `recoup contact explain` says it in its line.
                assert learning_line(learning).startswith(
                    f"queue callers: call from {chosen['window_from']}, arm {arm} (learn)"
                )

    def test_the_agents_are_offered_each_call_at_its_hour(
        self, session: Session, clock: SettableClock
    ) -> None:
        # What the simulated agents' rounds ask for (`agents.service.next_round`): at 10:00 the
        # day calls only, at 18:30 the evening ones. Drop `due_at` from the daily run's tasks
        # (`daily_run.run`) and the evening calls are offered at 10:00 (tried: fails here). The
        # morning round reaches two day calls of three (its capacity spent): the third is not
        # offered at 18:30, its window over; drop `due_until` from the daily run's tasks and it
        # is (tried: fails on the last assertion).
        small = late(session, clock, [50_000] * 3)
        large = late(session, clock, [150_000] * 3)
        evidence(session, {SMALL: "callers_evening", LARGE: "callers_day"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        morning = agents_service.next_round(session, AS_OF, shanghai(AS_OF, 10), limit=100)
        tasks = tasks_of(session, small + large)
        offered = {tasks_id_account(tasks, t) for t in morning.dial}
        assert offered == {a.id for a in large}
        worked = agents_service.next_round(session, AS_OF, shanghai(AS_OF, 10), limit=2)
        agents_service.done(session, worked.tasks, now=shanghai(AS_OF, 10))
        evening = agents_service.next_round(
            session, AS_OF, shanghai(AS_OF, 18) + dt.timedelta(minutes=30), limit=100
        )
        assert {tasks_id_account(tasks, t) for t in evening.dial} == {a.id for a in small}


def account_overdue(account: Account, small: list[Account]) -> int:
    return 50_000 if account in small else 150_000


def tasks_id_account(tasks: dict[int, AgentTask], task_id: int) -> int:
    return next(a for a, t in tasks.items() if t.id == task_id)


class TestRewards:
    def test_the_hour_earns_the_payments_within_the_horizon_net_of_the_call_placed(
        self, session: Session, clock: SettableClock
    ) -> None:
        # Two accounts: one was called (a dial handed to the provider: the call's 520 fen), one
        # was not (the guard refused it, say): no cost. Each pays 30,000 within the horizon.
        accounts = late(session, clock, [50_000, 50_000])
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        explained = records(session, accounts)
        called, missed = accounts
        session.add(
            ContactPlan(
                account_id=called.id,
                customer_id=called.customer_id,
                as_of_date=AS_OF,
                stage="callers",
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
            update(ContactPlan).where(ContactPlan.account_id == called.id).values(status="sent")
        )
        clock.set(shanghai(AS_OF + dt.timedelta(days=9)))
        for account in accounts:
            pay(session, clock, account, 30_000, shanghai(AS_OF + dt.timedelta(days=2)))
        earned = rewards(session, AS_OF + dt.timedelta(days=8), {7})
        rows = {r["account_id"]: r for r in earned.iter_rows(named=True)}
        for account, cost in ((called, 520.0), (missed, 0.0)):
            row = rows[account.id]
            learning = explained[account.id].learning
            assert learning is not None
            assert (row["stage"], row["cell"], row["arm"]) == (
                STAGE,
                SMALL,
                learning["queue_hour"]["arm"],
            )
            assert (row["paid_minor"], row["cost"], row["reward"]) == (30_000, cost, 30_000 - cost)
        assert earned.height == 2  # no stage row: no stage of this policy learns


class TestTheWindowsEnd:
    def test_a_window_that_ends_before_it_starts_ends_the_next_day(self) -> None:
        from recoup.strategy.service.planning import _window_end

        zone = "Asia/Shanghai"
        assert _window_end(AS_OF, "10:00", "18:00", zone) == shanghai(AS_OF, 18)
        assert _window_end(AS_OF, "22:00", "02:00", zone) == shanghai(
            AS_OF + dt.timedelta(days=1), 2
        )
        assert _window_end(AS_OF, "18:00", "24:00", zone) == shanghai(
            AS_OF + dt.timedelta(days=1), 0
        )
        assert _window_end(AS_OF, "10:00", None, zone) is None

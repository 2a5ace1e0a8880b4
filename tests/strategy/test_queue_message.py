"""A learned hand-off queue may list a message arm: a channel other than a call, with its template
and an hour, sent in the call's place. When the bandit picks it for an account, the account gets no
task from the queue that day and the day's decision becomes that message (treatment: the arm's
id), planned and checked by the guard like any contact; the arm is a candidate only on a day the
account's stage sends it nothing (one contact a day), and it earns the money paid within the
horizon net of the message's cost when it was sent, under the queue's own name."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recoup.cli.contact import learning_line
from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan, LearningArm
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import PolicyError, parse_policy
from recoup.strategy.service.learning import rewards
from tests.factories import pay, shanghai
from tests.strategy.test_queue_hour import (
    AS_OF,
    LARGE,
    SMALL,
    STAGE,
    late,
    records,
    tasks_of,
)

NAME = "queue-message-test"
POLICY = f"""
policy: {NAME}
version: "1"
stages:
  - name: early
    dpd: [1, 30]
    treatments:
      # The stage texts the small balances only: the large ones get nothing from it.
      - {{id: early_sms, channel: sms, template: early_reminder, tone: gentle,
         when: overdue_minor < 100_000, window: {{from: "12:00", to: "13:30"}}}}
handoff:
  - queue: callers
    when: dpd >= 1
    priority: overdue_minor / 100
    learn:
      arms:
        - {{id: callers_day, channel: call, template: mid_call_script,
           window: {{from: "10:00", to: "18:00"}}}}
        - {{id: callers_in_app, channel: in_app, template: plan_offer, tone: neutral,
           window: {{from: "18:30", to: "20:00"}}}}
      context: {{overdue_minor: [100_000]}}
      horizon_days: 7
      exploration: 0
      holdout: 0
      costs: {{in_app: 3}}
"""
ARMS = ("callers_day", "callers_in_app")
# The same queue, whose learning sends the message in the call's place only when 95 % sure.
SURE_POLICY = POLICY.replace(
    "      costs: {in_app: 3}\n",
    "      costs: {in_app: 3}\n      message_arms: {confidence: 0.95}\n",
)


def activate(session: Session, clock: SettableClock, text: str = POLICY) -> None:
    version = strategy_service.save_policy(session, text, author="lin", clock=clock, source="t")
    strategy_service.activate(session, version.id, actor="lin", clock=clock)


def evidence(
    session: Session, best: dict[str, str], *, ahead: float = 10_000.0, spread: float = 100.0
) -> None:
    """In each cell 400 decisions per arm, the `best` arm `ahead` (¥100) of the other, each
    reward spread by `spread` (¥1)."""
    for cell, winner in best.items():
        for arm in ARMS:
            mean = 10_000.0 + ahead if arm == winner else 10_000.0
            session.add(
                LearningArm(
                    policy=NAME,
                    stage=STAGE,
                    cell=cell,
                    arm=arm,
                    n=400,
                    reward_sum=400 * mean,
                    reward_sq_sum=400 * (mean**2 + spread**2),
                    updated_on=AS_OF - dt.timedelta(days=1),
                )
            )
    session.flush()


def plans_of(session: Session, account_ids: list[int]) -> dict[int, ContactPlan]:
    rows = session.execute(
        select(ContactPlan).where(
            ContactPlan.account_id.in_(account_ids), ContactPlan.as_of_date == AS_OF
        )
    ).scalars()
    return {p.account_id: p for p in rows}


class TestPolicy:
    def test_a_message_arm_needs_an_hour(self) -> None:
        text = POLICY.replace(
            """template: plan_offer, tone: neutral,
           window: {from: "18:30", to: "20:00"}}""",
            "template: plan_offer, tone: neutral}",
        )
        with pytest.raises(PolicyError, match="a message at an hour in its place"):
            parse_policy(text, source="p.yaml")

    def test_a_queue_that_could_only_message_is_refused(self) -> None:
        text = POLICY.replace(
            """        - {id: callers_day, channel: call, template: mid_call_script,
           window: {from: "10:00", to: "18:00"}}
""",
            """        - {id: callers_sms, channel: sms, template: plan_offer,
           window: {from: "10:00", to: "12:00"}}
""",
        )
        with pytest.raises(PolicyError, match="without it the queue would never call"):
            parse_policy(text, source="p.yaml")

    def test_the_message_arm_is_one_of_the_queue_s_arms(self) -> None:
        [queue] = parse_policy(POLICY, source="p.yaml").learning_queues
        arms = {a.id: a for a in queue.learn.arms} if queue.learn else {}
        assert (arms["callers_in_app"].channel, arms["callers_in_app"].template) == (
            "in_app",
            "plan_offer",
        )

    def test_the_message_arms_terms_are_read(self) -> None:
        [queue] = parse_policy(SURE_POLICY, source="p.yaml").learning_queues
        assert queue.learn is not None
        assert queue.learn.message_confidence == 0.95
        [plain] = parse_policy(POLICY, source="p.yaml").learning_queues
        assert plain.learn is not None
        assert plain.learn.message_confidence is None

    @pytest.mark.parametrize(
        ("terms", "error"),
        [
            ("{confidence: 1.0}", "a probability from 0.5 to below 1"),
            ("{confidence: 0.4}", "a probability from 0.5 to below 1"),
            ("{}", "says how sure learning must be"),
            ("{confidence: 0.9, hold: true}", "hold"),
        ],
    )
    def test_bad_message_terms_are_refused(self, terms: str, error: str) -> None:
        with pytest.raises(PolicyError, match=error):
            parse_policy(SURE_POLICY.replace("{confidence: 0.95}", terms), source="p.yaml")

    def test_message_terms_need_a_message_arm(self) -> None:
        text = SURE_POLICY.replace(
            """        - {id: callers_in_app, channel: in_app, template: plan_offer, tone: neutral,
           window: {from: "18:30", to: "20:00"}}
""",
            """        - {id: callers_evening, channel: call, template: mid_call_script,
           window: {from: "18:00", to: "20:00"}}
""",
        )
        with pytest.raises(PolicyError, match="message_arms needs an arm that sends a message"):
            parse_policy(text, source="p.yaml")

    def test_a_stage_takes_no_message_terms(self) -> None:
        text = POLICY.replace(
            """    treatments:
      # The stage""",
            """    learn:
      arms:
        - {treatment: early_sms}
        - {id: early_none, channel: none}
      message_arms: {confidence: 0.95}
    treatments:
      # The stage""",
        )
        with pytest.raises(PolicyError, match="only a hand-off queue's block has messages"):
            parse_policy(text, source="p.yaml")


class TestTheMessageInTheCallsPlace:
    def test_the_large_balances_get_the_message_and_no_task_the_small_keep_their_call(
        self, session: Session, clock: SettableClock
    ) -> None:
        # The in-app arm leads in both cells. The large balances, to whom the stage sends
        # nothing, get the in-app plan offer and no task; the small ones, whom the stage texts
        # today, keep their call (the message arm is no candidate on a day with a contact).
        # Remove the message's becoming the decision in `_learn_queue_hours` and the large
        # balances keep their task and get no message (tried: fails on the tasks); remove the
        # one-contact-a-day condition and the small balances' text is replaced by the in-app
        # message and they lose their call (tried: fails on the small balances' tasks).
        small = late(session, clock, [50_000] * 3)
        large = late(session, clock, [150_000] * 3)
        evidence(session, {SMALL: "callers_in_app", LARGE: "callers_in_app"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        tasks = tasks_of(session, small + large)
        plans = plans_of(session, [a.id for a in small + large])
        explained = records(session, small + large)
        assert set(tasks) == {a.id for a in small}
        for account in small:
            assert (plans[account.id].channel, plans[account.id].treatment) == ("sms", "early_sms")
            chosen = explained[account.id].learning["queue_hour"]
            assert (chosen["arm"], chosen["choices"]) == ("callers_day", 1)
        for account in large:
            plan = plans[account.id]
            assert (plan.channel, plan.template, plan.tone, plan.treatment) == (
                "in_app",
                "plan_offer",
                "neutral",
                "callers_in_app",
            )
            assert plan.status in ("planned", "scheduled")
            assert plan.scheduled_at.replace(tzinfo=dt.UTC) == shanghai(AS_OF, 18) + dt.timedelta(
                minutes=30
            )
            record = explained[account.id]
            assert record.decision == "contact"
            assert record.queue is None  # the account left the queue for the day
            chosen = record.learning["queue_hour"]
            assert (chosen["queue"], chosen["cell"], chosen["arm"], chosen["channel"]) == (
                "callers",
                LARGE,
                "callers_in_app",
                "in_app",
            )
            assert (chosen["mode"], chosen["choices"]) == ("learn", 2)
            assert learning_line(record.learning).startswith(
                "queue callers: in_app from 18:30 in place of the call, arm callers_in_app"
            )

    def test_where_the_call_leads_the_call_stays(
        self, session: Session, clock: SettableClock
    ) -> None:
        large = late(session, clock, [150_000] * 3)
        evidence(session, {LARGE: "callers_day"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        assert set(tasks_of(session, large)) == {a.id for a in large}
        assert plans_of(session, [a.id for a in large]) == {}


class TestSureMessages:
    """`message_arms: {confidence: 0.95}`: a message picked is always sent, where a queue's call
    may go undialled, so on a near tie the draws alone would add contacts for nothing."""

    def test_a_near_tie_leaves_the_call_in_place(
        self, session: Session, clock: SettableClock
    ) -> None:
        # The in-app arm ¥2 ahead of the call, rewards spread by ¥50, 400 decisions each: the
        # plain policy messages some of the 24 large balances in the call's place, the sure one
        # none, and all keep their task. Remove the message terms from `_bandit_params` (or
        # `_sure` from `bandit.choose`) and the sure policy messages as many (tried: fails).
        for text, messaged in ((POLICY, True), (SURE_POLICY, False)):
            with session.begin_nested() as nested:
                large = late(session, clock, [150_000] * 24)
                evidence(session, {LARGE: "callers_in_app"}, ahead=200.0, spread=5_000.0)
                activate(session, clock, text)
                strategy_service.run(session, AS_OF, clock=clock)
                plans = plans_of(session, [a.id for a in large])
                tasks = tasks_of(session, large)
                if messaged:
                    assert 3 <= len(plans) <= 21, len(plans)
                else:
                    assert plans == {}
                    assert set(tasks) == {a.id for a in large}
                    modes = {
                        r.learning["queue_hour"]["mode"] for r in records(session, large).values()
                    }
                    assert modes == {"learn"}
                assert set(tasks) | set(plans) == {a.id for a in large}
                nested.rollback()

    def test_clear_evidence_sends_the_message(self, session: Session, clock: SettableClock) -> None:
        large = late(session, clock, [150_000] * 3)
        evidence(session, {LARGE: "callers_in_app"})
        activate(session, clock, SURE_POLICY)
        strategy_service.run(session, AS_OF, clock=clock)
        assert tasks_of(session, large) == {}
        plans = plans_of(session, [a.id for a in large])
        assert {p.treatment for p in plans.values()} == {"callers_in_app"}
        assert set(plans) == {a.id for a in large}


class TestRewards:
    def test_the_message_earns_the_payments_within_the_horizon_net_of_its_cost_once_sent(
        self, session: Session, clock: SettableClock
    ) -> None:
        # Two large balances get the in-app message; one is sent (its cost, 3, counted), the
        # other never left (nothing). Count a queue's arm as sent only when dialled (the call's
        # rule for every queue arm) and the sent message costs nothing (tried: fails).
        accounts = late(session, clock, [150_000, 150_000])
        evidence(session, {LARGE: "callers_in_app"})
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        sent, unsent = accounts
        session.execute(
            update(ContactPlan)
            .where(ContactPlan.account_id == sent.id, ContactPlan.as_of_date == AS_OF)
            .values(status="sent")
        )
        clock.set(shanghai(AS_OF + dt.timedelta(days=9)))
        for account in accounts:
            pay(session, clock, account, 30_000, shanghai(AS_OF + dt.timedelta(days=2)))
        earned = rewards(session, AS_OF + dt.timedelta(days=8), {7})
        rows = {r["account_id"]: r for r in earned.iter_rows(named=True)}
        for account, cost in ((sent, 3.0), (unsent, 0.0)):
            row = rows[account.id]
            assert (row["stage"], row["cell"], row["arm"]) == (STAGE, LARGE, "callers_in_app")
            assert (row["paid_minor"], row["cost"], row["reward"]) == (30_000, cost, 30_000 - cost)

"""The simulated agents work what the workbench offers: the policy's hand-off queues and the call
treatments' tasks alike, one call per account a round, highest priority first, and close every
task of the accounts they worked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.compliance import load_guard
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import SettableClock
from recoup.models import Account, AgentTask, ContactPlan
from recoup.simulation import agents
from recoup.simulation.report import DayReport
from tests.contact.test_dispatch import (
    AS_OF,
    at_its_moment,
    contacts,
    dispatcher,
    drain,
    late_account,
    plan_day,
    spool,
)
from tests.contact.test_replies import add_contact
from tests.factories import add_bill, create_account, create_customer, shanghai

CONFIG = DispatchConfig(worker="sim")


def work(sessions: sessionmaker[Session], clock: SettableClock, *, capacity: int) -> DayReport:
    report = DayReport(AS_OF)
    agents.dial(
        sessions,
        AS_OF,
        report,
        capacity=capacity,
        clock=clock,
        config=CONFIG,
        guard=load_guard(),
        channels=["sms", "push", "email", "dial"],
    )
    return report


def dials(session: Session, account: Account) -> list[ContactPlan]:
    return [c for c in contacts(session, account) if c.channel == "dial"]


def tasks_of(session: Session, account: Account) -> list[AgentTask]:
    session.expire_all()
    return list(session.scalars(select(AgentTask).where(AgentTask.account_id == account.id)))


def large_late_account(session: Session, clock: SettableClock) -> Account:
    """45 days late with ¥4,000 overdue: the China policy plans a mid-stage call for it and queues
    it in `mid_late`."""
    customer = create_customer(session, clock, name="赵磊")
    account = create_account(session, clock, customer=customer)
    add_bill(session, clock, account, AS_OF - dt.timedelta(days=45), 400_000)
    return account


class TestTheCallTreatmentsAreWorked:
    def test_a_call_the_strategy_planned_is_dialled_without_a_queue_task(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        # Catches the agents working only the policy's queues (`source IS NULL`, the old
        # `next_open`): the call treatment's task (source "call") was never dialled.
        clock.set(shanghai(AS_OF, 9))
        account = late_account(session, clock)
        plan_day(session, clock)
        assert not [t for t in tasks_of(session, account) if t.source is None]
        call = add_contact(
            session,
            clock,
            account,
            channel="call",
            treatment="early_call",
            scheduled_at=shanghai(AS_OF, 10),
        )
        session.commit()
        at_its_moment(clock, call)
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        [task] = tasks_of(session, account)
        assert (task.source, task.status) == ("call", "open")

        report = work(sessions, clock, capacity=10)

        [dial] = dials(session, account)
        assert dial.status != "blocked"
        assert report.events["dials"] == 1
        assert [t.status for t in tasks_of(session, account)] == ["done"]

    def test_an_account_in_a_queue_and_with_a_call_is_dialled_once(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        # Catches one dial per task instead of per account: the debtor would be rung twice in
        # one round for one debt.
        clock.set(shanghai(AS_OF, 9))
        account = large_late_account(session, clock)
        plan_day(session, clock)
        [call] = [c for c in contacts(session, account) if c.channel == "call"]
        at_its_moment(clock, call)
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        assert sorted(str(t.source) for t in tasks_of(session, account)) == ["None", "call"]

        work(sessions, clock, capacity=10)

        assert len(dials(session, account)) == 1
        assert [t.status for t in tasks_of(session, account)] == ["done", "done"]


class TestARoundsOrder:
    def test_capacity_counts_accounts_highest_priority_first(
        self, session: Session, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        # Catches capacity spent per task (the first account's two tasks would fill a round of
        # two, and the second account would wait) and an order other than priority.
        clock.set(shanghai(AS_OF, 9))
        first, second, third = (late_account(session, clock) for _ in range(3))
        plan_day(session, clock)
        clock.set(shanghai(AS_OF, 10))
        for account, queue, source, priority in (
            (first, "mid_late", None, 30.0),
            (first, "calls", "call", 20.0),
            (second, "calls", "call", 25.0),
            (third, "mid_late", None, 5.0),
        ):
            session.add(
                AgentTask(
                    account_id=account.id,
                    as_of_date=AS_OF,
                    queue=queue,
                    priority=priority,
                    status="open",
                    source=source,
                    created_at=clock.now(),
                )
            )
        session.commit()

        work(sessions, clock, capacity=2)

        assert (len(dials(session, first)), len(dials(session, second))) == (1, 1)
        assert dials(session, third) == []
        assert [t.status for t in tasks_of(session, third)] == ["open"]

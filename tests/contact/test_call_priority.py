"""A call treatment's task is ranked in the agents' queues' unit (expected yuan an agent's minute
recovers, the policy's hand-off priority), not by its amount overdue in minor units: the decision's
`queue_priority` travels on the contact plan (`contact_plans.priority`) to the dispatcher, which
opens the task with it, and falls back to `call_priority` when the decision gave none."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.agents import service as agents_service
from recoup.contact.dispatch import call_priority
from recoup.kit.clock import SettableClock
from recoup.models import Account, AgentTask
from recoup.strategy.service import plan_rows
from recoup.strategy.service.planning import LEARNING
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


def tasks_of(session: Session, account: Account) -> list[AgentTask]:
    session.expire_all()
    stmt = select(AgentTask).where(AgentTask.account_id == account.id).order_by(AgentTask.id)
    return list(session.scalars(stmt))


class TestACallTasksPriority:
    def test_a_call_and_a_queue_task_of_similar_value_are_ordered_by_value(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        # Catches the call task ranked by its amount overdue in minor units (400,000 for ¥4,000:
        # above every hand-off task, worth ~¥75 a minute): the account worth more a minute waits.
        clock.set(shanghai(AS_OF, 9))
        customer = create_customer(session, clock, name="赵磊")
        called = create_account(session, clock, customer=customer)
        add_bill(session, clock, called, AS_OF - dt.timedelta(days=45), 400_000)
        queued = late_account(session, clock)
        plan_day(session, clock)
        [call] = [c for c in contacts(session, called) if c.channel == "call"]
        # The China policy's `mid_late`: overdue_minor * 0.15 (no score) / 100 / 8 minutes.
        assert call.priority == pytest.approx(400_000 * 0.15 / 100 / 8)
        at_its_moment(clock, call)
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        by_source = {t.source: t for t in tasks_of(session, called)}
        assert by_source["call"].priority == pytest.approx(75.0)
        assert by_source[None].priority == pytest.approx(75.0)
        # A hand-off task worth a little more a minute, for another account.
        session.add(
            AgentTask(
                account_id=queued.id,
                as_of_date=AS_OF,
                queue="mid_late",
                priority=80.0,
                status="open",
                created_at=clock.now(),
            )
        )
        session.commit()

        first = agents_service.next_round(session, AS_OF, clock.now(), limit=1)

        [task] = agents_service.get_many(session, first.dial).values()
        assert task.account_id == queued.id

    def test_a_call_without_a_decided_priority_falls_back_to_the_same_unit(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        # Catches the fallback in minor units (50,000 for ¥500 overdue).
        clock.set(shanghai(AS_OF, 9))
        account = late_account(session, clock)
        plan_day(session, clock)
        call = add_contact(
            session,
            clock,
            account,
            channel="call",
            treatment="early_call",
            scheduled_at=shanghai(AS_OF, 10),
        )
        session.commit()
        assert call.priority is None
        at_its_moment(clock, call)
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        [task] = tasks_of(session, account)
        assert task.priority == pytest.approx(call_priority(50_000)) == pytest.approx(9.375)


class TestPlanRows:
    def test_a_call_carries_the_decisions_priority_else_the_learners_value_in_yuan(
        self,
    ) -> None:
        # Catches `priority` left off the plan (the dispatcher would fall back for every call),
        # and the learner's value of a minute (minor units) written unconverted.
        learning = [None, {"call_value": 1_500.0}, None, {"call_value": 900.0}]
        contacts = pl.DataFrame(
            {
                "account_id": [1, 2, 3, 4],
                "customer_id": [1, 2, 3, 4],
                "stage": ["mid"] * 4,
                "treatment": ["mid_call", "early_call", "mid_call", "early_sms"],
                "channel": ["call", "call", "call", "sms"],
                "template": ["t"] * 4,
                "tone": ["neutral"] * 4,
                "status": ["planned"] * 4,
                "scheduled_at": [dt.datetime(2026, 6, 20, 2, tzinfo=dt.UTC)] * 4,
                "overdue_minor": [400_000, 100_000, 50_000, 50_000],
                "outstanding_minor": [400_000, 100_000, 50_000, 50_000],
                "reasons": [[], [], [], []],
                "queue_priority": [75.0, None, None, 3.0],
                "learning": pl.Series(learning, dtype=LEARNING),
            }
        )
        rows = plan_rows(contacts, AS_OF, dt.datetime(2026, 6, 20, tzinfo=dt.UTC))
        assert rows["priority"].to_list() == [75.0, 15.0, None, None]

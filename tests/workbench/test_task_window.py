"""A task ends with its treatment's window (`due_until`): a day call (10:00-18:00) is not offered
from 18:00 on, by the dialler's rounds (`agents.service.next_round`, which the simulated agents
call at 10:00 and 18:30) nor by "next account" (API and console alike); an evening call (18:00-
20:00) is offered at 18:30; a task without an end is offered as before. The task past its window
stays open, counted `ended` in the supervisor's queues and shown "expired 18:00" in the console,
until the next daily run expires it. The filter is one SQL expression (`repository._in_window`);
these tests run on SQLite and, with `RECOUP_TEST_DATABASE_URL`, on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import polars as pl
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.delinquency import service as delinquency_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import Account, AgentTask
from tests.contact.test_dispatch import AS_OF, late_account
from tests.factories import shanghai
from tests.workbench.test_workbench import signed_in, staff

HALF_PAST_SIX = shanghai(AS_OF, 18) + dt.timedelta(minutes=30)
DAY, EVENING, NO_END = (10, 18), (18, 20), (None, None)


def queued(
    session: Session, clock: SettableClock, windows: list[tuple[int | None, int | None]]
) -> list[Account]:
    """One late account per window (from, until: Shanghai hours on the day; None: no bound),
    queued today by the daily run's path (`queue_day`), the first with the highest priority."""
    clock.set(shanghai(AS_OF, 9))
    accounts = [late_account(session, clock) for _ in windows]
    delinquency_service.run_daily(session, AS_OF, clock=clock)

    def at(hour: int | None) -> dt.datetime | None:
        return None if hour is None else shanghai(AS_OF, hour)

    agents_service.queue_day(
        session,
        pl.DataFrame(
            {
                "account_id": [a.id for a in accounts],
                "queue": ["mid_late"] * len(accounts),
                "priority": [float(100 - i) for i in range(len(accounts))],
                "due_at": [at(start) for start, _ in windows],
                "due_until": [at(end) for _, end in windows],
            },
            schema_overrides={
                "due_at": pl.Datetime("us", "UTC"),
                "due_until": pl.Datetime("us", "UTC"),
            },
        ),
        day=AS_OF,
        now=clock.now(),
    )
    session.commit()
    return accounts


def offered(session: Session, at: dt.datetime) -> set[int]:
    """The accounts a dialler's round would call at `at` (tasks to dial → their accounts)."""
    work = agents_service.next_round(session, AS_OF, at, limit=100)
    tasks = agents_service.get_many(session, work.dial)
    return {tasks[i].account_id for i in work.dial}


class TestTheDiallersRound:
    def test_a_day_task_is_not_offered_at_half_past_six_an_evening_one_is(
        self, session: Session, clock: SettableClock
    ) -> None:
        # Remove the `due_until` clause from `repository._in_window` and the day task is offered
        # at 18:30 with the evening one (tried: fails on the last assertion).
        day, evening, no_end = queued(session, clock, [DAY, EVENING, NO_END])
        assert offered(session, shanghai(AS_OF, 10)) == {day.id, no_end.id}
        last_minute = shanghai(AS_OF, 17) + dt.timedelta(minutes=59)
        assert offered(session, last_minute) == {day.id, no_end.id}
        # The end is excluded, as a window's: at 18:00 the day call is over.
        assert offered(session, shanghai(AS_OF, 18)) == {evening.id, no_end.id}
        assert offered(session, HALF_PAST_SIX) == {evening.id, no_end.id}

    def test_a_task_without_an_end_is_offered_at_any_hour_of_its_day(
        self, session: Session, clock: SettableClock
    ) -> None:
        # Tasks written before `due_until` existed, a queue without a window, a call back: as
        # before, offered whenever asked on their day.
        [account] = queued(session, clock, [NO_END])
        for hour in (8, 10, 18, 21):
            assert offered(session, shanghai(AS_OF, hour)) == {account.id}


class TestNextAccount:
    def test_an_agent_is_not_handed_a_day_task_after_its_window(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        # The day task has the highest priority: at 18:30 the agent is handed the task without an
        # end instead, then nothing (remove the clause from `_in_window`: the day task comes
        # first; tried: fails).
        day, no_end = queued(session, clock, [DAY, NO_END])
        staff(session, clock, "li", Role.agent)
        session.commit()
        clock.set(HALF_PAST_SIX)
        li = signed_in(app, "li")
        first = li.post("/v1/agent-tasks/next").json()
        assert first["task"]["account_id"] == no_end.id
        assert first["task"]["due_until"] is None
        li.post(f"/v1/agent-tasks/{first['task']['id']}/wrap-up", json={"outcome": "voicemail"})
        assert li.post("/v1/agent-tasks/next").json()["task"] is None
        session.expire_all()
        task = session.scalars(select(AgentTask).where(AgentTask.account_id == day.id)).one()
        assert (task.status, task.taken_by) == ("open", None)

    def test_before_its_end_the_day_task_comes_first(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        day, _ = queued(session, clock, [DAY, NO_END])
        staff(session, clock, "li", Role.agent)
        session.commit()
        clock.set(shanghai(AS_OF, 17))
        li = signed_in(app, "li")
        taken = li.post("/v1/agent-tasks/next").json()["task"]
        assert taken["account_id"] == day.id
        assert dt.datetime.fromisoformat(taken["due_until"]) == shanghai(AS_OF, 18)


class TestTheSupervisor:
    def test_a_task_past_its_window_is_counted_ended_until_the_next_daily_run_expires_it(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        day, _, _ = queued(session, clock, [DAY, EVENING, NO_END])
        staff(session, clock, "boss", Role.supervisor)
        session.commit()
        clock.set(shanghai(AS_OF, 17))
        boss = signed_in(app, "boss")
        [before] = boss.get("/v1/queues").json()["queues"]
        assert (before["open"], before["ended"]) == (3, 0)
        clock.set(HALF_PAST_SIX)
        boss = signed_in(app, "boss")  # a session idle 90 minutes has ended
        [after] = boss.get("/v1/queues").json()["queues"]
        assert (after["open"], after["ended"], after["expired"]) == (2, 1, 0)
        # The next day's run closes what its day left open, the ended task with the rest.
        tomorrow = AS_OF + dt.timedelta(days=1)
        agents_service.expire_stale(session, tomorrow, now=shanghai(tomorrow, 6))
        task = session.scalars(select(AgentTask).where(AgentTask.account_id == day.id)).one()
        assert task.status == "expired"

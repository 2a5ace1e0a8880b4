"""Agents asking for "next account" at once never get the same account: many threads, each with
its own connection to PostgreSQL, take, wrap up and take again until the queue is empty."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator

import polars as pl
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.agents import service as agents_service
from recoup.bootstrap import init_database
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import AgentTask, AgentTaskEvent
from tests.conftest import MASTER
from tests.factories import create_account, shanghai

pytestmark = pytest.mark.postgres
AS_OF = dt.date(2026, 6, 20)
ACCOUNTS = 60
AGENTS = 8


@pytest.fixture
def database(process_database: str) -> Iterator[Engine]:
    if not process_database.startswith("postgresql"):
        pytest.skip("the race needs PostgreSQL's concurrent writers; scripts/test runs it there")
    engine = make_engine(process_database)  # a pool of 5 and 10 more: one connection per agent
    init_database(engine, clock=SettableClock(shanghai(AS_OF, 9)), master=MASTER)
    before = crypto.installed_keyring()
    with Session(engine) as session:
        crypto.install_keyring(keys_service.load_keyring(session, MASTER))
    yield engine
    crypto.install_keyring(before)
    engine.dispose()


def test_agents_taking_next_at_once_never_get_the_same_account(database: Engine) -> None:
    """Catches the claim's condition removed (`agents.repository.claim` updating the tasks
    without `_free(now)`, i.e. without `taken_by IS NULL OR lock_until < now`): agents who read
    the same candidates at the same moment then both "claim" the first account, and an account
    is handed to two agents (the assertion on `given` fails)."""
    sessions: sessionmaker[Session] = make_sessionmaker(database)
    clock = SettableClock(shanghai(AS_OF, 10))
    with sessions.begin() as session:
        accounts = [create_account(session, clock) for _ in range(ACCOUNTS)]
        agents_service.queue_day(
            session,
            pl.DataFrame(
                {
                    "account_id": [a.id for a in accounts],
                    "queue": ["mid_late"] * ACCOUNTS,
                    "priority": [1.0] * ACCOUNTS,  # one priority: every agent wants the same first
                }
            ),
            day=AS_OF,
            now=clock.now(),
        )
        staff = [
            identity_service.create_staff(
                session,
                username=f"agent{i}",
                display_name=f"Agent {i}",
                role=Role.agent,
                password="a long agent password 1",
                clock=clock,
            ).id
            for i in range(AGENTS)
        ]
    given: list[tuple[int, int]] = []  # (account, agent)
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(AGENTS)

    def work(staff_id: int) -> None:
        try:
            start.wait()
            while True:
                with sessions.begin() as session:
                    taken = agents_service.take_next(
                        session, staff_id, AS_OF, clock.now(), actor=f"staff:{staff_id}"
                    )
                    if taken.task is None:
                        return
                    account = taken.task.account_id
                    with lock:
                        given.append((account, staff_id))
                with sessions.begin() as session:
                    agents_service.wrap_up(
                        session,
                        taken.task.id,
                        staff_id,
                        clock.now(),
                        outcome="no_answer",
                        actor=f"staff:{staff_id}",
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in staff]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    times = Counter(account for account, _ in given)
    assert [a for a, n in times.items() if n > 1] == []
    assert errors == []
    assert len(times) == ACCOUNTS
    assert len({agent for _, agent in given}) > 1  # they did work at the same time
    with sessions() as session:
        assert set(session.scalars(select(AgentTask.status))) == {"done"}
        taken_events = Counter(
            session.scalars(select(AgentTaskEvent.task_id).where(AgentTaskEvent.kind == "taken"))
        )
        assert set(taken_events.values()) == {1}

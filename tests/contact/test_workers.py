"""Several workers on one outbox: a worker never sends what another has taken over, two claims at
once take different rows without waiting for each other (PostgreSQL's SKIP LOCKED), and three
`recoup worker` processes draining one outbox together deliver every due message once."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels.spool import SpoolAdapter
from recoup.contact import repository as contact_repo
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker
from recoup.models import ContactPlan
from recoup.strategy import service as strategy_service
from recoup.worker.dispatcher import Dispatcher
from recoup.worker.killpoints import KillPoints
from tests.contact.chaos import deliveries, prepare, race, tally
from tests.contact.test_dispatch import at_its_moment, planned_reminder
from tests.contact.test_payment_race import AS_OF, database  # noqa: F401 - a fixture
from tests.factories import add_bill, create_account, create_customer, shanghai
from tests.strategy.test_daily_run import activate


def reloaded(session: Session, contact: ContactPlan) -> ContactPlan:
    session.expire_all()
    row = session.get(ContactPlan, contact.id)
    assert row is not None
    return row


def worker(
    sessions: sessionmaker[Session], clock: SettableClock, tmp_path: Path, name: str
) -> Dispatcher:
    return Dispatcher(
        sessions,
        {"push": SpoolAdapter(tmp_path / "spool", "push")},
        clock=clock,
        config=DispatchConfig(worker=name, pipeline=False, lease=dt.timedelta(minutes=5)),
        kill_points=KillPoints(),
    )


class TestTakenOver:
    def test_a_worker_whose_lease_ran_out_does_not_send_what_another_took_over(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """Worker A claims a contact and stalls past its lease; worker B takes it over and sends
        it; then A reaches its send step. Catches the removal of the lock before sending
        (`dispatch.lock_sending`, which keeps only the rows still `sending` for this worker):
        without it A sends the message a second time (`<key>~2.json`)."""
        _, planned = planned_reminder(session, clock)
        at_its_moment(clock, planned)
        a = worker(sessions, clock, tmp_path, "A")
        claimed = a._claim()
        assert [p.contact_id for p in claimed.ready] == [planned.id]

        clock.advance(dt.timedelta(minutes=6))
        b = worker(sessions, clock, tmp_path, "B")
        assert dict(b.run(stop=threading.Event(), until_idle=True)) == {"sent": 1}
        b.close()

        assert dict(a._deliver(claimed.ready)) == {"cancelled_in_flight": 1}
        a.close()
        assert deliveries(tmp_path / "spool") == {f"recoup-contact-{planned.id}": 1}
        after = reloaded(session, planned)
        assert (after.status, after.worker) == ("sent", "B")


@pytest.mark.postgres
class TestSkipLocked:
    def test_two_claims_at_once_take_different_rows_without_waiting(
        self,
        database: Engine,  # noqa: F811 - the fixture imported above
    ) -> None:
        """Catches the removal of `skip_locked=True` from `contact.repository.claim_due`: the
        second claim then waits for the first one's row locks (here it gives up after the lock
        timeout, LockNotAvailable) instead of taking the next rows."""
        sessions = make_sessionmaker(database)
        clock = SettableClock(shanghai(AS_OF, 9))
        with sessions.begin() as session:
            for _ in range(30):
                account = create_account(session, clock, customer=create_customer(session, clock))
                add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), 50_000)
            delinquency_service.run_daily(session, AS_OF, clock=clock)
            activate(session, clock)
            strategy_service.run(session, AS_OF, clock=clock)
        now = shanghai(AS_OF, 19)
        with sessions.begin() as first:
            mine = contact_repo.claim_due(first, now, limit=10)
            assert len(mine) == 10
            with sessions.begin() as second:
                second.execute(text("SET LOCAL lock_timeout = '3s'"))
                began = time.monotonic()
                try:
                    theirs = contact_repo.claim_due(second, now, limit=10)
                except OperationalError as exc:
                    pytest.fail(f"the second claim waited for the first's locks: {exc.orig}")
                assert time.monotonic() - began < 2
        assert len(theirs) == 10
        assert not set(mine) & set(theirs)


class TestClaimOrder:
    def test_a_claim_takes_the_earliest_due_contacts_of_every_kind(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The claim takes, of the contacts waiting (planned, queued, deferred) whose moment has
        come and those `sending` whose lease ran out, the `limit` earliest, whatever the mix.
        On PostgreSQL that is one ordered read per kind (`claim_due`); catches a kind left out
        (the ended leases' read removed: those contacts are never claimed)."""
        for _ in range(24):
            account = create_account(session, clock, customer=create_customer(session, clock))
            add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), 50_000)
        delinquency_service.run_daily(session, AS_OF, clock=clock)
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        ids = list(session.scalars(select(ContactPlan.id).order_by(ContactPlan.id)))
        assert len(ids) >= 20
        now = shanghai(AS_OF, 19)
        kinds = ["planned", "queued", "planned", "deferred", "planned", "sending"]
        kinds += ["planned", "sending_held", "planned", "sent", "planned", "future"]
        rng = random.Random(7)
        minutes = rng.sample(range(1, 600), len(ids))  # moments in another order than the ids
        due: dict[int, dt.datetime] = {}
        for i, (contact_id, m) in enumerate(zip(ids, minutes, strict=True)):
            kind = kinds[i % len(kinds)]
            moment = now - dt.timedelta(minutes=m)
            values: dict[str, object] = {"status": kind, "scheduled_at": moment}
            if kind.startswith("sending"):
                values["status"] = "sending"
                ended = kind == "sending"
                values["lease_until"] = now + dt.timedelta(minutes=-1 if ended else 1)
            if kind == "future":
                values["status"] = "planned"
                values["scheduled_at"] = now + dt.timedelta(minutes=m)
            session.execute(
                update(ContactPlan).where(ContactPlan.id == contact_id).values(**values)
            )
            if kind in ("planned", "queued", "deferred", "sending"):
                due[contact_id] = moment
        session.flush()
        earliest = sorted(due, key=due.__getitem__)
        for limit in (1, 3, 5, len(due), len(due) + 5):
            with session.begin_nested():
                claimed = contact_repo.claim_due(session, now, limit=limit)
            assert claimed == earliest[:limit], limit


@pytest.mark.postgres
def test_three_workers_drain_one_outbox_once(tmp_path: Path, process_database: str) -> None:
    """Three `recoup worker` processes at once on one PostgreSQL outbox: every due message
    delivered once, none twice, none lost, and the work shared among them."""
    if not process_database.startswith("postgresql"):
        pytest.skip("several workers share a PostgreSQL database; on SQLite run one")
    world = prepare(process_database, tmp_path, customers=16000)
    race(world, 3, batch=200)
    figures = tally(world)
    assert figures.duplicates == 0, figures
    assert figures.lost == 0, figures
    assert figures.sent > 0.9 * figures.planned, figures
    assert len([w for w, n in figures.senders.items() if n > 0]) >= 2, figures.senders


@pytest.mark.postgres
class TestOneCustomerOneChecker:
    def test_two_workers_never_check_one_customers_caps_at_once(
        self,
        database: Engine,  # noqa: F811 - the fixture imported above
    ) -> None:
        """Two calls to one person due at once, each claimed by a different worker in claims
        that overlap: the second must not count the person's calls without the first's (China:
        an hour between calls), so it leaves the call for its next claim, which, after the first
        committed, defers it. Catches the removal of `contact.repository.lock_customers` from
        `dispatch.claim` (checked: both calls are then marked `sending`)."""
        from recoup.compliance import load_guard
        from recoup.contact import dispatch
        from tests.contact.test_replies import add_contact

        sessions = make_sessionmaker(database)
        clock = SettableClock(shanghai(AS_OF, 9))
        with sessions() as session:  # add_contact commits
            customer = create_customer(session, clock, name="王芳")
            accounts = [create_account(session, clock, customer=customer) for _ in range(2)]
            for account in accounts:
                add_bill(session, clock, account, AS_OF - dt.timedelta(days=12), 50_000)
            delinquency_service.run_daily(session, AS_OF, clock=clock)
            clock.set(shanghai(AS_OF, 10))
            calls = [
                add_contact(session, clock, a, channel="dial", treatment="agent_dial_1").id
                for a in accounts
            ]
        guard, now = load_guard(), shanghai(AS_OF, 10) + dt.timedelta(minutes=5)

        def config(name: str) -> DispatchConfig:
            return DispatchConfig(worker=name, batch=1, pipeline=False)

        with sessions.begin() as first:
            mine = dispatch.claim(
                first, now=now, config=config("A"), guard=guard, channels=["dial"]
            )
            assert [p.contact_id for p in mine.ready] == [calls[0]]
            with sessions.begin() as second:
                theirs = dispatch.claim(
                    second, now=now, config=config("B"), guard=guard, channels=["dial"]
                )
                assert theirs.ready == []  # the person is being checked by A: left for later
        with sessions.begin() as second:
            later = dispatch.claim(
                second, now=now, config=config("B"), guard=guard, channels=["dial"]
            )
            assert later.ready == []
        with sessions.begin() as session:
            status = dict(
                session.execute(
                    select(ContactPlan.id, ContactPlan.status).where(ContactPlan.id.in_(calls))
                ).all()
            )
        assert status == {calls[0]: "sending", calls[1]: "deferred"}


def node_types(plan: dict[str, Any]) -> set[str]:
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    return {plan["Node Type"]}.union(*(node_types(p) for p in plan.get("Plans", [])))


@pytest.mark.postgres
class TestClaimPlansByKeys:
    def test_the_claimed_contacts_are_read_by_key(
        self, session: Session, clock: SettableClock
    ) -> None:
        """After `plan_by_keys` (the claim's and the send step's first act) the claim's joined read
        of the contacts with their accounts, states and customers is nested loops over keys: no
        hash or merge join of whole tables, no parallel workers. Catches its removal: on tables
        this small (and on the benchmark's day of 60,000 accounts) the planner hashes them."""
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite has one plan")
        for _ in range(30):
            account = create_account(session, clock, customer=create_customer(session, clock))
            add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), 50_000)
        delinquency_service.run_daily(session, AS_OF, clock=clock)
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
        session.flush()
        ids = list(session.scalars(select(ContactPlan.id)))
        assert len(ids) >= 20
        contact_repo.plan_by_keys(session)
        connection = session.connection()
        compiled = contact_repo.contacts_statement(session, ids).compile(dialect=connection.dialect)
        [plan] = connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params
        ).scalar_one()
        nodes = node_types(plan["Plan"])
        assert "Nested Loop" in nodes
        assert not nodes & {"Hash Join", "Merge Join", "Gather", "Gather Merge"}, nodes
        assert len(contact_repo.contacts(session, ids)) == len(ids)

"""A provider's rate holds for every worker together: the pacing bucket (`provider_pacing`, one row
per provider in the database) hands out send slots, so two or three workers on one outbox send no
faster than the provider's `rate_per_second` in total."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels import Accepted, Outgoing
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import ContactPlan, ProviderPacing
from recoup.strategy import service as strategy_service
from recoup.worker.dispatcher import Dispatcher, _Pacer
from tests.contact.test_payment_race import AS_OF, database  # noqa: F401 - a fixture
from tests.factories import add_bill, create_account, create_customer, shanghai
from tests.strategy.test_daily_run import activate

RATE = 20.0  # sends a second, for all workers together
BURST = 1


def over_the_rate(stamps: list[float], start: float, rate: float, burst: int) -> list[int]:
    """The sends that break "at most rate·t + burst sends in the first t seconds" (from `start`,
    taken before any worker reserved a slot); a little slack for the clocks' rounding."""
    ordered = sorted(stamps)
    return [k for k, t in enumerate(ordered) if k + 1 > rate * (t - start) + burst + 0.01]


def run_threads(count: int, target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


class TestSharedBucket:
    def test_three_workers_reserving_batches_keep_the_providers_rate_together(
        self, process_database: str
    ) -> None:
        """Three workers (threads, each with its own connections, as processes would have) take
        4 batches of 5 slots each from one provider's bucket and send at their slots: 60 sends
        no faster than 20 a second in total. Catches a per-process pace (the dispatcher's
        `_Pacer` before the shared bucket, or `reserve` keeping `next_slot` in the process): each
        worker then sends at 20 a second, 60 a second together, and the bound fails after the
        first few sends. Runs on SQLite and PostgreSQL (about 3 s)."""
        engine = make_engine(process_database)
        ProviderPacing.__table__.create(engine)  # type: ignore[attr-defined]
        stamps: list[float] = []
        lock = threading.Lock()
        start = time.monotonic()

        def work(_: int) -> None:
            sessions = make_sessionmaker(make_engine(process_database))
            pacer = _Pacer("sms:sink", RATE, BURST)
            for _batch in range(4):
                with sessions.begin() as session:
                    slots = pacer.reserve(session, 5)
                for slot in slots:
                    pacer.wait(slot)
                    with lock:
                        stamps.append(time.monotonic())

        run_threads(3, work)
        assert len(stamps) == 60
        assert over_the_rate(stamps, start, RATE, BURST) == []
        # And the workers did not simply wait on each other for nothing: 60 sends at 20 a
        # second take about 3 s, not the 12 s of four batches in turn per worker.
        assert max(stamps) - start < 3 * 60 / RATE

    def test_a_providers_pause_reaches_the_other_workers(self, process_database: str) -> None:
        """A provider's "slow down" seen by one worker (`pause`) is passed to the shared bucket at
        its next reservation, so another worker's next slot lies after it. Catches `reserve`
        dropping the pause (the other worker would send at once)."""
        engine = make_engine(process_database)
        ProviderPacing.__table__.create(engine)  # type: ignore[attr-defined]
        sessions = make_sessionmaker(engine)
        one, other = _Pacer("sms:sink", RATE), _Pacer("sms:sink", RATE)
        one.pause(2.0)
        with sessions.begin() as session:
            one.reserve(session, 1)
        with sessions.begin() as session:
            (slot,) = other.reserve(session, 1)
        assert slot - time.monotonic() > 1.5


class Sink:
    """A provider that accepts at once and notes when, limited to `rate_per_second`."""

    name, concurrency = "sink", 4

    def __init__(self, channel: str, rate: float | None) -> None:
        self.channel, self.rate_per_second = channel, rate
        self.stamps: list[float] = []
        self.lock = threading.Lock()

    def send(self, message: Outgoing) -> Accepted:
        with self.lock:
            self.stamps.append(time.monotonic())
        return Accepted(self.name, message.idempotency_key)

    def close(self) -> None:
        pass


@pytest.mark.postgres
def test_three_dispatchers_on_one_outbox_keep_the_providers_rate(
    database: Engine,  # noqa: F811 - the fixture imported above
) -> None:
    """Three `Dispatcher`s (threads) drain one PostgreSQL outbox (SKIP LOCKED shares the rows)
    with push limited to 20 a second: the sink's timestamps show no more than 20·t + 1 sends in
    the first t seconds, and every due push went once. Catches a per-process pace (the
    dispatcher's former `_Pacer`: three workers then send at 60 a second together)."""
    sessions: sessionmaker[Session] = make_sessionmaker(database)
    clock = SettableClock(shanghai(AS_OF, 9))
    with sessions.begin() as session:
        for _ in range(40):
            account = create_account(session, clock, customer=create_customer(session, clock))
            add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), 50_000)
        delinquency_service.run_daily(session, AS_OF, clock=clock)
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
    clock.set(shanghai(AS_OF, 19))  # every window of the day has opened
    with sessions() as session:
        planned = dict(
            session.execute(
                select(ContactPlan.channel, func.count())
                .where(ContactPlan.status == "planned")
                .group_by(ContactPlan.channel)
            ).all()
        )
    assert planned.get("push", 0) >= 30, planned
    push, sms = Sink("push", RATE), Sink("sms", None)
    start = time.monotonic()

    def work(i: int) -> None:
        dispatcher = Dispatcher(
            sessions,
            {"push": push, "sms": sms},  # type: ignore[dict-item]
            clock=clock,
            config=DispatchConfig(worker=f"w{i}", batch=10),
        )
        try:
            dispatcher.run(stop=threading.Event(), until_idle=True)
        finally:
            dispatcher.close()

    run_threads(3, work)
    assert len(push.stamps) == planned["push"]
    assert over_the_rate(push.stamps, start, RATE, BURST) == []
    with sessions() as session:
        left = session.scalar(
            select(func.count()).where(
                ContactPlan.channel == "push", ContactPlan.status.in_(("planned", "sending"))
            )
        )
    assert left == 0

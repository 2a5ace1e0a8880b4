"""Payment beats reminder: payments race a busy dispatcher on PostgreSQL, and no reminder about the
paid debt is accepted by the sink after the payment's transaction has committed."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.bootstrap import init_database
from recoup.channels import Accepted, Outgoing
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import Account, ContactPlan
from recoup.strategy import service as strategy_service
from recoup.worker.dispatcher import Dispatcher
from tests.conftest import MASTER
from tests.factories import add_bill, create_account, create_customer, pay, shanghai
from tests.strategy.test_daily_run import activate

pytestmark = pytest.mark.postgres
AS_OF = dt.date(2026, 6, 20)
ACCOUNTS = 150


class Sink:
    """A local sink that notes when it accepted each message, with a little network-like delay."""

    name, channel, concurrency, rate_per_second = "sink", "push", 2, None

    def __init__(self) -> None:
        self.accepted: list[tuple[int, int, float]] = []  # contact, account, when
        self.lock = threading.Lock()

    def send(self, message: Outgoing) -> Accepted:
        time.sleep(0.1)  # a provider slow to answer: sends overlap payments
        with self.lock:
            self.accepted.append(
                (
                    int(message.metadata["contact_id"]),
                    int(message.metadata["account_id"]),
                    time.perf_counter(),
                )
            )
        return Accepted(self.name, message.idempotency_key)

    def close(self) -> None:
        pass


@pytest.fixture
def database(process_database: str) -> Iterator[Engine]:
    if not process_database.startswith("postgresql"):
        pytest.skip("the race needs PostgreSQL's row locks; scripts/test runs it there")
    engine = make_engine(process_database)
    init_database(engine, clock=SettableClock(shanghai(AS_OF, 9)), master=MASTER)
    before = crypto.installed_keyring()
    with Session(engine) as session:
        crypto.install_keyring(keys_service.load_keyring(session, MASTER))
    yield engine
    crypto.install_keyring(before)
    engine.dispose()


def test_no_reminder_leaves_after_the_payment_commits(database: Engine) -> None:
    sessions: sessionmaker[Session] = make_sessionmaker(database)
    clock = SettableClock(shanghai(AS_OF, 9))
    with sessions.begin() as session:
        for _ in range(ACCOUNTS):
            account = create_account(session, clock, customer=create_customer(session, clock))
            add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), 50_000)
        delinquency_service.run_daily(session, AS_OF, clock=clock)
        activate(session, clock)
        strategy_service.run(session, AS_OF, clock=clock)
    clock.set(shanghai(AS_OF, 19))  # every window of the day has opened
    with sessions() as session:
        accounts = list(session.execute(select(Account)).scalars())
        due = session.execute(select(ContactPlan.id).where(ContactPlan.status == "planned")).all()
    assert len(due) >= ACCOUNTS

    sink = Sink()
    dispatcher = Dispatcher(
        sessions,
        {"push": sink, "sms": sink},  # type: ignore[dict-item]
        clock=clock,
        config=DispatchConfig(worker="race", batch=20),
    )
    paid_at: dict[int, float] = {}
    stop = threading.Event()
    sender = threading.Thread(target=lambda: dispatcher.run(stop=stop, idle_seconds=0.01))
    sender.start()
    order = accounts[:]
    random.Random(3).shuffle(order)
    try:
        for account in order:
            with sessions.begin() as session:
                pay(session, clock, session.get(Account, account.id), 50_000, clock.now())  # type: ignore[arg-type]
            paid_at[account.id] = time.perf_counter()  # after the commit returned
    finally:
        time.sleep(0.3)
        stop.set()
        sender.join(timeout=60)
        dispatcher.close()

    with sessions() as session:
        stage = dict(session.execute(select(ContactPlan.id, ContactPlan.stage)).all())
    reminders = [(c, a, t) for c, a, t in sink.accepted if stage[c] != "resolved"]
    late = [(c, a) for c, a, t in reminders if t > paid_at[a]]
    assert late == []
    assert len(reminders) > 0  # the dispatcher was busy sending while payments landed
    assert len(reminders) < ACCOUNTS  # and payments did cancel some before they left

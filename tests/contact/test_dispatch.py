"""The dispatcher against the database: due contacts are rendered, checked again and sent through
an adapter; what changed since planning (a payment, a pause, an opt-out, the clock) stops them."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels import Accepted, Adapter, Outgoing
from recoup.channels.spool import SpoolAdapter
from recoup.contact import repository as contact_repository
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.models import (
    Account,
    AccountDelinquency,
    AgentTask,
    ContactEvent,
    ContactMessage,
    ContactPlan,
    Customer,
    OptOut,
    PauseKind,
)
from recoup.strategy import service as strategy_service
from recoup.worker.dispatcher import Dispatcher
from tests.factories import add_bill, create_account, create_customer, pay, shanghai
from tests.strategy.test_daily_run import activate

AS_OF = dt.date(2026, 6, 20)


def spool(tmp_path: Path, *channels: str) -> dict[str, Adapter]:
    return {c: SpoolAdapter(tmp_path / "spool", c) for c in channels or ("sms", "push", "email")}


def dispatcher(
    sessions: sessionmaker[Session],
    clock: SettableClock,
    adapters: Mapping[str, Adapter],
    **config: object,
) -> Dispatcher:
    return Dispatcher(
        sessions,
        adapters,
        clock=clock,
        # The test's sessions share one connection: no second thread may use it.
        config=DispatchConfig(worker="w-test", pipeline=False, **config),  # type: ignore[arg-type]
    )


def drain(d: Dispatcher) -> dict[str, int]:
    try:
        return dict(d.run(stop=threading.Event(), until_idle=True))
    finally:
        d.close()


def late_account(session: Session, clock: SettableClock, *, days: int = 10) -> Account:
    customer = create_customer(session, clock, name="王芳")
    account = create_account(session, clock, customer=customer)
    add_bill(session, clock, account, AS_OF - dt.timedelta(days=days), 50_000)
    return account


def plan_day(session: Session, clock: SettableClock) -> None:
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    activate(session, clock)
    strategy_service.run(session, AS_OF, clock=clock)
    session.commit()


def planned_reminder(session: Session, clock: SettableClock) -> tuple[Account, ContactPlan]:
    """An account ten days late, and the one reminder the China policy plans for it today."""
    clock.set(shanghai(AS_OF, 9))
    account = late_account(session, clock)
    plan_day(session, clock)
    [planned] = contacts(session, account)
    return account, planned


def at_its_moment(clock: SettableClock, contact: ContactPlan) -> None:
    assert contact.scheduled_at is not None
    clock.set(contact.scheduled_at + dt.timedelta(minutes=1))


def contacts(session: Session, account: Account) -> list[ContactPlan]:
    session.expire_all()
    return list(
        session.execute(
            select(ContactPlan).where(ContactPlan.account_id == account.id).order_by(ContactPlan.id)
        ).scalars()
    )


def spooled(tmp_path: Path, channel: str) -> list[dict[str, object]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((tmp_path / "spool" / channel).glob("*.json"))
    ]


class TestClaimedRows:
    def test_a_claimed_contact_reads_as_the_statements_row(
        self, session: Session, clock: SettableClock
    ) -> None:
        # The claim reads its contacts as named tuples made from the statement's rows (cheaper to
        # read by name). Catches a record that leaves out, renames, reorders or converts a column.
        clock.set(shanghai(AS_OF, 9))
        for _ in range(2):
            late_account(session, clock)
        plan_day(session, clock)
        first = session.scalars(select(ContactPlan).order_by(ContactPlan.id)).first()
        assert first is not None
        first.handed_at, first.language = clock.now(), "en"  # a value where the other has None
        session.flush()
        ids = [c.id for c in session.scalars(select(ContactPlan).order_by(ContactPlan.id))]
        records = contact_repository.contacts(session, ids)
        rows = list(session.execute(contact_repository.contacts_statement(session, ids)))
        assert len(records) == len(rows) == 2
        for record, row in zip(records, rows, strict=True):
            assert record._asdict() == row._asdict()
            assert [type(v) for v in record] == [type(v) for v in row]
            assert all(getattr(record, k) == v for k, v in row._asdict().items())


class TestSending:
    def test_a_due_contact_is_rendered_checked_and_sent(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        account, planned = planned_reminder(session, clock)
        assert (planned.channel, planned.status) == ("push", "planned")

        at_its_moment(clock, planned)
        outcomes = drain(dispatcher(sessions, clock, spool(tmp_path)))

        assert outcomes == {"sent": 1}
        [sent] = contacts(session, account)
        assert (sent.status, sent.attempts, sent.provider) == ("sent", 1, "spool")
        [message] = spooled(tmp_path, "push")
        assert message["idempotency_key"] == f"recoup-contact-{sent.id}"
        assert "¥500.00" in str(message["body"])
        assert "Recoup Wallet" in str(message["body"])
        assert message["to"] == session.get(Customer, account.customer_id).external_ref  # type: ignore[union-attr]
        stored = session.execute(
            select(ContactMessage).where(ContactMessage.contact_id == sent.id)
        ).scalar_one()
        assert stored.body == message["body"]
        assert stored.language == "zh-CN"
        history = (
            session.execute(
                select(ContactEvent.status)
                .where(ContactEvent.contact_id == sent.id)
                .order_by(ContactEvent.id)
            )
            .scalars()
            .all()
        )
        assert history == ["sending", "sent"]

    def test_an_inline_adapter_is_called_on_the_dispatchers_thread(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """An adapter that answers at once (`inline`) skips the pool; one that breaks still
        leaves the contact recorded, to be tried again."""
        threads: list[str] = []

        class Instant:
            name, channel, concurrency, rate_per_second, inline = "instant", "push", 1, None, True

            def __init__(self, broken: bool) -> None:
                self.broken = broken

            def send(self, message: Outgoing) -> Accepted:
                threads.append(threading.current_thread().name)
                if self.broken:
                    raise RuntimeError("a bug in the adapter")
                return Accepted(self.name, message.idempotency_key, delivered=True)

            def close(self) -> None:
                pass

        account, planned = planned_reminder(session, clock)
        at_its_moment(clock, planned)
        assert drain(dispatcher(sessions, clock, {"push": Instant(broken=True)})) == {"queued": 1}
        assert contacts(session, account)[0].status == "queued"
        clock.set(clock.now() + dt.timedelta(hours=1))
        assert drain(dispatcher(sessions, clock, {"push": Instant(broken=False)})) == {
            "delivered": 1
        }
        # The thread that records the batch (this one, or the delivery thread on PostgreSQL),
        # not the channel's pool of senders.
        assert len(threads) == 2
        assert not any(name.startswith("send-") for name in threads)

    def test_nothing_is_sent_before_its_moment(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        account, _ = planned_reminder(session, clock)
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {}
        assert [c.status for c in contacts(session, account)] == ["planned"]

    def test_a_payment_cancels_the_reminder_before_it_leaves(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        account, _ = planned_reminder(session, clock)
        clock.set(shanghai(AS_OF, 10))
        pay(session, clock, account, 50_000, clock.now())
        session.commit()
        clock.set(shanghai(AS_OF, 13))
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        reminders = [c for c in contacts(session, account) if c.treatment == "early_push"]
        assert [c.status for c in reminders] == ["cancelled"]
        [thanks] = spooled(tmp_path, "push")  # the payment re-decided: a thank-you instead
        assert "谢谢" in str(thanks["body"])
        assert "逾期" not in str(thanks["body"])

    def test_the_dispatcher_cancels_what_a_paid_account_no_longer_needs(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """Even if nothing re-decided the account, the send-time check compares what is owed now
        with what was owed when the contact was planned."""
        account, planned = planned_reminder(session, clock)
        planned.overdue_minor = planned.outstanding_minor = 50_000
        d = session.execute(
            select(AccountDelinquency).where(AccountDelinquency.account_id == account.id)
        ).scalar_one()
        d.overdue_minor = 0
        session.commit()
        at_its_moment(clock, planned)
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"cancelled": 1}
        [cancelled] = contacts(session, account)
        assert cancelled.reasons == ["the overdue amount was paid since the contact was planned"]

    def test_a_pause_since_planning_cancels(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        account, planned = planned_reminder(session, clock)
        delinquency_service.add_pause(
            session,
            account,
            start=AS_OF,
            end=None,
            kind=PauseKind.hardship,
            reason="hardship: job loss",
            by="agent:2",
            clock=clock,
        )
        session.commit()
        at_its_moment(clock, planned)
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        assert [c.status for c in contacts(session, account)] == ["cancelled"]
        assert spooled(tmp_path, "push") == []

    def test_a_pause_stops_its_account_alone_in_a_batch(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        # The pauses holding now are remembered per account for the batch's check. Catches them
        # remembered under a wider key (the product, the customer, or once for the batch): the
        # account checked second would get the first one's answer.
        clock.set(shanghai(AS_OF, 9))
        free, paused = late_account(session, clock), late_account(session, clock)
        plan_day(session, clock)
        delinquency_service.add_pause(
            session,
            paused,
            start=AS_OF,
            end=None,
            kind=PauseKind.hardship,
            reason="hardship: job loss",
            by="agent:2",
            clock=clock,
        )
        session.commit()
        [a], [b] = contacts(session, free), contacts(session, paused)
        assert a.id < b.id
        at_its_moment(clock, max(a, b, key=lambda c: c.scheduled_at or clock.now()))
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"sent": 1, "cancelled": 1}
        assert [c.status for c in contacts(session, free)] == ["sent"]
        [stopped] = contacts(session, paused)
        assert (stopped.status, stopped.reasons) == (
            "cancelled",
            ["account paused (hardship: job loss)"],
        )

    def test_an_opt_out_since_planning_blocks(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        account, planned = planned_reminder(session, clock)
        session.add(
            OptOut(
                customer_id=account.customer_id,
                channel="push",
                source="portal",
                evidence="tests",
                created_at=clock.now(),
            )
        )
        session.commit()
        at_its_moment(clock, planned)
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"blocked": 1}
        [blocked] = contacts(session, account)
        assert any(r.endswith(":OPTED_OUT") for r in blocked.reasons)

    def test_outside_the_hours_a_contact_is_deferred_to_the_next_window(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        account, planned = planned_reminder(session, clock)
        planned.scheduled_at = shanghai(AS_OF, 22) - dt.timedelta(hours=0)
        session.commit()
        clock.set(shanghai(AS_OF, 22) + dt.timedelta(minutes=1))  # 22:01 in Shanghai
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"deferred": 1}
        [deferred] = contacts(session, account)
        assert deferred.scheduled_at is not None
        assert deferred.scheduled_at > clock.now()
        local = deferred.scheduled_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert local.date() == AS_OF + dt.timedelta(days=1)
        assert local.hour >= 8

    def test_a_contact_too_late_expires(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        account, _ = planned_reminder(session, clock)
        clock.set(
            shanghai(
                AS_OF + dt.timedelta(days=1),
                12,
            )
            + dt.timedelta(minutes=5)
        )
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"expired": 1}
        assert [c.status for c in contacts(session, account)] == ["expired"]

    def test_a_channel_without_provider_is_a_dead_letter(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        account, planned = planned_reminder(session, clock)
        at_its_moment(clock, planned)
        assert drain(dispatcher(sessions, clock, spool(tmp_path, "sms"))) == {"failed": 1}
        [failed] = contacts(session, account)
        assert failed.reasons == ["no provider is configured for push"]

    def test_a_call_becomes_an_agent_task(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        clock.set(shanghai(AS_OF, 9))
        customer = create_customer(session, clock, name="赵磊")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, AS_OF - dt.timedelta(days=45), 400_000)
        plan_day(session, clock)
        [call] = [c for c in contacts(session, account) if c.channel == "call"]
        at_its_moment(clock, call)
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        session.expire_all()
        assert session.get(ContactPlan, call.id).status == "sent"  # type: ignore[union-attr]
        task = session.execute(
            select(AgentTask).where(AgentTask.account_id == account.id, AgentTask.queue == "calls")
        ).scalar_one()
        assert (task.source, task.subject_id) == ("call", call.id)
        # The call treatment's window (10:00-18:00 Shanghai) ends the task: the plan carries the
        # end (`planning._check`) and the dispatcher copies it (drop either and this fails).
        assert call.due_until == shanghai(AS_OF, 18)
        assert task.due_until == shanghai(AS_OF, 18)


class TestWhatMessagesSay:
    def test_a_pre_due_reminder_names_the_bill_coming_due_not_the_whole_balance(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        clock.set(shanghai(AS_OF, 9))
        customer = create_customer(session, clock, name="王芳")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, AS_OF + dt.timedelta(days=1), 50_000)
        add_bill(session, clock, account, AS_OF + dt.timedelta(days=31), 70_000)
        plan_day(session, clock)
        [sms] = [c for c in contacts(session, account) if c.channel == "sms"]
        at_its_moment(clock, sms)
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"sent": 1}
        [message] = spooled(tmp_path, "sms")
        assert "¥500.00" in str(message["body"])
        assert "¥1,200.00" not in str(message["body"])
        assert "2026年6月21日" in str(message["body"])

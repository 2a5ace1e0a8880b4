"""Agents' dials asked for together (`dial_many`): one `dial` contact per task, numbered per account
and day, checked in order so a call that may go counts in the caps of the next ones to the same
person; an unknown task refuses the whole list. `dial` is `dial_many` of one task."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.compliance import Guard, load_guard
from recoup.contact import flows as contact_flows
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.errors import NotFound
from recoup.ledger import schemas
from recoup.ledger import service as ledger_service
from recoup.models import Account, AgentTask, AuditEvent, ContactEvent, ContactPlan
from tests.contact.test_dispatch import AS_OF
from tests.contact.test_replies import add_contact, debtor
from tests.factories import add_bill, create_account

VIETNAM = dt.timezone(dt.timedelta(hours=7))
CONFIG = DispatchConfig(worker="api")


def vietnam(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(AS_OF.year, AS_OF.month, AS_OF.day, hour, minute, tzinfo=VIETNAM).astimezone(
        dt.UTC
    )


def task(
    session: Session, clock: SettableClock, account: Account, queue: str = "mid_late"
) -> AgentTask:
    row = AgentTask(
        account_id=account.id,
        as_of_date=clock.now().date(),
        queue=queue,
        priority=1.0,
        status="open",
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def dial_many(
    session: Session, clock: SettableClock, tasks: list[int], guard: Guard | None = None
) -> list[ContactPlan]:
    return contact_flows.dial_many(
        session,
        tasks,
        agent="8021",
        actor="staff:li.agent",
        clock=clock,
        config=CONFIG,
        guard=guard or load_guard(),
        channels=["dial"],
    )


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def events(session: Session, contact: ContactPlan) -> list[tuple[str, str, dict[str, object]]]:
    rows = session.execute(
        select(ContactEvent.status, ContactEvent.actor, ContactEvent.detail)
        .where(ContactEvent.contact_id == contact.id)
        .order_by(ContactEvent.id)
    )
    return [(s, a, dict(d)) for s, a, d in rows]


def audited(session: Session, contact: ContactPlan) -> list[tuple[str, str, dict[str, object]]]:
    rows = session.execute(
        select(AuditEvent.actor, AuditEvent.action, AuditEvent.details).where(
            AuditEvent.subject_type == "contact", AuditEvent.subject_id == str(contact.id)
        )
    )
    return [(a, act, dict(d)) for a, act, d in rows]


def vietnamese_debtor_with_two_accounts(
    session: Session, clock: SettableClock, *, sent_today: int
) -> tuple[Account, Account]:
    """A debtor in Vietnam (at most 5 reminders a day, `vn.daily`) with two late accounts, who
    has had `sent_today` SMS reminders this morning; the clock at 10:00 there."""
    clock.set(vietnam(10))
    customer = ledger_service.create_customer(
        session,
        schemas.CustomerCreate(
            external_ref=f"vn-{clock.now().timestamp()}",
            name="Nguyễn Văn An",
            national_id="001090012345",
            phones=[schemas.PhoneIn(number="+84912345678")],
            addresses=[schemas.AddressIn(country="VN", city="Hà Nội", postal_code="100000")],
            jurisdiction="VN",
        ),
        clock=clock,
    )
    accounts = []
    for _ in range(2):
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, AS_OF - dt.timedelta(days=40), 50_000)
        accounts.append(account)
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    for i in range(sent_today):
        add_contact(
            session,
            clock,
            accounts[0],
            channel="sms",
            treatment=f"morning_sms_{i}",
            status="sent",
            scheduled_at=vietnam(8, 10 * i),
            sent_at=vietnam(8, 10 * i),
        )
    return accounts[0], accounts[1]


class TestDialMany:
    def test_each_task_gets_one_dial_numbered_per_account_and_day(
        self, session: Session, clock: SettableClock
    ) -> None:
        account, _ = debtor(session, clock)  # CN, 10 days late; 10:00 in Shanghai
        first, second = task(session, clock, account), task(session, clock, account, "disputes")
        other_account = create_account(session, clock)
        add_bill(session, clock, other_account, AS_OF - dt.timedelta(days=10), 50_000)
        delinquency_service.run_daily(session, AS_OF, clock=clock)
        other = task(session, clock, other_account)

        calls = dial_many(session, clock, [first.id, second.id, other.id])

        assert [(c.account_id, c.treatment) for c in calls] == [
            (account.id, "agent_dial_1"),
            (account.id, "agent_dial_2"),
            (other_account.id, "agent_dial_1"),
        ]
        for call, asked in zip(calls, (first, second, other), strict=True):
            assert (call.channel, call.agent, call.stage, call.template) == (
                "dial",
                "8021",
                asked.queue,
                asked.queue,
            )
            assert (call.as_of_date, call.scheduled_at) == (clock.now().date(), clock.now())
            assert call.overdue_minor == 50_000
            [(status, actor, detail)] = events(session, call)
            assert (status, actor, detail["task"]) == (call.status, "staff:li.agent", asked.id)
            assert audited(session, call) == [
                (
                    "staff:li.agent",
                    "contact.dial_requested",
                    {"task": asked.id, "status": call.status},
                )
            ]
        assert count(session, ContactPlan) == 3
        # One number, one call an hour (house.redial_gap): the first call counts for the second.
        assert [c.status for c in calls] == ["planned", "blocked", "planned"]
        assert any(r.startswith("house.redial_gap:") for r in calls[1].reasons)
        # Later the same day the numbering goes on from what is there.
        clock.advance(dt.timedelta(hours=2))
        [third] = dial_many(session, clock, [first.id])
        assert third.treatment == "agent_dial_3"

    def test_two_calls_to_one_person_count_against_each_others_cap(
        self, session: Session, clock: SettableClock
    ) -> None:
        one, two = vietnamese_debtor_with_two_accounts(session, clock, sent_today=4)
        first, second = task(session, clock, one), task(session, clock, two)
        # Without the redial gap (a house rule, optional), only Vietnam's daily cap is left.
        guard = load_guard({"disable": ["house.redial_gap"]})

        alone = session.begin_nested()
        [by_itself] = dial_many(session, clock, [second.id], guard)
        assert (by_itself.status, by_itself.reasons) == ("planned", [])  # a fifth is allowed
        alone.rollback()

        calls = dial_many(session, clock, [first.id, second.id], guard)

        assert [(c.account_id, c.status) for c in calls] == [
            (one.id, "planned"),
            (two.id, "blocked"),
        ]
        assert calls[0].reasons == []
        assert calls[1].reasons == ["vn.daily:FREQUENCY_CAP"]
        [(status, _, detail)] = events(session, calls[1])
        assert (status, detail["reasons"]) == ("blocked", ["vn.daily:FREQUENCY_CAP"])
        assert audited(session, calls[1])[0][2] == {"task": second.id, "status": "blocked"}

    def test_an_unknown_task_refuses_the_list_and_writes_nothing(
        self, session: Session, clock: SettableClock
    ) -> None:
        account, _ = debtor(session, clock)
        known = task(session, clock, account)
        before = (
            count(session, ContactPlan),
            count(session, ContactEvent),
            count(session, AuditEvent),
        )
        with pytest.raises(NotFound, match="no agent task 999999"):
            dial_many(session, clock, [known.id, 999_999])
        session.flush()
        after = (
            count(session, ContactPlan),
            count(session, ContactEvent),
            count(session, AuditEvent),
        )
        assert after == before


class TestDial:
    def test_one_task_one_checked_dial_numbered_for_the_day(
        self, session: Session, clock: SettableClock
    ) -> None:
        account, _ = debtor(session, clock)
        asked = task(session, clock, account)

        def dial(task_id: int) -> ContactPlan:
            return contact_flows.dial(
                session,
                task_id,
                agent="8021",
                actor="staff:li.agent",
                clock=clock,
                config=CONFIG,
                guard=load_guard(),
                channels=["dial"],
            )

        call = dial(asked.id)
        assert (call.treatment, call.channel, call.agent, call.status, call.reasons) == (
            "agent_dial_1",
            "dial",
            "8021",
            "planned",
            [],
        )
        [(status, actor, detail)] = events(session, call)
        assert detail.pop("guard")["decision"] == "allow"  # type: ignore[index]
        assert (status, actor, detail) == ("planned", "staff:li.agent", {"task": asked.id})
        assert audited(session, call) == [
            ("staff:li.agent", "contact.dial_requested", {"task": asked.id, "status": "planned"})
        ]
        clock.advance(dt.timedelta(hours=2))
        again = dial(asked.id)
        assert (again.treatment, again.status) == ("agent_dial_2", "planned")
        clock.set(clock.now().replace(hour=14, minute=30))  # 22:30 in Shanghai
        night = dial(asked.id)
        assert (night.treatment, night.status) == ("agent_dial_3", "blocked")
        assert any(r.endswith(":OUTSIDE_HOURS") for r in night.reasons)
        refused = events(session, night)[0][2]
        assert refused.pop("guard")["decision"] == "block"  # type: ignore[index]
        assert refused == {"task": asked.id, "reasons": night.reasons}
        with pytest.raises(NotFound, match="no agent task 999999"):
            dial(999_999)

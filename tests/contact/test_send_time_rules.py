"""What the send-time check learned from the independent audit and the portal: contacts of one
batch count against each other's caps, a "stop calling" stops an agent's dial, the debtor's quiet
hours hold at send time, and pauses are read on the account's own business date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.compliance import load_guard
from recoup.compliance.codes import Code
from recoup.contact import dispatch
from recoup.contact import repository as contact_repository
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan, ContactPreference, OptOut, PauseKind
from tests.contact.test_dispatch import AS_OF, dispatcher, drain, spool
from tests.contact.test_replies import add_contact
from tests.factories import add_bill, create_account, create_customer, shanghai


def two_late_accounts(session: Session, clock: SettableClock) -> tuple[object, object]:
    clock.set(shanghai(AS_OF, 9))
    customer = create_customer(session, clock, name="王芳")
    first = create_account(session, clock, customer=customer)
    second = create_account(session, clock, customer=customer)
    for account in (first, second):
        add_bill(session, clock, account, AS_OF - dt.timedelta(days=12), 50_000)
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    session.commit()
    return first, second


def statuses(session: Session) -> list[str]:
    session.expire_all()
    return [
        c.status for c in session.execute(select(ContactPlan).order_by(ContactPlan.id)).scalars()
    ]


def test_two_calls_to_one_person_in_one_batch_are_not_both_made(
    session: Session, sessions: sessionmaker[Session], clock: SettableClock, tmp_path: Path
) -> None:
    first, second = two_late_accounts(session, clock)
    clock.set(shanghai(AS_OF, 10))
    for account in (first, second):
        add_contact(
            session, clock, account, channel="dial", treatment="agent_dial_1", agent="agent-1"
        )
    drain(dispatcher(sessions, clock, spool(tmp_path, "dial")))
    assert sorted(statuses(session)) == ["deferred", "sent"]  # one hour between calls


@pytest.mark.parametrize(
    ("result", "fourth_goes"), [(None, False), ("conversation", False), ("no_answer", True)]
)
def test_calls_count_for_caps_on_answered_calls_by_their_recorded_result(
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    tmp_path: Path,
    result: str | None,
    fourth_goes: bool,
) -> None:
    """China caps effective (two-way) calls at three a day. Three calls that were conversations,
    or that nobody reported on (each counts for any result), hold a fourth dial to the next day;
    three unanswered ones do not."""
    first, _ = two_late_accounts(session, clock)
    for hour in (9, 11, 13):
        add_contact(
            session,
            clock,
            first,  # type: ignore[arg-type]
            channel="dial",
            treatment=f"agent_dial_{hour}",
            agent="agent-1",
            status="sent",
            scheduled_at=shanghai(AS_OF, hour),
            sent_at=shanghai(AS_OF, hour),
            result=result,
        )
    clock.set(shanghai(AS_OF, 15))
    add_contact(session, clock, first, channel="dial", treatment="agent_dial_4", agent="agent-1")  # type: ignore[arg-type]
    drain(dispatcher(sessions, clock, spool(tmp_path, "dial")))
    fourth = session.execute(
        select(ContactPlan).where(ContactPlan.treatment == "agent_dial_4")
    ).scalar_one()
    session.refresh(fourth)
    if fourth_goes:
        assert fourth.status == "sent"
    else:
        assert fourth.status == "deferred"
        assert "cn.effective_calls:FREQUENCY_CAP" in fourth.reasons


def test_a_stop_calling_stops_an_agents_dial(
    session: Session, sessions: sessionmaker[Session], clock: SettableClock, tmp_path: Path
) -> None:
    first, _ = two_late_accounts(session, clock)
    session.add(
        OptOut(
            customer_id=first.customer_id,
            channel="call",
            source="portal",  # type: ignore[attr-defined]
            evidence="contact preferences",
            created_at=clock.now(),
        )
    )
    session.commit()
    clock.set(shanghai(AS_OF, 10))
    add_contact(session, clock, first, channel="dial", treatment="agent_dial_1", agent="agent-1")  # type: ignore[arg-type]
    drain(dispatcher(sessions, clock, spool(tmp_path, "dial")))
    [contact] = session.execute(select(ContactPlan)).scalars().all()
    session.refresh(contact)
    assert contact.status == "blocked"
    assert any("opt" in r.lower() for r in contact.reasons), contact.reasons


def test_quiet_hours_said_after_planning_hold_at_send_time(
    session: Session, sessions: sessionmaker[Session], clock: SettableClock, tmp_path: Path
) -> None:
    first, _ = two_late_accounts(session, clock)
    clock.set(shanghai(AS_OF, 12))
    add_contact(session, clock, first, channel="sms", treatment="early_sms")  # type: ignore[arg-type]
    session.add(
        ContactPreference(
            customer_id=first.customer_id,
            quiet_from=11 * 60,  # type: ignore[attr-defined]
            quiet_to=14 * 60,
            quiet_days=[],
            source="portal",
            updated_at=clock.now(),
        )
    )
    session.commit()
    drain(dispatcher(sessions, clock, spool(tmp_path, "sms")))
    [contact] = session.execute(select(ContactPlan)).scalars().all()
    session.refresh(contact)
    assert contact.status == "deferred"
    assert contact.scheduled_at == shanghai(AS_OF, 14)


def test_a_pause_from_the_local_business_day_holds_before_utc_midnight(
    session: Session, sessions: sessionmaker[Session], clock: SettableClock, tmp_path: Path
) -> None:
    first, _ = two_late_accounts(session, clock)
    # 01:30 in Shanghai on the 21st is still the 20th in UTC.
    next_day = AS_OF + dt.timedelta(days=1)
    clock.set(shanghai(next_day, 1) + dt.timedelta(minutes=30))
    delinquency_service.add_pause(
        session,
        first,
        start=next_day,
        end=None,
        kind=PauseKind.dispute,
        reason="dispute case 1",
        by="t",  # type: ignore[arg-type]
        clock=clock,
        exclusive=False,
    )
    add_contact(session, clock, first, channel="sms", treatment="early_sms")  # type: ignore[arg-type]
    drain(dispatcher(sessions, clock, spool(tmp_path, "sms")))
    [contact] = session.execute(select(ContactPlan)).scalars().all()
    session.refresh(contact)
    assert contact.status == "cancelled"
    assert "dispute" in " ".join(contact.reasons)


@pytest.mark.parametrize(
    ("kind", "reason", "disputed"),
    [(PauseKind.other, "no dispute here", False), (PauseKind.dispute, "wrong amount", True)],
)
def test_the_guard_hears_of_a_dispute_from_the_pause_kind_not_its_reason(
    session: Session, clock: SettableClock, kind: PauseKind, reason: str, disputed: bool
) -> None:
    """The send-time check tells the guard `dispute_open` for a pause of kind dispute only: a
    reason that merely mentions a dispute is not one (the old search of the reason flagged it:
    verified by restoring it once). A paused collection contact is cancelled before the guard is
    asked, so the guard's answer is read from the check's context directly."""
    first, _ = two_late_accounts(session, clock)
    clock.set(shanghai(AS_OF, 10))
    delinquency_service.add_pause(
        session,
        first,  # type: ignore[arg-type]
        start=AS_OF,
        end=None,
        kind=kind,
        reason=reason,
        by="agent:1",
        clock=clock,
        exclusive=False,
    )
    planned = add_contact(session, clock, first, channel="sms", treatment="early_sms")  # type: ignore[arg-type]
    [row] = contact_repository.contacts(session, [planned.id])
    ctx = dispatch._context(
        session, [row], now=clock.now(), config=DispatchConfig(worker="t"), guard=load_guard()
    )
    decision, _ = ctx._guard(row, None, None, "zh-CN")
    assert (Code.DISPUTE_PENDING in {r.code for r in decision.reasons}) is disputed


def test_the_guard_hears_of_a_cease_from_the_pause_kind(
    session: Session, clock: SettableClock
) -> None:
    """The send-time check tells the guard `cease_requested` for a pause of kind cease, so its
    answer carries the rule (`CEASE`) a compliance officer reads. Catches removing `cease` from
    the flags `contact.dispatch` builds."""
    first, _ = two_late_accounts(session, clock)
    clock.set(shanghai(AS_OF, 10))
    delinquency_service.add_pause(
        session,
        first,  # type: ignore[arg-type]
        start=AS_OF,
        end=None,
        kind=PauseKind.cease,
        reason="asked us to stop",
        by="agent:1",
        clock=clock,
        exclusive=False,
    )
    planned = add_contact(session, clock, first, channel="sms", treatment="early_sms")  # type: ignore[arg-type]
    [row] = contact_repository.contacts(session, [planned.id])
    ctx = dispatch._context(
        session, [row], now=clock.now(), config=DispatchConfig(worker="t"), guard=load_guard()
    )
    decision, _ = ctx._guard(row, None, None, "zh-CN")
    assert Code.CEASE in {r.code for r in decision.reasons}

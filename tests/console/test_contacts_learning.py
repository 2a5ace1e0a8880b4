"""A contact's record page shows the learner's choice when a learning stage chose it, and the hour
it chose for the account's queue call."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan
from recoup.strategy import service as strategy_service
from tests.console.conftest import ConsoleClient
from tests.strategy import test_queue_hour as queue_hour
from tests.strategy import test_queue_message as queue_message
from tests.strategy import test_queue_skip as queue_skip
from tests.strategy.test_bandit_daily import TestShown


def test_the_record_shows_the_learners_choice(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    plan = TestShown().contact(session, clock)
    console.sign_in(Role.agent)
    page = console.get(f"/console/contacts/{plan.id}")
    assert page.status_code == 200
    assert "Chosen by the learner" in page.text
    assert f"<code>{plan.treatment}</code>" in page.text
    assert "overdue_minor&lt;100000" in page.text
    assert "learning (the highest draw)" in page.text


def test_the_record_shows_the_hour_the_learner_chose_for_the_queues_call(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    """A decision whose queue call's hour was learned (`learning.queue_hour`) says so on the
    record of the account's contact that day; with no stage learner, no "chosen by the learner"
    line (the stage's fields are empty). Take the block out of contacts/record.html and this
    fails."""
    [account] = queue_hour.late(session, clock, [50_000])
    queue_hour.evidence(session, {queue_hour.SMALL: "callers_evening"})
    queue_hour.activate(session, clock)
    strategy_service.run(session, queue_hour.AS_OF, clock=clock)
    plan = session.execute(
        select(ContactPlan).where(ContactPlan.account_id == account.id)
    ).scalar_one()
    console.sign_in(Role.agent)
    page = console.get(f"/console/contacts/{plan.id}")
    assert page.status_code == 200
    assert "Hour of the queue&#39;s call, chosen by the learner" in page.text
    assert "offered to the agents from 18:00" in page.text
    assert "<code>callers_evening</code>" in page.text
    assert "overdue_minor&lt;100000" in page.text
    assert "Chosen by the learner" not in page.text


def test_the_record_shows_that_the_learner_skipped_the_queues_call(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    """A decision whose queue's none arm was chosen says "no call from this queue today" on the
    record of the account's contact that day (its stage's push), not an hour. Drop the none
    branch from contacts/record.html and this fails (tried)."""
    [account] = queue_hour.late(session, clock, [50_000])
    queue_skip.evidence(session, {queue_hour.SMALL: "callers_skip"})
    queue_skip.activate(session, clock)
    strategy_service.run(session, queue_hour.AS_OF, clock=clock)
    plan = session.execute(
        select(ContactPlan).where(ContactPlan.account_id == account.id)
    ).scalar_one()
    console.sign_in(Role.agent)
    page = console.get(f"/console/contacts/{plan.id}")
    assert page.status_code == 200
    assert "no call from this queue today" in page.text
    assert "<code>callers_skip</code>" in page.text
    assert "offered to the agents from" not in page.text


def test_the_record_of_a_message_sent_in_the_queues_call_s_place_says_so(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    """The contact a queue's message arm made (an in-app plan offer in the call's place) says
    what it replaced, in the reader's language, not an hour of a call. Drop the message branch
    from contacts/record.html and this fails (tried)."""
    [account] = queue_hour.late(session, clock, [150_000])
    queue_message.evidence(session, {queue_hour.LARGE: "callers_in_app"})
    queue_message.activate(session, clock)
    strategy_service.run(session, queue_hour.AS_OF, clock=clock)
    plan = session.execute(
        select(ContactPlan).where(ContactPlan.account_id == account.id)
    ).scalar_one()
    assert plan.treatment == "callers_in_app"
    console.sign_in(Role.agent)
    page = console.get(f"/console/contacts/{plan.id}")
    assert page.status_code == 200
    assert "In-app from 18:30 in place of the queue&#39;s call" in page.text
    assert "offered to the agents from" not in page.text
    page = console.get(f"/console/contacts/{plan.id}", headers={"Accept-Language": "zh-CN"})
    assert "18:30 起以站内信代替队列电话" in page.text

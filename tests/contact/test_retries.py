"""The dispatcher's retries and dead letters, against a local stand-in of Twilio on a real socket:
transient errors come back `queued` with backoff, permanent ones and exhausted retries become the
dead letter (`failed`), and an operator can put a dead letter back in the queue."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels.sms import TwilioAdapter
from recoup.contact import service as contact_service
from recoup.contact.dispatch import DispatchConfig, backoff
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.models import ContactEvent, ContactMessage, ContactPlan, CustomerPhone
from recoup.worker.dispatcher import Dispatcher
from tests.channels.providers import FakeTwilio, Response, twilio_error
from tests.contact.test_dispatch import AS_OF, drain, late_account
from tests.factories import shanghai

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-retries"
FROM = "+861012345678"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


def sms_dispatcher(
    sessions: sessionmaker[Session], clock: SettableClock, twilio: FakeTwilio, **config: object
) -> Dispatcher:
    """A fresh dispatcher (drain closes it) sending SMS through the fake Twilio."""
    adapter = TwilioAdapter(
        account_sid=SID, auth_token=TOKEN, from_number=FROM, base_url=twilio.url, timeout=2
    )
    return Dispatcher(
        sessions,
        {"sms": adapter},
        clock=clock,
        # The test's sessions share one connection: no second thread may use it.
        config=DispatchConfig(worker="w-test", pipeline=False, **config),  # type: ignore[arg-type]
        rng=random.Random(20260620),
    )


def planned_sms(session: Session, clock: SettableClock) -> tuple[ContactPlan, str]:
    """A collection SMS due now (10:00 in Shanghai) for a CN account 10 days late, and its number."""
    clock.set(shanghai(AS_OF, 10))
    account = late_account(session, clock)
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    contact = ContactPlan(
        account_id=account.id,
        customer_id=account.customer_id,
        as_of_date=AS_OF,
        stage="early",
        treatment="early_sms",
        channel="sms",
        template="early_reminder",
        tone="gentle",
        status="planned",
        scheduled_at=clock.now(),
        purpose="collection",
        reasons=[],
        overdue_minor=50_000,
        outstanding_minor=50_000,
        created_at=clock.now(),
    )
    session.add(contact)
    number = session.execute(
        select(CustomerPhone.number).where(CustomerPhone.customer_id == account.customer_id)
    ).scalar_one()
    session.commit()
    return contact, number


def reload(session: Session, contact: ContactPlan) -> ContactPlan:
    session.expire_all()
    fresh = session.get(ContactPlan, contact.id)
    assert fresh is not None
    return fresh


def events(session: Session, contact: ContactPlan) -> list[ContactEvent]:
    return list(
        session.execute(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact.id)
            .order_by(ContactEvent.id)
        ).scalars()
    )


def seconds_after(later: dt.datetime | None, earlier: dt.datetime) -> float:
    assert later is not None
    return (later - earlier).total_seconds()


class TestRetries:
    def test_a_server_error_is_retried_with_backoff_then_sent(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        twilio: FakeTwilio,
    ) -> None:
        contact, _ = planned_sms(session, clock)
        sid = "SM" + "a" * 32
        twilio.script(
            twilio_error(500, 20500, "Internal Server Error"),
            Response(201, {"sid": sid, "status": "queued"}),
        )
        failed_at = clock.now()

        assert drain(sms_dispatcher(sessions, clock, twilio)) == {"queued": 1}

        queued = reload(session, contact)
        assert (queued.status, queued.attempts, queued.lease_until) == ("queued", 1, None)
        assert 15 <= seconds_after(queued.scheduled_at, failed_at) <= 30
        last = events(session, contact)[-1]
        assert last.status == "queued"
        assert "twilio 500 20500" in last.detail["error"]
        assert 15 <= last.detail["retry_in_seconds"] <= 30

        assert drain(sms_dispatcher(sessions, clock, twilio)) == {}  # not due yet
        assert len(twilio.requests) == 1

        assert queued.scheduled_at is not None
        clock.set(queued.scheduled_at + dt.timedelta(seconds=1))
        assert drain(sms_dispatcher(sessions, clock, twilio)) == {"sent": 1}

        sent = reload(session, contact)
        assert (sent.status, sent.attempts, sent.provider, sent.provider_id) == (
            "sent",
            2,
            "twilio",
            sid,
        )
        keys = {r.headers["i-twilio-idempotency-token"] for r in twilio.requests}
        assert keys == {f"recoup-contact-{contact.id}"}
        assert [e.status for e in events(session, contact)] == [
            "sending",
            "queued",
            "sending",
            "sent",
        ]

    def test_a_retry_stores_the_text_sent_again_in_place_of_the_first(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        twilio: FakeTwilio,
    ) -> None:
        contact, _ = planned_sms(session, clock)
        twilio.script(
            twilio_error(503, 20503, "Service Unavailable"),
            Response(201, {"sid": "SM" + "b" * 32, "status": "queued"}),
        )
        assert drain(sms_dispatcher(sessions, clock, twilio)) == {"queued": 1}
        queued = reload(session, contact)
        assert queued.scheduled_at is not None
        clock.set(queued.scheduled_at + dt.timedelta(minutes=5))  # the pay link is issued anew

        assert drain(sms_dispatcher(sessions, clock, twilio)) == {"sent": 1}

        session.expire_all()
        [stored] = session.execute(
            select(ContactMessage).where(ContactMessage.contact_id == contact.id)
        ).scalars()
        first, second = (r.form()["Body"] for r in twilio.requests)
        assert first != second
        assert stored.body == second
        assert (stored.channel, stored.language, stored.subject) == ("sms", "zh-CN", None)

    def test_a_rate_limit_waits_at_least_its_retry_after(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        twilio: FakeTwilio,
    ) -> None:
        contact, _ = planned_sms(session, clock)
        twilio.script(twilio_error(429, 20429, "Too Many Requests", **{"Retry-After": "120"}))
        limited_at = clock.now()

        assert drain(sms_dispatcher(sessions, clock, twilio)) == {"queued": 1}

        queued = reload(session, contact)
        assert (queued.status, queued.attempts) == ("queued", 1)
        assert 120 <= seconds_after(queued.scheduled_at, limited_at) <= 121

    def test_an_invalid_number_is_a_dead_letter_at_once_without_the_number(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        twilio: FakeTwilio,
    ) -> None:
        contact, number = planned_sms(session, clock)
        twilio.script(
            twilio_error(400, 21211, f"The 'To' number {number} is not a valid phone number.")
        )

        assert drain(sms_dispatcher(sessions, clock, twilio)) == {"failed": 1}

        failed = reload(session, contact)
        assert (failed.status, failed.attempts) == ("failed", 1)
        [reason] = failed.reasons
        assert "21211" in reason
        assert number not in reason
        assert number[1:] not in reason
        last = events(session, contact)[-1]
        assert last.detail["dead_letter"] is True
        assert number[1:] not in str(last.detail)
        assert [d.id for d in contact_service.dead_letters(session, limit=10)] == [contact.id]

        clock.advance(dt.timedelta(hours=1))
        assert drain(sms_dispatcher(sessions, clock, twilio)) == {}
        assert len(twilio.requests) == 1

    def test_transient_errors_until_max_attempts_exhaust_the_retries(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        twilio: FakeTwilio,
    ) -> None:
        contact, _ = planned_sms(session, clock)
        twilio.script(*(twilio_error(503, 20503, "Service Unavailable") for _ in range(3)))

        for attempt in (1, 2):
            assert drain(sms_dispatcher(sessions, clock, twilio, max_attempts=3)) == {"queued": 1}
            queued = reload(session, contact)
            assert (queued.status, queued.attempts) == ("queued", attempt)
            step = 30 * 2 ** (attempt - 1)
            assert step / 2 <= seconds_after(queued.scheduled_at, clock.now()) <= step
            assert queued.scheduled_at is not None
            clock.set(queued.scheduled_at + dt.timedelta(seconds=1))

        assert drain(sms_dispatcher(sessions, clock, twilio, max_attempts=3)) == {"failed": 1}

        failed = reload(session, contact)
        assert (failed.status, failed.attempts) == ("failed", 3)
        [reason] = failed.reasons
        assert reason.startswith("retries exhausted: twilio 503 20503")
        assert len(twilio.requests) == 3

    def test_a_dead_letter_can_be_retried_once(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        twilio: FakeTwilio,
    ) -> None:
        contact, _ = planned_sms(session, clock)
        twilio.script(twilio_error(400, 21211, "The 'To' number is not a valid phone number."))
        assert drain(sms_dispatcher(sessions, clock, twilio)) == {"failed": 1}
        session.expire_all()

        clock.advance(dt.timedelta(minutes=10))
        retried = contact_service.retry(session, contact.id, actor="agent:7", clock=clock)
        session.commit()

        assert (retried.status, retried.attempts, retried.scheduled_at) == (
            "queued",
            0,
            clock.now(),
        )
        last = events(session, contact)[-1]
        assert (last.status, last.actor, last.detail) == ("queued", "agent:7", {"retry": True})
        with pytest.raises(contact_service.NotADeadLetter):
            contact_service.retry(session, contact.id, actor="agent:7", clock=clock)

        assert drain(sms_dispatcher(sessions, clock, twilio)) == {"sent": 1}
        sent = reload(session, contact)
        assert (sent.status, sent.attempts) == ("sent", 1)
        with pytest.raises(contact_service.NotADeadLetter):
            contact_service.retry(session, contact.id, actor="agent:7", clock=clock)


class TestBackoff:
    config = DispatchConfig(
        worker="w-test", retry_seconds=30.0, retry_cap_seconds=3600.0, pipeline=False
    )

    def test_each_attempt_doubles_the_step_with_equal_jitter(self) -> None:
        rng = random.Random(1)
        for attempt in range(1, 8):
            step = 30.0 * 2 ** (attempt - 1)
            delays = [backoff(attempt, self.config, rng).total_seconds() for _ in range(200)]
            assert all(step / 2 <= d <= step for d in delays), attempt
            assert max(delays) - min(delays) > step / 4  # jittered, not a constant

    def test_the_step_is_capped(self) -> None:
        rng = random.Random(2)
        for attempt in (8, 12, 40):
            delay = backoff(attempt, self.config, rng).total_seconds()
            assert 1800.0 <= delay <= 3600.0

    def test_retry_after_is_a_floor_not_a_ceiling(self) -> None:
        rng = random.Random(3)
        assert backoff(1, self.config, rng, retry_after=120.0).total_seconds() == 120.0
        assert backoff(1, self.config, rng, retry_after=7200.0).total_seconds() == 7200.0
        late = backoff(5, self.config, rng, retry_after=1.0).total_seconds()
        assert 240.0 <= late <= 480.0

    def test_the_same_seed_gives_the_same_delays(self) -> None:
        first = [backoff(a, self.config, random.Random(9)) for a in range(1, 6)]
        again = [backoff(a, self.config, random.Random(9)) for a in range(1, 6)]
        assert first == again

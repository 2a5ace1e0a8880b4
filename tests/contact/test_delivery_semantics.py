"""What a worker stopped between a provider's accept and our record costs, per channel: on an
at-most-once channel the contact is `unknown`, never sent blindly again, counted by the caps, and
reconciled by asking the provider where it can say; on an at-least-once channel it is sent again
with the same key. The stop is the worker's own `accepted` (or `handed`) kill point, raising here
instead of parking, so the send transaction dies as a killed process's would: the hand-over
committed, the record not. (tests/contact/test_crash.py does the same with SIGKILL.)"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels import Accepted, Adapter, Outgoing
from recoup.channels.spool import SpoolAdapter
from recoup.contact import repository as contact_repo
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import SettableClock
from recoup.models import ContactEvent, ContactPlan
from recoup.worker.dispatcher import Dispatcher
from recoup.worker.killpoints import KillPoints
from tests.contact.test_dispatch import at_its_moment, planned_reminder


def reloaded(session: Session, contact: ContactPlan) -> ContactPlan:
    session.expire_all()
    row = session.get(ContactPlan, contact.id)
    assert row is not None
    return row


class Crash(BaseException):
    """The process dies here (nothing in the worker catches a BaseException)."""


class Crashing(KillPoints):
    def reached(self, point: str, **detail: Any) -> None:
        if point == self.point:
            self.count += 1
            raise Crash(point)


class Unsearchable:
    """A sink whose provider cannot be asked about a message (as Twilio by our key): the spool's
    files, without its `lookup`."""

    def __init__(self, directory: Path, channel: str) -> None:
        self.spool = SpoolAdapter(directory, channel)
        self.name, self.channel, self.concurrency = "spool", channel, 1
        self.rate_per_second: float | None = None

    def send(self, message: Outgoing) -> Accepted:
        return self.spool.send(message)

    def close(self) -> None:
        pass


def worker(
    sessions: sessionmaker[Session],
    clock: SettableClock,
    adapters: dict[str, Adapter],
    *,
    crash_at: str | None = None,
    at_least_once: frozenset[str] = frozenset(),
) -> Dispatcher:
    return Dispatcher(
        sessions,
        adapters,
        clock=clock,
        config=DispatchConfig(
            worker=f"w-{crash_at or 'ok'}",
            pipeline=False,
            lease=dt.timedelta(minutes=5),
            at_least_once=at_least_once,
        ),
        kill_points=Crashing(crash_at) if crash_at else KillPoints(),
    )


def run(d: Dispatcher) -> dict[str, int]:
    try:
        return dict(d.run(stop=threading.Event(), until_idle=True))
    finally:
        d.close()


def copies(tmp_path: Path, channel: str) -> list[str]:
    return sorted(p.name for p in (tmp_path / "spool" / channel).glob("*.json"))


def statuses(session: Session, contact_id: int) -> list[str]:
    return list(
        session.execute(
            select(ContactEvent.status)
            .where(ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.id)
        ).scalars()
    )


def crashed_after_accept(
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    tmp_path: Path,
    *,
    at: str = "accepted",
) -> ContactPlan:
    _, planned = planned_reminder(session, clock)
    at_its_moment(clock, planned)
    adapters: dict[str, Adapter] = {planned.channel: Unsearchable(tmp_path / "spool", "push")}
    with pytest.raises(Crash):
        run(worker(sessions, clock, adapters, crash_at=at))
    clock.advance(dt.timedelta(minutes=6))  # past the dead worker's lease
    return planned


class TestAtMostOnce:
    def test_a_crash_after_the_accept_leaves_the_contact_unknown_not_resent(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """Catches the removal of the `unknown` branch in `dispatch.claim` (the next worker then
        sends the message a second time: two files for one key) and of the hand-over's commit
        (`hand_over`: without `handed_at` nothing tells a sent message from an unsent one)."""
        planned = crashed_after_accept(session, sessions, clock, tmp_path)
        assert copies(tmp_path, "push") == [f"recoup-contact-{planned.id}.json"]

        outcomes = run(worker(sessions, clock, {"push": Unsearchable(tmp_path / "spool", "push")}))

        assert outcomes == {"unknown": 1}
        after = reloaded(session, planned)
        assert after.status == "unknown"
        assert copies(tmp_path, "push") == [f"recoup-contact-{planned.id}.json"]
        assert statuses(session, planned.id) == ["sending", "unknown"]

    def test_the_caps_count_an_unknown_contact_as_sent(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """Catches taking `unknown` out of `models.contact.COUNTED` (the send-time guard's history
        would then not see a message that may have reached the debtor)."""
        planned = crashed_after_accept(session, sessions, clock, tmp_path)
        run(worker(sessions, clock, {"push": Unsearchable(tmp_path / "spool", "push")}))
        history = contact_repo.history(session, [planned.customer_id], clock.now())
        assert [(channel, account) for _, channel, account, _ in history[planned.customer_id]] == [
            ("push", planned.account_id)
        ]

    def test_reconciliation_marks_sent_what_the_provider_has(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """Catches a `reconcile` that does not ask `lookup` (the contact would stay unknown)."""
        planned = crashed_after_accept(session, sessions, clock, tmp_path)
        outcomes = run(worker(sessions, clock, {"push": SpoolAdapter(tmp_path / "spool", "push")}))
        assert outcomes == {"unknown": 1, "reconciled_sent": 1}
        after = reloaded(session, planned)
        assert (after.status, after.provider_id) == ("sent", f"recoup-contact-{planned.id}")
        assert copies(tmp_path, "push") == [f"recoup-contact-{planned.id}.json"]

    def test_reconciliation_resends_what_the_provider_never_got(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """Killed after the hand-over's commit, before any provider was called: the contact is
        unknown, the provider says it has no such message, and it is checked and sent, once."""
        planned = crashed_after_accept(session, sessions, clock, tmp_path, at="handed")
        assert copies(tmp_path, "push") == []
        outcomes = run(worker(sessions, clock, {"push": SpoolAdapter(tmp_path / "spool", "push")}))
        assert outcomes == {"unknown": 1, "reconciled_queued": 1, "sent": 1}
        after = reloaded(session, planned)
        assert (after.status, after.attempts) == ("sent", 2)
        assert copies(tmp_path, "push") == [f"recoup-contact-{planned.id}.json"]
        assert statuses(session, planned.id) == ["sending", "unknown", "queued", "sending", "sent"]

    def test_a_crash_after_the_claim_sends_normally(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """Killed after the claim's commit, before the hand-over: nothing can have left, so the
        next worker sends it (no `unknown`)."""
        planned = crashed_after_accept(session, sessions, clock, tmp_path, at="claimed")
        outcomes = run(worker(sessions, clock, {"push": Unsearchable(tmp_path / "spool", "push")}))
        assert outcomes == {"sent": 1}
        assert copies(tmp_path, "push") == [f"recoup-contact-{planned.id}.json"]


class TestAtLeastOnce:
    def test_an_at_least_once_channel_is_sent_again_with_the_same_key(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """The policy is what it says: the resend reaches the sink a second time under the same
        key (the spool does not de-duplicate, which is why the channels file refuses
        `at-least-once` for it; a provider that recognises the key shows the copy once)."""
        planned = crashed_after_accept(session, sessions, clock, tmp_path)
        outcomes = run(
            worker(
                sessions,
                clock,
                {"push": Unsearchable(tmp_path / "spool", "push")},
                at_least_once=frozenset({"push"}),
            )
        )
        assert outcomes == {"sent": 1}
        key = f"recoup-contact-{planned.id}"
        assert copies(tmp_path, "push") == [f"{key}.json", f"{key}~2.json"]

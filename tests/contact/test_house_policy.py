"""The deployment's house policy at send time: the dispatcher checks every due contact under it, so
a rule the compliance officer adds holds back what was planned before it."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from recoup.compliance import HouseFileError
from recoup.kit.clock import SettableClock
from tests.compliance.helpers import configure_house
from tests.contact.test_dispatch import (
    AS_OF,
    at_its_moment,
    contacts,
    dispatcher,
    drain,
    planned_reminder,
    spool,
    spooled,
)

assert AS_OF.weekday() == 5  # the reminder is planned for a Saturday

NO_SATURDAYS = """\
rules:
  - id: acme.no_saturdays
    kind: hours
    title: No contact on Saturdays
    window: {from: "00:00", to: "24:00"}
    days: [mon, tue, wed, thu, fri, sun]
"""


class TestSendTime:
    def test_a_contact_planned_before_the_house_rule_is_held_back_when_due(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Catches the dispatcher's guard built from the shipped packs alone (`load_guard()` for
        `deployment_guard(...)` in `Dispatcher.__init__`): the reminder would be sent on the
        Saturday the house policy now forbids (tests/contact/test_dispatch.py sends it so)."""
        account, planned = planned_reminder(session, clock)
        assert planned.status == "planned"
        configure_house(monkeypatch, tmp_path / "house.yaml", NO_SATURDAYS)
        at_its_moment(clock, planned)
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        [contact] = contacts(session, account)
        assert contact.status == "deferred"
        assert any(str(r).startswith("acme.no_saturdays:") for r in contact.reasons)
        assert contact.scheduled_at is not None
        assert contact.scheduled_at.astimezone(ZoneInfo("Asia/Shanghai")).weekday() == 6  # Sunday
        assert spooled(tmp_path, contact.channel) == []

    def test_a_running_worker_applies_an_edited_house_policy_from_its_next_batch(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Catches a worker that keeps the policy it read at start (`Dispatcher._claim` not
        asking `deployment_guard` again): the officer's edit would wait for a restart."""
        account, planned = planned_reminder(session, clock)
        path = configure_house(monkeypatch, tmp_path / "house.yaml", "rules: []\n")
        worker = dispatcher(sessions, clock, spool(tmp_path))  # started under the old policy
        path.write_text(NO_SATURDAYS, encoding="utf-8")
        later = path.stat().st_mtime_ns + 1_000_000_000  # an edit a second later, whatever the
        os.utime(path, ns=(later, later))  # file system's clock resolution
        at_its_moment(clock, planned)
        drain(worker)
        [contact] = contacts(session, account)
        assert contact.status == "deferred"
        assert any(str(r).startswith("acme.no_saturdays:") for r in contact.reasons)

    def test_a_bad_house_file_stops_the_worker_at_start(
        self,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Catches a worker that falls back to the packs alone on a house file it cannot use."""
        path = configure_house(monkeypatch, tmp_path / "acme.yaml", "disable: [cn.hours.legal]\n")
        with pytest.raises(HouseFileError) as raised:
            dispatcher(sessions, clock, spool(tmp_path))
        assert raised.value.message.startswith(f"{path}: ")
        assert "'cn.hours.legal' is law" in raised.value.message

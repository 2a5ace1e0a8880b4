"""The contact audit holds the deployment to its own house policy: a contact sent against a house
rule (`RECOUP_COMPLIANCE_HOUSE_FILE`) is a breach, read from the rules as data (the audit still
never asks the guard to decide)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recoup.audit import contacts as contact_audit
from recoup.kit.clock import SettableClock
from tests.audit.test_contact_audit import fresh_account, plant
from tests.compliance.helpers import NO_SUNDAYS, configure_house
from tests.factories import shanghai

SUNDAY = dt.date(2026, 6, 28)  # a plain Sunday in China


def sunday_text(session: Session, clock: SettableClock) -> int:
    clock.set(shanghai(SUNDAY, 9))
    return plant(session, fresh_account(session, clock), shanghai(SUNDAY, 10)).id


def test_a_contact_sent_against_a_house_rule_is_a_breach(
    session: Session, clock: SettableClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches the audit reading the shipped packs alone (`load_guard()` for
    `deployment_guard(...)` in `audit.contacts.audit_contacts`): the Sunday text would pass."""
    configure_house(monkeypatch, tmp_path / "house.yaml", NO_SUNDAYS)
    contact = sunday_text(session, clock)
    audit = contact_audit.audit_contacts(session, start=SUNDAY, end=SUNDAY)
    [breach] = [b for b in audit.breaches if b.contact_id == contact]
    assert breach.rule == "acme.no_sundays"
    assert breach.confidence == "house"


def test_the_same_text_under_the_packs_alone_is_no_breach(
    session: Session, clock: SettableClock
) -> None:
    contact = sunday_text(session, clock)
    audit = contact_audit.audit_contacts(session, start=SUNDAY, end=SUNDAY)
    assert [b for b in audit.breaches if b.contact_id == contact] == []

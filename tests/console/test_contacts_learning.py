"""A contact's record page shows the learner's choice when a learning stage chose it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.console.conftest import ConsoleClient
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

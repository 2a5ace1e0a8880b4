"""Blocks and deferrals by rule and reason code, per day or per week (the compliance pages)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from recoup.analytics import schemas
from recoup.analytics import service as analytics_service
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from tests.factories import create_account, shanghai
from tests.quality.test_sampling import sent

MONDAY = dt.date(2026, 6, 8)


def held(session: Session, clock: SettableClock) -> None:
    account = create_account(session, clock)
    for day, status, reasons in (
        (MONDAY, "blocked", ["base.cease:CEASE"]),
        (MONDAY, "blocked", ["base.cease:CEASE", "cn.hours:OUTSIDE_HOURS"]),
        (MONDAY + dt.timedelta(days=1), "deferred", ["cn.hours:OUTSIDE_HOURS"]),
        (MONDAY + dt.timedelta(days=7), "blocked", ["base.cease:CEASE"]),
    ):
        contact = sent(session, account, shanghai(day, 10), status=status)
        contact.reasons = reasons
    session.flush()


class TestHeldOverTime:
    def test_per_day_each_reason_counted(self, session: Session, clock: SettableClock) -> None:
        held(session, clock)
        p = schemas.Period(from_date=MONDAY, to_date=MONDAY + dt.timedelta(days=13))
        rows = {
            (r.period_start, r.status, r.rule, r.code): r.contacts
            for r in analytics_service.held_over_time(session, p)
        }
        assert rows == {
            (MONDAY, "blocked", "base.cease", "CEASE"): 2,
            (MONDAY, "blocked", "cn.hours", "OUTSIDE_HOURS"): 1,
            (MONDAY + dt.timedelta(days=1), "deferred", "cn.hours", "OUTSIDE_HOURS"): 1,
            (MONDAY + dt.timedelta(days=7), "blocked", "base.cease", "CEASE"): 1,
        }

    def test_per_week_from_monday(self, session: Session, clock: SettableClock) -> None:
        held(session, clock)
        p = schemas.Period(from_date=MONDAY, to_date=MONDAY + dt.timedelta(days=13))
        rows = {
            (r.period_start, r.status, r.rule): r.contacts
            for r in analytics_service.held_over_time(session, p, by="week")
        }
        assert rows[(MONDAY, "blocked", "base.cease")] == 2
        assert rows[(MONDAY, "deferred", "cn.hours")] == 1
        assert rows[(MONDAY + dt.timedelta(days=7), "blocked", "base.cease")] == 1
        with pytest.raises(ValidationFailed, match="by"):
            analytics_service.held_over_time(session, p, by="year")

"""SQL for `daily_runs`, the only module that writes it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.models import DailyRun


def get(session: Session, day: dt.date) -> DailyRun | None:
    return session.get(DailyRun, day)


def claim(session: Session, run: DailyRun) -> None:
    """Insert the day's row (flushed: a second claim of the day fails on the primary key, and on
    PostgreSQL waits for the first transaction to end before it does)."""
    session.add(run)
    session.flush()


def last_day(session: Session) -> dt.date | None:
    return session.execute(select(func.max(DailyRun.business_date))).scalar_one_or_none()

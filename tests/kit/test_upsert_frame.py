"""`frames.upsert_frame` with `only_if`: of several rows, those whose key exists are updated only
where the existing row's column holds one of the words given, the others left alone, and new keys
inserted (on SQLite an executemany, where the words are written into the statement)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan
from tests.factories import create_account
from tests.kit.test_bulk import contact

KEY = ["account_id", "as_of_date", "treatment"]
REPLANNABLE = ("planned", "deferred", "cancelled", "blocked", "expired")


def table() -> Table:
    t = ContactPlan.__table__
    assert isinstance(t, Table)
    return t


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "account_id": pl.Int64,
            "customer_id": pl.Int64,
            "as_of_date": pl.Date,
            "stage": pl.String,
            "treatment": pl.String,
            "channel": pl.String,
            "template": pl.String,
            "tone": pl.String,
            "status": pl.String,
            "scheduled_at": pl.Datetime("us", "UTC"),
            "reasons": pl.List(pl.String),
            "created_at": pl.Datetime("us", "UTC"),
        },
    )


def replanned(
    account_id: int, customer_id: int, treatment: str, day: dt.date, at: dt.datetime
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "customer_id": customer_id,
        "as_of_date": day,
        "stage": "mid",
        "treatment": treatment,
        "channel": "sms",
        "template": "mid_reminder",
        "tone": "firm",
        "status": "planned",
        "scheduled_at": at,
        "reasons": ["replanned"],
        "created_at": at,
    }


def stored(session: Session) -> dict[str, tuple[str, str, list[str], dt.datetime | None]]:
    session.expire_all()
    return {
        p.treatment: (p.status, p.stage, list(p.reasons), p.scheduled_at)
        for p in session.execute(select(ContactPlan)).scalars()
    }


class TestUpsertOnlyIf:
    def test_rows_in_other_statuses_are_left_the_others_updated_new_ones_inserted(
        self, session: Session, clock: SettableClock
    ) -> None:
        day, later = clock.now().date(), clock.now() + dt.timedelta(hours=3)
        planned = contact(session, clock, "a_planned")
        sent = contact(session, clock, "b_sent", sent_at=clock.now())
        sent.status = "sent"
        cancelled = contact(session, clock, "c_cancelled")
        cancelled.status, cancelled.reasons = "cancelled", ["paid"]
        sending = contact(session, clock, "d_sending")
        sending.status = "sending"
        session.flush()
        fresh = create_account(session, clock)
        before = stored(session)

        rows = [
            replanned(c.account_id, c.customer_id, c.treatment, day, later)
            for c in (planned, sent, cancelled, sending)
        ]
        rows.append(replanned(fresh.id, fresh.customer_id, "e_new", day, later))
        written = frames.upsert_frame(
            session, table(), frame(rows), KEY, only_if=("status", REPLANNABLE)
        )

        assert written == 5
        after = stored(session)
        assert after["a_planned"] == ("planned", "mid", ["replanned"], later)
        assert after["c_cancelled"] == ("planned", "mid", ["replanned"], later)
        assert after["b_sent"] == before["b_sent"] == ("sent", "early", [], clock.now())
        assert after["d_sending"] == before["d_sending"]
        assert after["e_new"] == ("planned", "mid", ["replanned"], later)
        assert len(after) == 5

    def test_without_only_if_every_existing_row_is_updated(
        self, session: Session, clock: SettableClock
    ) -> None:
        day, later = clock.now().date(), clock.now() + dt.timedelta(hours=3)
        sent = contact(session, clock, "b_sent")
        sent.status = "sent"
        planned = contact(session, clock, "a_planned")
        session.flush()
        rows = [
            replanned(c.account_id, c.customer_id, c.treatment, day, later) for c in (sent, planned)
        ]
        assert frames.upsert_frame(session, table(), frame(rows), KEY) == 2
        after = stored(session)
        assert after["b_sent"][:2] == after["a_planned"][:2] == ("planned", "mid")

    def test_only_plain_words_are_written_into_the_statement(
        self, session: Session, clock: SettableClock
    ) -> None:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL binds the words as parameters")
        planned = contact(session, clock, "a_planned")
        rows = [
            replanned(
                planned.account_id,
                planned.customer_id,
                planned.treatment,
                clock.now().date(),
                clock.now(),
            )
        ]
        with pytest.raises(ValueError, match="only plain words"):
            frames.upsert_frame(
                session, table(), frame(rows), KEY, only_if=("status", ("planned') OR (1=1",))
            )
        assert stored(session)["a_planned"][0] == "planned"

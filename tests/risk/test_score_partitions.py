"""The scores' monthly partitions on PostgreSQL (`risk.repository.PARTITIONS`, the migration
`3a8c5e1f9d72`): the daily run writes a score per account it scores every day, so `account_scores`
is partitioned by month like the decisions, its months made by the daily flow's upkeep, and an
expired month dropped unless one of its accounts is still decided on or contacted. The mechanism
is `kit.partitions`' (tests/kit/test_partitions.py); these tests hold the scores' declaration."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from recoup.bootstrap import alembic_config
from recoup.daily import flows as daily_flows
from recoup.kit import partitions
from tests.kit.test_partitions import YEARS, decision, existing, keep, postgresql, where

BEFORE = "7b3f2d9a41c6"  # the migration before the scores' partitions


def score(session: Session, account: int, day: dt.date) -> int:
    return int(
        session.execute(
            text(
                "INSERT INTO account_scores (account_id, as_of_date, model_id, kind, score) "
                "VALUES (:a, :d, 1, 'p_pay', 0.5) RETURNING id"
            ),
            {"a": account, "d": day},
        ).scalar_one()
    )


class TestUpkeep:
    def test_the_scores_months_are_made_and_a_score_lands_in_its_month(
        self, session: Session
    ) -> None:
        """Catches the daily flow's upkeep without the scores (`risk_service.maintain_partitions`
        left out of `daily.flows.maintain_partitions`: the month is never made and the score
        lands in the default partition)."""
        postgresql(session)
        assert partitions.is_partitioned(session, "account_scores")
        keep(session, dt.date(2032, 5, 10))
        assert {
            "account_scores_p2032_05",
            "account_scores_p2032_06",
            "account_scores_p2032_07",
        } <= existing(session, "account_scores")
        score(session, 931, dt.date(2032, 5, 31))
        score(session, 931, dt.date(2032, 6, 1))
        assert sorted(where(session, "account_scores", account_id=931)) == [
            "account_scores_p2032_05",
            "account_scores_p2032_06",
        ]

    def test_an_expired_month_of_scores_is_dropped_unless_its_account_is_still_collected(
        self, session: Session
    ) -> None:
        """Past the retention, a month of scores goes; the month of an account decided on since
        the cutoff stays (the scores behind decisions kept for the record). Catches the scores
        declared without holders (the held month dropped) or never dropped."""
        postgresql(session)
        keep(session, dt.date(2033, 1, 15))
        score(session, 932, dt.date(2033, 1, 20))
        keep(session, dt.date(2033, 4, 15))
        score(session, 933, dt.date(2033, 4, 20))
        day = dt.date(2033 + YEARS, 3, 1)
        decision(session, 933, day)  # still collected on: April's month is held
        done = daily_flows.maintain_partitions(session, dt.date(2033 + YEARS, 3, 1))
        assert "account_scores_p2033_01" in {a.partition for a in done.actions if a.kind == "drop"}
        assert where(session, "account_scores", account_id=932) == []
        later = daily_flows.maintain_partitions(session, dt.date(2033 + YEARS, 6, 1))
        held = {a.partition for a in later.actions if a.kind == "hold"}
        assert "account_scores_p2033_04" in held
        assert where(session, "account_scores", account_id=933) == ["account_scores_p2033_04"]


class TestMigration:
    def test_the_scores_are_partitioned_with_their_rows_and_back(
        self, connection: Connection
    ) -> None:
        """3a8c5e1f9d72 keeps every score in its month with its id; new ids go on from the
        highest; the downgrade gives a plain table with the same rows. Run down and up inside
        the test's transaction, rolled back after it."""
        if connection.dialect.name != "postgresql":
            pytest.skip("the migration partitions on PostgreSQL only")
        config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        insert = text(
            "INSERT INTO account_scores (account_id, as_of_date, model_id, kind, score) "
            "VALUES (:a, :d, 1, 'p_pay', 0.25) RETURNING id"
        )
        command.downgrade(config, BEFORE)
        assert kind(connection) == "r"
        first = connection.execute(insert, {"a": 1, "d": dt.date(2025, 3, 31)}).scalar_one()
        connection.execute(insert, {"a": 1, "d": dt.date(2025, 4, 1)})
        command.upgrade(config, "head")
        assert kind(connection) == "p"
        rows = connection.execute(
            text(
                "SELECT tableoid::regclass::text, id, score FROM account_scores "
                "WHERE id >= :f ORDER BY id"
            ),
            {"f": first},
        ).all()
        assert rows == [
            ("account_scores_p2025_03", first, 0.25),
            ("account_scores_p2025_04", first + 1, 0.25),
        ]
        assert connection.execute(insert, {"a": 2, "d": dt.date(2025, 4, 2)}).scalar_one() == (
            first + 2
        )
        command.downgrade(config, BEFORE)
        assert kind(connection) == "r"
        ids = connection.execute(
            text("SELECT id FROM account_scores WHERE id >= :f ORDER BY id"), {"f": first}
        ).scalars()
        assert list(ids) == [first, first + 1, first + 2]
        command.upgrade(config, "head")


def kind(connection: Connection) -> str:
    return str(
        connection.execute(
            text("SELECT relkind FROM pg_class WHERE relname = 'account_scores'")
        ).scalar_one()
    )

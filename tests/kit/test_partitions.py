"""Monthly partitions on PostgreSQL (`kit.partitions`, the owners' declarations, the daily flow's
step): months made ahead, rows routed to their month, expired months dropped, months still needed
held. On SQLite the tables are plain and the upkeep does nothing (the first test)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from recoup.bootstrap import alembic_config
from recoup.daily import flows as daily_flows
from recoup.kit import partitions
from recoup.kit.clock import SettableClock
from tests.arrangements.test_flows import DAY0, ONE_DAY, late_account, on

TABLES = ("contact_plans", "contact_events", "strategy_decisions")
YEARS = daily_flows.retention_years()


def postgresql(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("monthly partitions are PostgreSQL's; SQLite keeps plain tables")


def decision(session: Session, account: int, day: dt.date) -> int:
    return int(
        session.execute(
            text(
                "INSERT INTO strategy_decisions (account_id, as_of_date, policy_version_id, "
                "decision, offers, compliance, created_at) VALUES (:a, :d, 1, 'contact', '[]', "
                "'[]', now()) RETURNING id"
            ),
            {"a": account, "d": day},
        ).scalar_one()
    )


def contact(session: Session, account: int, day: dt.date, treatment: str = "sms") -> int:
    return int(
        session.execute(
            text(
                "INSERT INTO contact_plans (account_id, customer_id, as_of_date, stage, "
                "treatment, channel, template, tone, status, reasons, created_at) VALUES "
                "(:a, :a, :d, 's', :t, 'sms', 't', 'soft', 'sent', '[]', now()) RETURNING id"
            ),
            {"a": account, "d": day, "t": treatment},
        ).scalar_one()
    )


def event(session: Session, contact_id: int, at: dt.datetime) -> None:
    session.execute(
        text(
            "INSERT INTO contact_events (contact_id, status, at, actor, detail) "
            "VALUES (:c, 'sent', :at, 'tests', '{}')"
        ),
        {"c": contact_id, "at": at},
    )


def where(session: Session, table: str, **match: object) -> list[str]:
    """The partitions holding the rows of `table` that match."""
    conditions = " AND ".join(f"{k} = :{k}" for k in match)
    return list(
        session.execute(
            text(f"SELECT tableoid::regclass::text FROM {table} WHERE {conditions}"),
            match,
        ).scalars()
    )


def existing(session: Session, table: str) -> set[str]:
    return set(partitions.months(session, table).values())


def keep(session: Session, day: dt.date) -> partitions.Maintenance:
    return daily_flows.maintain_partitions(session, day)


class TestPlainOnSQLite:
    def test_upkeep_does_nothing_where_the_tables_are_not_partitioned(
        self, session: Session
    ) -> None:
        if session.get_bind().dialect.name == "postgresql":
            assert all(partitions.is_partitioned(session, t) for t in TABLES)
        else:
            assert keep(session, dt.date(2040, 3, 15)).actions == []


class TestAhead:
    def test_the_days_month_and_the_next_two_are_made_once(self, session: Session) -> None:
        """Catches an upkeep that makes no month ahead (a new month's rows would pile up in the
        default partition) or makes them again (CREATE TABLE would fail the day's run)."""
        postgresql(session)
        done = keep(session, dt.date(2040, 3, 15))
        for table in TABLES:
            assert {f"{table}_p2040_03", f"{table}_p2040_04", f"{table}_p2040_05"} <= existing(
                session, table
            )
        assert {a.partition for a in done.actions if a.kind == "create"} >= {
            "strategy_decisions_p2040_03",
            "strategy_decisions_p2040_05",
        }
        assert [a for a in keep(session, dt.date(2040, 3, 16)).actions if a.kind == "create"] == []

    def test_a_row_on_a_month_boundary_lands_in_its_month(self, session: Session) -> None:
        """Catches bounds off by a day or by a time zone: the last day and instant of March in
        March's partition, the first of April in April's (instants in UTC)."""
        postgresql(session)
        keep(session, dt.date(2040, 3, 15))
        decision(session, 901, dt.date(2040, 3, 31))
        decision(session, 901, dt.date(2040, 4, 1))
        assert where(session, "strategy_decisions", account_id=901) == [
            "strategy_decisions_p2040_03",
            "strategy_decisions_p2040_04",
        ]
        plan = contact(session, 901, dt.date(2040, 3, 31))
        event(session, plan, dt.datetime(2040, 3, 31, 23, 59, 59, 999999, tzinfo=dt.UTC))
        # 07:59 on 1 April in Shanghai is still March in UTC.
        event(
            session, plan, dt.datetime(2040, 4, 1, 7, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        )
        event(session, plan, dt.datetime(2040, 4, 1, tzinfo=dt.UTC))
        assert sorted(where(session, "contact_events", contact_id=plan)) == [
            "contact_events_p2040_03",
            "contact_events_p2040_03",
            "contact_events_p2040_04",
        ]
        assert where(session, "contact_plans", id=plan) == ["contact_plans_p2040_03"]

    def test_rows_waiting_in_the_default_move_to_their_new_month(self, session: Session) -> None:
        """Catches an upkeep that creates a month while the default partition holds its rows
        (PostgreSQL refuses: the day's run would fail) or leaves them behind in the default."""
        postgresql(session)
        decision(session, 902, dt.date(2041, 7, 9))
        assert where(session, "strategy_decisions", account_id=902) == [
            "strategy_decisions_default"
        ]
        keep(session, dt.date(2041, 7, 10))
        assert where(session, "strategy_decisions", account_id=902) == [
            "strategy_decisions_p2041_07"
        ]


class TestRetention:
    def test_a_month_past_the_retention_is_dropped_and_the_next_one_kept(
        self, session: Session
    ) -> None:
        """Catches a retention that drops a month still inside the period (February ends after
        the cutoff) or never drops an expired one."""
        postgresql(session)
        keep(session, dt.date(2030, 1, 15))
        decision(session, 903, dt.date(2030, 1, 20))
        decision(session, 904, dt.date(2030, 2, 20))
        plan = contact(session, 903, dt.date(2030, 1, 20))
        event(session, plan, dt.datetime(2030, 1, 20, 10, tzinfo=dt.UTC))
        day = dt.date(2030 + YEARS, 2, 1)  # January 2030 ends on the cutoff, February after it
        assert partitions.years_before(day, YEARS) == dt.date(2030, 2, 1)
        dry = daily_flows.maintain_partitions(session, day, dry_run=True)
        assert "strategy_decisions_p2030_01" in [
            a.partition for a in dry.actions if a.kind == "drop"
        ]
        assert "strategy_decisions_p2030_01" in existing(session, "strategy_decisions")
        done = keep(session, day)
        dropped = {a.partition for a in done.actions if a.kind == "drop"}
        assert {
            "strategy_decisions_p2030_01",
            "contact_plans_p2030_01",
            "contact_events_p2030_01",
        } <= dropped
        assert not {a.partition for a in done.actions} & {
            "strategy_decisions_p2030_02",
            "contact_plans_p2030_02",
            "contact_events_p2030_02",
        }
        assert where(session, "strategy_decisions", account_id=903) == []
        assert where(session, "contact_events", contact_id=plan) == []
        assert where(session, "strategy_decisions", account_id=904) == [
            "strategy_decisions_p2030_02"
        ]
        assert "partitions_drop" in done.summary()

    def test_a_month_is_held_while_an_account_in_it_is_still_collected(
        self, session: Session
    ) -> None:
        """Catches a retention counted from the row's date instead of the last collection
        activity on the debt (12 CFR 1006.100): the account decided on after the cutoff keeps its
        old month of decisions, its contacts, and (through the contact) their events."""
        postgresql(session)
        keep(session, dt.date(2031, 1, 15))
        decision(session, 905, dt.date(2031, 1, 20))
        plan = contact(session, 905, dt.date(2031, 1, 20))
        event(session, plan, dt.datetime(2031, 1, 20, 10, tzinfo=dt.UTC))
        day = dt.date(2031 + YEARS, 3, 1)
        decision(session, 905, day)  # still collected on
        done = keep(session, day)
        held = {a.partition: a.detail for a in done.actions if a.kind == "hold"}
        assert "strategy_decisions_p2031_01" in held
        assert "contact_plans_p2031_01" in held
        assert "contact_events_p2031_01" in held
        assert where(session, "contact_events", contact_id=plan) == ["contact_events_p2031_01"]


class TestGuarantees:
    def test_an_id_is_never_given_twice_across_months(self, session: Session) -> None:
        """The primary key is (id, month) on a partitioned table: catches the id losing
        `GENERATED ALWAYS` (an INSERT naming an id, which PostgreSQL must refuse, could repeat
        another month's id, and with it a contact's idempotency key)."""
        postgresql(session)
        keep(session, dt.date(2040, 3, 15))
        first = contact(session, 906, dt.date(2040, 3, 2))
        with pytest.raises(DBAPIError, match="GENERATED ALWAYS"), session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO contact_plans (id, account_id, customer_id, as_of_date, stage, "
                    "treatment, channel, template, tone, status, reasons, created_at) VALUES "
                    "(:id, 907, 907, '2040-04-02', 's', 'sms', 'sms', 't', 'soft', 'sent', "
                    "'[]', now())"
                ),
                {"id": first},
            )

    def test_a_contact_planned_twice_for_an_account_day_and_treatment_is_refused(
        self, session: Session
    ) -> None:
        """Catches the unique key (account, day, treatment) lost in the swap of tables: the
        day's plans could hold a contact twice and send it twice."""
        postgresql(session)
        keep(session, dt.date(2040, 3, 15))
        contact(session, 908, dt.date(2040, 3, 2))
        with pytest.raises(IntegrityError), session.begin_nested():
            contact(session, 908, dt.date(2040, 3, 2))

    def test_upkeep_that_cannot_lock_a_table_in_time_changes_nothing_and_lets_the_run_go_on(
        self, session: Session, engine: Engine
    ) -> None:
        """Catches an upkeep that waits for a long reader (blocking the day's run behind it) or
        fails the whole run when its lock is not granted."""
        postgresql(session)
        with engine.connect() as reader, reader.begin():
            reader.execute(text("SELECT count(*) FROM strategy_decisions"))
            done = partitions.maintain(
                session,
                [partitions.Partitioned("strategy_decisions", "as_of_date")],
                dt.date(2042, 5, 5),
                years=YEARS,
                lock_timeout_ms=100,
            )
        assert done.actions == []
        assert done.skipped is not None
        assert "strategy_decisions_p2042_05" not in existing(session, "strategy_decisions")
        assert session.execute(text("SELECT 1")).scalar() == 1  # the transaction goes on


class TestDailyRun:
    def test_the_days_run_makes_its_months_and_says_so_in_its_summary(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches the daily flow without its partition step."""
        postgresql(session)
        late_account(session, clock)
        day = on(clock, DAY0 + ONE_DAY)
        ran = daily_flows.run_day(session, day, clock=clock, zone="Asia/Shanghai", actor="t")
        assert ran.partitions is not None
        month = f"{day:%Y_%m}"
        made = {a.partition for a in ran.partitions.actions if a.kind == "create"}
        if made:  # the test database may have the month already (an earlier test's commit)
            assert f"strategy_decisions_p{month}" in made
        assert f"strategy_decisions_p{month}" in existing(session, "strategy_decisions")
        decided = (
            session.execute(
                text(
                    "SELECT DISTINCT tableoid::regclass::text FROM strategy_decisions WHERE as_of_date = :d"
                ),
                {"d": day},
            )
            .scalars()
            .all()
        )
        assert decided == [f"strategy_decisions_p{month}"]


class TestMigration:
    def test_the_tables_are_partitioned_with_their_rows_and_back(
        self, connection: Connection
    ) -> None:
        """95cd095bbdbc keeps every row, in its month, with its id; ids go on from the highest;
        the downgrade gives plain tables with the same rows and a sequence that goes on too. Run
        down and up inside the test's transaction, rolled back after it."""
        if connection.dialect.name != "postgresql":
            pytest.skip("the migration partitions on PostgreSQL only")
        config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        insert = text(
            "INSERT INTO strategy_decisions (account_id, as_of_date, policy_version_id, "
            "decision, offers, compliance, created_at) VALUES (:a, :d, 1, 'x', '[]', '[]', now()) "
            "RETURNING id"
        )
        command.downgrade(config, "7c3e9a1d5b20")
        assert set(kinds(connection).values()) == {"r"}
        first = connection.execute(insert, {"a": 1, "d": dt.date(2025, 3, 31)}).scalar_one()
        connection.execute(insert, {"a": 1, "d": dt.date(2025, 4, 1)})
        command.upgrade(config, "head")
        assert set(kinds(connection).values()) == {"p"}
        rows = connection.execute(
            text(
                "SELECT tableoid::regclass::text, id FROM strategy_decisions "
                "WHERE id >= :f ORDER BY id"
            ),
            {"f": first},
        ).all()
        assert rows == [
            ("strategy_decisions_p2025_03", first),
            ("strategy_decisions_p2025_04", first + 1),
        ]
        new = connection.execute(insert, {"a": 2, "d": dt.date(2025, 4, 2)}).scalar_one()
        assert new == first + 2
        command.downgrade(config, "7c3e9a1d5b20")
        ids = connection.execute(
            text("SELECT id FROM strategy_decisions WHERE id >= :f ORDER BY id"), {"f": first}
        ).scalars()
        assert list(ids) == [first, first + 1, first + 2]
        again = connection.execute(insert, {"a": 3, "d": dt.date(2025, 4, 3)}).scalar_one()
        assert again == first + 3
        command.upgrade(config, "head")


def kinds(connection: Connection) -> dict[str, str]:
    return dict(
        connection.execute(
            text("SELECT relname, relkind FROM pg_class WHERE relname = ANY(:t)"),
            {"t": list(TABLES)},
        ).all()
    )

"""The migrations build exactly the schema the models describe (tables, columns, indexes), on the
database the suite runs on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Column, Connection, Engine, MetaData, func, inspect, select, text

from recoup.bootstrap import alembic_config
from recoup.kit.db import make_engine
from recoup.kit.partitions import is_partition
from recoup.models.base import Model


def test_the_migrated_schema_is_the_models_schema(connection: Connection) -> None:
    """Monthly partitions (PostgreSQL) are left out: their parent is the table the model names."""
    tables = set(Model.metadata.tables)
    context = MigrationContext.configure(
        connection,
        opts={
            "include_name": lambda name, kind, _parents: (
                not (kind == "table" and is_partition(name, tables))
            )
        },
    )
    differences = compare_metadata(context, Model.metadata)
    assert differences == []


PAUSES = "delinquency_pauses"
OLD_REASONS = {  # reason -> (kind, holder) after the migration
    "payment plan {plan}": ("plan", "arrangement"),
    "payment plan 987654": ("plan", None),  # no such arrangement: no reference
    "dispute case {dispute}": ("dispute", "case"),
    "hardship case {hardship}": ("hardship", "case"),
    "Dispute: not my purchase": ("dispute", None),
    "hardship: job loss": ("hardship", None),
    "cease: written request": ("cease", None),
    "typhoon relief": ("other", None),
}


class TestPauseKindsMigration:
    """5e2a9c7d41f3 gives the pauses made before it the meaning the text searches gave them, and
    the plan or case that holds them where their formatted reason names one that exists."""

    BEFORE = "8c41e0d7a5b2"

    def test_old_pauses_get_their_kind_and_holder_and_the_migration_reverses(
        self, process_database: str
    ) -> None:
        engine = make_engine(process_database)
        try:
            migrate_to(engine, self.BEFORE)
            with engine.begin() as conn:
                ids = self.old_rows(conn)
            migrate_to(engine, "head")
            expected = {
                reason.format(**ids): (
                    kind,
                    ids["plan"] if holder == "arrangement" else None,
                    ids[kind] if holder == "case" else None,
                )
                for reason, (kind, holder) in OLD_REASONS.items()
            }
            assert self.pauses(engine) == expected
            migrate_to(engine, self.BEFORE, down=True)  # it reverses, and backfills again
            assert "kind" not in {c["name"] for c in inspect(engine).get_columns(PAUSES)}
            migrate_to(engine, "head")
            assert self.pauses(engine) == expected
        finally:
            engine.dispose()

    def old_rows(self, conn: Connection) -> dict[str, int]:
        """The rows the pauses need (any value where the column asks for one), and the pauses."""
        tables = MetaData()
        tables.reflect(conn, only=["products", "customers", "accounts", "arrangements", "cases"])

        def insert(name: str, **values: object) -> int:
            table = tables.tables[name]
            row = {c.name: filler(c) for c in table.columns if needs_value(c)} | values
            conn.execute(table.insert().values(row))
            return int(conn.execute(select(func.max(table.c.id))).scalar_one())

        products = tables.tables["products"]
        conn.execute(
            products.insert().values(
                {c.name: filler(c) for c in products.columns if needs_value(c)} | {"code": "old"}
            )
        )
        customer = insert("customers")
        account = insert("accounts", customer_id=customer, product_code="old")
        ids = {
            "plan": insert("arrangements", account_id=account, customer_id=customer, kind="plan"),
            "dispute": insert("cases", customer_id=customer, kind="dispute"),
            "hardship": insert("cases", customer_id=customer, kind="hardship"),
        }
        for n, reason in enumerate(OLD_REASONS):
            conn.execute(
                text(
                    "INSERT INTO delinquency_pauses (account_id, start_date, reason, created_by, "
                    "created_at) VALUES (:account, :start, :reason, 'tests', :at)"
                ),
                {
                    "account": account,
                    "start": dt.date(2026, 1, 1) + dt.timedelta(days=n),
                    "reason": reason.format(**ids),
                    "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                },
            )
        return ids

    def pauses(self, engine: Engine) -> dict[str, tuple[str, int | None, int | None]]:
        with engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT reason, kind, arrangement_id, case_id FROM {PAUSES}")
            ).all()
        return {reason: (kind, a, c) for reason, kind, a, c in rows}


def migrate_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def needs_value(column: Column[Any]) -> bool:
    return not column.nullable and column.server_default is None and not column.primary_key


def filler(column: Column[Any]) -> object:
    """A value of the column's type, for columns the test does not care about."""
    if isinstance(column.type, JSON):
        return {}
    python = column.type.python_type
    if python is str:
        return "x"
    if python is dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    if python is dt.date:
        return dt.date(2026, 1, 1)
    if python is bytes:
        return b"x"
    return python()  # int 0, bool False

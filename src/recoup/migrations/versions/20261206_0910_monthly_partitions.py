"""contact plans, contact events and strategy decisions partitioned by month (PostgreSQL)

Revision ID: 95cd095bbdbc
Revises: 5e81c4a9d2f3
Create Date: 2026-12-06 09:00:00

On PostgreSQL each table becomes a table partitioned by RANGE on its time column, one partition a
month, with a default partition for rows outside every month made so far. Existing rows are kept:
a partitioned table is made beside the plain one, a partition for every month holding rows (and the
current month and the next two), the rows copied, the names swapped and the indexes and
constraints made again under their old names. SQLite keeps plain tables.

PostgreSQL requires a partitioned table's primary key to include the partition column, so the
primary key becomes (id, month column). `id` stays unique another way: it becomes `GENERATED
ALWAYS AS IDENTITY`, so every id comes from the table's one sequence and an INSERT that names an id
is refused. The unique keys already include the month column (a plan per account, day and
treatment; a decision per account and day) and are kept as they were.

The audit ledger (`audit_events`) is not partitioned: docs/architecture.md says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "95cd095bbdbc"
down_revision: str | None = "5e81c4a9d2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> its month column
TABLES = {
    "contact_plans": "as_of_date",
    "contact_events": "at",
    "strategy_decisions": "as_of_date",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, column in TABLES.items():
        _partition(bind, table, column)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, column in TABLES.items():
        _unpartition(bind, table, column)


def _indexes(bind: sa.Connection, table: str) -> list[str]:
    """The CREATE INDEX statements of the table's indexes that back no constraint."""
    return list(
        bind.execute(
            sa.text(
                "SELECT i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                "AND i.tablename = :t AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname AND c.conrelid = CAST(:t AS regclass)) "
                "ORDER BY i.indexname"
            ),
            {"t": table},
        ).scalars()
    )


def _uniques(bind: sa.Connection, table: str) -> list[tuple[str, list[str]]]:
    """(name, columns) of the table's unique constraints."""
    rows = bind.execute(
        sa.text(
            "SELECT c.conname, array_agg(a.attname ORDER BY k.n) FROM pg_constraint c "
            "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
            "WHERE c.conrelid = CAST(:t AS regclass) AND c.contype = 'u' GROUP BY c.conname"
        ),
        {"t": table},
    )
    return [(name, list(columns)) for name, columns in rows]


def _bound(column_is_date: bool, month: dt.date) -> str:
    return f"'{month.isoformat()}'" if column_is_date else f"'{month.isoformat()} 00:00:00+00'"


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _partition(bind: sa.Connection, table: str, column: str) -> None:
    indexes = _indexes(bind, table)
    uniques = _uniques(bind, table)
    is_date = (
        bind.execute(
            sa.text(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = :t AND column_name = :c"
            ),
            {"t": table, "c": column},
        ).scalar_one()
        == "date"
    )
    old = f"{table}__plain"
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    op.execute(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS) PARTITION BY RANGE ("{column}")'
    )
    op.execute(f'ALTER TABLE "{table}" ALTER COLUMN id DROP DEFAULT')
    months = {
        m.replace(day=1) if isinstance(m, dt.date) else m
        for m in bind.execute(
            sa.text(
                f"SELECT DISTINCT CAST(date_trunc('month', \"{column}\" "  # noqa: S608
                f'{"" if is_date else "AT TIME ZONE " + repr("UTC")}) AS date) FROM "{old}"'
            )
        ).scalars()
    }
    today = bind.execute(
        sa.text("SELECT CAST(date_trunc('month', CURRENT_TIMESTAMP AT TIME ZONE 'UTC') AS date)")
    ).scalar_one()
    months |= {today, _next_month(today), _next_month(_next_month(today))}
    for month in sorted(months):
        op.execute(
            f'CREATE TABLE "{table}_p{month:%Y_%m}" PARTITION OF "{table}" FOR VALUES FROM '
            f"({_bound(is_date, month)}) TO ({_bound(is_date, _next_month(month))})"
        )
    op.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
    op.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')  # noqa: S608
    op.execute(f'DROP TABLE "{old}"')  # and its serial sequence
    start = bind.execute(sa.text(f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"')).scalar_one()  # noqa: S608
    op.execute(
        f'ALTER TABLE "{table}" ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH {start})'
    )
    op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "pk_{table}" PRIMARY KEY (id, "{column}")')
    for name, columns in uniques:
        if column not in columns:  # none today: refuse rather than weaken a unique key
            raise RuntimeError(f"{name} does not include {column}: it cannot be kept as it is")
        listed = ", ".join(f'"{c}"' for c in columns)
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE ({listed})')
    for statement in indexes:
        op.execute(statement)


def _unpartition(bind: sa.Connection, table: str, column: str) -> None:
    indexes = _indexes(bind, table)
    uniques = _uniques(bind, table)
    old = f"{table}__partitioned"
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    op.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS)')
    op.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')  # noqa: S608
    op.execute(f'DROP TABLE "{old}"')  # its partitions and its identity sequence with it
    start = bind.execute(sa.text(f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"')).scalar_one()  # noqa: S608
    op.execute(f'CREATE SEQUENCE "{table}_id_seq" START WITH {start} OWNED BY "{table}".id')
    op.execute(f'ALTER TABLE "{table}" ALTER COLUMN id SET DEFAULT nextval(\'"{table}_id_seq"\')')
    op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "pk_{table}" PRIMARY KEY (id)')
    for name, columns in uniques:
        listed = ", ".join(f'"{c}"' for c in columns)
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE ({listed})')
    for statement in indexes:
        op.execute(statement.replace(" ON ONLY ", " ON "))

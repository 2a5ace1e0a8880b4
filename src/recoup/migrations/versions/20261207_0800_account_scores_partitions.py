"""account scores partitioned by month (PostgreSQL)

Revision ID: 3a8c5e1f9d72
Revises: 7b3f2d9a41c6
Create Date: 2026-12-07 08:00:00

The daily run writes a score per account it scores, every day: 117,441 rows a day for `p_pay`
alone on the benchmarks' 1,000,000 accounts, 433,816 with `p_roll` too (docs/models.md, "Speed"),
about 160 million rows a year that nothing dropped. On PostgreSQL `account_scores` becomes
partitioned by month on `as_of_date` the way `95cd095bbdbc` partitioned the contact plans, events
and decisions (the same steps, done by that migration's own functions: its rows kept in their
months with their ids, the primary key (id, as_of_date), ids from an identity, the unique key and
indexes made again), so the daily flow keeps its months and drops the expired ones
(`risk.repository.PARTITIONS`). SQLite keeps a plain table.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "3a8c5e1f9d72"
down_revision: str | None = "7b3f2d9a41c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE, COLUMN = "account_scores", "as_of_date"


def _monthly() -> ModuleType:
    """`95cd095bbdbc`, whose `_partition` and `_unpartition` this migration runs on one more
    table (a migration does not change once released, so its steps are the ones it ran)."""
    path = Path(__file__).with_name("20261206_0910_monthly_partitions.py")
    spec = importlib.util.spec_from_file_location("recoup_migration_95cd095bbdbc", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _monthly()._partition(bind, TABLE, COLUMN)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _monthly()._unpartition(bind, TABLE, COLUMN)

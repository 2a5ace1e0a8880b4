"""the daily run's tables lose two indexes no query needs

Revision ID: 2efd90b5aa83
Revises: 95cd095bbdbc
Create Date: 2026-12-06 12:00:00

- `ix_strategy_decisions_account_id`: `uq_strategy_decisions_account_id_as_of_date` serves every
  lookup by account (account_id is its leading column);
- `ix_account_delinquency_bucket`: no statement selects states by bucket (the reports group every
  state by bucket, which reads the whole table).

Each cost the daily run one index insert per row written: 1,000,000 states and ~210,000 decisions
a day at 1,000,000 accounts.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "2efd90b5aa83"
down_revision: str | None = "95cd095bbdbc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_strategy_decisions_account_id", table_name="strategy_decisions")
    op.drop_index("ix_account_delinquency_bucket", table_name="account_delinquency")


def downgrade() -> None:
    op.create_index("ix_account_delinquency_bucket", "account_delinquency", ["bucket"])
    op.create_index("ix_strategy_decisions_account_id", "strategy_decisions", ["account_id"])

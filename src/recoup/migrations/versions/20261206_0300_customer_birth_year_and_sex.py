"""customers' year of birth and sex (both optional; only the year of a birth date is kept)

Revision ID: 5b7d1e9c3a40
Revises: d7b3e1a94c25
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7d1e9c3a40"
down_revision: str | None = "d7b3e1a94c25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not batch mode: SQLite adds and (3.35+) drops a column in place, where a
# batch's copy of `customers` would fail on the rows other tables' foreign keys hold.
def upgrade() -> None:
    op.add_column("customers", sa.Column("birth_year", sa.Integer(), nullable=True))
    op.add_column("customers", sa.Column("sex", sa.String(length=1), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "sex")
    op.drop_column("customers", "birth_year")

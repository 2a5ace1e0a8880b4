"""an account score's reasons computed when asked for: the column may be null

Revision ID: 8c1f4a7e2d90
Revises: 5b7d2e9a4c61
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c1f4a7e2d90"
down_revision: str | None = "5b7d2e9a4c61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_scores") as batch:
        batch.alter_column("reasons", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE account_scores SET reasons = '[]' WHERE reasons IS NULL")
    with op.batch_alter_table("account_scores") as batch:
        batch.alter_column("reasons", existing_type=sa.JSON(), nullable=False)

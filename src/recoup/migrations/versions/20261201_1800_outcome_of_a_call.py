"""outcome of a call

Revision ID: 8c41e0d7a5b2
Revises: 3b9d2f6a1c47
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c41e0d7a5b2"
down_revision: str | None = "3b9d2f6a1c47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact_plans", schema=None) as batch_op:
        batch_op.drop_column("result")

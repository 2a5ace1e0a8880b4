"""provider pacing: one token bucket per provider, shared by the dispatcher's workers

Revision ID: 5e81c4a9d2f3
Revises: 7c3e9a1d5b20
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e81c4a9d2f3"
down_revision: str | None = "7c3e9a1d5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_pacing",
        sa.Column("provider", sa.String(length=120), nullable=False),
        sa.Column("next_slot", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("provider", name=op.f("pk_provider_pacing")),
    )


def downgrade() -> None:
    op.drop_table("provider_pacing")

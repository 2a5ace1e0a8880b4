"""audit checkpoints keep the hashes they sign (a rewrite is named at the entry changed)

Revision ID: 8d5e3f0b2a71
Revises: 7c4d2e9a1f60
Create Date: 2026-12-05 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d5e3f0b2a71"
down_revision: str | None = "7c4d2e9a1f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added outside batch mode: on SQLite a batch copy would drop the append-only triggers.
    op.add_column("audit_checkpoints", sa.Column("leaves", sa.Text(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops a column in place, keeping the triggers a batch copy would lose.
    op.execute("ALTER TABLE audit_checkpoints DROP COLUMN leaves")

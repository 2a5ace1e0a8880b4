"""when a contact was handed to its provider (a crash after it leaves the contact `unknown`)

Revision ID: 7c4d2e9a1f60
Revises: 5e7a9c1d2b40
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.kit.types import UTCDateTime

revision: str = "7c4d2e9a1f60"
down_revision: str | None = "5e7a9c1d2b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact_plans", schema=None) as batch_op:
        batch_op.drop_column("handed_at")

"""policy versions: status, submission and a second person's review (four eyes)

Revision ID: 3c8d1f6a9e27
Revises: 8d5e3f0b2a71
Create Date: 2026-12-06 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.kit.types import UTCDateTime

revision: str = "3c8d1f6a9e27"
down_revision: str | None = "8d5e3f0b2a71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="draft")
        )
        batch_op.add_column(sa.Column("submitted_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("submitted_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("rejection_reason", sa.String(length=2000), nullable=True))
    # Versions stored before: the active one is active; one active once is superseded.
    op.execute(
        "UPDATE policy_versions SET status = CASE WHEN active THEN 'active' "
        "WHEN activated_at IS NOT NULL THEN 'superseded' ELSE 'draft' END"
    )


def downgrade() -> None:
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.drop_column("rejection_reason")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("submitted_by")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("status")

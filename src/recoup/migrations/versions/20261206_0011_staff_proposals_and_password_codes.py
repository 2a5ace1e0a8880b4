"""staff proposals (four eyes on staff and API keys) and one-time set-password codes

Revision ID: 3f1c7a9e5d20
Revises: 3c8d1f6a9e27
Create Date: 2026-12-06 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.kit.types import UTCDateTime

revision: str = "3f1c7a9e5d20"
down_revision: str | None = "3c8d1f6a9e27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_proposals",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("key_name", sa.String(length=128), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.String(length=128), nullable=False),
        sa.Column("proposed_by_id", BigId, nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("result_id", BigId, nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_proposals")),
    )
    op.create_index(op.f("ix_staff_proposals_status"), "staff_proposals", ["status"], unique=False)
    op.create_table(
        "staff_password_codes",
        sa.Column("staff_id", BigId, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_password_codes_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_password_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_password_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_staff_password_codes_staff_id"),
        "staff_password_codes",
        ["staff_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_password_codes_staff_id"), table_name="staff_password_codes")
    op.drop_table("staff_password_codes")
    op.drop_index(op.f("ix_staff_proposals_status"), table_name="staff_proposals")
    op.drop_table("staff_proposals")

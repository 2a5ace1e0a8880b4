"""consents and erasure requests

Revision ID: 8a2f4c6e1d37
Revises: 5e1c0a7d2b91
Create Date: 2026-12-01 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recoup.kit.types

revision: str = "8a2f4c6e1d37"
down_revision: str | None = "5e1c0a7d2b91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.String(length=256), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("given_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", recoup.kit.types.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_at", recoup.kit.types.UTCDateTime(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_consents_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_customer_id"), "consents", ["customer_id"], unique=False)
    op.create_table(
        "erasure_requests",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ground", sa.String(length=512), nullable=True),
        sa.Column("not_before", sa.Date(), nullable=True),
        sa.Column("decided_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.Column("done_at", recoup.kit.types.UTCDateTime(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_index(
        op.f("ix_erasure_requests_customer_id"), "erasure_requests", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_erasure_requests_status"), "erasure_requests", ["status"], unique=False
    )


def downgrade() -> None:
    op.drop_table("erasure_requests")
    op.drop_table("consents")

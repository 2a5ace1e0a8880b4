"""qa samples and reviews: sent messages and placed calls drawn at random for a person to check

Revision ID: c0a1f7e3b925
Revises: 3f1c7a9e5d20
Create Date: 2026-12-06 00:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recoup.kit.crypto
import recoup.kit.types

revision: str = "c0a1f7e3b925"
down_revision: str | None = "3f1c7a9e5d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "qa_samples",
        sa.Column("seed", BigId, nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("drawn_by", sa.String(length=128), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_samples")),
    )
    op.create_table(
        "qa_reviews",
        sa.Column("sample_id", BigId, nullable=False),
        sa.Column("contact_id", BigId, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column(
            "findings", recoup.kit.crypto.EncryptedString("qa_reviews.findings"), nullable=True
        ),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", recoup.kit.types.UTCDateTime(), nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["qa_samples.id"],
            name=op.f("fk_qa_reviews_sample_id_qa_samples"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_reviews")),
    )
    op.create_index(op.f("ix_qa_reviews_sample_id"), "qa_reviews", ["sample_id"], unique=False)
    op.create_index(op.f("ix_qa_reviews_contact_id"), "qa_reviews", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_qa_reviews_contact_id"), table_name="qa_reviews")
    op.drop_index(op.f("ix_qa_reviews_sample_id"), table_name="qa_reviews")
    op.drop_table("qa_reviews")
    op.drop_table("qa_samples")

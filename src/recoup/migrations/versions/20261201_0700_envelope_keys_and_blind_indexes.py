"""envelope keys and blind indexes

Revision ID: 5e1c0a7d2b91
Revises: 672cdf3e8233
Create Date: 2026-12-01 07:00:00

Data keys move into the database, wrapped by the master key; phones, e-mails and national IDs get
blind indexes. Existing rows get their indexes from `recoup init` (which backfills what is missing),
since computing them needs the keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recoup.kit.types

revision: str = "5e1c0a7d2b91"
down_revision: str | None = "672cdf3e8233"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "encryption_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("master_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("activated_at", recoup.kit.types.UTCDateTime(), nullable=True),
        sa.Column("retired_at", recoup.kit.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encryption_keys")),
    )
    for table, column in (
        ("customers", "national_id_index"),
        ("customer_phones", "number_index"),
        ("customer_emails", "address_index"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.String(length=64), nullable=True))
            batch.create_index(batch.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in (
        ("customer_emails", "address_index"),
        ("customer_phones", "number_index"),
        ("customers", "national_id_index"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f"ix_{table}_{column}"))
            batch.drop_column(column)
    op.drop_table("encryption_keys")

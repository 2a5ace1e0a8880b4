"""autopay: the debtors' mandates at the wallet and each collection asked under them

Revision ID: 7a3c5e1f9b20
Revises: e4a81c3f9d27
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.kit.types import UTCDateTime

revision: str = "7a3c5e1f9b20"
down_revision: str | None = "e4a81c3f9d27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "autopay_mandates",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("wallet_ref", sa.String(length=128), nullable=True),
        sa.Column("redirect_url", sa.String(length=1024), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopay_mandates")),
        sa.UniqueConstraint("wallet_ref", name=op.f("uq_autopay_mandates_wallet_ref")),
    )
    op.create_index(
        op.f("ix_autopay_mandates_customer_id"), "autopay_mandates", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_autopay_mandates_account_id_state",
        "autopay_mandates",
        ["account_id", "state"],
        unique=False,
    )
    op.create_table(
        "autopay_collections",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("mandate_id", BIG_ID, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("bill_id", BIG_ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("wallet_ref", sa.String(length=128), nullable=True),
        sa.Column("payment_id", BIG_ID, nullable=True),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopay_collections")),
        sa.UniqueConstraint(
            "mandate_id",
            "bill_id",
            "attempt",
            name=op.f("uq_autopay_collections_mandate_id_bill_id_attempt"),
        ),
        sa.UniqueConstraint("wallet_ref", name=op.f("uq_autopay_collections_wallet_ref")),
    )
    op.create_index(
        "ix_autopay_collections_account_id", "autopay_collections", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_autopay_collections_account_id", table_name="autopay_collections")
    op.drop_table("autopay_collections")
    op.drop_index("ix_autopay_mandates_account_id_state", table_name="autopay_mandates")
    op.drop_index(op.f("ix_autopay_mandates_customer_id"), table_name="autopay_mandates")
    op.drop_table("autopay_mandates")

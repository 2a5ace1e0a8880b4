"""the assistant's conversations and their turns

Revision ID: 7c3e9a1d5b20
Revises: 7a3c5e1f9b20
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recoup.kit.crypto
from recoup.kit.types import UTCDateTime

revision: str = "7c3e9a1d5b20"
down_revision: str | None = "7a3c5e1f9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("misunderstandings", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("handed_over_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_customer_id"), "conversations", ["customer_id"])
    op.create_index(op.f("ix_conversations_account_id"), "conversations", ["account_id"])
    op.create_index(op.f("ix_conversations_state"), "conversations", ["state"])
    op.create_table(
        "conversation_turns",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", BIG_ID, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column(
            "text", recoup.kit.crypto.EncryptedString("conversation_turns.text"), nullable=False
        ),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_turns")),
    )
    op.create_index(
        op.f("ix_conversation_turns_conversation_id"), "conversation_turns", ["conversation_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_turns_conversation_id"), table_name="conversation_turns")
    op.drop_table("conversation_turns")
    op.drop_index(op.f("ix_conversations_state"), table_name="conversations")
    op.drop_index(op.f("ix_conversations_account_id"), table_name="conversations")
    op.drop_index(op.f("ix_conversations_customer_id"), table_name="conversations")
    op.drop_table("conversations")

"""agent tasks' life as events, who holds a task, and notes on accounts

Revision ID: a9e4c2f7b318
Revises: c0a1f7e3b925
Create Date: 2026-12-06 00:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recoup.kit.crypto
from recoup.kit.types import UTCDateTime

revision: str = "a9e4c2f7b318"
down_revision: str | None = "c0a1f7e3b925"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("agent_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to", BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("taken_by", BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("taken_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lock_until", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("due_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_agent_tasks_assigned_to"), ["assigned_to"])
        batch_op.create_index(batch_op.f("ix_agent_tasks_taken_by"), ["taken_by"])
    op.create_table(
        "agent_task_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_task_events")),
    )
    op.create_index(op.f("ix_agent_task_events_task_id"), "agent_task_events", ["task_id"])
    op.create_index(op.f("ix_agent_task_events_at"), "agent_task_events", ["at"])
    op.create_table(
        "account_notes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("text", recoup.kit.crypto.EncryptedString("account_notes.text"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_notes")),
    )
    op.create_index(op.f("ix_account_notes_account_id"), "account_notes", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_account_notes_account_id"), table_name="account_notes")
    op.drop_table("account_notes")
    op.drop_index(op.f("ix_agent_task_events_at"), table_name="agent_task_events")
    op.drop_index(op.f("ix_agent_task_events_task_id"), table_name="agent_task_events")
    op.drop_table("agent_task_events")
    with op.batch_alter_table("agent_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_tasks_taken_by"))
        batch_op.drop_index(batch_op.f("ix_agent_tasks_assigned_to"))
        batch_op.drop_column("due_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("lock_until")
        batch_op.drop_column("taken_at")
        batch_op.drop_column("taken_by")
        batch_op.drop_column("assigned_to")

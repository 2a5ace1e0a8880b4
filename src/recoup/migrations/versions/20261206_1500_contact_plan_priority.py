"""a call's place in the agents' queue: contact_plans.priority

Revision ID: c3a8e5f19d42
Revises: b7d41e2c9a60
Create Date: 2026-12-06 15:00:00

A call treatment becomes an agent task when the dispatcher claims it; its priority was the amount
overdue in minor units, while the policy's hand-off queues carry expected yuan per agent minute,
so every call ranked above every queue task. The decision's `queue_priority` now travels on the
contact plan. Nullable: a message has none, and a call planned before this column falls back to
`contact.dispatch.call_priority`; on PostgreSQL the column added to the partitioned
`contact_plans` reaches every partition.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a8e5f19d42"
down_revision: str | None = "b7d41e2c9a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contact_plans", sa.Column("priority", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("contact_plans", "priority")

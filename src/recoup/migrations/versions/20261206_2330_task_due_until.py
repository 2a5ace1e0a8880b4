"""a day call ends with its window: agent_tasks.due_until, contact_plans.due_until

Revision ID: 4f2d9b7c1e38
Revises: e51c0a7d2b94
Create Date: 2026-12-06 23:30:00

An agent task had a start (`due_at`) and no end, so a day call the agents did not reach by the
morning was dialled in the evening, outside the window the policy gave it. A task whose treatment
has a window now carries its end (`due_until`); a call treatment's contact plan carries it to the
task the dispatcher opens. Nullable: a task or plan without a window, and every row written
before this column, has no end and behaves as before; on PostgreSQL the column added to the
partitioned `contact_plans` reaches every partition.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.kit.types import UTCDateTime

revision: str = "4f2d9b7c1e38"
down_revision: str | None = "e51c0a7d2b94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_tasks") as batch_op:
        batch_op.add_column(sa.Column("due_until", UTCDateTime(), nullable=True))
    op.add_column("contact_plans", sa.Column("due_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("contact_plans", "due_until")
    with op.batch_alter_table("agent_tasks") as batch_op:
        batch_op.drop_column("due_until")

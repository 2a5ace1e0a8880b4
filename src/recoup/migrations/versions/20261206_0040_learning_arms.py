"""the learner's arms (learning_arms) and the learner's explanation on decisions

Revision ID: d7b3e1a94c25
Revises: a9e4c2f7b318
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7b3e1a94c25"
down_revision: str | None = "a9e4c2f7b318"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learning_arms",
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("cell", sa.String(length=255), nullable=False),
        sa.Column("arm", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("reward_sum", sa.Float(), nullable=False),
        sa.Column("reward_sq_sum", sa.Float(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("policy", "stage", "cell", "arm", name=op.f("pk_learning_arms")),
    )
    with op.batch_alter_table("strategy_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learning", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("strategy_decisions", schema=None) as batch_op:
        batch_op.drop_column("learning")
    op.drop_table("learning_arms")

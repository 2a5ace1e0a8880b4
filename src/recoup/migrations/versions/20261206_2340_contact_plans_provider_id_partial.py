"""contact_plans' provider id index holds only the plans handed to a provider

Revision ID: 7b3f2d9a41c6
Revises: 4f2d9b7c1e38
Create Date: 2026-12-06 23:40:00

`ix_contact_plans_provider_id` becomes partial (`WHERE provider_id IS NOT NULL`): the one query by
provider id (`contact.repository.by_provider_id`, an equality, which implies NOT NULL) reads the
same rows, and the daily run's plans, written with no provider id, cost no index insert.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3f2d9a41c6"
down_revision: str | None = "4f2d9b7c1e38"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_NULL = sa.text("provider_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_contact_plans_provider_id", table_name="contact_plans")
    op.create_index(
        "ix_contact_plans_provider_id",
        "contact_plans",
        ["provider_id"],
        postgresql_where=NOT_NULL,
        sqlite_where=NOT_NULL,
    )


def downgrade() -> None:
    op.drop_index("ix_contact_plans_provider_id", table_name="contact_plans")
    op.create_index("ix_contact_plans_provider_id", "contact_plans", ["provider_id"])

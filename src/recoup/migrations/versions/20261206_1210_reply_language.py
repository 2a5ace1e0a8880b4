"""the language an answer is written in: customers.language_chosen_at, contact_plans.language

Revision ID: b7d41e2c9a60
Revises: 2efd90b5aa83
Create Date: 2026-12-06 12:10:00

The assistant answers a debtor in the language they wrote in unless they chose one in their
contact preferences: `customers.language_chosen_at` says when they chose (None: the language on
file is the wallet's or the default), `contact_plans.language` the language a contact is
rendered in when it is not the customer's. Both nullable, so existing rows keep their meaning;
on PostgreSQL the column added to the partitioned `contact_plans` reaches every partition.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.kit.types import UTCDateTime

revision: str = "b7d41e2c9a60"
down_revision: str | None = "2efd90b5aa83"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("language_chosen_at", UTCDateTime(), nullable=True))
    op.add_column("contact_plans", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later have it): a batch copy of `customers` would drop
    # the table its accounts' foreign keys point at.
    op.drop_column("contact_plans", "language")
    op.drop_column("customers", "language_chosen_at")

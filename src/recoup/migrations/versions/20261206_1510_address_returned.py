"""a letter returned to sender marks its address: customer_addresses.returned_at

Revision ID: e51c0a7d2b94
Revises: c3a8e5f19d42
Create Date: 2026-12-06 15:10:00

When the print-and-post provider reports a letter returned to sender, the address it went to is
marked (`returned_at`): no letter goes there again; the next address on file is used, or none.
Nullable, so every existing address stays deliverable.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.kit.types import UTCDateTime

revision: str = "e51c0a7d2b94"
down_revision: str | None = "c3a8e5f19d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer_addresses", sa.Column("returned_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("customer_addresses", "returned_at")

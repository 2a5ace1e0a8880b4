"""indexes for the strategy's facts and the send-time history

Revision ID: 3b9d2f6a1c47
Revises: e7cd10134ef9
Create Date: 2026-12-01 15:30:00

The daily run counts each account's contacts per stage and reads its payment facts; with these
indexes both are index-only scans (on a 60-day simulated portfolio: 187 -> 61 ms and 76 -> 49 ms
on SQLite). The send-time check reads a batch's customers' recent contacts by status: with
(customer_id, status) SQLite no longer scans every sent contact by status (25 -> 9 ms for 600
customers). Each leads with the column of the single-column index it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "3b9d2f6a1c47"
down_revision: str | None = "e7cd10134ef9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_plans_account_id")
        batch_op.drop_index("ix_contact_plans_customer_id")
        batch_op.create_index(
            "ix_contact_plans_history", ["account_id", "stage", "status", "as_of_date"]
        )
        batch_op.create_index("ix_contact_plans_customer_status", ["customer_id", "status"])
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_account_id")
        batch_op.create_index("ix_payments_facts", ["account_id", "value_date", "reversed_at"])


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_facts")
        batch_op.create_index("ix_payments_account_id", ["account_id"])
    with op.batch_alter_table("contact_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_plans_customer_status")
        batch_op.drop_index("ix_contact_plans_history")
        batch_op.create_index("ix_contact_plans_customer_id", ["customer_id"])
        batch_op.create_index("ix_contact_plans_account_id", ["account_id"])

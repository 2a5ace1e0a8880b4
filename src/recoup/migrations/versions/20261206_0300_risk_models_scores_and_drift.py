"""the risk models' registry, the accounts' daily scores and the drift of what is scored

Revision ID: 5b7d2e9a4c61
Revises: a9e4c2f7b318
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recoup.kit.types import UTCDateTime

revision: str = "5b7d2e9a4c61"
down_revision: str | None = "d7b3e1a94c25"  # after learning_arms (rechained at merge)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_models",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("window_from", sa.Date(), nullable=False),
        sa.Column("window_to", sa.Date(), nullable=False),
        sa.Column("trained_at", UTCDateTime(), nullable=False),
        sa.Column("trained_by", sa.String(length=128), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("calibration", sa.JSON(), nullable=False),
        sa.Column("artefact", sa.Text(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("activated_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_models")),
        sa.UniqueConstraint("kind", "version", name=op.f("uq_risk_models_kind_version")),
    )
    op.create_table(
        "account_scores",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("model_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_scores")),
        sa.UniqueConstraint(
            "account_id",
            "as_of_date",
            "kind",
            name=op.f("uq_account_scores_account_id_as_of_date_kind"),
        ),
    )
    op.create_index("ix_account_scores_day_kind", "account_scores", ["as_of_date", "kind"])
    op.create_table(
        "risk_drift",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("model_id", BIG_ID, nullable=False),
        sa.Column("feature", sa.String(length=64), nullable=False),
        sa.Column("psi", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_drift")),
    )
    op.create_index("ix_risk_drift_day_model", "risk_drift", ["as_of_date", "model_id"])


def downgrade() -> None:
    op.drop_index("ix_risk_drift_day_model", table_name="risk_drift")
    op.drop_table("risk_drift")
    op.drop_index("ix_account_scores_day_kind", table_name="account_scores")
    op.drop_table("account_scores")
    op.drop_table("risk_models")

"""the learning centre (articles, article_versions, article_reads) and the survey (survey_responses)

Revision ID: e4a81c3f9d27
Revises: 8c1f4a7e2d90
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import recoup.kit.crypto
import recoup.kit.types

revision: str = "e4a81c3f9d27"
down_revision: str | None = "8c1f4a7e2d90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_articles_slug")),
    )
    op.create_table(
        "article_versions",
        sa.Column("article_id", BigId, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approved_at", recoup.kit.types.UTCDateTime(), nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_versions_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_versions")),
        sa.UniqueConstraint(
            "article_id",
            "language",
            "version",
            name=op.f("uq_article_versions_article_id_language_version"),
        ),
    )
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_versions_article_id"), ["article_id"])
        batch_op.create_index(batch_op.f("ix_article_versions_status"), ["status"])
    op.create_table(
        "article_reads",
        sa.Column("article_id", BigId, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("read_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_reads")),
    )
    with op.batch_alter_table("article_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_reads_article_id"), ["article_id"])
        batch_op.create_index(batch_op.f("ix_article_reads_read_at"), ["read_at"])
    op.create_table(
        "survey_responses",
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("treated", sa.Integer(), nullable=False),
        sa.Column("clear", sa.Integer(), nullable=False),
        sa.Column("self_service_again", sa.Boolean(), nullable=False),
        sa.Column(
            "text", recoup.kit.crypto.EncryptedString("survey_responses.text"), nullable=True
        ),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", recoup.kit.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint(
            "customer_id", "subject", name=op.f("uq_survey_responses_customer_id_subject")
        ),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_responses_customer_id"), ["customer_id"])


def downgrade() -> None:
    op.drop_table("survey_responses")
    op.drop_table("article_reads")
    op.drop_table("article_versions")
    op.drop_table("articles")

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class ArticleStatus(StrEnum):
    draft = "draft"  # saved by its author
    submitted = "submitted"  # put forward for a second person
    approved = "approved"  # what the portal shows (the latest approved per language)
    retired = "retired"  # replaced by a later approval


class Article(IdMixin, CreatedMixin, Model):
    """A learning-centre article: its slug (the portal's address) and its place in the list. The
    words live in `article_versions`, one line per language and version."""

    __tablename__ = "articles"

    slug: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=100)


class ArticleVersion(IdMixin, CreatedMixin, Model):
    """One language's words of an article as saved: an edit is a new version, used once a person
    other than its author approves it."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "language", "version"),)

    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("articles.id"), nullable=False, index=True
    )
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    summary: Mapped[str] = mapped_column(String(400), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[dt.datetime | None]


class ArticleRead(IdMixin, Model):
    """An article opened in the portal: which, in which language, when. Deliberately nothing
    about who (no customer, no link, no address): the KPI counts reads, not readers."""

    __tablename__ = "article_reads"

    article_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    read_at: Mapped[dt.datetime] = mapped_column(nullable=False, index=True)

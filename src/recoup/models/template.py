from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.models.base import CreatedMixin, IdMixin, Model


class TemplateVersion(IdMixin, CreatedMixin, Model):
    """A message template as saved: checked by the compliance guard on save, used once approved."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("name", "channel", "language", "tone", "version"),)

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    tone: Mapped[str] = mapped_column(String(8), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    subject: Mapped[str | None] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # draft, rejected, approved
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[dt.datetime | None]

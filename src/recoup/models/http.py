"""Request plumbing's own tables, owned by `recoup.http`: only its repository writes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import UTCDateTime
from recoup.models.base import CreatedMixin, IdMixin, Model


class IdempotencyRecord(IdMixin, CreatedMixin, Model):
    """The first answer to an idempotent request, replayed for every repeat of the same key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class WebhookReceipt(IdMixin, Model):
    """A signed delivery already seen; a second copy of the same signature is a replay."""

    __tablename__ = "webhook_receipts"

    source: Mapped[str] = mapped_column(String(32), nullable=False)
    signature_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.crypto import EncryptedString
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class QaSample(IdMixin, CreatedMixin, Model):
    """A random draw of the messages sent and calls placed in a period, for a person to review.
    The same seed over the same period and record draws the same contacts."""

    __tablename__ = "qa_samples"

    seed: Mapped[int] = mapped_column(BigId, nullable=False)
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)  # asked for
    population: Mapped[int] = mapped_column(Integer, nullable=False)  # contacts it was drawn from
    drawn_by: Mapped[str] = mapped_column(String(128), nullable=False)


class QaReview(IdMixin, CreatedMixin, Model):
    """One sampled contact and, once reviewed, the checklist's answers and the findings."""

    __tablename__ = "qa_reviews"

    sample_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("qa_samples.id", ondelete="CASCADE"), index=True, nullable=False
    )
    contact_id: Mapped[int] = mapped_column(BigId, index=True, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending, passed, failed
    checks: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    findings: Mapped[str | None] = mapped_column(EncryptedString("qa_reviews.findings"))
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[dt.datetime | None]

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class Consent(IdMixin, CreatedMixin, Model):
    """A consent a person gave (or withdrew): what for, on which channel, in what scope, the proof,
    and how long it lasts. The compliance guard reads these; the portal shows them."""

    __tablename__ = "consents"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=False
    )
    purpose: Mapped[str] = mapped_column(
        String(32), nullable=False
    )  # electronic, call_back, time_window...
    channel: Mapped[str | None] = mapped_column(String(16))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    evidence: Mapped[str] = mapped_column(String(256), nullable=False)
    source: Mapped[str] = mapped_column(String(32), nullable=False)  # portal, agent, wallet, ...
    given_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    withdrawn_at: Mapped[dt.datetime | None]


class ErasureStatus(StrEnum):
    refused = "refused"  # a legal ground applies that has no date (an amount still owed)
    scheduled = "scheduled"  # a retention period runs; erased on `not_before` by the retention job
    done = "done"


class ErasureRequest(IdMixin, CreatedMixin, Model):
    __tablename__ = "erasure_requests"

    customer_id: Mapped[int] = mapped_column(BigId, index=True, nullable=False)
    requested_by: Mapped[str] = mapped_column(String(128), nullable=False)
    reason: Mapped[str] = mapped_column(String(256), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    ground: Mapped[str | None] = mapped_column(String(512))
    not_before: Mapped[dt.date | None] = mapped_column(Date)
    decided_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]

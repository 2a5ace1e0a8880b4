from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.models.base import BigId, IdMixin, Model


class PayLinkRevocation(IdMixin, Model):
    """Pay links are signed, not stored: revoking one records its contact; revoking all of a
    customer's records the moment, and every link issued before it stops opening."""

    __tablename__ = "pay_link_revocations"

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    contact_id: Mapped[int | None] = mapped_column(BigId)  # null: every link issued before `at`
    at: Mapped[dt.datetime]
    by: Mapped[str] = mapped_column(String(128), nullable=False)
    reason: Mapped[str] = mapped_column(String(256), nullable=False)

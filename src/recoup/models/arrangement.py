from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class PayLinkRevocation(IdMixin, Model):
    """Pay links are signed, not stored: revoking one records its contact; revoking all of a
    customer's records the moment, and every link issued before it stops opening."""

    __tablename__ = "pay_link_revocations"

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    contact_id: Mapped[int | None] = mapped_column(BigId)  # null: every link issued before `at`
    at: Mapped[dt.datetime]
    by: Mapped[str] = mapped_column(String(128), nullable=False)
    reason: Mapped[str] = mapped_column(String(256), nullable=False)


class PaymentIntent(IdMixin, CreatedMixin, Model):
    """A debtor's "pay now": created here, carried out at the wallet, counted only when the
    wallet's signed webhook confirms the payment (which then names this intent)."""

    __tablename__ = "payment_intents"

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    account_id: Mapped[int] = mapped_column(BigId, nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # created, pending, ...
    contact_id: Mapped[int | None] = mapped_column(BigId)  # the message whose link was used
    wallet_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    redirect_url: Mapped[str | None] = mapped_column(String(1024))
    payment_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str | None] = mapped_column(String(256))
    updated_at: Mapped[dt.datetime | None]

    @property
    def reference(self) -> str:
        return f"rpi_{self.id}"

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import MinorUnits, UTCDateTime
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class PaymentSource(StrEnum):
    wallet = "wallet"
    bank_transfer = "bank_transfer"
    card = "card"
    agent = "agent"
    cash = "cash"
    other = "other"


class Payment(IdMixin, CreatedMixin, Model):
    """Money received. Reversal (a chargeback) keeps the row and stamps `reversed_at`."""

    __tablename__ = "payments"
    # Covers the strategy's payment facts per account (an index-only scan).
    __table_args__ = (Index("ix_payments_facts", "account_id", "value_date", "reversed_at"),)

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), nullable=False)
    external_id: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    amount_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    # The business date the money counts for: received_at in the product's time zone.
    value_date: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False, default=PaymentSource.wallet)
    reversed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reversal_reason: Mapped[str | None] = mapped_column(String(256))


class Allocation(IdMixin, Model):
    """How much of a payment went to which component of which bill.

    Derived: rewritten for the whole account by replaying its live payments in received order through
    the product's waterfall whenever a payment, reversal or bill changes, so a backdated payment lands
    exactly where it would have landed on time.
    """

    __tablename__ = "allocations"

    # No foreign keys on purpose: this table is derived, rewritten whole per account from the payments
    # and bills it points at, in the same transaction that reads them; per-row FK triggers would
    # triple the cost of every bulk import on PostgreSQL and protect nothing the rewrite does not.
    account_id: Mapped[int] = mapped_column(BigId, index=True, nullable=False)
    payment_id: Mapped[int] = mapped_column(BigId, index=True, nullable=False)
    bill_id: Mapped[int] = mapped_column(BigId, index=True, nullable=False)
    component: Mapped[str] = mapped_column(String(16), nullable=False)
    amount_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    value_date: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)

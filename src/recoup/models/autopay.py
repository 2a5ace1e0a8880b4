"""Autopay: the debtor's mandate letting the wallet collect each bill on its due date, and each
collection Recoup asked the wallet for."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import MinorUnits
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class MandateState(StrEnum):
    pending = "pending"  # asked at the wallet; the debtor has not approved it there yet
    active = "active"  # the wallet collects each bill on its due date
    cancelled = "cancelled"  # by the debtor (portal or wallet) or by staff
    failed = "failed"  # the wallet refused it, or the debtor declined at the wallet


OPEN_MANDATE_STATES = (MandateState.pending, MandateState.active)


class AutopayMandate(IdMixin, CreatedMixin, Model):
    """One account's mandate at the wallet. `wallet_ref` is the wallet's id for it (unique): the
    collections name it; `created_by` and `cancelled_by` say who (`debtor`, `staff:<id>`,
    `wallet`)."""

    __tablename__ = "autopay_mandates"
    __table_args__ = (Index("ix_autopay_mandates_account_id_state", "account_id", "state"),)

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    account_id: Mapped[int] = mapped_column(BigId, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    wallet_ref: Mapped[str | None] = mapped_column(String(128), unique=True)
    redirect_url: Mapped[str | None] = mapped_column(String(1024))
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    activated_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(256))
    updated_at: Mapped[dt.datetime | None]

    @property
    def reference(self) -> str:
        return f"ram_{self.id}"


class CollectionStatus(StrEnum):
    requested = "requested"  # asked; no answer yet (re-asked with the same key on the next run)
    pending = "pending"  # the wallet took it; its webhook will say how it ended
    succeeded = "succeeded"  # collected: the payment is on the ledger
    failed = "failed"  # the wallet could not collect (balance short, mandate gone, ...)


class AutopayCollection(IdMixin, CreatedMixin, Model):
    """One attempt to collect one bill under one mandate. (mandate, bill, attempt) is unique:
    the daily run claims the row before it asks the wallet, so a rerun finds it and asks nothing,
    and the wallet de-duplicates the request by the same key if this transaction is lost."""

    __tablename__ = "autopay_collections"
    __table_args__ = (
        UniqueConstraint("mandate_id", "bill_id", "attempt"),
        Index("ix_autopay_collections_account_id", "account_id"),
    )

    mandate_id: Mapped[int] = mapped_column(BigId, nullable=False)
    account_id: Mapped[int] = mapped_column(BigId, nullable=False)
    bill_id: Mapped[int] = mapped_column(BigId, nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    business_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    amount_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    wallet_ref: Mapped[str | None] = mapped_column(String(128), unique=True)
    payment_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str | None] = mapped_column(String(256))
    ended_at: Mapped[dt.datetime | None]

    @property
    def reference(self) -> str:
        return f"rac_{self.id}"

    @property
    def idempotency_key(self) -> str:
        return f"recoup-autopay-{self.mandate_id}-{self.bill_id}-{self.attempt}"

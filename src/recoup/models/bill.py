from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import MinorUnits
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class Component(StrEnum):
    fees = "fees"
    interest = "interest"
    principal = "principal"


class Bill(IdMixin, CreatedMixin, Model):
    """An instalment or statement: what is due on a date, split into principal, interest and fees.

    What has been paid is the sum of the bill's allocations. `paid_minor` and `paid_off_date` (the value
    date on which allocations first covered the bill) are caches of that sum, rewritten together with
    the allocations in the same transaction, so the daily pass reads open bills without aggregating
    every allocation ever made.
    """

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("account_id", "external_ref"),
        Index("ix_bills_account_id_due_date", "account_id", "due_date"),
    )

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), nullable=False)
    external_ref: Mapped[str] = mapped_column(String(128), nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    principal_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False, default=0)
    interest_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False, default=0)
    fees_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False, default=0)
    paid_minor: Mapped[int] = mapped_column(
        MinorUnits(), nullable=False, default=0, server_default="0"
    )
    paid_off_date: Mapped[dt.date | None] = mapped_column(Date)

    @property
    def amount_due_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.fees_minor

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import MinorUnits
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class AccountStatus(StrEnum):
    open = "open"
    closed = "closed"
    charged_off = "charged_off"
    sold = "sold"


class Collector(StrEnum):
    """Who collects: the creditor itself (first party) or an agency it handed the debt to."""

    creditor = "creditor"
    agency = "agency"


class Account(IdMixin, CreatedMixin, Model):
    __tablename__ = "accounts"

    external_ref: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id"), index=True, nullable=False
    )
    product_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("products.code"), nullable=False, index=True
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    credit_limit_minor: Mapped[int | None] = mapped_column(MinorUnits())
    opened_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    closed_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=AccountStatus.open)
    collector: Mapped[str] = mapped_column(String(16), nullable=False, default=Collector.creditor)
    agency_ref: Mapped[str | None] = mapped_column(String(128))
    # Cache, rewritten with the allocations: live payments that no bill has absorbed.
    credit_minor: Mapped[int] = mapped_column(
        MinorUnits(), nullable=False, default=0, server_default="0"
    )

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.models.base import CreatedMixin, Model


class ProductKind(StrEnum):
    bnpl = "bnpl"
    credit_line = "credit_line"
    micro_loan = "micro_loan"
    personal_loan = "personal_loan"
    credit_card = "credit_card"
    student_loan = "student_loan"


class Product(CreatedMixin, Model):
    """A lending product: how its debts age and how payments are applied.

    `allocation` is the waterfall: `order` is `bill_first` (oldest bill first, each bill's components
    in `components` order) or `component_first` (each component across all bills, oldest first).
    `timezone` turns a payment's instant into the business date it counts for.
    `bucket_bounds` are the lower DPD bounds of the buckets after M0 (null: the deployment default).
    """

    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Shanghai")
    grace_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    bucket_bounds: Mapped[list[int] | None] = mapped_column(JSON)
    allocation: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False, default=dict)

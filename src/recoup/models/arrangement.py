from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import MinorUnits
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


class ArrangementKind(StrEnum):
    promise = "promise"  # an amount by a date; no change to the ledger
    plan = "plan"  # instalments; DPD paused while kept, or the balance rescheduled (re-aged)
    extension = "extension"  # 展期: a fee now, the overdue balance moved to a later due date
    settlement = "settlement"  # less than the balance by a date; the rest waived once it is paid


class ArrangementStatus(StrEnum):
    awaiting_approval = "awaiting_approval"  # a settlement below the policy's approval threshold
    active = "active"
    kept = "kept"  # promise or settlement paid, plan completed, extension applied
    broken = "broken"
    cancelled = "cancelled"
    rejected = "rejected"


OPEN_STATUSES = (ArrangementStatus.awaiting_approval, ArrangementStatus.active)


class Arrangement(IdMixin, CreatedMixin, Model):
    """An agreement with a debtor about one account, within the bounds of the policy that offered it.

    Payments count towards it by value date from `start_date` (the business day it was made) on:
    `paid_minor` caches what had arrived when it was last reviewed. At most one is open per account."""

    __tablename__ = "arrangements"
    __table_args__ = (Index("ix_arrangements_status_account", "status", "account_id"),)

    account_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # promise/settlement: what must arrive; plan: the instalments' total; extension: the fee.
    amount_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    balance_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)  # owed at the start
    fee_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False, default=0)
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)  # the last day money is due
    grace_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    paid_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False, default=0)
    policy_version: Mapped[str | None] = mapped_column(String(64))
    made_by: Mapped[str] = mapped_column(String(128), nullable=False)  # debtor, or a staff user
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # portal, api, agent
    approved_by: Mapped[str | None] = mapped_column(String(128))
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(256))
    updated_at: Mapped[dt.datetime | None]


class ArrangementInstalment(IdMixin, Model):
    """One instalment of a plan (a promise or settlement has one, on its due date)."""

    __tablename__ = "arrangement_instalments"
    __table_args__ = (UniqueConstraint("arrangement_id", "seq"),)

    arrangement_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("arrangements.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    amount_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    bill_id: Mapped[int | None] = mapped_column(BigId)  # when the balance was rescheduled


class BillAdjustment(IdMixin, CreatedMixin, Model):
    """A change an arrangement made to a bill's components, signed: what a reschedule moved out of
    an old bill (negative) and into a new one (positive), what a settlement waived, a fee charged or
    reversed. A bill's components are its imported amounts plus its adjustments; the bill row holds
    the sum, written in the same transaction, so the ledger reads bills as before."""

    __tablename__ = "bill_adjustments"

    account_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    bill_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    arrangement_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    component: Mapped[str] = mapped_column(String(16), nullable=False)
    amount_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # rescheduled, waived, fee
    effective_date: Mapped[dt.date] = mapped_column(Date, nullable=False)


class OneTimeCode(IdMixin, CreatedMixin, Model):
    """A code sent to a phone or e-mail already on file, proving the person holding a pay link is
    the customer before a sensitive action. Stored as a keyed hash; a few tries, a few minutes."""

    __tablename__ = "one_time_codes"

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # sms, email
    contact_id: Mapped[int | None] = mapped_column(BigId)  # the outbox row that carries it
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    used_at: Mapped[dt.datetime | None]

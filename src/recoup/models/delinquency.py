from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import MinorUnits, UTCDateTime
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class AccountDelinquency(Model):
    """The account's delinquency as of `as_of_date`: one row per account, rewritten by each pass.

    Derived tables (this one and the bucket history) carry no foreign keys: they are recomputed from
    the ledger, and per-row FK triggers would dominate the portfolio pass's bulk writes."""

    __tablename__ = "account_delinquency"

    account_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    as_of_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    dpd: Mapped[int] = mapped_column(Integer, nullable=False)
    # No index: nothing selects states by bucket, and the daily run writes every state.
    bucket: Mapped[str] = mapped_column(String(8), nullable=False)
    oldest_unpaid_due_date: Mapped[dt.date | None] = mapped_column(Date)
    overdue_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    outstanding_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    credit_minor: Mapped[int] = mapped_column(MinorUnits(), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)


class DelinquencyEvent(IdMixin, Model):
    """A bucket change, dated the day the account entered the new bucket (its bucket history)."""

    __tablename__ = "delinquency_events"
    __table_args__ = (Index("ix_delinquency_events_account_date", "account_id", "effective_date"),)

    account_id: Mapped[int] = mapped_column(BigId, nullable=False)
    effective_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    from_bucket: Mapped[str | None] = mapped_column(String(8))
    to_bucket: Mapped[str] = mapped_column(String(8), nullable=False)
    dpd: Mapped[int] = mapped_column(Integer, nullable=False)
    cause: Mapped[str] = mapped_column(String(32), nullable=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)


class PauseKind(StrEnum):
    """What a pause stands for: the rules read this, never the reason, which is for people."""

    dispute = "dispute"  # the debt is contested: no collection until it is answered
    hardship = "hardship"  # the debtor cannot pay for now: a person reviews, pressure stops
    cease = "cease"  # the debtor asked that collection contact stop
    plan = "plan"  # a payment plan in good standing freezes the count (held by `arrangement_id`)
    other = "other"  # anything else staff decide, such as a disaster-relief programme


class DelinquencyPause(IdMixin, CreatedMixin, Model):
    """Days in [start_date, end_date] do not count towards DPD (end_date null: still paused).

    `kind` says what the pause means to the strategy, the guard and the contact audit; a pause a
    plan or a case holds names it (`arrangement_id`, `case_id`), and is found and lifted through
    it. `reason` is free text for people."""

    __tablename__ = "delinquency_pauses"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("accounts.id"), index=True, nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # a PauseKind
    arrangement_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("arrangements.id"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("cases.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(256), nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DelinquencyRun(IdMixin, Model):
    """One portfolio pass; the latest finished one says how fresh `account_delinquency` is."""

    __tablename__ = "delinquency_runs"

    as_of_date: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    accounts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

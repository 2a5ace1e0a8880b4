from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.crypto import EncryptedString
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class PolicyVersion(IdMixin, CreatedMixin, Model):
    """A collection policy as its author saved it; one version is active at a time. Its `status`:
    draft (saved), submitted (for activation), active (approved by a second person, or activated
    by the operator at the host), rejected (with the reason), superseded (was active)."""

    __tablename__ = "policy_versions"

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    activated_at: Mapped[dt.datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    submitted_at: Mapped[dt.datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(128))
    # The second person's answer to a submission: approved (and so activated) or rejected.
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    rejection_reason: Mapped[str | None] = mapped_column(String(2000))


class StrategyDecision(IdMixin, CreatedMixin, Model):
    """What the policy decided for an account on a day, and what the guard said of its contact."""

    __tablename__ = "strategy_decisions"
    # The unique key serves lookups by account (its leading column): no index of account_id alone.
    __table_args__ = (UniqueConstraint("account_id", "as_of_date"),)

    account_id: Mapped[int] = mapped_column(BigId, nullable=False)
    as_of_date: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    policy_version_id: Mapped[int] = mapped_column(BigId, nullable=False)
    stage: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(64))
    experiment: Mapped[str | None] = mapped_column(String(64))
    arm: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16), nullable=False)
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    treatment: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    queue_priority: Mapped[float | None] = mapped_column(Float)
    offers: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    compliance: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    # The learner's explanation when a `learn:` stage chose the treatment: arm, value, sd, cell,
    # context, mode (learn, explore, holdout), p_pay, horizon and cost (for the reward later).
    learning: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class LearningArm(Model):
    """What a learning stage's arm has earned in a context cell: the rewards (money paid within
    the horizon minus the contact's cost) counted, summed and summed squared, by the daily run."""

    __tablename__ = "learning_arms"

    policy: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    cell: Mapped[str] = mapped_column(String(255), primary_key=True)
    arm: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    reward_sum: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    reward_sq_sum: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    updated_on: Mapped[dt.date] = mapped_column(Date, nullable=False)


class AgentTask(IdMixin, CreatedMixin, Model):
    __tablename__ = "agent_tasks"
    __table_args__ = (UniqueConstraint("account_id", "as_of_date", "queue"),)

    account_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    as_of_date: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    queue: Mapped[str] = mapped_column(String(64), nullable=False)
    priority: Mapped[float] = mapped_column(Float, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    # Why the task exists beyond the policy's queue: a reply to read, a call to place.
    source: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(BigId)
    closed_at: Mapped[dt.datetime | None]  # done, or expired: a day's queue not worked by its end
    # A supervisor's choice of agent (staff user id): offered to that agent first, to no other.
    assigned_to: Mapped[int | None] = mapped_column(BigId, index=True)
    # Who holds it now, since when, and until when without a wrap-up (then anyone may take it).
    taken_by: Mapped[int | None] = mapped_column(BigId, index=True)
    taken_at: Mapped[dt.datetime | None]
    lock_until: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))  # the wrap-up's, when done by an agent
    due_at: Mapped[dt.datetime | None]  # not offered before (a call back the debtor asked for)
    # Not offered from this moment on: the end of the treatment's window (a day call's 18:00 in
    # the debtor's zone); None: no end (a queue without a window, a call back, a reply, a case).
    due_until: Mapped[dt.datetime | None]


class AgentTaskEvent(IdMixin, Model):
    """A task's life: `assigned` (queued, or given to an agent), `taken`, `released` (let go, or
    its lock ran out), `reassigned`, `done` (with the wrap-up's outcome), `expired`."""

    __tablename__ = "agent_task_events"

    task_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(nullable=False, index=True)
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)  # none for the daily run's


class AccountNote(IdMixin, CreatedMixin, Model):
    """A staff note on an account; the text is personal data (sealed like a case's words)."""

    __tablename__ = "account_notes"

    account_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    text: Mapped[str] = mapped_column(EncryptedString("account_notes.text"), nullable=False)


class DailyRun(Model):
    """One business day's run (arrangements review, delinquency pass, strategy, stale tasks):
    claimed in the run's own transaction, so a day runs once whoever starts it."""

    __tablename__ = "daily_runs"

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    summary: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False, default=dict)

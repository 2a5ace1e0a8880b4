from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Double,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.crypto import EncryptedString
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class ContactStatus(StrEnum):
    """Where a contact stands. `planned` and `deferred` wait for their time; `queued` waits for a
    retry after a transient failure; `sending` is claimed by a worker (until its lease runs out);
    `failed` is the dead letter: a permanent refusal or retries exhausted, with the reason.
    `unknown`: a worker stopped after handing the message to a provider that cannot recognise a
    resend (an at-most-once channel) and before recording its answer; it may have gone, so it is
    never sent again blindly and the caps count it as sent, until reconciliation asks the provider
    (`sent` when it has the message, `queued` again when it says it has not)."""

    planned = "planned"
    deferred = "deferred"
    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"
    bounced = "bounced"
    cancelled = "cancelled"
    blocked = "blocked"
    expired = "expired"
    unknown = "unknown"


WAITING = (ContactStatus.planned, ContactStatus.deferred, ContactStatus.queued)
# A `call` contact is the account's place in the agents' queue, no contact with anyone: the agent's
# `dial` is the call. Caps, the contact audit and the analytics' attempts leave it out.
QUEUE_ENTRY = "call"
UNSENT = (*WAITING, ContactStatus.sending)
# What the frequency caps count as a contact made: what left, is leaving, or may have left.
COUNTED = (
    ContactStatus.sending,
    ContactStatus.sent,
    ContactStatus.delivered,
    ContactStatus.unknown,
)
# What a re-decision may plan again (its row revived, with a `revived` event): never a contact that
# left or is leaving.
REPLANNABLE = (*WAITING[:2], ContactStatus.cancelled, ContactStatus.blocked, ContactStatus.expired)


class ContactPlan(IdMixin, CreatedMixin, Model):
    """One contact in the outbox: the daily run and events plan it, the dispatcher sends it at
    `scheduled_at` after checking the guard and the account again, and every change of `status`
    is recorded in `contact_events`. `purpose` is `collection` for treatments the policy chose and
    `service` for the one confirmation an opt-out reply earns."""

    __tablename__ = "contact_plans"
    __table_args__ = (
        UniqueConstraint("account_id", "as_of_date", "treatment"),
        Index("ix_contact_plans_due", "status", "scheduled_at"),
        # Covers the strategy's count of contacts per account and stage (an index-only scan).
        Index("ix_contact_plans_history", "account_id", "stage", "status", "as_of_date"),
        # A customer's contacts by status: the send-time check's history of a batch.
        Index("ix_contact_plans_customer_status", "customer_id", "status"),
        # A provider's report finds its contact by the provider's id (`by_provider_id`, an
        # equality): the plans not handed to a provider yet, every plan the daily run writes,
        # are not in the index, so writing them costs no index insert.
        Index(
            "ix_contact_plans_provider_id",
            "provider_id",
            postgresql_where=text("provider_id IS NOT NULL"),
            sqlite_where=text("provider_id IS NOT NULL"),
        ),
    )

    account_id: Mapped[int] = mapped_column(BigId, nullable=False)
    customer_id: Mapped[int] = mapped_column(BigId, nullable=False)
    as_of_date: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    stage: Mapped[str] = mapped_column(String(64), nullable=False)
    treatment: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    tone: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    scheduled_at: Mapped[dt.datetime | None]
    reasons: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    # What the account owed when the contact was planned: a reminder about money owed is not sent
    # once that money is paid (a thank-you, planned with nothing owed, still is).
    overdue_minor: Mapped[int | None] = mapped_column(BigInteger)
    outstanding_minor: Mapped[int | None] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(
        String(16), nullable=False, default="collection", server_default="collection"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    lease_until: Mapped[dt.datetime | None]
    # When this attempt was handed to the provider (committed before the call): a `sending`
    # contact past its lease with it set may have gone, one without it has not.
    handed_at: Mapped[dt.datetime | None]
    worker: Mapped[str | None] = mapped_column(String(64))
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(128))
    address_index: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(64))  # who rings, for an agent's bridged call
    # The language to render it in when it is not the customer's (`contact.templates.LANGUAGES`):
    # an answer to a debtor who wrote in another language (recoup.assistant). None: theirs.
    language: Mapped[str | None] = mapped_column(String(8))
    # A call's place in the agents' queue, in the policy's hand-off unit (expected yuan an agent's
    # minute recovers: the decision's `queue_priority`, or the learner's `call_value`); None for
    # a message, and for a call the decision gave none (the dispatcher then falls back to
    # `contact.dispatch.call_priority`).
    priority: Mapped[float | None] = mapped_column(Float)
    # A call's end: its treatment's window's end on the day in the debtor's zone; the agents'
    # task the call becomes is not offered from then on (`agent_tasks.due_until`). None for a
    # message, and for a call whose treatment has no window.
    due_until: Mapped[dt.datetime | None]
    # A call's outcome, as telephony or the agent reported it (`compliance.codes.CALL_RESULTS`);
    # None for a message, and for a call nobody has reported on yet (the guard then counts it for
    # any result a cap counts).
    result: Mapped[str | None] = mapped_column(String(16))
    sent_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime | None]

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt of this contact, so a provider sees a retry as the same
        message; never reused by another contact."""
        return f"recoup-contact-{self.id}"


class ContactEvent(IdMixin, Model):
    """A contact's status changed: when, to what, by whom, and why (reasons, error, provider)."""

    __tablename__ = "contact_events"

    contact_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


class ContactMessage(IdMixin, CreatedMixin, Model):
    """What a contact said, as rendered at send time (encrypted: it names the debtor). In-app
    messages are read from here by the wallet's app, which reports when the debtor read them."""

    __tablename__ = "contact_messages"

    contact_id: Mapped[int] = mapped_column(BigId, unique=True, nullable=False)
    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    template_version_id: Mapped[int | None] = mapped_column(BigId)
    subject: Mapped[str | None] = mapped_column(EncryptedString("contact_messages.subject"))
    body: Mapped[str] = mapped_column(EncryptedString("contact_messages.body"), nullable=False)
    read_at: Mapped[dt.datetime | None]


class OptOut(IdMixin, CreatedMixin, Model):
    """The debtor asked not to be contacted on a channel (at one address, or at all of them).
    The guard reads these at plan and send time; withdrawal is recorded, never deleted."""

    __tablename__ = "opt_outs"

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    address_index: Mapped[str | None] = mapped_column(String(64))  # blind index; null: every one
    source: Mapped[str] = mapped_column(String(32), nullable=False)  # sms_reply, email, portal...
    evidence: Mapped[str] = mapped_column(String(256), nullable=False)
    withdrawn_at: Mapped[dt.datetime | None]


class InboundMessage(IdMixin, Model):
    """A message a person sent us (an SMS reply): kept encrypted, matched to a customer by the
    blind index of the sender's number, and classified (opt_out, reply)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("provider", "provider_id"),)

    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(128), nullable=False)
    from_index: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    body: Mapped[str] = mapped_column(EncryptedString("inbound_messages.body"), nullable=False)
    intent: Mapped[str] = mapped_column(String(16), nullable=False)
    received_at: Mapped[dt.datetime]


class ContactPreference(Model):
    """How a debtor wants to be contacted, as they said it (in the portal, or to an agent): times
    they said are inconvenient, which the guard treats as closed at plan and send time (12 CFR
    1006.6(b)(1) and its like), on the given weekdays (0 = Monday; empty: every day)."""

    __tablename__ = "contact_preferences"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    quiet_from: Mapped[int | None] = mapped_column(Integer)  # minutes after local midnight
    quiet_to: Mapped[int | None] = mapped_column(Integer)
    quiet_days: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)
    # The window they prefer: contact outside it is treated as inconvenient too.
    preferred_from: Mapped[int | None] = mapped_column(Integer)
    preferred_to: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    updated_at: Mapped[dt.datetime]


class ProviderPacing(Model):
    """One token bucket per provider (a channel's adapter), shared by every worker: the provider's
    `rate_per_second` holds for all of them together, not per process. `next_slot` is the moment
    (seconds since the epoch on the database's clock) from which the next send may go; a worker
    reserves a batch's sends in one `UPDATE ... RETURNING` (`contact.repository.reserve_sends`)."""

    __tablename__ = "provider_pacing"

    provider: Mapped[str] = mapped_column(String(120), primary_key=True)  # "<channel>:<adapter>"
    next_slot: Mapped[float] = mapped_column(Double, nullable=False)

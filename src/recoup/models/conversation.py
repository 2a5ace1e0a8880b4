from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.crypto import EncryptedString
from recoup.models.base import BigId, IdMixin, Model


class ConversationState(StrEnum):
    open = "open"  # the assistant is answering
    handed_over = "handed_over"  # a person has it: the assistant only records what comes in
    resolved = "resolved"  # what was asked is done (a promise, a plan, an answer)
    closed = "closed"  # nothing more will come of it (a wrong number, an opt-out)
    expired = "expired"  # open with nothing either way for a week: a new message starts anew


class Conversation(IdMixin, Model):
    """A debtor's exchange with the assistant on one channel (sms, email, chat). The customer is
    known from the sender's blind index or the pay link; the account is the one acted on. Two
    misunderstandings in a row, a request for a person or a crisis hand it over to an agent."""

    __tablename__ = "conversations"

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    account_id: Mapped[int | None] = mapped_column(BigId, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    language: Mapped[str] = mapped_column(String(16), nullable=False)
    misunderstandings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    opened_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    handed_over_reason: Mapped[str | None] = mapped_column(String(32))


class ConversationTurn(IdMixin, Model):
    """One message in a conversation, either way. The text is personal data: sealed like an
    inbound message's body. `action` names what the assistant did (`promise:12`, `case:4`...)."""

    __tablename__ = "conversation_turns"

    conversation_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)  # in, out
    text: Mapped[str] = mapped_column(EncryptedString("conversation_turns.text"), nullable=False)
    intent: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    action: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime]

"""Conversations and their turns: the assistant's own record of what a debtor wrote, what it
understood, what it did and what it answered.

A customer has at most one live conversation per channel (`open`, or `handed_over` to a person);
a message on that channel continues it, anything after `resolved` or `closed` opens a new one.
Turns keep the text sealed (`conversation_turns.text` is encrypted like an inbound message's
body); the audit ledger gets each turn's intent and action, never its words.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from recoup.assistant.repository import ConversationRepository
from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import NotFound, ValidationFailed
from recoup.models import Conversation, ConversationState, ConversationTurn

CHANNELS = ("sms", "email", "chat")
# An open conversation with nothing either way for this long expires (`expire_idle`).
IDLE = dt.timedelta(days=7)
MAX_TEXT = 1_600  # an SMS concatenated to its limit; the chat form takes no more
# Languages as the understanding names them, and the templates' names for them.
TEMPLATE_LANGUAGE = {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW", "en": "en"}


def conversation(
    session: Session,
    customer_id: int,
    *,
    channel: str,
    account_id: int | None,
    language: str,
    clock: Clock,
) -> Conversation:
    """The customer's live conversation on the channel, or a new one."""
    if channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}")
    repo = ConversationRepository(session)
    live = repo.live(customer_id, channel)
    now = clock.now()
    if live is not None and _idle(live, now):
        move(session, live, ConversationState.expired, actor="assistant", clock=clock)
        live = None
    if live is not None:
        return live
    return repo.add(
        customer_id=customer_id,
        account_id=account_id,
        channel=channel,
        state=ConversationState.open,
        language=language,
        misunderstandings=0,
        opened_at=now,
        updated_at=now,
    )


def _idle(conversation: Conversation, now: dt.datetime) -> bool:
    return conversation.state == ConversationState.open and conversation.updated_at < now - IDLE


def expire_idle(session: Session, *, clock: Clock, batch: int = 1_000) -> int:
    """Expire the assistant's open conversations with nothing either way for `IDLE` (a debtor
    offered alternatives who never answered, a question left there): they leave the open list,
    count as neither resolved nor handed over, and the debtor's next message starts a new one.
    One audit entry each. Returns how many expired. The daily run's caller runs it each day."""
    repo = ConversationRepository(session)
    now = clock.now()
    total = 0
    while ids := repo.idle(now - IDLE, limit=batch):
        expired = repo.expire(ids, now)
        audit_service.record_many(
            session,
            [
                audit_service.Entry(
                    actor="assistant",
                    action=f"assistant.conversation_{ConversationState.expired}",
                    subject_type="conversation",
                    subject_id=i,
                    details={"from": ConversationState.open, "reason": "idle"},
                )
                for i in ids
            ],
            clock=clock,
        )
        total += expired
        if len(ids) < batch:
            break
    return total


def get(session: Session, conversation_id: int) -> Conversation:
    found = ConversationRepository(session).get(conversation_id)
    if found is None:
        raise NotFound(f"no conversation {conversation_id}")
    return found


def live(session: Session, customer_id: int, channel: str) -> Conversation | None:
    return ConversationRepository(session).live(customer_id, channel)


def latest(session: Session, customer_id: int, channel: str) -> Conversation | None:
    return ConversationRepository(session).latest(customer_id, channel)


def add_turn(
    session: Session,
    conversation: Conversation,
    *,
    direction: str,
    text: str,
    actor: str,
    clock: Clock,
    intent: str | None = None,
    confidence: float | None = None,
    entities: dict[str, Any] | None = None,
    action: str | None = None,
) -> ConversationTurn:
    """One turn, sealed, with its audit entry (the intent and the action; never the words)."""
    if direction not in ("in", "out"):
        raise ValidationFailed("direction is in or out")
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise ValidationFailed(f"a message is 1 to {MAX_TEXT:,} characters")
    repo = ConversationRepository(session)
    now = clock.now()
    turn = repo.add_turn(
        conversation_id=conversation.id,
        direction=direction,
        text=text,
        intent=intent,
        confidence=confidence,
        entities=entities or {},
        action=action,
        at=now,
    )
    repo.change(conversation, updated_at=now)
    audit_service.record(
        session,
        actor=actor,
        action=f"assistant.turn_{direction}",
        subject_type="conversation",
        subject_id=conversation.id,
        clock=clock,
        details={
            "turn": turn.id,
            "channel": conversation.channel,
            "intent": intent,
            "confidence": None if confidence is None else round(confidence, 3),
            "action": action,
        },
    )
    return turn


def acted(session: Session, turn: ConversationTurn, action: str) -> None:
    """Name what was done about an inbound turn, once it is done."""
    ConversationRepository(session).change(turn, action=action[:64])


def misunderstood(session: Session, conversation: Conversation) -> int:
    """One more message the assistant could not act on; how many now."""
    count = conversation.misunderstandings + 1
    ConversationRepository(session).change(conversation, misunderstandings=count)
    return count


def understood(session: Session, conversation: Conversation) -> None:
    """A message acted on: the misunderstandings counted are those in a row."""
    if conversation.misunderstandings:
        ConversationRepository(session).change(conversation, misunderstandings=0)


def move(
    session: Session,
    conversation: Conversation,
    state: ConversationState,
    *,
    actor: str,
    clock: Clock,
    reason: str | None = None,
    account_id: int | None = None,
) -> None:
    """A new state (handed over with its reason, resolved, closed), audited."""
    now = clock.now()
    values: dict[str, Any] = {"state": state, "updated_at": now}
    if state == ConversationState.handed_over:
        values["handed_over_reason"] = (reason or "asked")[:32]
    if state in (ConversationState.resolved, ConversationState.closed):
        values["resolved_at"] = now
    if account_id is not None and conversation.account_id is None:
        values["account_id"] = account_id
    before = conversation.state
    ConversationRepository(session).change(conversation, **values)
    audit_service.record(
        session,
        actor=actor,
        action=f"assistant.conversation_{state}",
        subject_type="conversation",
        subject_id=conversation.id,
        clock=clock,
        details={"from": before, "reason": reason},
    )


def turns(session: Session, conversation_id: int) -> Sequence[ConversationTurn]:
    return ConversationRepository(session).turns(conversation_id)


def recent_turns(
    session: Session, customer_id: int, channel: str, *, limit: int = 50
) -> list[ConversationTurn]:
    return ConversationRepository(session).recent_turns(customer_id, channel, limit=limit)


def of_account(session: Session, account_id: int, *, limit: int = 20) -> list[Conversation]:
    return ConversationRepository(session).of_account(account_id, limit=limit)


def in_state(session: Session, state: str, *, limit: int = 100) -> Sequence[Conversation]:
    if state not in tuple(ConversationState):
        raise ValidationFailed(f"state must be one of {', '.join(ConversationState)}")
    return ConversationRepository(session).in_state(state, limit=limit)


@dataclass(frozen=True)
class Kpis:
    """The assistant's figures over a period: how many conversations it had, how many it
    resolved without a person (a promise, a plan, a case opened, an answer), how many went to
    a person and why, and the median time from the first message to resolution."""

    conversations: int
    resolved_without_person: int
    handed_over: int
    handed_over_by_reason: dict[str, int]
    median_minutes_to_resolution: float | None

    @property
    def share_resolved_without_person(self) -> float | None:
        return self.resolved_without_person / self.conversations if self.conversations else None


def kpis(session: Session, *, since: dt.datetime) -> Kpis:
    rows = ConversationRepository(session).outcomes(since)
    alone = [
        (resolved - opened).total_seconds() / 60
        for state, reason, opened, resolved in rows
        if reason is None and state in RESOLVED and resolved is not None
    ]
    reasons = Counter(reason for _, reason, _, _ in rows if reason is not None)
    return Kpis(
        conversations=len(rows),
        resolved_without_person=len(alone),
        handed_over=sum(reasons.values()),
        handed_over_by_reason=dict(sorted(reasons.items())),
        median_minutes_to_resolution=round(statistics.median(alone), 1) if alone else None,
    )


RESOLVED = (ConversationState.resolved, ConversationState.closed)


def payments_since(session: Session, account_id: int, since: dt.date) -> int:
    return ConversationRepository(session).payments_since(account_id, since)

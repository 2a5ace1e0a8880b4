"""SQL for the assistant: the only writer of `conversations` and `conversation_turns`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from recoup.kit.repository import Repository
from recoup.models import Conversation, ConversationState, ConversationTurn, Payment

LIVE = (ConversationState.open, ConversationState.handed_over)


class ConversationRepository(Repository[Conversation]):
    model = Conversation

    def add(self, **values: Any) -> Conversation:
        """A new conversation, flushed for its id."""
        return self.create(Conversation(**values))

    def live(self, customer_id: int, channel: str) -> Conversation | None:
        """The customer's conversation still going on this channel (open or with a person)."""
        c = Conversation
        stmt = (
            select(c)
            .where(c.customer_id == customer_id, c.channel == channel, c.state.in_(LIVE))
            .order_by(c.id.desc())
            .limit(1)
        )
        return self.session.execute(stmt).scalars().first()

    def latest(self, customer_id: int, channel: str) -> Conversation | None:
        """The customer's latest conversation on this channel, whatever its state."""
        c = Conversation
        stmt = (
            select(c)
            .where(c.customer_id == customer_id, c.channel == channel)
            .order_by(c.id.desc())
            .limit(1)
        )
        return self.session.execute(stmt).scalars().first()

    def idle(self, before: dt.datetime, *, limit: int) -> list[int]:
        """Open conversations (the assistant's, not a person's) untouched since `before`."""
        c = Conversation
        stmt = (
            select(c.id)
            .where(c.state == ConversationState.open, c.updated_at < before)
            .order_by(c.id)
            .limit(limit)
        )
        return list(self.session.execute(stmt).scalars())

    def expire(self, ids: Sequence[int], at: dt.datetime) -> int:
        """Those conversations `expired`, if still open."""
        c = Conversation
        result = self.session.execute(
            update(c)
            .where(c.id.in_(list(ids)), c.state == ConversationState.open)
            .values(state=ConversationState.expired, updated_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def change(self, row: Conversation | ConversationTurn, **values: Any) -> None:
        for name, value in values.items():
            setattr(row, name, value)
        self.session.flush()

    def add_turn(self, **values: Any) -> ConversationTurn:
        turn = ConversationTurn(**values)
        self.session.add(turn)
        self.session.flush()
        return turn

    def turns(self, conversation_id: int) -> Sequence[ConversationTurn]:
        t = ConversationTurn
        stmt = select(t).where(t.conversation_id == conversation_id).order_by(t.at, t.id)
        return list(self.session.execute(stmt).scalars())

    def recent_turns(self, customer_id: int, channel: str, *, limit: int) -> list[ConversationTurn]:
        """The customer's latest turns on a channel across its conversations, oldest first."""
        t, c = ConversationTurn, Conversation
        stmt = (
            select(t)
            .join(c, c.id == t.conversation_id)
            .where(c.customer_id == customer_id, c.channel == channel)
            .order_by(t.at.desc(), t.id.desc())
            .limit(limit)
        )
        return list(reversed(list(self.session.execute(stmt).scalars())))

    def outcomes(
        self, since: dt.datetime
    ) -> list[tuple[str, str | None, dt.datetime, dt.datetime | None]]:
        """(state, why handed over, opened, resolved) of the conversations opened since then."""
        c = Conversation
        stmt = select(c.state, c.handed_over_reason, c.opened_at, c.resolved_at).where(
            c.opened_at >= since
        )
        return [tuple(row) for row in self.session.execute(stmt)]  # type: ignore[misc]

    def of_account(self, account_id: int, *, limit: int) -> list[Conversation]:
        """The account's conversations, newest first."""
        c = Conversation
        stmt = select(c).where(c.account_id == account_id).order_by(c.id.desc()).limit(limit)
        return list(self.session.execute(stmt).scalars())

    def in_state(self, state: str, *, limit: int) -> Sequence[Conversation]:
        """Conversations in a state, the longest waiting first."""
        c = Conversation
        stmt = select(c).where(c.state == state).order_by(c.updated_at, c.id).limit(limit)
        return list(self.session.execute(stmt).scalars())

    def payments_since(self, account_id: int, since: dt.date) -> int:
        """How many payments the ledger holds for the account from a day on (a read of the
        ledger's table, for "I have paid")."""
        p = Payment
        stmt = select(p.id).where(
            p.account_id == account_id, p.value_date >= since, p.reversed_at.is_(None)
        )
        return len(list(self.session.execute(stmt).scalars()))

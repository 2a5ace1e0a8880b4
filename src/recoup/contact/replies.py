"""The replies inbox: the debtors' free-text replies nobody could classify (`flows.receive_sms`
opens a task in the `replies` queue for each), read and handled by a person.

Each task is handled once, by one of four actions, and the handling closes it:

- `case`: a complaint, dispute or hardship case, the reply's text as the debtor's own words
  (`cases.flows.open_case`: a dispute or hardship pauses the accounts at once);
- `consent`: the debtor agreed to electronic messages on the reply's channel
  (`privacy.service.record_consent`, evidence: the inbound message's id);
- `opt_out`: the reply asked to stop that channel in words the keyword list does not know
  (`flows.opt_out_customer` for the address it came from, and the one confirmation an SMS
  opt-out earns, as a STOP does);
- `done`: read, nothing to do.

The bodies are personal data: listing them notes each customer shown in the data-access log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.audit import service as audit_service
from recoup.cases import flows as case_flows
from recoup.contact import flows as contact_flows
from recoup.contact import repository as repo
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.models import AgentTask, InboundMessage
from recoup.privacy import service as privacy_service

ACTIONS = ("case", "consent", "opt_out", "done")
INBOX_LIMIT = 200


@dataclass(frozen=True)
class Reply:
    """An open task of the replies queue and the replies it stands for (the first, and any more
    the same customer sent since: a second reply on the same day joins the day's task)."""

    task: AgentTask
    messages: list[InboundMessage]

    @property
    def message(self) -> InboundMessage:
        return self.messages[-1]  # the one that opened the task

    @property
    def customer_id(self) -> int | None:
        return self.message.customer_id


def inbox(session: Session, *, actor: str, clock: Clock, limit: int = INBOX_LIMIT) -> list[Reply]:
    """The open replies, newest first, their bodies decrypted for the reader (a logged view)."""
    tasks = repo.open_reply_tasks(session, contact_flows.REPLIES_QUEUE, limit=limit)
    firsts = repo.inbound_messages(session, {t.subject_id for t in tasks if t.subject_id})
    customers = {m.customer_id for m in firsts.values() if m.customer_id is not None}
    since = min((m.received_at for m in firsts.values()), default=clock.now())
    later = repo.replies_since(session, customers, since)
    out = []
    for task in tasks:
        first = firsts.get(task.subject_id or 0)
        if first is None:
            continue
        more = [
            m
            for m in later
            if m.customer_id == first.customer_id
            and m.id != first.id
            and m.received_at >= first.received_at
        ]
        out.append(Reply(task, [*more, first]))
    for customer_id in sorted({r.customer_id for r in out if r.customer_id is not None}):
        audit_service.log_access(
            session,
            customer_id=customer_id,
            actor=actor,
            kind="view",
            fields=["inbound_messages.body"],
            reason="replies inbox",
            clock=clock,
        )
    return out


class NotOpen(Conflict):
    code = "reply_handled"
    description = "The reply's task is already handled"


def _open_task(session: Session, task_id: int) -> tuple[AgentTask, InboundMessage]:
    task = repo.agent_task(session, task_id)
    if task is None or task.source != "reply" or task.queue != contact_flows.REPLIES_QUEUE:
        raise NotFound(f"no reply task {task_id}")
    if task.status != "open":
        raise NotOpen(f"reply task {task_id} is {task.status}")
    message = repo.inbound_messages(session, [task.subject_id or 0]).get(task.subject_id or 0)
    if message is None or message.customer_id is None:
        raise NotFound(f"reply task {task_id} has no reply from a known customer")
    return task, message


def handle(
    session: Session,
    task_id: int,
    action: str,
    *,
    by: str,
    clock: Clock,
    kind: str | None = None,
    reason: str | None = None,
    expires_at: dt.datetime | None = None,
) -> dict[str, int | str | None]:
    """Handle an open reply task by `action` (`ACTIONS`) and close it; what was made (a case's
    or a consent's id, how many contacts an opt-out cancelled)."""
    if action not in ACTIONS:
        raise ValidationFailed(f"action must be one of {', '.join(ACTIONS)}")
    task, message = _open_task(session, task_id)
    customer_id = message.customer_id
    assert customer_id is not None
    made: dict[str, int | str | None] = {"action": action, "message_id": message.id}
    if action == "case":
        if kind is None or reason is None:
            raise ValidationFailed("kind: a case needs its kind and reason")
        case = case_flows.open_case(
            session,
            customer_id,
            kind=kind,
            reason=reason,
            text=message.body[: case_flows.MAX_TEXT],
            account_ref=None,
            opened_by=by,
            channel=message.channel,
            clock=clock,
        )
        made["case_id"] = case.id
    elif action == "consent":
        if expires_at is not None and expires_at <= clock.now():
            raise ValidationFailed("expires_at: a consent must expire in the future")
        consent = privacy_service.record_consent(
            session,
            customer_id,
            purpose="electronic",
            evidence=f"inbound message {message.id}",
            source="replies_inbox",
            clock=clock,
            channel=message.channel,
            scope={"recorded_by": by},
            expires_at=expires_at,
        )
        made["consent_id"] = consent.id
    elif action == "opt_out":
        made["cancelled"] = contact_flows.opt_out_customer(
            session,
            customer_id,
            channel=message.channel,
            address_index=message.from_index,
            source="replies_inbox",
            evidence=f"inbound message {message.id}",
            clock=clock,
        )
        if message.channel == "sms":  # the one confirmation an opt-out earns, as for STOP
            contact_flows.confirm_opt_out(session, customer_id, clock.now())
    agents_service.done(session, [task.id], now=clock.now())
    audit_service.record(
        session,
        actor=by,
        action="contact.reply_handled",
        subject_type="inbound_message",
        subject_id=message.id,
        clock=clock,
        details={"task": task.id, **made},
    )
    return made

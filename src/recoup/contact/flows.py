"""What comes back from the channels: replies, opt-outs and delivery receipts.

- An SMS reply whose text is an opt-out keyword (`STOP`, `UNSUBSCRIBE`, `退订`, `TD`, `T`...) opts
  that number out of SMS at once: the opt-out is recorded, every SMS not yet sent to the customer is
  cancelled in the same transaction, the customer's accounts are re-decided (another channel may
  be chosen), one confirmation is queued (the only message an opt-out earns, CTIA and TCPA
  practice), and the whole is audited. Any other reply is kept (encrypted) as a note and becomes a
  task in the agents' `replies` queue.
- A one-click unsubscribe (RFC 8058) from an e-mail does the same for e-mail at that address.
- A status callback moves a sent contact to `delivered` or `bounced`; late or repeated callbacks
  never move it backwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.audit import service as audit_service
from recoup.channels.whatsapp import Status
from recoup.compliance import Guard
from recoup.compliance.codes import CALL_RESULTS
from recoup.contact import dispatch
from recoup.contact import repository as repo
from recoup.contact import service as contact_service
from recoup.contact.dispatch import DispatchConfig
from recoup.contact.templates import language_for
from recoup.delinquency.repository import DelinquencyRepository
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.kit.indexes import email_index, phone_index
from recoup.ledger import service as ledger_service
from recoup.ledger.contacts import ContactError, normalise_email, normalise_phone
from recoup.ledger.repository import AccountRepository, CustomerRepository
from recoup.models import (
    ContactPlan,
    ContactStatus,
)
from recoup.strategy import service as strategy_service

# Opt-out words: the CTIA and carrier set in English, the Chinese operators' 退订/TD/T and the
# Traditional forms. A reply is an opt-out when, stripped of punctuation, it is one of these.
OPT_OUT_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
        "revoke",
        "td",
        "t",
        "n",
        "退订",
        "退訂",
        "取消",
        "退订短信",
        "退訂簡訊",
    }
)
# The language an opt-out keyword is written in, to confirm the opt-out in it (`confirm_opt_out`):
# CTIA's English keywords are English, 退订 and 退訂 are their script; the Chinese carriers' codes
# (TD, T, N) and 取消, shared by both scripts, say nothing of it (the customer's language).
KEYWORD_LANGUAGE = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"), "en"
    ),
    "退订": "zh-CN",
    "退订短信": "zh-CN",
    "退訂": "zh-TW",
    "退訂簡訊": "zh-TW",
}
REPLIES_QUEUE = "replies"
PROVIDER_ID_MAX = 128  # inbound_messages.provider_id
STATUS_RANK = {"sent": 1, "delivered": 2, "bounced": 2}


def _keyword(text: str) -> str:
    words = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s\W_]+", "", words)


def is_opt_out(text: str) -> bool:
    return _keyword(text) in OPT_OUT_WORDS


def keyword_language(text: str) -> str | None:
    """The template language an opt-out keyword is written in (`KEYWORD_LANGUAGE`), or None."""
    return KEYWORD_LANGUAGE.get(_keyword(text))


@dataclass(frozen=True)
class InboundResult:
    message_id: int
    intent: str  # opt_out, reply, unknown_sender
    customers: int
    cancelled: int
    duplicate: bool = False
    customer_id: int | None = None  # the first customer the sender's number is on
    from_index: str | None = None  # the sender's blind index


def receive_sms(
    session: Session,
    *,
    provider: str,
    provider_id: str,
    from_number: str,
    body: str,
    region: str,
    clock: Clock,
    task_replies: bool = True,
) -> InboundResult:
    """Record an inbound SMS and act on it (see the module docstring). Idempotent per provider id.
    `task_replies=False`: a reply that is not an opt-out is only recorded, for the assistant
    (`recoup.assistant.flows`), which answers it or hands it to a person itself."""
    existing = repo.inbound_by_provider_id(session, provider, provider_id)
    if existing is not None:
        return InboundResult(existing.id, existing.intent, 0, 0, duplicate=True)
    try:
        number = normalise_phone(from_number, region)
    except ContactError:
        number = from_number.strip()
    index = phone_index(number)
    now = clock.now()
    customers = CustomerRepository(session).ids_with_phone(index)
    opt_out = is_opt_out(body)
    intent = "opt_out" if opt_out else ("reply" if customers else "unknown_sender")
    message = repo.add_inbound(
        session,
        channel="sms",
        provider=provider,
        provider_id=provider_id,
        from_index=index,
        customer_id=customers[0] if customers else None,
        body=body,
        intent=intent,
        received_at=now,
    )
    cancelled = 0
    for customer_id in customers:
        if opt_out:
            cancelled += opt_out_customer(
                session,
                customer_id,
                channel="sms",
                address_index=index,
                source="sms_reply",
                evidence=f"inbound message {message.id}",
                clock=clock,
            )
            confirm_opt_out(session, customer_id, now, language=keyword_language(body))
        elif task_replies:
            _reply_task(session, customer_id, message.id, now)
    audit_service.record(
        session,
        actor=f"sms:{provider}",
        action="contact.reply_received",
        subject_type="inbound_message",
        subject_id=message.id,
        clock=clock,
        details={"intent": intent, "customers": customers, "cancelled": cancelled},
    )
    return InboundResult(
        message.id,
        intent,
        len(customers),
        cancelled,
        customer_id=customers[0] if customers else None,
        from_index=index,
    )


def canonical_email(raw: str) -> str | None:
    """The address a `From` header names ("Zhang Wei <Zhang.Wei@Example.COM>" is
    "Zhang.Wei@example.com", as addresses are stored), or None when it names none."""
    _, address = parseaddr(raw)
    try:
        return normalise_email(address)
    except ContactError:
        return None


def receive_email(
    session: Session,
    *,
    provider: str,
    message_id: str,
    from_address: str,
    body: str,
    clock: Clock,
) -> InboundResult:
    """Record an inbound e-mail (a reply to one of ours), sealed like an SMS reply, matched to the
    customers by the blind index of the sender's canonical address. Idempotent per Message-ID
    (kept as its SHA-256 when longer than the column). Opt-outs by e-mail come through the
    RFC 8058 link or in words to the assistant, which reads every reply from a known sender."""
    provider_id = (
        message_id
        if len(message_id) <= PROVIDER_ID_MAX
        else "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
    )
    existing = repo.inbound_by_provider_id(session, provider, provider_id)
    if existing is not None:
        return InboundResult(existing.id, existing.intent, 0, 0, duplicate=True)
    address = canonical_email(from_address)
    index = email_index(address if address is not None else from_address)
    customers = CustomerRepository(session).ids_with_email(index) if address else []
    intent = "reply" if customers else "unknown_sender"
    message = repo.add_inbound(
        session,
        channel="email",
        provider=provider,
        provider_id=provider_id,
        from_index=index,
        customer_id=customers[0] if customers else None,
        body=body,
        intent=intent,
        received_at=clock.now(),
    )
    audit_service.record(
        session,
        actor=f"email:{provider}",
        action="contact.reply_received",
        subject_type="inbound_message",
        subject_id=message.id,
        clock=clock,
        details={"intent": intent, "customers": customers, "channel": "email"},
    )
    return InboundResult(
        message.id,
        intent,
        len(customers),
        0,
        customer_id=customers[0] if customers else None,
        from_index=index,
    )


def opt_out_customer(
    session: Session,
    customer_id: int,
    *,
    channel: str,
    address_index: str | None,
    source: str,
    evidence: str,
    clock: Clock,
) -> int:
    """Record the opt-out, cancel the channel's unsent contacts, re-decide the accounts. Returns
    how many contacts were cancelled."""
    now = clock.now()
    if repo.opted_out(session, customer_id, channel, address_index):
        return 0  # a second STOP, or a second click: already opted out, nothing more to do
    repo.add_opt_out(
        session,
        customer_id=customer_id,
        channel=channel,
        address_index=address_index,
        source=source,
        evidence=evidence,
        created_at=now,
    )
    cancelled = repo.cancel_unsent(
        session,
        f"opted out of {channel}",
        now=now,
        actor=source,
        customer_id=customer_id,
        channel=channel,
    ).total()
    audit_service.record(
        session,
        actor=source,
        action="contact.opted_out",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={"channel": channel, "cancelled": cancelled, "evidence": evidence},
    )
    for account_id in _open_accounts(session, customer_id):
        strategy_service.redecide(session, account_id, clock=clock, cause=f"{channel} opt-out")
    return cancelled


PREFERENCE_CHANNELS = ("sms", "email", "push", "call")


@dataclass(frozen=True)
class Preferences:
    allowed: frozenset[str]  # channels not opted out of
    quiet_from: str | None  # "HH:MM", local
    quiet_to: str | None
    preferred_from: str | None
    preferred_to: str | None


def preferences_of(session: Session, customer_id: int) -> Preferences:
    opted = repo.opted_out_channels(session, customer_id)
    held = repo.preference(session, customer_id)

    def hhmm(minutes: int | None) -> str | None:
        return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"

    return Preferences(
        frozenset(c for c in PREFERENCE_CHANNELS if c not in opted),
        hhmm(held.quiet_from) if held else None,
        hhmm(held.quiet_to) if held else None,
        hhmm(held.preferred_from) if held else None,
        hhmm(held.preferred_to) if held else None,
    )


def window(start: str | None, end: str | None, what: str) -> tuple[int, int] | None:
    """Two local times ("HH:MM") as minutes after midnight, both or neither; 422 otherwise, its
    `details` naming the window by its first word (`quiet`, `preferred`) for a page to word."""
    if start is None and end is None:
        return None
    named = what.split()[0] if what.strip() else what
    minutes = []
    for value in (start, end):
        hours, _, mins = (value or "").partition(":")
        if not (
            hours.isascii()
            and hours.isdigit()
            and mins.isascii()
            and mins.isdigit()
            and int(hours) < 24
            and int(mins) < 60
        ):
            raise ValidationFailed(
                f"give both ends of the {what} as HH:MM, or neither",
                details={"reason": "window_format", "window": named},
            )
        minutes.append(int(hours) * 60 + int(mins))
    if minutes[0] == minutes[1]:
        raise ValidationFailed(
            f"the {what} must start and end at different times",
            details={"reason": "window_same", "window": named},
        )
    return minutes[0], minutes[1]


def set_preferences(
    session: Session,
    customer_id: int,
    *,
    language: str | None,
    channels: set[str],
    quiet: tuple[int, int] | None,
    source: str,
    clock: Clock,
    preferred: tuple[int, int] | None = None,
) -> None:
    """What a debtor said about being contacted: the language, the channels allowed (the others
    are opted out of, and unsent contacts on them cancelled; an allowed one opted out of before is
    opted back in), quiet hours and a preferred window (local minutes [from, to)): the guard
    treats the quiet hours, and the time outside the preferred window, as inconvenient at plan
    and send time. The accounts are re-decided at once."""
    now = clock.now()
    customer = CustomerRepository(session).get(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    if language is not None:
        ledger_service.set_language(session, customer, language, clock=clock)
    for channel in PREFERENCE_CHANNELS:
        if channel not in channels:
            opt_out_customer(
                session,
                customer_id,
                channel=channel,
                address_index=None,
                source=source,
                evidence="contact preferences",
                clock=clock,
            )
            continue
        withdrawn = repo.withdraw_opt_outs(session, customer_id, channel, now)
        if withdrawn:
            audit_service.record(
                session,
                actor=source,
                action="contact.opted_in",
                subject_type="customer",
                subject_id=customer_id,
                clock=clock,
                details={"channel": channel},
            )
    repo.set_preference(
        session, customer_id, quiet=quiet, preferred=preferred, source=source, at=now
    )
    audit_service.record(
        session,
        actor=source,
        action="contact.preferences_set",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={
            "language": language,
            "channels": sorted(channels),
            "quiet": quiet,
            "preferred": preferred,
        },
    )
    for account_id in _open_accounts(session, customer_id):
        strategy_service.redecide(session, account_id, clock=clock, cause="preferences")


def unsubscribe(session: Session, token: str, *, keys: Sequence[bytes], clock: Clock) -> int:
    """A one-click unsubscribe link (RFC 8058): opt the address out of e-mail."""
    payload = contact_service.read_link(token, keys=keys, clock=clock)
    return opt_out_customer(
        session,
        int(payload["c"]),
        channel=str(payload["ch"]),
        address_index=payload.get("a"),
        source="email_unsubscribe",
        evidence=f"unsubscribe link of contact {payload.get('n')}",
        clock=clock,
    )


def record_status(
    session: Session,
    *,
    provider: str,
    provider_id: str,
    status: str,
    error: str | None,
    clock: Clock,
) -> bool:
    """A provider's status callback for a message it accepted. Returns False if the message is not
    ours (or not known yet); a status that would move it backwards is ignored."""
    contact = repo.by_provider_id(session, provider, provider_id)
    if contact is None:
        return False
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(contact.status, 0):
        return True
    now = clock.now()
    reasons = [error] if status == ContactStatus.bounced and error else None
    repo.set_status(session, contact, status, now=now, reasons=reasons)
    repo.add_events(
        session,
        [
            {
                "contact_id": contact.id,
                "status": status,
                "at": now,
                "actor": f"callback:{provider}",
                "detail": {"error": error} if error else {},
            }
        ],
    )
    return True


# A letter's report: printed and mailed change nothing we track (it is `sent`: handed to the
# printer); delivered is delivered; returned to sender is a bounce, with that reason.
LETTER_STATUS = {"delivered": ContactStatus.delivered, "returned": ContactStatus.bounced}
RETURNED_TO_SENDER = "returned to sender"
LETTER_PROVIDER = "post"  # recoup.channels.post.PostAdapter.name


def record_letter_status(session: Session, *, provider_id: str, status: str, clock: Clock) -> None:
    """The print-and-post provider's status callback (already verified). A letter we do not know
    (yet) is NotFound, so the provider retries until our record of its id has landed."""
    new = LETTER_STATUS.get(status)
    if new is None:
        if repo.by_provider_id(session, LETTER_PROVIDER, provider_id) is None:
            raise NotFound("no letter of ours has that id")
        return
    error = RETURNED_TO_SENDER if new == ContactStatus.bounced else None
    if not record_status(
        session, provider=LETTER_PROVIDER, provider_id=provider_id, status=new, error=error,
        clock=clock,
    ):  # fmt: skip
        raise NotFound("no letter of ours has that id")
    if new == ContactStatus.bounced:
        _address_returned(session, provider_id, clock)


def _address_returned(session: Session, provider_id: str, clock: Clock) -> None:
    """The address a returned letter went to is marked: the next letter goes to the customer's
    next address on file, or, with none left, is not sent (`no letter address on file`)."""
    letter = repo.by_provider_id(session, LETTER_PROVIDER, provider_id)
    where = letter.address_index if letter is not None else None
    if letter is None or not where or not where.startswith(dispatch.LETTER_ADDRESS):
        return  # sent before letters recorded their address: nothing to mark
    address_id = int(where.removeprefix(dispatch.LETTER_ADDRESS))
    ledger_service.address_returned(
        session,
        letter.customer_id,
        address_id,
        evidence=f"letter {letter.id} returned to sender",
        clock=clock,
    )


WHATSAPP_STATUS = {
    "delivered": ContactStatus.delivered,
    "read": ContactStatus.delivered,
    "failed": ContactStatus.bounced,
}
_PROVIDER_ID_LIMIT = 128  # what `contact_plans.provider_id` holds


def whatsapp_statuses(session: Session, found: Sequence[Status], *, clock: Clock) -> int:
    """WhatsApp's statuses for messages we sent (already verified): recorded like Twilio's, and a
    failure that says the person stopped our messages (131050) opts them out of WhatsApp. Returns
    how many statuses named a message of ours."""
    matched = 0
    for status in found:
        new = WHATSAPP_STATUS.get(status.status)
        if new is None or not status.provider_id or len(status.provider_id) > _PROVIDER_ID_LIMIT:
            continue
        code = status.error_code
        matched += record_status(
            session,
            provider="whatsapp",
            provider_id=status.provider_id,
            status=new,
            error=f"whatsapp error {code}"[:64] if code else None,
            clock=clock,
        )
        if status.opted_out:
            contact = repo.by_provider_id(session, "whatsapp", status.provider_id)
            if contact is not None:
                opt_out_customer(
                    session,
                    contact.customer_id,
                    channel="whatsapp",
                    address_index=contact.address_index,
                    source="whatsapp",
                    evidence="WhatsApp status: the person stopped the business's messages (131050)",
                    clock=clock,
                )
    return matched


def _open_accounts(session: Session, customer_id: int) -> list[int]:
    return AccountRepository(session).open_ids_of_customer(customer_id)


def confirm_opt_out(
    session: Session, customer_id: int, now: dt.datetime, *, language: str | None = None
) -> None:
    """One confirmation of the opt-out, through the outbox like every other message: in
    `language` (the one the debtor wrote the opt-out in) unless they chose a language themselves
    (`customers.language_chosen_at`), as the assistant's answers; None, or their own language,
    leaves the dispatcher to render it in the customer's."""
    accounts = _open_accounts(session, customer_id)
    if not accounts:
        return
    if repo.planned_today(session, customer_id, "opt_out_confirmation", now.date()):
        return
    customer = CustomerRepository(session).get(customer_id)
    if language is not None and (
        customer is None
        or customer.language_chosen_at is not None
        or language == language_for(customer.preferred_language, customer.jurisdiction)
    ):
        language = None
    contact_service.plan_service_message(
        session,
        account_id=accounts[0],
        customer_id=customer_id,
        treatment="opt_out_confirmation",
        template="opt_out_confirmation",
        channel="sms",
        now=now,
        language=language,
    )


def _reply_task(session: Session, customer_id: int, message_id: int, now: dt.datetime) -> None:
    accounts = _open_accounts(session, customer_id)
    if accounts:
        agents_service.open_tasks(
            session,
            [
                {
                    "account_id": accounts[0],
                    "as_of_date": now.date(),
                    "queue": REPLIES_QUEUE,
                    "priority": 1.0,
                    "source": "reply",
                    "subject_id": message_id,
                    "created_at": now,
                }
            ],
        )


def dial(
    session: Session,
    task_id: int,
    *,
    agent: str,
    actor: str,
    clock: Clock,
    config: DispatchConfig,
    guard: Guard,
    channels: Sequence[str],
) -> ContactPlan:
    """An agent asks to call the debtor of a task: a `dial` contact through the outbox, which the
    worker hands to the click-to-call provider after checking it again. Checked at once too, so
    the agent hears now if the call may not happen (hours, caps, a dispute, a payment): such a
    request is recorded `blocked` with the reasons, and nothing rings."""
    return dial_many(
        session,
        [task_id],
        agent=agent,
        actor=actor,
        clock=clock,
        config=config,
        guard=guard,
        channels=channels,
    )[0]


def dial_many(
    session: Session,
    task_ids: Sequence[int],
    *,
    agent: str,
    actor: str,
    clock: Clock,
    config: DispatchConfig,
    guard: Guard,
    channels: Sequence[str],
) -> list[ContactPlan]:
    """`dial` for several tasks at once (an agent's or a dialler's list), checked together in
    order: a call that may go counts in the caps of the next ones to the same customer."""
    tasks = agents_service.get_many(session, task_ids)
    account_ids = {t.account_id for t in tasks.values()}
    accounts = AccountRepository(session).by_ids(account_ids)
    if len(accounts) < len(account_ids):
        raise NotFound(f"no account {min(account_ids - set(accounts))}")
    states = DelinquencyRepository(session).states_of(account_ids)
    now = clock.now()
    earlier: Counter[int] = Counter(repo.dials_on(session, account_ids, now.date()))
    contacts: list[ContactPlan] = []
    for task_id in task_ids:
        task = tasks[task_id]
        account, state = accounts[task.account_id], states.get(task.account_id)
        earlier[account.id] += 1
        contacts.append(
            ContactPlan(
                account_id=account.id,
                customer_id=account.customer_id,
                as_of_date=now.date(),
                stage=task.queue,
                treatment=f"agent_dial_{earlier[account.id]}",
                channel="dial",
                template=task.queue,
                tone="neutral",
                status=ContactStatus.planned,
                scheduled_at=now,
                overdue_minor=state.overdue_minor if state else None,
                outstanding_minor=state.outstanding_minor if state else None,
                agent=agent,
                reasons=[],
                created_at=now,
            )
        )
    repo.add_plans(session, contacts)
    # A dispatcher claiming one of these customers now finishes first: the caps count its sends.
    repo.lock_customers(session, {a.customer_id for a in accounts.values()}, wait=True)
    verdicts = dispatch.check_many(
        session, [c.id for c in contacts], now=now, config=config, guard=guard, channels=channels
    )
    events: list[dict[str, Any]] = []
    entries: list[audit_service.Entry] = []
    for task_id, contact in zip(task_ids, contacts, strict=True):
        status, reasons, checked = verdicts[contact.id]
        if status != ContactStatus.sending:
            repo.block(session, contact, reasons)
        detail: dict[str, Any] = {"task": task_id}
        if reasons:
            detail["reasons"] = reasons
        if checked:  # the guard's verdict when the agent asked, told rule by rule on the record
            detail["guard"] = checked
        events.append(
            {
                "contact_id": contact.id,
                "status": contact.status,
                "at": now,
                "actor": actor,
                "detail": detail,
            }
        )
        entries.append(
            audit_service.Entry(
                actor=actor,
                action="contact.dial_requested",
                subject_type="contact",
                subject_id=contact.id,
                details={"task": task_id, "status": contact.status},
            )
        )
    repo.add_events(session, events)
    audit_service.record_many(session, entries, clock=clock)
    session.flush()
    return contacts


def record_call_result(
    session: Session,
    result: str,
    *,
    actor: str,
    clock: Clock,
    contact_id: int | None = None,
    provider: str | None = None,
    provider_id: str | None = None,
) -> ContactPlan:
    """What became of a call: telephony's report (by its call id) or the agent's wrap-up (by the
    contact). The guard counts the call by it from then on (China's effective calls, Reg F's
    conversations) instead of counting it for every result. Results only ever move up
    `CALL_RESULTS` (telephony's `connected`, then the agent's `conversation` with the right
    party): a lower one after a higher one, or the same one again, changes nothing."""
    if contact_id is None:
        found = repo.by_provider_id(session, provider, provider_id)
        if found is None:
            raise NotFound(f"no call {provider_id!r} from {provider}")
        contact_id = found.id
    return record_call_results(session, [(contact_id, result)], actor=actor, clock=clock)[0]


def record_call_results(
    session: Session, results: Sequence[tuple[int, str]], *, actor: str, clock: Clock
) -> list[ContactPlan]:
    """`record_call_result` for several calls at once (an agent session's wrap-ups): the calls
    read and locked together, one insert of events, one run of audit entries."""
    if not results:
        return []
    for _, result in results:
        if result not in CALL_RESULTS:
            raise ValidationFailed(
                f"unknown call result {result!r} (known: {', '.join(CALL_RESULTS)})"
            )
    ids = {contact_id for contact_id, _ in results}
    calls = repo.calls_for_update(session, ids)
    now = clock.now()
    events: list[dict[str, Any]] = []
    entries: list[audit_service.Entry] = []
    for contact_id, result in results:
        contact = calls.get(contact_id)
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        if contact.channel != "dial":
            raise ValidationFailed(
                f"contact {contact.id} is {contact.channel!r}, not a placed call"
            )
        if contact.status not in (ContactStatus.sent, ContactStatus.delivered):
            raise Conflict(f"call {contact.id} was not placed (it is {contact.status})")
        earlier = contact.result
        if earlier is not None and CALL_RESULTS.index(result) <= CALL_RESULTS.index(earlier):
            continue
        repo.set_call_result(session, contact, result, now=now)
        events.append(
            {
                "contact_id": contact.id,
                "status": contact.status,
                "at": now,
                "actor": actor,
                "detail": {"result": result} | ({"was": earlier} if earlier else {}),
            }
        )
        entries.append(
            audit_service.Entry(
                actor=actor,
                action="contact.call_result",
                subject_type="contact",
                subject_id=contact.id,
                details={"result": result},
            )
        )
    repo.add_events(session, events)
    audit_service.record_many(session, entries, clock=clock)
    session.flush()
    return [calls[contact_id] for contact_id, _ in results]

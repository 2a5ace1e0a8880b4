"""What an agent does at the workbench, for the API (`workbench.endpoints`) and the console alike:
one path for each action.

- `take_next`: the next account the agent may call now (`agents.service.take_next` with the
  guard's answer for a call at this moment: an account the guard refuses now is passed over and
  stays in the queue, so the agent never starts on an account they may not call).
- `account_view`: account 360 (balances, bills, payments, arrangements, the contact timeline with
  each contact's decision record, cases, notes, tasks, the guard's answer now and its next moment).
- `wrap_up`: the call's outcome; a promise goes through `arrangements.flows.make`, a dispute or
  hardship through `cases.flows.open_case` with the debtor's words, consent to other hours through
  `privacy.service.record_consent`, a call back later becomes a task for that moment; the task is
  closed `done` with the outcome and the account leaves the queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.arrangements import flows as arrangement_flows
from recoup.arrangements import offers as arrangement_offers
from recoup.arrangements.repository import ArrangementRepository
from recoup.cases import flows as case_flows
from recoup.cases.repository import CaseRepository
from recoup.channels.config import load_channels
from recoup.compliance import Guard, deployment_guard
from recoup.compliance.vocabulary import jurisdiction_zones
from recoup.config import Settings
from recoup.contact import dispatch
from recoup.contact import flows as contact_flows
from recoup.contact import service as contact_service
from recoup.contact.dispatch import CallVerdict, DispatchConfig
from recoup.delinquency.repository import DelinquencyRepository
from recoup.identity import service as identity_service
from recoup.identity.permissions import Permission
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.kit.masking import mask_email, mask_name, mask_phone
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import BillRepository, CustomerRepository, PaymentRepository
from recoup.models import Account, AgentTask
from recoup.privacy import service as privacy_service

OUTCOMES = (
    "conversation",
    "no_answer",
    "voicemail",
    "wrong_number",
    "refused",
    "promise",
    "dispute",
    "hardship",
    "callback",
    "consent",
    "review",
)
# What each outcome says of the call, for the caps that count call results (a wrong number was
# answered, by somebody else: `connected`, not a conversation with the debtor).
CALL_RESULT = {
    "conversation": "conversation",
    "no_answer": "no_answer",
    "voicemail": "voicemail",
    "wrong_number": "connected",
    "refused": "conversation",
    "promise": "conversation",
    "dispute": "conversation",
    "hardship": "conversation",
    "callback": "connected",
    "consent": "conversation",
    "review": "conversation",
}
CALLBACK_WITHIN = dt.timedelta(days=30)
CONSENT_AT_MOST = dt.timedelta(days=366)
MAX_WORDS = case_flows.MAX_TEXT


@dataclass(frozen=True)
class Desk:
    """What the guard's call check needs: the send-time check's settings, the rule packs, the
    configured channels, and the business time zone (the day of the queues)."""

    config: DispatchConfig
    guard: Guard
    channels: tuple[str, ...]
    business_zone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings, worker: str) -> Desk:
        channels = load_channels(settings.channels_file, spool_dir=settings.spool_dir)
        return cls(
            config=DispatchConfig.from_settings(settings, worker),
            guard=deployment_guard(settings.compliance_house_file),
            channels=tuple(channels.factories),
            business_zone=settings.business_zone,
        )

    @property
    def dial_configured(self) -> bool:
        return "dial" in self.channels

    def today(self, clock: Clock) -> dt.date:
        return clock.now().astimezone(self.business_zone).date()


def call_answers(
    session: Session, account_ids: Sequence[int], *, desk: Desk, now: dt.datetime
) -> dict[int, CallVerdict]:
    """The send-time check of a call to each account now. Asked as if click-to-call were
    configured: the question is whether the rules and the account allow the call (a deployment
    without a provider is `Desk.dial_configured`, shown apart, and `dial` records it failed)."""
    return dispatch.call_verdicts(
        session,
        list(account_ids),
        now=now,
        config=desk.config,
        guard=desk.guard,
        channels=(*desk.channels, "dial"),
    )


def take_next(
    session: Session, staff_id: int, *, actor: str, desk: Desk, clock: Clock
) -> agents_service.Taken:
    """The next account this agent may call now, locked to them (see `agents.service.take_next`)."""
    now = clock.now()

    def callable_now(account_ids: Sequence[int]) -> set[int]:
        answers = call_answers(session, account_ids, desk=desk, now=now)
        return {a for a, v in answers.items() if v.allowed}

    return agents_service.take_next(
        session, staff_id, desk.today(clock), now, actor=actor, callable_now=callable_now
    )


# -- account 360 ----------------------------------------------------------------------------------


@dataclass
class Moment:
    """A moment in the debtor's local time and in the agent's (the business time zone)."""

    at: dt.datetime
    debtor: dt.datetime
    debtor_zone: str
    agent: dt.datetime
    agent_zone: str


@dataclass
class AccountView:
    account: Account
    customer_id: int
    customer_ref: str
    name_masked: str
    phones_masked: list[str]
    emails_masked: list[str]
    jurisdiction: str
    language: str
    state: Any  # AccountDelinquency or None
    bills: list[Any]
    payments: list[Any]
    arrangements: list[Any]
    contacts: list[dict[str, Any]]  # each contact's decision record (contact.service.explain)
    cases: list[Any]
    notes: list[Any]
    tasks: list[AgentTask]
    call: CallVerdict
    next_call: Moment | None
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    position: Any = None


MAX_TIMELINE = 30


def _moment(at: dt.datetime, debtor_zone: str, agent_zone: ZoneInfo) -> Moment:
    return Moment(
        at=at,
        debtor=at.astimezone(ZoneInfo(debtor_zone)),
        debtor_zone=debtor_zone,
        agent=at.astimezone(agent_zone),
        agent_zone=str(agent_zone),
    )


def account_view(session: Session, account_id: int, *, desk: Desk, clock: Clock) -> AccountView:
    """Account 360: everything an agent reads before and during a call, personal data masked."""
    account = ledger_service.get_account(session, account_id)
    customer = CustomerRepository(session).by_id(account.customer_id)
    if customer is None:
        raise NotFound(f"no customer for account {account_id}")
    now = clock.now()
    call = call_answers(session, [account.id], desk=desk, now=now)[account.id]
    zones = tuple(customer.timezones or ()) or jurisdiction_zones(customer.jurisdiction)
    debtor_zone = zones[0] if zones else "UTC"
    contacts = []
    for contact in contact_service.of_account(session, account.id, limit=MAX_TIMELINE):
        contacts.append(contact_service.explain(session, contact.id))
    try:
        offers = arrangement_offers.offered(session, account, clock=clock)
        position = arrangement_offers.position(session, account, clock=clock)
    except (Conflict, ValidationFailed):
        offers, position = {}, None
    return AccountView(
        account=account,
        customer_id=customer.id,
        customer_ref=customer.external_ref,
        name_masked=mask_name(customer.name),
        phones_masked=[mask_phone(p.number) for p in customer.phones],
        emails_masked=[mask_email(e.address) for e in customer.emails],
        jurisdiction=customer.jurisdiction,
        language=customer.preferred_language,
        state=DelinquencyRepository(session).states_of([account.id]).get(account.id),
        bills=list(BillRepository(session).for_account(account.id)),
        payments=list(PaymentRepository(session).live_for_account(account.id)),
        arrangements=list(ArrangementRepository(session).for_account(account.id)),
        contacts=contacts,
        cases=[
            c
            for c in CaseRepository(session).for_customer(customer.id)
            if c.account_id in (None, account.id)
        ],
        notes=agents_service.notes_of(session, account.id),
        tasks=agents_service.of_account(session, account.id),
        call=call,
        next_call=_moment(call.next_at, debtor_zone, desk.business_zone) if call.next_at else None,
        offers=offers,
        position=position,
    )


# -- the wrap-up ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrapUp:
    """The agent's wrap-up of a call (the API's body and the console's form, checked alike)."""

    outcome: str
    contact_id: int | None = None  # the call placed (click-to-call), whose result is recorded
    amount_minor: int | None = None  # promise
    on: dt.date | None = None  # promise
    reason: str | None = None  # dispute, hardship: a reason code of the case's kind
    words: str | None = None  # dispute, hardship: the debtor's own words
    call_at: dt.datetime | None = None  # callback
    hours_from: dt.time | None = None  # consent: the local hours the debtor agreed to
    hours_to: dt.time | None = None
    consent_until: dt.date | None = None
    note: str | None = None


@dataclass
class WrappedUp:
    closed: list[int]
    arrangement_id: int | None = None
    arrangement_status: str | None = None
    case_id: int | None = None
    consent_id: int | None = None
    callback: bool = False
    call_result: str | None = None
    call_result_skipped: str | None = None


def _need(value: Any, name: str, outcome: str) -> Any:
    if value is None or value == "":
        raise ValidationFailed(f"{name}: a {outcome} wrap-up needs it")
    return value


def wrap_up(
    session: Session,
    task_id: int,
    staff_id: int,
    data: WrapUp,
    *,
    actor: str,
    desk: Desk,
    clock: Clock,
) -> WrappedUp:
    """Record the call's outcome through the owners' flows, then close the account's tasks this
    agent holds `done` with it (the account leaves the queue). All in the caller's transaction:
    a refused promise (outside the policy's bounds) closes nothing."""
    now = clock.now()
    if data.outcome not in OUTCOMES:
        raise ValidationFailed(f"outcome: one of {', '.join(OUTCOMES)}")
    task = agents_service.held_task(session, task_id, staff_id, now)
    account = ledger_service.get_account(session, task.account_id)
    out = WrappedUp(closed=[])
    detail: dict[str, Any] = {}
    if data.outcome == "promise":
        made = arrangement_flows.make(
            session,
            account,
            "promise",
            amount_minor=_need(data.amount_minor, "amount_minor", "promise"),
            on=_need(data.on, "date", "promise"),
            made_by=actor,
            channel="agent",
            clock=clock,
        )
        out.arrangement_id, out.arrangement_status = made.id, str(made.status)
        detail["arrangement"] = made.id
    elif data.outcome in ("dispute", "hardship"):
        reason = _need(data.reason, "reason", data.outcome)
        words = _need((data.words or "").strip() or None, "words", data.outcome)
        case = case_flows.open_case(
            session,
            account.customer_id,
            kind=data.outcome,
            reason=reason,
            text=words,
            account_ref=account.external_ref,
            opened_by=actor,
            channel="agent",
            clock=clock,
        )
        out.case_id = case.id
        detail["case"] = case.id
    elif data.outcome == "review":  # asked, on the call, for a person to review (PIPL art. 24)
        case, _ = case_flows.request_review(
            session,
            account.customer_id,
            account_ref=account.external_ref,
            text=(data.words or "").strip() or None,
            opened_by=actor,
            channel="agent",
            clock=clock,
        )
        out.case_id = case.id
        detail["case"] = case.id
    elif data.outcome == "callback":
        at = _need(data.call_at, "call_at", "callback")
        if at.tzinfo is None:
            raise ValidationFailed("call_at: give the time with its offset")
        if not now < at <= now + CALLBACK_WITHIN:
            raise ValidationFailed("call_at: a moment after now and within 30 days")
        agents_service.call_back(
            session,
            account.id,
            at,
            day=at.astimezone(desk.business_zone).date(),
            staff_id=staff_id,
            now=now,
        )
        out.callback = True
        detail["call_at"] = at.isoformat()
    elif data.outcome == "consent":
        start = _need(data.hours_from, "hours_from", "consent")
        end = _need(data.hours_to, "hours_to", "consent")
        until = _need(data.consent_until, "consent_until", "consent")
        if start == end:
            raise ValidationFailed("hours_to: the hours must not be empty")
        expires = dt.datetime.combine(until, dt.time(23, 59, 59), desk.business_zone)
        if not now < expires <= now + CONSENT_AT_MOST:
            raise ValidationFailed("consent_until: a day after today and within a year")
        consent = privacy_service.record_consent(
            session,
            account.customer_id,
            purpose="contact_hours",
            evidence=f"call wrap-up by {actor}",
            source=actor,
            channel="call",
            scope={"from": start.strftime("%H:%M"), "to": end.strftime("%H:%M")},
            expires_at=expires,
            clock=clock,
        )
        out.consent_id = consent.id
        detail["consent"] = consent.id
    if data.note:
        agents_service.add_note(session, account.id, data.note, author=actor, now=now)
    if data.contact_id is not None:
        _call_result(session, data, task, account, actor=actor, clock=clock, out=out)
        detail["contact"] = data.contact_id
    out.closed = agents_service.wrap_up(
        session, task.id, staff_id, now, outcome=data.outcome, actor=actor, detail=detail
    )
    return out


def _call_result(
    session: Session,
    data: WrapUp,
    task: AgentTask,
    account: Account,
    *,
    actor: str,
    clock: Clock,
    out: WrappedUp,
) -> None:
    """The call's result, when the call was placed (the worker handed it to telephony); a call
    still waiting for the worker, or refused by the guard, has no result to record."""
    contact = contact_service.contact(session, data.contact_id or 0)
    if contact is None or contact.account_id != account.id or contact.channel != "dial":
        raise ValidationFailed(f"contact_id: no call {data.contact_id} to this account")
    result = CALL_RESULT[data.outcome]
    if contact.status not in ("sent", "delivered"):
        out.call_result_skipped = f"call {contact.id} is {contact.status}"
        return
    contact_flows.record_call_result(
        session, result, contact_id=contact.id, actor=actor, clock=clock
    )
    out.call_result = result


# -- supervisors ----------------------------------------------------------------------------------


def agents_who_work(session: Session) -> dict[int, str]:
    """The staff users a task may be given to (their role works queues): id -> display name."""
    return {
        u.id: u.display_name for u in identity_service.staff_who_can(session, Permission.tasks_work)
    }


def reassign(
    session: Session, task_id: int, to: int | None, *, actor: str, clock: Clock
) -> AgentTask:
    """Give a task to an agent (or back to the queue): only to a staff user who works queues."""
    if to is not None and to not in agents_who_work(session):
        raise ValidationFailed(f"staff_id: {to} is not a staff user who works queues")
    return agents_service.reassign(session, task_id, to, clock.now(), actor=actor)


def add_note(session: Session, account_id: int, text: str, *, actor: str, clock: Clock) -> int:
    account = ledger_service.get_account(session, account_id)
    return agents_service.add_note(session, account.id, text, author=actor, now=clock.now())

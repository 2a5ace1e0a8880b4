"""The outbox dispatcher's steps: claim and re-check, hand over, then record what the providers
answered.

A worker (`recoup worker`, `recoup.worker.dispatcher`) runs them in three transactions per batch:

1. **claim** (one transaction): lock due contacts (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
   workers share the work; SQLite has one writer), and for each read the account, the customer's
   addresses, opt-outs, consents and the contacts already sent; render the approved template; ask
   the compliance guard again, with the frequency counters and the rendered text, at this moment.
   A contact the guard refuses for now is `deferred` to the moment it names; one it refuses for
   good is `blocked`; one whose debt was paid, or whose account is closed or paused, is
   `cancelled`; one too late is `expired`. The rest become `sending`, with a lease and one attempt
   more, and their text is stored. The transaction commits.
2. **hand over** (a short transaction): the batch's rows still `sending` for this worker get
   `handed_at`, committed before any provider is called.
3. **send** (a third transaction): lock the rows still `sending` for this worker, call the
   adapters with each contact's idempotency key, and record `sent` (or `delivered`), a retry
   (`queued`, exponential backoff with jitter) or the dead letter (`failed`, with the reason).

A payment that lands before step 3 cancels the rows (they are no longer `sending`, step 3 skips
them); one that lands during step 3 waits for its row locks, so it commits after the sends and
finds them `sent`. Either way nothing leaves after the payment's transaction has committed.

What a worker killed at any point costs, per channel (the channel's `delivery`, configuration:
`recoup.channels.config`). Its rows stay `sending` under a lease; when the lease runs out a claim
takes them again and:
- a row never handed over (killed in or after step 1, before step 2's commit) went nowhere: it is
  checked and sent as any due contact;
- a row handed over on an **at-most-once** channel (the default; SMS through Twilio, push through
  FCM, calls, the spool: providers that do not recognise a resend) may have reached the provider,
  so it becomes `unknown` and is not sent again. The caps count it as sent. Reconciliation
  (`reconcile`) asks the provider where its adapter can look a message up by our key (`lookup`):
  found, it is `sent`; not found, it is `queued` and goes through step 1 again. Where the provider
  cannot say, it stays `unknown`: a person decides (`recoup contact explain` shows it);
- a row handed over on an **at-least-once** channel (allowed only where the provider recognises
  the key: the SMTP `Message-ID`, a gateway's `Idempotency-Key`) is sent again with the same key.
So a contact is sent at most once on an at-most-once channel, and at least once (de-duplicated by
the provider, not by us) on an at-least-once one; no channel is "exactly once".
"""

from __future__ import annotations

import datetime as dt
import html
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.arrangements.links import one_time_code, pay_link
from recoup.channels import Accepted, ChannelError, OptedOut, Outgoing
from recoup.channels.letter import Letter, PostalAddress, mask_account
from recoup.compliance import Decision, Facts, Guard, check_content, decide
from recoup.compliance.codes import UNRECORDED, Code
from recoup.compliance.record import keep as keep_verdict
from recoup.compliance.tally import Event, Subject, tally_all
from recoup.compliance.vocabulary import (
    COLLECTOR_ROLE,
    DEFAULT_PRODUCT,
    GUARD_CHANNEL,
    PRODUCT,
    TO_TYPE,
    flags,
    jurisdiction_zones,
)
from recoup.config import DEVELOPMENT_LINK_KEY, Settings
from recoup.contact import repository as repo
from recoup.contact.templates import (
    ASSISTANT,
    IN_THE_APP,
    OPT_OUT,
    MessageTemplate,
    TemplateProblem,
    language_for,
    render,
)
from recoup.kit.clock import SettableClock
from recoup.kit.money import format_money
from recoup.kit.tokens import sign_token
from recoup.models import ContactStatus, PauseKind
from recoup.models.contact import QUEUE_ENTRY

BUILT_IN = ("in_app", "call")  # delivered by Recoup itself: the inbox, the agents' queue
SCRIPTED = ("call", "dial")  # spoken by an agent from a script: nothing to render
DIALLED = frozenset(("sms", "whatsapp", *SCRIPTED))  # reach the customer's phone number
# A letter's `address_index`: the address row it was sent to (a returned letter marks that one).
LETTER_ADDRESS = "address:"
CALL_QUEUE = "calls"
# A call whose decision gave it no place in the agents' queue (no hand-off queue, no learner's
# value; or planned before contact plans carried one) is ranked in the hand-off's unit, expected
# yuan an agent's minute recovers, as the China policy's `mid_late` queue ranks an account with
# no score: the amount overdue in yuan x 0.15 (its p_pay fallback) / 8 (its minutes a call).
CALL_FALLBACK_P_PAY = 0.15
CALL_FALLBACK_MINUTES = 8


def call_priority(overdue_minor: int | None) -> float:
    """The fallback place of a call in the agents' queue (see `CALL_FALLBACK_P_PAY`)."""
    return (overdue_minor or 0) / 100 * CALL_FALLBACK_P_PAY / CALL_FALLBACK_MINUTES


UNSUBSCRIBE_DAYS = 365
UNKNOWN_WHY = (
    "the worker stopped after handing it to the provider and before recording the answer; "
    "not sent again (at-most-once)"
)


@dataclass(frozen=True)
class DispatchConfig:
    worker: str
    batch: int = 200
    lease: dt.timedelta = dt.timedelta(minutes=5)
    max_attempts: int = 6
    retry_seconds: float = 30.0
    retry_cap_seconds: float = 3600.0
    max_lateness: dt.timedelta = dt.timedelta(hours=12)
    public_url: str = "http://127.0.0.1:8000"
    link_key: bytes = DEVELOPMENT_LINK_KEY
    creditor_name: str = "Recoup Wallet"
    support_phone: str = "400-000-0000"
    letter_address: tuple[str, ...] = ()  # the collector's mailing address on letters
    complaints_contact: str = ""  # where a debtor complains (printed on Chinese letters)
    # On PostgreSQL, claim the next batch while earlier ones are sent (`Dispatcher.run`); off for
    # sessions that share one connection (the tests'), which two threads may not use at once.
    pipeline: bool = True
    # Channels sent again after a crash between hand-over and record; the rest are at-most-once.
    at_least_once: frozenset[str] = frozenset()

    @classmethod
    def from_settings(
        cls, settings: Settings, worker: str, *, at_least_once: frozenset[str] = frozenset()
    ) -> DispatchConfig:
        return cls(
            at_least_once=at_least_once,
            worker=worker,
            batch=settings.dispatch_batch,
            lease=dt.timedelta(seconds=settings.dispatch_lease_seconds),
            max_attempts=settings.dispatch_max_attempts,
            retry_seconds=settings.dispatch_retry_seconds,
            retry_cap_seconds=settings.dispatch_retry_cap_seconds,
            max_lateness=dt.timedelta(hours=settings.dispatch_max_lateness_hours),
            public_url=settings.public_url.rstrip("/"),
            link_key=settings.link_signing_keys[0],
            creditor_name=settings.creditor_name,
            support_phone=settings.support_phone,
            letter_address=tuple(
                line.strip() for line in settings.letter_address.split("|") if line.strip()
            ),
            complaints_contact=settings.complaints_contact,
        )


@dataclass(frozen=True)
class Prepared:
    """A contact marked `sending`: what to hand to its channel's adapter."""

    contact_id: int
    attempts: int
    message: Outgoing


@dataclass
class Claimed:
    ready: list[Prepared] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


def claim(
    session: Session,
    *,
    now: dt.datetime,
    config: DispatchConfig,
    guard: Guard,
    channels: Sequence[str],
) -> Claimed:
    """Step 1: claim due contacts and re-check them; mark the sendable ones `sending`."""
    repo.plan_by_keys(session)
    ids = repo.claim_due(session, now, limit=config.batch)
    out = Claimed()
    if not ids:
        return out
    rows = repo.contacts(session, ids)
    # One worker at a time checks a customer's caps: the contacts of a customer another worker
    # is claiming now stay due (still locked by this claim until it commits) for the next claim.
    held = repo.lock_customers(session, {r.customer_id for r in rows}, wait=False)
    rows = [r for r in rows if r.customer_id in held]
    ctx = _context(session, rows, now=now, config=config, guard=guard)
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for r in rows:
        if (
            r.status == ContactStatus.sending
            and r.handed_at is not None
            and r.channel not in config.at_least_once
        ):
            out.outcomes[ContactStatus.unknown] += 1
            ctx.counted(r)
            changes.append(
                {
                    "id": r.id,
                    "status": ContactStatus.unknown,
                    "updated_at": now,
                    "lease_until": None,
                    "reasons": [UNKNOWN_WHY],
                }
            )
            events.append(
                {
                    "contact_id": r.id,
                    "status": ContactStatus.unknown,
                    "at": now,
                    "actor": config.worker,
                    "detail": {"reason": UNKNOWN_WHY, "handed_at": r.handed_at.isoformat()},
                }
            )
            continue
        verdict = ctx.check(r, channels)
        status = verdict.status
        if status in (ContactStatus.sending, ContactStatus.delivered, ContactStatus.sent):
            ctx.counted(r)
        change: dict[str, Any] = {"id": r.id, "status": status, "updated_at": now}
        detail: dict[str, Any] = dict(verdict.detail)
        if status == ContactStatus.sending:
            change.update(
                attempts=r.attempts + 1,
                lease_until=now + config.lease,
                worker=config.worker,
                address_index=verdict.address_index,
                handed_at=None,
            )
            detail["attempt"] = r.attempts + 1
            assert verdict.message is not None
            messages.append(verdict.message)
            if verdict.outgoing is not None:
                out.ready.append(Prepared(r.id, r.attempts + 1, verdict.outgoing))
            else:  # built in: the inbox holds it now; a call waits in the agents' queue
                change.update(
                    status=ContactStatus.delivered if r.channel == "in_app" else ContactStatus.sent,
                    sent_at=now,
                    provider="recoup",
                )
                if r.channel == QUEUE_ENTRY:
                    tasks.append(
                        {
                            "account_id": r.account_id,
                            "as_of_date": r.as_of_date,
                            "queue": CALL_QUEUE,
                            "priority": r.priority
                            if r.priority is not None
                            else call_priority(r.overdue_minor),
                            "source": "call",
                            "subject_id": r.id,
                            "created_at": now,
                            # Not offered once the treatment's window has ended.
                            "due_until": r.due_until,
                        }
                    )
        elif status == ContactStatus.deferred:
            change["scheduled_at"] = verdict.next_at
            change["reasons"] = verdict.reasons
        else:
            change["reasons"] = verdict.reasons
        if change["status"] != ContactStatus.sending:  # the send step counts those
            out.outcomes[change["status"]] += 1
        changes.append(change)
        events.append(
            {
                "contact_id": r.id,
                "status": change["status"],
                "at": now,
                "actor": config.worker,
                "detail": detail,
            }
        )
    repo.write_batch(session, changes, events, messages)
    agents_service.open_tasks(session, tasks)
    return out


def hand_over(session: Session, ids: Sequence[int], *, worker: str, now: dt.datetime) -> None:
    """Step 2: note, before the providers are called, that these contacts are being handed over."""
    repo.mark_handed(session, ids, worker, now)


def unknown(session: Session, channels: Sequence[str], *, limit: int) -> list[tuple[int, str]]:
    """Contacts of these channels whose outcome is unknown, locked for reconciliation."""
    return repo.unknown(session, channels, limit=limit)


def reconciled(
    session: Session,
    answers: Mapping[int, Accepted | None],
    *,
    now: dt.datetime,
    config: DispatchConfig,
) -> Counter[str]:
    """What the providers said of `unknown` contacts: `Accepted` (they have it: `sent`) or None
    (they have no such message: `queued` now, so it is checked again and sent)."""
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    outcomes: Counter[str] = Counter()
    for contact_id, answer in answers.items():
        if answer is not None:
            status = ContactStatus.sent
            change: dict[str, Any] = {
                "id": contact_id,
                "status": status,
                "sent_at": now,
                "provider": answer.provider,
                "provider_id": answer.provider_id,
                "reasons": [],
            }
            detail: dict[str, Any] = {
                "reconciled": "the provider has it",
                "provider": answer.provider,
            }
        else:
            status = ContactStatus.queued
            change = {"id": contact_id, "status": status, "scheduled_at": now, "handed_at": None}
            detail = {"reconciled": "the provider has no such message: to be sent again"}
        change["updated_at"] = now
        outcomes[f"reconciled_{status}"] += 1
        changes.append(change)
        events.append(
            {
                "contact_id": contact_id,
                "status": status,
                "at": now,
                "actor": config.worker,
                "detail": detail,
            }
        )
    repo.update_contacts(session, changes)
    repo.add_events(session, events)
    return outcomes


def check_many(
    session: Session,
    contact_ids: Sequence[int],
    *,
    now: dt.datetime,
    config: DispatchConfig,
    guard: Guard,
    channels: Sequence[str],
) -> dict[int, tuple[str, list[str], dict[str, Any] | None]]:
    """What the send-time check would say of these contacts now (status, reasons, and the
    guard's verdict as `compliance.record` keeps it, when the guard was asked), writing nothing:
    for a person who asks for contacts and should hear at once if one may not happen. In
    order: each that may go counts in the caps of the next (two calls to one customer)."""
    rows = {r.id: r for r in repo.contacts(session, contact_ids)}
    ctx = _context(session, list(rows.values()), now=now, config=config, guard=guard)
    out: dict[int, tuple[str, list[str], dict[str, Any] | None]] = {}
    for contact_id in contact_ids:
        verdict = ctx.check(rows[contact_id], channels)
        if verdict.status == ContactStatus.sending:
            ctx.counted(rows[contact_id])
        out[contact_id] = (verdict.status, verdict.reasons, verdict.detail.get("guard"))
    return out


@dataclass(frozen=True)
class CallVerdict:
    """The guard's answer, at one moment, to "may an agent call this account now": `allowed`,
    or not with the reasons and the next moment it would (None: not by waiting)."""

    account_id: int
    allowed: bool
    status: str  # sending (allowed), deferred, blocked, cancelled, failed
    reasons: list[str]
    next_at: dt.datetime | None
    guard: dict[str, Any] | None = None


def call_verdicts(
    session: Session,
    account_ids: Sequence[int],
    *,
    now: dt.datetime,
    config: DispatchConfig,
    guard: Guard,
    channels: Sequence[str],
) -> dict[int, CallVerdict]:
    """What the send-time check would say now of an agent's call to each account, writing
    nothing: the same check `dial` runs (account closed or paused, the debt paid, no number on
    file, the guard's hours, caps, disputes, opt-outs), asked before a call is planned, so "next
    account" can hand an agent an account they may call and account 360 can show why not."""
    if not account_ids:
        return {}
    rows = [
        _CallRow(**row._asdict(), id=0, scheduled_at=now, as_of_date=now.date())
        for row in repo.call_subjects(session, account_ids)
    ]
    ctx = _context(session, rows, now=now, config=config, guard=guard)
    out: dict[int, CallVerdict] = {}
    for r in rows:
        verdict = ctx.check(r, channels)
        allowed = verdict.status == ContactStatus.sending
        out[r.account_id] = CallVerdict(
            account_id=r.account_id,
            allowed=allowed,
            status=verdict.status,
            reasons=list(verdict.reasons),
            next_at=now if allowed else verdict.next_at,
            guard=verdict.detail.get("guard"),
        )
    return out


@dataclass
class _CallRow:
    """An agent's call not yet planned, shaped as `repo.contacts` returns a contact."""

    id: int
    account_id: int
    customer_id: int
    currency: str
    product_code: str
    collector: str
    closed_date: dt.date | None
    dpd: int | None
    overdue_minor_now: int | None
    outstanding_minor_now: int | None
    jurisdiction: str
    preferred_language: str
    timezones: list[str]
    name: str
    external_ref: str
    scheduled_at: dt.datetime
    as_of_date: dt.date
    status: str = ContactStatus.planned
    channel: str = "dial"
    template: str = "agent"
    tone: str = "neutral"
    treatment: str = "agent_dial"
    stage: str = "agent"
    purpose: str = "collection"
    language: str | None = None  # the customer's
    attempts: int = 0
    handed_at: dt.datetime | None = None
    agent: str | None = None

    @property
    def overdue_minor(self) -> int | None:  # as planned: as it stands now
        return self.overdue_minor_now

    @property
    def outstanding_minor(self) -> int | None:
        return self.outstanding_minor_now


def _context(
    session: Session, rows: Sequence[Any], *, now: dt.datetime, config: DispatchConfig, guard: Guard
) -> _Context:
    """Everything the send-time check reads about these contacts, one query per kind of fact."""
    accounts = {r.account_id for r in rows}
    customers = {r.customer_id for r in rows}
    # Numbers and addresses are sealed: open only those the contacts' channels use (`_address`).
    dialled = {r.customer_id for r in rows if r.channel in DIALLED}
    mailed = {r.customer_id for r in rows if r.channel == "email"}
    posted = {r.customer_id for r in rows if r.channel == "letter"}
    letters = {r.account_id for r in rows if r.channel == "letter"}
    followers = {r.customer_id for r in rows if r.channel == "wechat"}
    return _Context(
        now=now,
        config=config,
        guard=guard,
        pauses=repo.open_pauses(session, accounts, now.date()),
        zones=repo.product_zones(session),
        inconvenient=repo.inconvenient(session, customers),
        due=repo.next_due(session, accounts),
        phones=repo.phones(session, dialled) if dialled else {},
        emails=repo.emails(session, mailed) if mailed else {},
        postal=repo.postal_addresses(session, posted) if posted else {},
        itemized=repo.itemizations(session, letters, now.date()) if letters else {},
        account_refs=repo.account_refs(session, letters) if letters else {},
        openids=repo.wechat_openids(session, followers, now) if followers else {},
        opt_outs=repo.opt_outs(session, customers),
        consents=repo.electronic_consents(session, customers, now),
        history=repo.history(session, customers, now),
        templates=repo.approved_templates(session),
        promises=repo.promised(
            session, [_subject(r.treatment) for r in rows if r.template == "assistant_promise"]
        ),
    )


def record(
    session: Session,
    results: Mapping[int, Accepted | ChannelError],
    attempts: Mapping[int, int],
    *,
    now: dt.datetime,
    config: DispatchConfig,
    rng: random.Random,
) -> Counter[str]:
    """Step 2's bookkeeping: what each adapter answered, as statuses and events."""
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    outcomes: Counter[str] = Counter()
    stopped: list[int] = []
    for contact_id, result in results.items():
        change: dict[str, Any] = {"id": contact_id, "updated_at": now}
        if isinstance(result, OptedOut):
            stopped.append(contact_id)
        if isinstance(result, Accepted):
            status = ContactStatus.delivered if result.delivered else ContactStatus.sent
            change.update(
                status=status, sent_at=now, provider=result.provider, provider_id=result.provider_id
            )
            detail: dict[str, Any] = {
                "provider": result.provider,
                "provider_id": result.provider_id,
            }
        elif result.transient and attempts[contact_id] < config.max_attempts:
            status = ContactStatus.queued
            delay = backoff(attempts[contact_id], config, rng, result.retry_after)
            change.update(status=status, scheduled_at=now + delay, lease_until=None)
            detail = {"error": result.reason, "retry_in_seconds": round(delay.total_seconds(), 1)}
        else:
            status = ContactStatus.failed
            why = result.reason if not result.transient else f"retries exhausted: {result.reason}"
            change.update(status=status, reasons=[why], lease_until=None)
            detail = {"error": why, "dead_letter": True}
        outcomes[status] += 1
        changes.append(change)
        events.append(
            {
                "contact_id": contact_id,
                "status": status,
                "at": now,
                "actor": config.worker,
                "detail": detail,
            }
        )
    repo.write_batch(session, changes, events)
    if stopped:
        outcomes["opted_out_by_provider"] += _provider_opt_outs(session, stopped, now, config)
    return outcomes


def _provider_opt_outs(
    session: Session, contact_ids: Sequence[int], now: dt.datetime, config: DispatchConfig
) -> int:
    """A provider said the person stopped the channel (WeChat 43004, WhatsApp 131050): recorded
    as their opt-out, as a STOP to us would be, so the channel's unsent contacts are cancelled and
    nothing more is planned on it. The flows module imports this one, hence the late import."""
    from recoup.contact import flows

    clock = SettableClock(now)
    for _contact_id, customer_id, channel, index in repo.contact_addresses(session, contact_ids):
        flows.opt_out_customer(
            session,
            customer_id,
            channel=channel,
            address_index=index,
            source="provider",
            evidence=f"{channel} provider refused: the person stopped these messages",
            clock=clock,
        )
    return len(contact_ids)


def backoff(
    attempt: int, config: DispatchConfig, rng: random.Random, retry_after: float | None = None
) -> dt.timedelta:
    """Exponential backoff with "equal jitter": half the step fixed, half random, so retries of a
    batch that failed together spread out; never sooner than the provider's `Retry-After`."""
    step = min(config.retry_cap_seconds, config.retry_seconds * 2 ** (attempt - 1))
    seconds = step / 2 + rng.uniform(0, step / 2)
    return dt.timedelta(seconds=max(seconds, retry_after or 0.0))


@dataclass(frozen=True)
class _Verdict:
    status: str
    reasons: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    next_at: dt.datetime | None = None
    outgoing: Outgoing | None = None
    message: dict[str, Any] | None = None  # the `ContactMessage` row to store
    address_index: str | None = None


@dataclass
class _Context:
    now: dt.datetime
    config: DispatchConfig
    guard: Guard
    pauses: Mapping[int, list[tuple[str, str, dt.date, dt.date | None]]]  # kind, reason, dates
    zones: Mapping[str, str]  # product -> the time zone its business dates are in
    inconvenient: Mapping[int, tuple[Any, ...]]  # customer -> what they said is inconvenient
    due: Mapping[int, tuple[dt.date, int]]  # the next due date and what remains due on it
    phones: Mapping[int, tuple[str, str | None]]
    emails: Mapping[int, tuple[str, str | None]]
    postal: Mapping[int, tuple[int, str, str | None, str | None, str | None, str]]
    itemized: Mapping[int, tuple[dt.date, int, int]]
    account_refs: Mapping[int, str]
    openids: Mapping[int, str]
    opt_outs: Mapping[int, list[tuple[str, str | None]]]
    consents: Mapping[int, set[str | None]]
    history: dict[int, list[tuple[dt.datetime, str, int, str | None]]]
    templates: Mapping[tuple[str, str, str, str], Any]
    promises: Mapping[int, tuple[int, dt.date]] = field(default_factory=dict)
    # The pauses holding now, by (account, product): asked twice a contact (`_account`, `_guard`)
    # of the same moment, the same for an account's every contact in the batch.
    paused_now: dict[tuple[int, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def check(self, r: Any, channels: Sequence[str]) -> _Verdict:
        service = r.purpose == "service"
        if not service:
            stop = self._account(r)
            if stop is not None:
                return _Verdict(ContactStatus.cancelled, [stop], {"reason": stop})
            if r.scheduled_at is not None and self.now - r.scheduled_at > self.config.max_lateness:
                why = f"not sent within {self.config.max_lateness} of its planned moment"
                return _Verdict(ContactStatus.expired, [why], {"reason": why})
        if r.channel not in BUILT_IN and r.channel not in channels:
            why = f"no provider is configured for {r.channel}"
            return _Verdict(ContactStatus.failed, [why], {"error": why, "dead_letter": True})
        to, index = self._address(r)
        if to is None:
            why = f"no {r.channel} address on file"
            return _Verdict(ContactStatus.failed, [why], {"error": why, "dead_letter": True})
        # A contact planned in a language of its own (an answer in the language the debtor wrote
        # in) is rendered in it; else in the customer's.
        language = r.language or language_for(r.preferred_language, r.jurisdiction)
        rendered = None if r.channel in SCRIPTED else self._render(r, language, index)
        if isinstance(rendered, str):
            return _Verdict(
                ContactStatus.failed, [rendered], {"error": rendered, "dead_letter": True}
            )
        if service and r.template in ASSISTANT and rendered is not None:
            forbidden = self._forbidden(r, rendered[1], language)
            if forbidden:
                return _Verdict(ContactStatus.blocked, forbidden, {"reason": forbidden})
        letter = None
        if r.channel == "letter" and rendered is not None:
            letter = self._letter(r, language, rendered[1])
            missing = letter.missing()
            if missing:
                why = f"letter lacks required field(s): {', '.join(missing)}"
                return _Verdict(ContactStatus.failed, [why], {"error": why, "dead_letter": True})
        checked: dict[str, Any] = {}
        if not service:
            text = (
                None
                if rendered is None
                else letter.text()
                if letter is not None
                else "\n".join(p for p in (rendered[1].subject, rendered[1].body) if p)
            )
            decision, facts = self._guard(r, index, text, language)
            # Kept with every check, allowed too: the record tells each rule's verdict from it.
            checked = {"guard": keep_verdict(decision, facts)}
            if not decision.allowed:
                reasons = [f"{x.rule}:{x.code.value}" for x in decision.reasons]
                detail = checked
                if decision.next_allowed_at is not None and decision.curable:
                    return _Verdict(
                        ContactStatus.deferred, reasons, detail, next_at=decision.next_allowed_at
                    )
                return _Verdict(ContactStatus.blocked, reasons, detail)
        version, body = rendered if rendered is not None else (None, None)
        said = body.body if body is not None else f"call script {r.template} ({r.tone})"
        message = {
            "contact_id": r.id,
            "customer_id": r.customer_id,
            "channel": r.channel,
            "language": language,
            "template_version_id": version.id if version is not None else None,
            "subject": body.subject if body is not None else None,
            "body": said,
            "created_at": self.now,
        }
        outgoing = None
        metadata = {"contact_id": str(r.id), "account_id": str(r.account_id)}
        if r.channel == "dial":
            outgoing = Outgoing(
                idempotency_key=f"recoup-contact-{r.id}",
                channel=r.channel,
                to=to,
                body=said,
                language=language,
                metadata={**metadata, "agent": r.agent or ""},
            )
        elif r.channel not in BUILT_IN and body is not None:
            outgoing = Outgoing(
                idempotency_key=f"recoup-contact-{r.id}",
                channel=r.channel,
                to=to,
                body=body.body,
                subject=body.subject,
                html=_html(body.body) if r.channel == "email" else None,
                language=language,
                unsubscribe_url=self._unsubscribe_url(r, index) if r.channel == "email" else None,
                metadata=metadata,
                letter=letter,
            )
        return _Verdict(
            ContactStatus.sending,
            detail=checked,
            outgoing=outgoing,
            message=message,
            address_index=index,
        )

    def _letter(self, r: Any, language: str, body: Any) -> Letter:
        """The letter this contact prints, dated today (its posting day), with the fields its
        jurisdiction requires; `Letter.missing` says which of them are absent."""
        _, line, city, region, postal_code, country = self.postal.get(
            r.customer_id, (0, "", None, None, None, "")
        )
        recipient = PostalAddress(r.name or "", (line,), city, region, postal_code, country)
        sender = PostalAddress(
            self.config.creditor_name,
            self.config.letter_address[:-1] or self.config.letter_address,
            country=r.jurisdiction.split("-")[0],
        )
        if len(self.config.letter_address) > 1:  # the last line is the place: city, state, code
            sender = PostalAddress(
                self.config.creditor_name,
                self.config.letter_address[:-1],
                self.config.letter_address[-1],
                country=sender.country,
            )
        zone = ZoneInfo((tuple(r.timezones or ()) or jurisdiction_zones(r.jurisdiction))[0])
        posted = self.now.astimezone(zone).date()
        money = _money_format(language)
        fields: dict[str, str] = {}
        if r.jurisdiction.startswith("US"):
            itemized = self.itemized.get(r.account_id)
            if itemized is not None:
                day, owed, paid = itemized
                fields = {
                    "itemization_creditor": self.config.creditor_name,
                    "account_number": mask_account(self.account_refs.get(r.account_id, "")),
                    "current_creditor": self.config.creditor_name,
                    "itemization_date": day.strftime("%B %d, %Y").replace(" 0", " "),
                    "itemization_amount": money(owed, r.currency),
                    "interest_since": money(0, r.currency),
                    "fees_since": money(0, r.currency),
                    "payments_since": money(paid, r.currency),
                    "credits_since": money(0, r.currency),
                    "current_amount": money(max(owed - paid, 0), r.currency),
                }
        elif r.jurisdiction.startswith("CN"):
            fields = {
                "creditor": self.config.creditor_name,
                "amount": money(r.overdue_minor_now or 0, r.currency),
                "how_to_pay": self._pay_link(r),
                "complaints": self.config.complaints_contact,
            }
        return Letter(
            jurisdiction=r.jurisdiction,
            language=language,
            sender=sender,
            recipient=recipient,
            posted=posted,
            subject=body.subject or "",
            body=body.body,
            fields=fields,
        )

    def _account(self, r: Any) -> str | None:
        """Why this contact must not go any more, from the account as it stands now."""
        if r.closed_date is not None:
            return "account closed"
        paused = self._paused(r)
        if paused:
            return f"account paused ({', '.join(sorted(reason for _, reason in paused))})"
        if (r.outstanding_minor or 0) > 0 and (r.outstanding_minor_now or 0) <= 0:
            return "paid in full since the contact was planned"
        if (r.overdue_minor or 0) > 0 and (r.overdue_minor_now or 0) <= 0:
            return "the overdue amount was paid since the contact was planned"
        return None

    def _paused(self, r: Any) -> tuple[tuple[str, str], ...]:
        """The (kind, reason) of the pauses holding on the account's business date now."""
        key = (r.account_id, r.product_code)
        found = self.paused_now.get(key)
        if found is None:
            day = self.now.astimezone(ZoneInfo(self.zones.get(r.product_code, "UTC"))).date()
            found = self.paused_now[key] = tuple(
                (kind, reason)
                for kind, reason, start, end in self.pauses.get(r.account_id, [])
                if start <= day and (end is None or end >= day)
            )
        return found

    def counted(self, r: Any) -> None:
        """A contact of this batch is leaving: the next ones of the batch count it in their caps
        (two accounts of one customer claimed together are two contacts with one person)."""
        if r.purpose == "collection" and r.channel != QUEUE_ENTRY:
            self.history.setdefault(r.customer_id, []).append(
                (self.now, r.channel, r.account_id, None)
            )

    def _address(self, r: Any) -> tuple[str | None, str | None]:
        if r.channel in DIALLED:
            return self.phones.get(r.customer_id, (None, None))
        if r.channel == "email":
            return self.emails.get(r.customer_id, (None, None))
        if r.channel == "letter":  # addressed by name; the address travels in the letter
            address = self.postal.get(r.customer_id)
            if address is None:
                return None, None
            return r.name or None, f"{LETTER_ADDRESS}{address[0]}"  # which address it went to
        if r.channel == "wechat":
            return self.openids.get(r.customer_id), None
        return r.external_ref, None  # push and in-app reach the wallet's user

    def _render(self, r: Any, language: str, index: str | None) -> tuple[Any, Any] | str:
        version = self.templates.get((r.template, r.channel, language, r.tone))
        if version is None:
            return f"no approved template {r.template} ({r.channel}, {language}, {r.tone})"
        template = MessageTemplate(
            version.name,
            version.channel,
            version.language,
            version.tone,
            version.body,
            version.subject,
        )
        opt_out = OPT_OUT.get(r.channel, IN_THE_APP)[language]
        if "{url}" in opt_out:
            opt_out = opt_out.format(url=self._unsubscribe_url(r, index))
        due = self.due.get(r.account_id, (self.now.date(), r.outstanding_minor_now or 0))
        link = self._pay_link(r)
        variables = {
            "first_name": _first_name(r.name),
            "creditor_name": self.config.creditor_name,
            "amount_minor": due[1],
            "overdue_minor": r.overdue_minor_now or 0,
            "currency": r.currency,
            "due_date": due[0],
            "days_past_due": r.dpd or 0,
            "pay_link": link,
            "survey_link": f"{link}/survey",
            "learn_link": f"{link}/learn",
            "opt_out": opt_out,
            "support_phone": self.config.support_phone,
        }
        if r.template == "one_time_code":  # derived from the code's row, never stored in clear
            variables["code"] = one_time_code(self.config.link_key, int(r.treatment.split(":")[1]))
        if r.template == "assistant_promise":  # the promise the assistant recorded, as it stands
            promised = self.promises.get(_subject(r.treatment))
            if promised is None:
                return f"no promise for {r.treatment}"
            variables["promised_minor"], variables["promised_date"] = promised
        if r.template == "assistant_alternatives":  # the promise offer's days, when it was said
            variables["promise_days"] = _detail(r.treatment)
        try:
            return version, render(template, variables)
        except TemplateProblem as exc:
            return f"template {r.template} does not render: {exc}"

    def _forbidden(self, r: Any, body: Any, language: str) -> list[str]:
        """The assistant's answer as rendered, asked of the pack's content rules once more: what
        it must never say (threats, false authority...) blocks it even though the debtor asked."""
        text = "\n".join(p for p in (body.subject, body.body) if p)
        return [
            f"{x.rule}:{x.code.value}"
            for x in check_content(
                self.guard,
                text,
                language=language,
                channel=GUARD_CHANNEL.get(r.channel, r.channel),
                jurisdiction=r.jurisdiction,
                collector=COLLECTOR_ROLE.get(r.collector, "creditor"),
                creditor_name=self.config.creditor_name,
            )
            if x.code == Code.CONTENT_FORBIDDEN
        ]

    def _guard(
        self, r: Any, index: str | None, text: str | None, language: str
    ) -> tuple[Decision, Facts]:
        zones = tuple(r.timezones or ()) or jurisdiction_zones(r.jurisdiction)
        kinds = {kind for kind, _ in self._paused(r)}
        consents = self.consents.get(r.customer_id, set())
        facts = Facts(
            at=self.now,
            channel=GUARD_CHANNEL.get(r.channel, r.channel),
            jurisdiction=r.jurisdiction,
            zones=zones,
            collector=COLLECTOR_ROLE.get(r.collector, "creditor"),
            handover_notice_sent=r.collector != "agency",
            product=PRODUCT.get(r.product_code, DEFAULT_PRODUCT),
            dpd=r.dpd or 0,
            flags=flags(
                dispute_open=PauseKind.dispute in kinds,
                hardship=PauseKind.hardship in kinds,
                cease=PauseKind.cease in kinds,
            ),
            to_type=TO_TYPE.get(r.channel, "mobile"),
            # A "stop calling" covers an agent's dialled call too: channels compared as the
            # guard names them.
            opted_out=any(
                GUARD_CHANNEL.get(channel, channel) == GUARD_CHANNEL.get(r.channel, r.channel)
                and (at is None or at == index)
                for channel, at in self.opt_outs.get(r.customer_id, [])
            ),
            inconvenient=self.inconvenient.get(r.customer_id, ()),
            electronic_consent=None in consents or r.channel in consents,
            content_text=text,
            content_language=language if text is not None else None,
            creditor_name=self.config.creditor_name,
        )
        events = [
            Event(
                at=at,
                channel=GUARD_CHANNEL.get(channel, channel),
                # A call nobody has reported on yet counts for caps on any call result.
                result=(result or UNRECORDED) if channel in SCRIPTED else "sent",
                debt_ids=(str(account_id),),
            )
            for at, channel, account_id, result in self.history.get(r.customer_id, [])
        ]
        subject = Subject(self.now, zones, debt_id=str(r.account_id))
        return (
            decide(self.guard, facts, count=lambda caps: tally_all(caps, events, subject)),
            facts,
        )

    def _pay_link(self, r: Any) -> str:
        return pay_link(
            self.config.public_url,
            self.config.link_key,
            customer_id=r.customer_id,
            contact_id=r.id,
            now=self.now,
        )

    def _unsubscribe_url(self, r: Any, index: str | None) -> str:
        token = sign_token(
            self.config.link_key,
            {"k": "unsubscribe", "c": r.customer_id, "ch": r.channel, "a": index, "n": r.id},
            expires_at=self.now + dt.timedelta(days=UNSUBSCRIBE_DAYS),
        )
        return f"{self.config.public_url}/v1/unsubscribe/{token}"


def _subject(treatment: str) -> int:
    """The id a service message's treatment names (`assistant_promise:12` → 12); 0 if none."""
    tail = treatment.partition(":")[2]
    return int(tail) if tail.isdigit() else 0


def _detail(treatment: str) -> int:
    """The number after a service message's subject (`assistant_alternatives:12:7` → 7); 0 if
    none."""
    parts = treatment.split(":")
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0


def _money_format(language: str) -> Any:
    from babel import Locale

    from recoup.contact.templates import LANGUAGES

    locale = Locale.parse(LANGUAGES.get(language, "en_US"))
    return lambda minor, currency: format_money(int(minor), currency, locale)


def _first_name(name: str | None) -> str:
    """A Western name's first word; a Chinese name whole (张伟您好 reads right, 伟您好 does not)."""
    if not name:
        return ""
    return name.split()[0] if " " in name.strip() else name.strip()


_URL = re.compile(r"(https?://[^\s<>\"]+)")


def _html(text: str) -> str:
    """The plain text as simple HTML: paragraphs, and links that can be tapped."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    parts = []
    for p in paragraphs:
        escaped = html.escape(p).replace("\n", "<br>")
        parts.append("<p>" + _URL.sub(r'<a href="\1">\1</a>', escaped) + "</p>")
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"


def reserve_sends(
    session: Session, provider: str, count: int, *, interval: float, burst: int, pause: float
) -> tuple[float, float]:
    """`count` sends reserved on the provider's bucket, shared by every worker: the first one's
    slot and the database's clock now, in epoch seconds (`repository.reserve_sends`)."""
    return repo.reserve_sends(session, provider, count, interval=interval, burst=burst, pause=pause)


def lock_sending(session: Session, ids: Sequence[int], worker: str) -> list[int]:
    """Step 2's first act: lock the contacts this worker still holds as `sending` (the step's
    statements then planned as lookups by key: its record updates the batch by id)."""
    repo.plan_by_keys(session)
    return repo.lock_sending(session, ids, worker)

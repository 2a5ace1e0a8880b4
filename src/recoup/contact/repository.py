"""SQL for the outbox: claiming due contacts, what the send-time check reads, and the writes of the
dispatcher, all set-based per batch (one query per kind of fact, never one per contact)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict, namedtuple
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Double,
    Select,
    Table,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recoup.compliance.facts import Inconvenient
from recoup.kit import bulk, frames
from recoup.kit.crypto import EncryptedString
from recoup.kit.db import among
from recoup.kit.partitions import Holder, Partitioned
from recoup.models import (
    Account,
    AccountDelinquency,
    AgentTask,
    Allocation,
    ArrangementInstalment,
    Bill,
    Consent,
    ContactEvent,
    ContactMessage,
    ContactPlan,
    ContactPreference,
    ContactStatus,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    DelinquencyPause,
    InboundMessage,
    OptOut,
    PolicyVersion,
    Product,
    ProviderPacing,
    StrategyDecision,
    TemplateVersion,
)
from recoup.models.contact import COUNTED, QUEUE_ENTRY, REPLANNABLE, WAITING

# What counts towards frequency caps: contacts that left (or may have left) for the debtor.
HISTORY_DAYS = 32  # the longest cap window (a calendar month) and a day of zone slack


# One contact at a time: templates, the inbox, replies, opt-outs, preferences, dead letters and
# calls (the service's and the flows' reads and writes; the dispatcher's set-based ones follow).


def latest_template_version(
    session: Session, name: str, channel: str, language: str, tone: str
) -> int:
    """The highest version number saved for the template (0: none yet)."""
    v = TemplateVersion
    latest = session.execute(
        select(func.max(v.version)).where(
            v.name == name, v.channel == channel, v.language == language, v.tone == tone
        )
    ).scalar_one()
    return int(latest or 0)


def add_template_version(session: Session, **values: Any) -> TemplateVersion:
    version = TemplateVersion(**values)
    session.add(version)
    session.flush()
    return version


def template_version(session: Session, version_id: int) -> TemplateVersion | None:
    return session.get(TemplateVersion, version_id)


def approve_template_version(
    session: Session, version: TemplateVersion, *, actor: str, at: dt.datetime
) -> list[int]:
    """The version approved, and every other approved version of the same template retired (one
    approved version per template: what the dispatcher renders). The retired versions' ids."""
    v = TemplateVersion
    retired = list(
        session.execute(
            select(v.id).where(
                v.name == version.name,
                v.channel == version.channel,
                v.language == version.language,
                v.tone == version.tone,
                v.status == "approved",
                v.id != version.id,
            )
        ).scalars()
    )
    if retired:
        session.execute(update(v).where(v.id.in_(retired)).values(status="retired"))
    version.status, version.approved_by, version.approved_at = "approved", actor, at
    session.flush()
    return retired


def set_template_status(session: Session, version: TemplateVersion, status: str) -> None:
    version.status = status
    session.flush()


def preview_facts(session: Session, account_id: int) -> Any | None:
    """What a message to the account's debtor carries: currency, days past due, overdue now, the
    customer's name (decrypted; the caller masks it), language and jurisdiction."""
    a, d, u = Account, AccountDelinquency, Customer
    stmt = (
        select(
            a.id,
            a.customer_id,
            a.currency,
            d.dpd,
            d.overdue_minor,
            d.outstanding_minor,
            u.name,
            u.preferred_language,
            u.jurisdiction,
        )
        .join(u, u.id == a.customer_id)
        .join(d, d.account_id == a.id, isouter=True)
        .where(a.id == account_id)
    )
    return session.execute(stmt).one_or_none()


def approved_template(
    session: Session, name: str, channel: str, language: str, tone: str
) -> TemplateVersion | None:
    """The latest approved version of one template."""
    v = TemplateVersion
    return session.execute(
        select(v)
        .where(
            v.name == name,
            v.channel == channel,
            v.language == language,
            v.tone == tone,
            v.status == "approved",
        )
        .order_by(v.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def template_versions(session: Session) -> Sequence[TemplateVersion]:
    v = TemplateVersion
    stmt = select(v).order_by(v.name, v.channel, v.language, v.tone, v.version)
    return session.execute(stmt).scalars().all()


def inbox(session: Session, customer_id: int, *, limit: int) -> Sequence[ContactMessage]:
    """The in-app messages delivered to the customer, newest first."""
    m = ContactMessage
    stmt = (
        select(m)
        .join(ContactPlan, ContactPlan.id == m.contact_id)
        .where(
            m.customer_id == customer_id,
            m.channel == "in_app",
            ContactPlan.status == ContactStatus.delivered,
        )
        .order_by(m.id.desc())
        .limit(limit)
    )
    return session.execute(stmt).scalars().all()


def message(session: Session, message_id: int) -> ContactMessage | None:
    return session.get(ContactMessage, message_id)


def message_of(session: Session, contact_id: int) -> ContactMessage | None:
    return session.execute(
        select(ContactMessage).where(ContactMessage.contact_id == contact_id)
    ).scalar_one_or_none()


def mark_read(session: Session, message: ContactMessage, at: dt.datetime) -> None:
    message.read_at = at
    session.flush()


def contact(session: Session, contact_id: int) -> ContactPlan | None:
    return session.get(ContactPlan, contact_id)


def events_of(session: Session, contact_id: int) -> Sequence[ContactEvent]:
    return (
        session.execute(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.id)
        )
        .scalars()
        .all()
    )


def decision_behind(session: Session, contact: ContactPlan) -> StrategyDecision | None:
    """The strategy's decision of the contact's account and day (read: the strategy writes it)."""
    d = StrategyDecision
    return session.execute(
        select(d).where(d.account_id == contact.account_id, d.as_of_date == contact.as_of_date)
    ).scalar_one_or_none()


def policy_version(session: Session, version_id: int) -> PolicyVersion | None:
    return session.get(PolicyVersion, version_id)


def dead_letters(session: Session, *, limit: int) -> Sequence[ContactPlan]:
    c = ContactPlan
    stmt = select(c).where(c.status == ContactStatus.failed).order_by(c.id.desc()).limit(limit)
    return session.execute(stmt).scalars().all()


def in_doubt(session: Session, *, limit: int) -> Sequence[ContactPlan]:
    """Contacts whose outcome is unknown (handed to an at-most-once provider, no answer recorded),
    oldest first: what reconciliation has yet to settle."""
    c = ContactPlan
    stmt = select(c).where(c.status == ContactStatus.unknown).order_by(c.id).limit(limit)
    return session.execute(stmt).scalars().all()


def status_counts(session: Session, day: dt.date) -> dict[str, int]:
    """How many of a day's contacts stand in each status."""
    c = ContactPlan
    stmt = select(c.status, func.count()).where(c.as_of_date == day).group_by(c.status)
    return {str(status): int(n) for status, n in session.execute(stmt)}


def requeue(session: Session, contact: ContactPlan, *, actor: str, now: dt.datetime) -> None:
    """A dead letter queued again with fresh attempts, and its event."""
    contact.status, contact.attempts, contact.scheduled_at = ContactStatus.queued, 0, now
    contact.updated_at = now
    session.add(
        ContactEvent(
            contact_id=contact.id,
            status=contact.status,
            at=now,
            actor=actor,
            detail={"retry": True},
        )
    )
    session.flush()


def planned_moments(session: Session, day: dt.date) -> list[dt.datetime]:
    c = ContactPlan
    moments = session.execute(
        select(c.scheduled_at)
        .where(c.as_of_date == day, c.status == ContactStatus.planned)
        .distinct()
        .order_by(c.scheduled_at)
    ).scalars()
    return [m for m in moments if m is not None]


def sample_sent(session: Session, day: dt.date, channel: str) -> int | None:
    c = ContactPlan
    return session.execute(
        select(c.id)
        .where(
            c.as_of_date == day,
            c.channel == channel,
            c.status.in_((ContactStatus.sent, ContactStatus.delivered)),
        )
        .order_by(c.id)
        .limit(1)
    ).scalar_one_or_none()


def add_plan(session: Session, **values: Any) -> ContactPlan:
    """One contact planned outside the day's run (a service message, a placed call), flushed."""
    plan = ContactPlan(**values)
    session.add(plan)
    session.flush()
    return plan


def add_plans(session: Session, plans: Sequence[ContactPlan]) -> None:
    session.add_all(plans)
    session.flush()


def planned_today(session: Session, customer_id: int, treatment: str, day: dt.date) -> bool:
    """Whether the customer already has a contact of this treatment on `day`."""
    c = ContactPlan
    return (
        session.execute(
            select(c.id).where(
                c.customer_id == customer_id, c.treatment == treatment, c.as_of_date == day
            )
        ).first()
        is not None
    )


def dials_on(session: Session, account_ids: Collection[int], day: dt.date) -> dict[int, int]:
    """How many calls were asked for on each account on `day`."""
    c = ContactPlan
    rows = session.execute(
        select(c.account_id, func.count(c.id))
        .where(c.account_id.in_(sorted(account_ids)), c.as_of_date == day, c.channel == "dial")
        .group_by(c.account_id)
    ).all()
    return {a: int(n) for a, n in rows}


def block(session: Session, contact: ContactPlan, reasons: list[str]) -> None:
    contact.status, contact.reasons = ContactStatus.blocked, reasons


def by_provider_id(
    session: Session, provider: str | None, provider_id: str | None
) -> ContactPlan | None:
    c = ContactPlan
    return session.execute(
        select(c).where(c.provider == provider, c.provider_id == provider_id)
    ).scalar_one_or_none()


def set_status(
    session: Session,
    contact: ContactPlan,
    status: str,
    *,
    now: dt.datetime,
    reasons: list[str] | None = None,
) -> None:
    contact.status, contact.updated_at = status, now
    if reasons is not None:
        contact.reasons = reasons


def calls_for_update(session: Session, ids: Collection[int]) -> dict[int, ContactPlan]:
    """The contacts, locked for this transaction (a call's results are recorded one at a time)."""
    c = ContactPlan
    rows = session.scalars(select(c).where(c.id.in_(sorted(ids))).with_for_update())
    return {row.id: row for row in rows}


def set_call_result(
    session: Session, contact: ContactPlan, result: str, *, now: dt.datetime
) -> None:
    contact.result, contact.updated_at = result, now


def inbound_by_provider_id(
    session: Session, provider: str, provider_id: str
) -> InboundMessage | None:
    m = InboundMessage
    return session.execute(
        select(m).where(m.provider == provider, m.provider_id == provider_id)
    ).scalar_one_or_none()


def add_inbound(session: Session, **values: Any) -> InboundMessage:
    row = InboundMessage(**values)
    session.add(row)
    session.flush()
    return row


def opted_out(session: Session, customer_id: int, channel: str, address_index: str | None) -> bool:
    """Whether an opt-out of the channel already covers this address (or every address)."""
    o = OptOut
    return (
        session.execute(
            select(o.id).where(
                o.customer_id == customer_id,
                o.channel == channel,
                o.withdrawn_at.is_(None),
                o.address_index.is_(None) | (o.address_index == address_index),
            )
        ).first()
        is not None
    )


def add_opt_out(session: Session, **values: Any) -> OptOut:
    row = OptOut(**values)
    session.add(row)
    return row


def opted_out_channels(session: Session, customer_id: int) -> set[str]:
    o = OptOut
    return set(
        session.execute(
            select(o.channel).where(o.customer_id == customer_id, o.withdrawn_at.is_(None))
        ).scalars()
    )


def withdraw_opt_outs(session: Session, customer_id: int, channel: str, at: dt.datetime) -> int:
    """Opt the customer back in to the channel; how many opt-outs were withdrawn."""
    o = OptOut
    result = session.execute(
        update(o)
        .where(o.customer_id == customer_id, o.channel == channel, o.withdrawn_at.is_(None))
        .values(withdrawn_at=at)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def preference(session: Session, customer_id: int) -> ContactPreference | None:
    return session.get(ContactPreference, customer_id)


def set_preference(
    session: Session,
    customer_id: int,
    *,
    quiet: tuple[int, int] | None,
    preferred: tuple[int, int] | None,
    source: str,
    at: dt.datetime,
) -> ContactPreference:
    row = session.get(ContactPreference, customer_id)
    if row is None:
        row = ContactPreference(customer_id=customer_id, quiet_days=[])
        session.add(row)
    row.quiet_from, row.quiet_to = quiet if quiet else (None, None)
    row.preferred_from, row.preferred_to = preferred if preferred else (None, None)
    row.source, row.updated_at = source, at
    session.flush()
    return row


def claim_due(session: Session, now: dt.datetime, *, limit: int) -> list[int]:
    """Ids of due contacts, locked for this transaction: waiting ones whose time has come, and ones
    a crashed worker left `sending` past their lease. Other workers skip the locked rows."""
    c = ContactPlan
    if session.get_bind().dialect.name == "postgresql":
        # One locked, ordered read per status, each served by the (status, scheduled_at) index
        # and stopped at `limit` rows; then the earliest `limit` of them. A single read with the
        # statuses OR-ed cannot use the index's order: it read and sorted every due row at each
        # claim (10,640 rows, 12-20 ms, for the first of a day's claims; a day of millions would
        # take seconds a claim). Rows a branch locked beyond the final `limit` stay locked by this
        # transaction until it commits, untouched (other workers skip them meanwhile).
        branches = [
            select(c.id, c.scheduled_at)
            .where(c.status == status, c.scheduled_at <= now)
            .order_by(c.scheduled_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte(f"due_{status}")
            for status in WAITING
        ]
        branches.append(
            select(c.id, c.scheduled_at)
            .where(c.status == ContactStatus.sending, c.lease_until < now)
            .order_by(c.scheduled_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due_lease_ended")
        )
        due = union_all(*(select(b.c.id, b.c.scheduled_at) for b in branches)).subquery()
        return list(
            session.execute(select(due.c.id).order_by(due.c.scheduled_at).limit(limit)).scalars()
        )
    stmt = (
        select(c.id)
        .where(
            or_(
                c.status.in_(WAITING) & (c.scheduled_at <= now),
                (c.status == ContactStatus.sending) & (c.lease_until < now),
            )
        )
        .order_by(c.scheduled_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(stmt).scalars())


# The advisory locks' key space for "sending to this customer" (`lock_customers`): the
# customer's id under a prefix of its own, so no other advisory lock shares a key.
_CUSTOMER_SENDS = 0x5243 << 48


def lock_customers(session: Session, customer_ids: Collection[int], *, wait: bool) -> set[int]:
    """This transaction's hold on sending to these customers, so two transactions never check
    the same customer's frequency caps at once (each would count the contacts the other has
    committed but not the ones it is about to send). PostgreSQL: a transaction-scoped advisory
    lock per customer, taken in id order (no deadlock between two takers); `wait=False` takes
    the free ones only and answers which (the dispatcher leaves the others' contacts for its
    next claim), `wait=True` waits for each (a person's call). SQLite writes one transaction at
    a time: every customer is held."""
    wanted = sorted(set(customer_ids))
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return set(wanted)
    keys = {"keys": wanted, "space": _CUSTOMER_SENDS}
    if wait:
        session.execute(
            text("SELECT pg_advisory_xact_lock(k + :space) FROM unnest(CAST(:keys AS bigint[])) k"),
            keys,
        )
        return set(wanted)
    result = session.execute(
        text(
            "SELECT k, pg_try_advisory_xact_lock(k + :space) FROM unnest(CAST(:keys AS bigint[])) k"
        ),
        keys,
    )
    return {int(k) for k, held in result if held}


def lock_sending(session: Session, ids: Sequence[int], worker: str) -> list[int]:
    """Lock the rows this worker marked `sending` and still holds: a payment that cancelled one in
    between has changed its status, and a payment arriving now waits for this transaction."""
    c = ContactPlan
    stmt = (
        select(c.id)
        .where(among(session, c.id, ids), c.status == ContactStatus.sending, c.worker == worker)
        .with_for_update()
    )
    return list(session.execute(stmt).scalars())


def mark_handed(session: Session, ids: Sequence[int], worker: str, at: dt.datetime) -> None:
    """Note that this worker is about to hand these contacts to their providers (committed before
    the calls): after a crash, a contact with it may have gone, one without it has not."""
    c = ContactPlan
    session.execute(
        update(c)
        .where(among(session, c.id, ids), c.status == ContactStatus.sending, c.worker == worker)
        .values(handed_at=at)
        .execution_options(synchronize_session=False)
    )


def unknown(session: Session, channels: Collection[str], *, limit: int) -> list[tuple[int, str]]:
    """(id, channel) of contacts whose outcome is unknown on these channels, locked (other workers
    skip them) for reconciliation."""
    c = ContactPlan
    stmt = (
        select(c.id, c.channel)
        .where(c.status == ContactStatus.unknown, c.channel.in_(list(channels)))
        .order_by(c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(int(i), str(ch)) for i, ch in session.execute(stmt)]


def plan_by_keys(session: Session) -> None:
    """Plan the rest of this transaction's statements as lookups by key (PostgreSQL; SQLite has
    one plan). A dispatcher's batch touches a few hundred rows by primary key: the claimed
    contacts with their accounts, states and customers, and the batch's updates joined to an
    array of ids. Where the tables are small (a test day, a new month's partition) or their
    statistics missing, the planner costs hashing the whole tables, or a parallel plan, below a
    few hundred index probes: the claimed contacts' read took 83 ms as hash joins and 33 ms as a
    parallel plan on the benchmark's day (docs/benchmarks.md, "The outbox dispatcher"). Hash and
    merge joins and parallel workers are turned off until the transaction ends (`set_config`'s
    third argument); the planner still uses them where nothing else can run a statement. The
    results are the same: only the plans change."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT set_config('enable_hashjoin', 'off', true), "
            "set_config('enable_mergejoin', 'off', true), "
            "set_config('max_parallel_workers_per_gather', '0', true)"
        )
    )


def contacts(session: Session, ids: Sequence[int]) -> list[Any]:
    """The claimed contacts with their account's and customer's state, one row each, in one query:
    the contacts by primary key, then their account, state and customer by primary key (nested
    loops over an array of a few hundred ids, in a transaction that `plan_by_keys`).

    Each row comes as a named tuple of the statement's columns, the same values by the same
    names: the send-time check reads a contact's fields some seventy times, and a field of
    SQLAlchemy's `Row` costs about 200 ns to read by name against about 20 ns for a named tuple's
    (docs/benchmarks.md, "The outbox dispatcher", sixth round)."""
    result = session.execute(contacts_statement(session, ids))
    return list(map(_record(tuple(result.keys()))._make, result))


@lru_cache(maxsize=8)
def _record(fields: tuple[str, ...]) -> Any:
    """A named tuple type with these fields (one per statement shape, made once)."""
    return namedtuple("Record", fields)


def contacts_statement(session: Session, ids: Sequence[int]) -> Select[*tuple[Any, ...]]:
    """The statement `contacts` runs."""
    c, a, d, u = ContactPlan, Account, AccountDelinquency, Customer
    return (
        select(
            c.id,
            c.account_id,
            c.customer_id,
            c.status,
            c.channel,
            c.template,
            c.tone,
            c.treatment,
            c.stage,
            c.purpose,
            c.attempts,
            c.scheduled_at,
            c.handed_at,
            c.as_of_date,
            c.overdue_minor,
            c.outstanding_minor,
            c.agent,
            c.language,
            c.priority,
            c.due_until,
            a.currency,
            a.product_code,
            a.collector,
            a.closed_date,
            d.dpd,
            d.overdue_minor.label("overdue_minor_now"),
            d.outstanding_minor.label("outstanding_minor_now"),
            u.jurisdiction,
            u.preferred_language,
            u.timezones,
            u.name,
            u.external_ref,
        )
        .join(a, a.id == c.account_id)
        .join(d, d.account_id == c.account_id, isouter=True)
        .join(u, u.id == c.customer_id)
        .where(among(session, c.id, ids))
        .order_by(c.id)
    )


def of_account(session: Session, account_id: int, *, limit: int) -> list[ContactPlan]:
    """An account's contacts, newest first."""
    c = ContactPlan
    stmt = select(c).where(c.account_id == account_id).order_by(c.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def call_subjects(session: Session, account_ids: Collection[int]) -> list[Any]:
    """The accounts as `contacts` reads a call: their account's, state's and customer's columns
    (the contact's own are the caller's to fill), one row each, for the guard's "may we call
    now" asked before any call is planned."""
    a, d, u = Account, AccountDelinquency, Customer
    stmt = (
        select(
            a.id.label("account_id"),
            a.customer_id,
            a.currency,
            a.product_code,
            a.collector,
            a.closed_date,
            d.dpd,
            d.overdue_minor.label("overdue_minor_now"),
            d.outstanding_minor.label("outstanding_minor_now"),
            u.jurisdiction,
            u.preferred_language,
            u.timezones,
            u.name,
            u.external_ref,
        )
        .join(d, d.account_id == a.id, isouter=True)
        .join(u, u.id == a.customer_id)
        .where(among(session, a.id, account_ids))
        .order_by(a.id)
    )
    return list(session.execute(stmt))


def next_due(session: Session, account_ids: Iterable[int]) -> dict[int, tuple[dt.date, int]]:
    """Per account, the earliest due date among unpaid bills and what remains due on it."""
    total = Bill.principal_minor + Bill.interest_minor + Bill.fees_minor
    stmt = (
        select(Bill.account_id, Bill.due_date, total - Bill.paid_minor)
        .where(among(session, Bill.account_id, account_ids), total > Bill.paid_minor)
        .order_by(Bill.account_id, Bill.due_date)
    )
    out: dict[int, tuple[dt.date, int]] = {}
    for account_id, due, remaining in session.execute(stmt):
        first = out.get(account_id)
        if first is None:
            out[account_id] = (due, int(remaining))
        elif first[0] == due:
            out[account_id] = (due, first[1] + int(remaining))
    return out


def open_pauses(
    session: Session, account_ids: Iterable[int], day: dt.date
) -> dict[int, list[tuple[str, str, dt.date, dt.date | None]]]:
    """Pauses that may hold on `day` give or take a day, as (kind, reason, start, end): pause
    dates are business dates in the product's time zone, which the caller works out per contact."""
    p = DelinquencyPause
    stmt = select(p.account_id, p.kind, p.reason, p.start_date, p.end_date).where(
        among(session, p.account_id, account_ids),
        p.cancelled_at.is_(None),
        p.start_date <= day + dt.timedelta(days=1),
        p.end_date.is_(None) | (p.end_date >= day - dt.timedelta(days=1)),
    )
    out: dict[int, list[tuple[str, str, dt.date, dt.date | None]]] = defaultdict(list)
    for account_id, kind, reason, start, end in session.execute(stmt):
        out[account_id].append((kind, reason, start, end))
    return out


def product_zones(session: Session) -> dict[str, str]:
    rows = session.execute(select(Product.code, Product.timezone)).all()
    return {str(code): str(zone) for code, zone in rows}


def inconvenient(session: Session, customer_ids: Iterable[int]) -> dict[int, tuple[Any, ...]]:
    """What each customer said is inconvenient (quiet hours, outside their preferred window), as
    the guard's periods."""
    p = ContactPreference
    stmt = select(
        p.customer_id, p.quiet_from, p.quiet_to, p.quiet_days, p.preferred_from, p.preferred_to
    ).where(among(session, p.customer_id, customer_ids))
    out: dict[int, tuple[Any, ...]] = {}
    for cid, start, end, days, pfrom, pto in session.execute(stmt):
        windows = inconvenient_windows(
            (start, end) if start is not None and end is not None else None,
            (pfrom, pto) if pfrom is not None and pto is not None else None,
            list(days or []),
        )
        if windows:
            out[cid] = tuple(
                Inconvenient(frozenset(w["days"]), w["start"], w["end"]) for w in windows
            )
    return out


def quiet_windows(start: int, end: int, days: list[int]) -> list[dict[str, Any]]:
    """A debtor's quiet hours as the guard's inconvenient periods: [start, end) in local minutes,
    split at midnight when they run past it (the part after midnight on the following weekdays)."""
    if start < end:
        return [{"days": days, "start": start, "end": end}]
    return [
        {"days": days, "start": start, "end": 24 * 60},
        {"days": [(d + 1) % 7 for d in days], "start": 0, "end": end},
    ]


def inconvenient_windows(
    quiet: tuple[int, int] | None, preferred: tuple[int, int] | None, days: list[int]
) -> list[dict[str, Any]]:
    """What a debtor said, as the guard's inconvenient periods: their quiet hours, and everything
    outside the window they prefer (every day)."""
    out = quiet_windows(quiet[0], quiet[1], days) if quiet else []
    if preferred:
        out += quiet_windows(preferred[1], preferred[0], [])  # the rest of the day, wrapped
    return out


def phones(session: Session, customer_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """Each customer's first mobile number (E.164) and its blind index."""
    p = CustomerPhone
    stmt = (
        select(p.customer_id, p.number, p.number_index)
        .where(among(session, p.customer_id, customer_ids), p.type == "mobile")
        .order_by(p.customer_id, p.position)
    )
    out: dict[int, tuple[str, str | None]] = {}
    for customer_id, number, index in session.execute(stmt):
        out.setdefault(customer_id, (number, index))
    return out


def emails(session: Session, customer_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    e = CustomerEmail
    stmt = (
        select(e.customer_id, e.address, e.address_index)
        .where(among(session, e.customer_id, customer_ids))
        .order_by(e.customer_id, e.position)
    )
    out: dict[int, tuple[str, str | None]] = {}
    for customer_id, address, index in session.execute(stmt):
        out.setdefault(customer_id, (address, index))
    return out


def postal_addresses(
    session: Session, customer_ids: Iterable[int]
) -> dict[int, tuple[int, str, str | None, str | None, str | None, str]]:
    """Each customer's first postal address a letter may go to: (its id, line, city, region,
    postal code, country). A letter goes only where a street line is on file, and never to an
    address a letter came back from (returned to sender)."""
    p = CustomerAddress
    stmt = (
        select(p.customer_id, p.id, p.line, p.city, p.region, p.postal_code, p.country)
        .where(among(session, p.customer_id, customer_ids), p.returned_at.is_(None))
        .order_by(p.customer_id, p.position, p.id)
    )
    out: dict[int, tuple[int, str, str | None, str | None, str | None, str]] = {}
    for customer_id, address_id, line, city, region, postal_code, country in session.execute(stmt):
        if line and line.strip():
            out.setdefault(customer_id, (address_id, line, city, region, postal_code, country))
    return out


def wechat_openids(
    session: Session, customer_ids: Iterable[int], at: dt.datetime
) -> dict[int, str]:
    """The openid each customer gave with their consent to the service account's notices (the
    consent's `scope.openid`, recorded when they followed the account and agreed): the address a
    WeChat message goes to, and only while that consent stands."""
    c = Consent
    stmt = (
        select(c.customer_id, c.scope)
        .where(
            among(session, c.customer_id, customer_ids),
            c.purpose == "electronic",
            c.channel == "wechat",
            c.withdrawn_at.is_(None),
            c.given_at <= at,
            c.expires_at.is_(None) | (c.expires_at > at),
        )
        .order_by(c.customer_id, c.given_at.desc())
    )
    out: dict[int, str] = {}
    for customer_id, scope in session.execute(stmt):
        openid = scope.get("openid") if isinstance(scope, dict) else None
        if isinstance(openid, str) and openid:
            out.setdefault(customer_id, openid)
    return out


def itemizations(
    session: Session, account_ids: Iterable[int], today: dt.date
) -> dict[int, tuple[dt.date, int, int]]:
    """What a US validation notice itemizes, per account: (itemization date, amount owed then,
    paid since). The itemization date is the last statement date (12 CFR 1006.34(b)(3)(i)): the
    latest bill due on or before `today`. Owed then: the bills due by that date less what was
    allocated to them by it; paid since: what was allocated to those bills after it. No bill has
    fallen due since, so no interest or fees were charged since."""
    ids = list(account_ids)
    if not ids:
        return {}
    b, a = Bill, Allocation
    bills = session.execute(
        select(
            b.id, b.account_id, b.due_date, b.principal_minor + b.interest_minor + b.fees_minor
        ).where(among(session, b.account_id, ids), b.due_date <= today)
    ).all()
    statement: dict[int, dt.date] = {}
    for _, account_id, due, _ in bills:
        statement[account_id] = max(statement.get(account_id, due), due)
    owed: dict[int, int] = defaultdict(int)
    for _, account_id, _, amount in bills:
        owed[account_id] += int(amount)
    due_by = {bill_id: account_id for bill_id, account_id, _, _ in bills}
    paid_then: dict[int, int] = defaultdict(int)
    paid_since: dict[int, int] = defaultdict(int)
    for bill_id, amount, value_date in session.execute(
        select(a.bill_id, a.amount_minor, a.value_date).where(among(session, a.account_id, ids))
    ):
        owner = due_by.get(bill_id)
        if owner is None:
            continue
        if value_date <= statement[owner]:
            paid_then[owner] += int(amount)
        elif value_date <= today:
            paid_since[owner] += int(amount)
    return {
        account_id: (day, owed[account_id] - paid_then[account_id], paid_since[account_id])
        for account_id, day in statement.items()
    }


def account_refs(session: Session, account_ids: Iterable[int]) -> dict[int, str]:
    """The accounts' own references (what a letter prints, masked, as the account number)."""
    stmt = select(Account.id, Account.external_ref).where(among(session, Account.id, account_ids))
    return {int(i): str(ref) for i, ref in session.execute(stmt)}


def contact_addresses(
    session: Session, contact_ids: Iterable[int]
) -> list[tuple[int, int, str, str | None]]:
    """(contact id, customer id, channel, address index) of these contacts."""
    c = ContactPlan
    stmt = select(c.id, c.customer_id, c.channel, c.address_index).where(
        among(session, c.id, contact_ids)
    )
    return [(int(i), int(cu), str(ch), ix) for i, cu, ch, ix in session.execute(stmt)]


def opt_outs(
    session: Session, customer_ids: Iterable[int]
) -> dict[int, list[tuple[str, str | None]]]:
    """Opt-outs in force: per customer, (channel, address index or None for every address)."""
    stmt = select(OptOut.customer_id, OptOut.channel, OptOut.address_index).where(
        among(session, OptOut.customer_id, customer_ids), OptOut.withdrawn_at.is_(None)
    )
    out: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for customer_id, channel, index in session.execute(stmt):
        out[customer_id].append((channel, index))
    return out


def electronic_consents(
    session: Session, customer_ids: Iterable[int], at: dt.datetime
) -> dict[int, set[str | None]]:
    """Consents to electronic messages in force: per customer, the channels (None: all)."""
    c = Consent
    stmt = select(c.customer_id, c.channel).where(
        among(session, c.customer_id, customer_ids),
        c.purpose == "electronic",
        c.withdrawn_at.is_(None),
        c.given_at <= at,
        c.expires_at.is_(None) | (c.expires_at > at),
    )
    out: dict[int, set[str | None]] = defaultdict(set)
    for customer_id, channel in session.execute(stmt):
        out[customer_id].add(channel)
    return out


def history(
    session: Session, customer_ids: Iterable[int], now: dt.datetime
) -> dict[int, list[tuple[dt.datetime, str, int, str | None]]]:
    """Per customer, the contacts that left or are leaving (time, channel, account, a call's
    result) in the longest cap window: what frequency caps count at send time."""
    c = ContactPlan
    at = func.coalesce(c.sent_at, c.updated_at, c.scheduled_at)
    stmt = select(c.customer_id, at, c.channel, c.account_id, c.result).where(
        among(session, c.customer_id, customer_ids),
        c.status.in_(COUNTED),
        c.purpose == "collection",
        c.channel != QUEUE_ENTRY,
        at > now - dt.timedelta(days=HISTORY_DAYS),
    )
    out: dict[int, list[tuple[dt.datetime, str, int, str | None]]] = defaultdict(list)
    for customer_id, when, channel, account_id, result in session.execute(stmt):
        out[customer_id].append((when, channel, account_id, result))
    return out


def approved_templates(session: Session) -> dict[tuple[str, str, str, str], Any]:
    """The latest approved version of every template, by (name, channel, language, tone): rows
    with the version's id, name, channel, language, tone, subject and body (named tuples, read by
    name for each message rendered: see `contacts`)."""
    v = TemplateVersion
    stmt = (
        select(v.id, v.name, v.channel, v.language, v.tone, v.subject, v.body)
        .where(v.status == "approved")
        .order_by(v.version)
    )
    result = session.execute(stmt)
    make = _record(tuple(result.keys()))._make
    return {(r.name, r.channel, r.language, r.tone): r for r in map(make, result)}


def write_batch(
    session: Session,
    changes: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    messages: Sequence[dict[str, Any]] = (),
) -> None:
    """A dispatcher's batch written: the contacts' changes, their events, then (a claim's) the
    messages, in that order, sent without waiting for each answer (`bulk.pipelined`: PostgreSQL
    updates the contacts while the events are encoded and the texts sealed here); it returns once
    all three are done."""
    with bulk.pipelined(session):
        update_contacts(session, changes)
        add_events(session, events)
        save_messages(session, messages)


def update_contacts(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Apply per-contact changes (`id` plus the columns to set), whatever columns each sets, in one
    statement."""
    rows = [
        {**c, "reasons": json.dumps(c["reasons"])} if c.get("reasons") is not None else c
        for c in changes
    ]
    bulk.update_rows(session, _table(ContactPlan), "id", rows)


def add_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    rows = [
        {
            "contact_id": e["contact_id"],
            "status": e["status"],
            "at": e["at"],
            "actor": e["actor"],
            "detail": json.dumps(e["detail"], ensure_ascii=False, default=str),
        }
        for e in events
    ]
    bulk.insert_rows(session, _table(ContactEvent), rows)


def save_messages(session: Session, messages: Sequence[dict[str, Any]]) -> None:
    """Store what each contact says (`ContactMessage` columns; the texts sealed here, in bulk),
    replacing the text of an earlier attempt (a template may have been approved anew, a balance
    may have changed)."""
    if not messages:
        return
    table = _table(ContactMessage)
    body, subject = table.c.body.type, table.c.subject.type
    assert isinstance(body, EncryptedString)
    assert isinstance(subject, EncryptedString)
    bodies = body.seal_many([m["body"] for m in messages])
    subjects = subject.seal_many([m["subject"] for m in messages])
    rows = [
        {**m, "body": b, "subject": s} for m, b, s in zip(messages, bodies, subjects, strict=True)
    ]
    bulk.upsert_rows(
        session,
        table,
        rows,
        key="contact_id",
        replace=("subject", "body", "language", "template_version_id"),
    )


PLAN_KEY = ("account_id", "as_of_date", "treatment")

# Partitioned by month on PostgreSQL (`kit.partitions`, the migration `95cd095bbdbc`). The
# record-keeping rules count from the last collection activity on the debt (12 CFR 1006.100: until
# three years after it; the longest period of any jurisdiction is kept): a month of contacts is held
# while any of its accounts has a decision or a contact since the cutoff, and a contact's events
# are kept as long as the contact.
PARTITIONS = (
    Partitioned(
        "contact_plans",
        "as_of_date",
        holders=(
            Holder("account_id", "strategy_decisions", "account_id", since="as_of_date"),
            Holder("account_id", "contact_plans", "account_id", since="as_of_date"),
        ),
    ),
    Partitioned("contact_events", "at", holders=(Holder("contact_id", "contact_plans", "id"),)),
)


def insert_plans(session: Session, plans: pl.DataFrame) -> int:
    """New contact plans (a day's run: rows no earlier plan of the day has), in key order, so
    that the same plans get the same ids whatever order the frame came in."""
    return frames.insert_frame(session, _table(ContactPlan), plans.sort(PLAN_KEY))


def plans_with_keys(
    session: Session, account_ids: Collection[int], days: Collection[dt.date]
) -> dict[tuple[int, dt.date, str | None], tuple[int, str]]:
    """(account, day, treatment) → (id, status) of the accounts' plans on those days."""
    c = ContactPlan
    rows = session.execute(
        select(c.account_id, c.as_of_date, c.treatment, c.id, c.status).where(
            among(session, c.account_id, account_ids), c.as_of_date.in_(sorted(days))
        )
    )
    return {(a, d, t): (i, st) for a, d, t, i, st in rows}


def upsert_plans(session: Session, plans: pl.DataFrame) -> int:
    """Plan the rows anew: insert, or replace the row of the same account, day and treatment
    while it is replannable (`REPLANNABLE`); a contact that left or is leaving stays as it is."""
    return frames.upsert_frame(
        session,
        _table(ContactPlan),
        plans.sort(PLAN_KEY),
        PLAN_KEY,
        only_if=("status", REPLANNABLE),
    )


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def cancel_unsent(
    session: Session,
    reason: str,
    *,
    now: dt.datetime,
    actor: str,
    accounts: Collection[int] | None = None,
    customer_id: int | None = None,
    channel: str | None = None,
) -> Counter[int]:
    """Cancel the collection contacts not sent yet (of some accounts, or of a customer on a
    channel), in the caller's transaction, and record why; how many, by account. A contact a worker
    is sending right now is locked by that worker: this waits for it, and it is then `sent`, not
    cancelled, so nothing leaves after the caller commits. Service messages (an opt-out's
    confirmation) still go."""
    if accounts is None and customer_id is None:
        raise ValueError("cancel_unsent needs accounts or a customer")
    c = ContactPlan
    where = [c.purpose == "collection", c.status.in_((*WAITING, ContactStatus.sending))]
    if accounts is not None:
        where.append(c.account_id.in_(sorted(accounts)))
    if customer_id is not None:
        where.append(c.customer_id == customer_id)
    if channel is not None:
        where.append(c.channel == channel)
    rows = session.execute(
        update(c)
        .where(*where)
        .values(status=ContactStatus.cancelled, reasons=[reason], updated_at=now)
        .returning(c.id, c.account_id)
    ).all()
    ids = [i for i, _ in rows]
    add_events(
        session,
        [
            {
                "contact_id": i,
                "status": "cancelled",
                "at": now,
                "actor": actor,
                "detail": {"reason": reason},
            }
            for i in ids
        ],
    )
    return Counter(account_id for _, account_id in rows)


def messages_after(session: Session, message_id: int) -> list[tuple[int, int, str]]:
    """(id, contact id, channel) of the messages stored after `message_id` (an app's inbox)."""
    m = ContactMessage
    stmt = select(m.id, m.contact_id, m.channel).where(m.id > message_id)
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def sent_plans(session: Session, ids: Collection[int]) -> list[Any]:
    """The contacts `ids`: rows of id, account_id, channel, tone, purpose, template, sent_at."""
    if not ids:
        return []
    c = ContactPlan
    stmt = select(c.id, c.account_id, c.channel, c.tone, c.purpose, c.template, c.sent_at).where(
        c.id.in_(ids)
    )
    return list(session.execute(stmt))


def approved_template_bodies(session: Session) -> list[tuple[str, str, str, str]]:
    """(name, channel, tone, body) of every approved template version."""
    v = TemplateVersion
    stmt = select(v.name, v.channel, v.tone, v.body).where(v.status == "approved")
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(stmt)]


# The replies inbox and the answers people send: reads (the replies queue's tasks are agents'
# rows, read here for the inbox beside the messages they stand for).


def own_mobile_index(session: Session, customer_id: int) -> str | None:
    """The blind index of the customer's first own mobile (given by them or the wallet), if any:
    where an answer by SMS goes (never a third party's number)."""
    p = CustomerPhone
    return session.execute(
        select(p.number_index)
        .where(
            p.customer_id == customer_id, p.type == "mobile", p.source.in_(("customer", "wallet"))
        )
        .order_by(p.position)
        .limit(1)
    ).scalar_one_or_none()


def open_reply_tasks(session: Session, queue: str, *, limit: int) -> list[AgentTask]:
    """The queue's open tasks opened for a reply, newest first."""
    t = AgentTask
    stmt = (
        select(t)
        .where(t.queue == queue, t.status == "open", t.source == "reply")
        .order_by(t.created_at.desc(), t.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def agent_task(session: Session, task_id: int) -> AgentTask | None:
    return session.get(AgentTask, task_id)


def inbound_messages(session: Session, ids: Iterable[int]) -> dict[int, InboundMessage]:
    m = InboundMessage
    return {row.id: row for row in session.scalars(select(m).where(among(session, m.id, ids)))}


def replies_since(
    session: Session, customer_ids: Iterable[int], since: dt.datetime
) -> list[InboundMessage]:
    """The customers' replies (not opt-outs) received from `since` on, newest first."""
    m = InboundMessage
    stmt = (
        select(m)
        .where(among(session, m.customer_id, customer_ids), m.intent == "reply")
        .where(m.received_at >= since)
        .order_by(m.received_at.desc(), m.id.desc())
    )
    return list(session.scalars(stmt))


def promised(session: Session, arrangement_ids: Collection[int]) -> dict[int, tuple[int, dt.date]]:
    """Each promise's amount and day (its one instalment): what the assistant's confirmation says
    (a read of arrangements' table)."""
    ids = [i for i in arrangement_ids if i]
    if not ids:
        return {}
    i = ArrangementInstalment
    stmt = select(i.arrangement_id, i.amount_minor, i.due_date).where(
        among(session, i.arrangement_id, ids)
    )
    return {a: (amount, due) for a, amount, due in session.execute(stmt)}


def _database_now(session: Session) -> ColumnElement[float]:
    """Seconds since the epoch on the database's clock: one clock for every worker, whatever
    machine it runs on (SQLite's `julianday('now')` and PostgreSQL's statement timestamp are
    fixed for the statement)."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column("extract(epoch from statement_timestamp())::float8", Double)
    return literal_column("((julianday('now') - 2440587.5) * 86400.0)", Double)


def reserve_sends(
    session: Session, provider: str, count: int, *, interval: float, burst: int, pause: float
) -> tuple[float, float]:
    """Reserve `count` sends on the provider's shared bucket, `interval` seconds apart: returns
    the first one's slot and the database's clock now, both in epoch seconds. A bucket left idle
    lets `burst` sends go at once; `pause` (seconds, a provider's "slow down") puts the first
    slot no earlier than that long from now. One `UPDATE ... RETURNING` (the row inserted the
    first time), so concurrent workers queue on the row's lock and each gets slots of its own."""
    p = ProviderPacing
    now = _database_now(session)
    floor = now + (pause if pause > 0 else -(max(burst, 1) - 1) * interval)
    start = case((p.next_slot > floor, p.next_slot), else_=floor)
    stmt = (
        update(p)
        .where(p.provider == provider)
        .values(next_slot=start + count * interval)
        .returning(p.next_slot, now)
    )
    row = session.execute(stmt).one_or_none()
    if row is None:
        insert = (
            pg_insert(p) if session.get_bind().dialect.name == "postgresql" else sqlite_insert(p)
        )
        session.execute(
            insert.values(provider=provider, next_slot=0.0).on_conflict_do_nothing(
                index_elements=[p.provider]
            )
        )
        row = session.execute(stmt).one()
    end, at = row
    return float(end) - count * interval, float(at)

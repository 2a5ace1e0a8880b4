"""SQL for the outbox: claiming due contacts, what the send-time check reads, and the writes of the
dispatcher, all set-based per batch (one query per kind of fact, never one per contact)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any

import polars as pl
from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.kit.crypto import EncryptedString
from recoup.kit.db import among
from recoup.models import (
    Account,
    AccountDelinquency,
    AgentTask,
    Bill,
    Consent,
    ContactEvent,
    ContactMessage,
    ContactPlan,
    ContactStatus,
    Customer,
    CustomerEmail,
    CustomerPhone,
    DelinquencyPause,
    OptOut,
    TemplateVersion,
)
from recoup.models.contact import WAITING

# What counts towards frequency caps: contacts that left (or may have left) for the debtor.
COUNTED = (ContactStatus.sending, ContactStatus.sent, ContactStatus.delivered)
HISTORY_DAYS = 32  # the longest cap window (a calendar month) and a day of zone slack


def claim_due(session: Session, now: dt.datetime, *, limit: int) -> list[int]:
    """Ids of due contacts, locked for this transaction: waiting ones whose time has come, and ones
    a crashed worker left `sending` past their lease. Other workers skip the locked rows."""
    c = ContactPlan
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


def contacts(session: Session, ids: Sequence[int]) -> list[SimpleNamespace]:
    """The claimed contacts with their account's and customer's state, one row each. Three
    primary-key lookups rather than one join: the join's plan scans whole tables to serve a batch."""
    c, a, d, u = ContactPlan, Account, AccountDelinquency, Customer
    planned = session.execute(
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
            c.as_of_date,
            c.overdue_minor,
            c.outstanding_minor,
            c.agent,
        )
        .where(among(session, c.id, ids))
        .order_by(c.id)
    ).all()
    account_ids = {r.account_id for r in planned}
    accounts = {
        r.id: r
        for r in session.execute(
            select(a.id, a.currency, a.product_code, a.collector, a.closed_date).where(
                among(session, a.id, account_ids)
            )
        )
    }
    states = {
        r.account_id: r
        for r in session.execute(
            select(
                d.account_id,
                d.dpd,
                d.overdue_minor.label("overdue_minor_now"),
                d.outstanding_minor.label("outstanding_minor_now"),
            ).where(among(session, d.account_id, account_ids))
        )
    }
    customers = {
        r.id: r
        for r in session.execute(
            select(
                u.id, u.jurisdiction, u.preferred_language, u.timezones, u.name, u.external_ref
            ).where(among(session, u.id, {r.customer_id for r in planned}))
        )
    }
    out = []
    for r in planned:
        state = states.get(r.account_id)
        account, customer = accounts[r.account_id], customers[r.customer_id]
        out.append(
            SimpleNamespace(
                **r._asdict(),
                currency=account.currency,
                product_code=account.product_code,
                collector=account.collector,
                closed_date=account.closed_date,
                dpd=state.dpd if state else None,
                overdue_minor_now=state.overdue_minor_now if state else None,
                outstanding_minor_now=state.outstanding_minor_now if state else None,
                jurisdiction=customer.jurisdiction,
                preferred_language=customer.preferred_language,
                timezones=customer.timezones,
                name=customer.name,
                external_ref=customer.external_ref,
            )
        )
    return out


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


def open_pauses(session: Session, account_ids: Iterable[int], day: dt.date) -> dict[int, list[str]]:
    p = DelinquencyPause
    stmt = select(p.account_id, p.reason).where(
        among(session, p.account_id, account_ids),
        p.cancelled_at.is_(None),
        p.start_date <= day,
        p.end_date.is_(None) | (p.end_date >= day),
    )
    out: dict[int, list[str]] = defaultdict(list)
    for account_id, reason in session.execute(stmt):
        out[account_id].append(reason)
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
) -> dict[int, list[tuple[dt.datetime, str, int]]]:
    """Per customer, the contacts that left or are leaving (time, channel, account) in the longest
    cap window: what frequency caps count at send time."""
    c = ContactPlan
    at = func.coalesce(c.sent_at, c.updated_at, c.scheduled_at)
    stmt = select(c.customer_id, at, c.channel, c.account_id).where(
        among(session, c.customer_id, customer_ids),
        c.status.in_(COUNTED),
        c.purpose == "collection",
        at > now - dt.timedelta(days=HISTORY_DAYS),
    )
    out: dict[int, list[tuple[dt.datetime, str, int]]] = defaultdict(list)
    for customer_id, when, channel, account_id in session.execute(stmt):
        out[customer_id].append((when, channel, account_id))
    return out


def approved_templates(session: Session) -> dict[tuple[str, str, str, str], TemplateVersion]:
    """The latest approved version of every template, by (name, channel, language, tone)."""
    out: dict[tuple[str, str, str, str], TemplateVersion] = {}
    stmt = (
        select(TemplateVersion)
        .where(TemplateVersion.status == "approved")
        .order_by(TemplateVersion.version)
    )
    for v in session.execute(stmt).scalars():
        out[(v.name, v.channel, v.language, v.tone)] = v
    return out


# The contact columns the dispatcher and the callbacks change, as frames carry them.
CHANGED: frames.Schema = {
    "id": pl.Int64,
    "status": pl.String,
    "updated_at": pl.Datetime("us", "UTC"),
    "scheduled_at": pl.Datetime("us", "UTC"),
    "reasons": pl.List(pl.String),
    "attempts": pl.Int64,
    "lease_until": pl.Datetime("us", "UTC"),
    "worker": pl.String,
    "address_index": pl.String,
    "sent_at": pl.Datetime("us", "UTC"),
    "provider": pl.String,
    "provider_id": pl.String,
}
TASK: frames.Schema = {
    "account_id": pl.Int64,
    "as_of_date": pl.Date,
    "queue": pl.String,
    "priority": pl.Float64,
    "status": pl.String,
    "source": pl.String,
    "subject_id": pl.Int64,
    "created_at": pl.Datetime("us", "UTC"),
}
EVENT: frames.Schema = {
    "contact_id": pl.Int64,
    "status": pl.String,
    "at": pl.Datetime("us", "UTC"),
    "actor": pl.String,
    "detail": pl.String,
}


def update_contacts(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Apply per-contact changes (`id` plus the columns to set): one set-based update per set of
    columns changed together."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        groups[tuple(sorted(change))].append(change)
    table = ContactPlan.__table__
    assert isinstance(table, Table)
    for columns, rows in groups.items():
        frame = pl.DataFrame(rows, schema={c: CHANGED[c] for c in columns}, orient="row")
        frames.update_frame(session, table, frame, "id")


def add_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    if not events:
        return
    rows = [
        {**e, "detail": json.dumps(e["detail"], ensure_ascii=False, default=str)} for e in events
    ]
    table = ContactEvent.__table__
    assert isinstance(table, Table)
    frames.insert_frame(session, table, pl.DataFrame(rows, schema=EVENT))


def save_messages(session: Session, messages: Sequence[ContactMessage]) -> None:
    """Store what each contact says (sealed, in bulk), replacing the text of an earlier attempt (a
    template may have been approved anew, a balance may have changed)."""
    if not messages:
        return
    existing = {
        m.contact_id: m
        for m in session.execute(
            select(ContactMessage).where(
                among(session, ContactMessage.contact_id, [m.contact_id for m in messages])
            )
        ).scalars()
    }
    new = [m for m in messages if m.contact_id not in existing]
    for m in messages:
        old = existing.get(m.contact_id)
        if old is not None:
            old.subject, old.body, old.language = m.subject, m.body, m.language
            old.template_version_id = m.template_version_id
    session.flush()
    if not new:
        return
    table = ContactMessage.__table__
    assert isinstance(table, Table)
    body, subject = table.c.body.type, table.c.subject.type
    assert isinstance(body, EncryptedString)
    assert isinstance(subject, EncryptedString)
    frame = pl.DataFrame(
        {
            "contact_id": [m.contact_id for m in new],
            "customer_id": [m.customer_id for m in new],
            "channel": [m.channel for m in new],
            "language": [m.language for m in new],
            "template_version_id": [m.template_version_id for m in new],
            "subject": [None if m.subject is None else subject.seal(m.subject) for m in new],
            "body": [body.seal(m.body) for m in new],
            "created_at": [m.created_at for m in new],
        },
        schema={
            "contact_id": pl.Int64,
            "customer_id": pl.Int64,
            "channel": pl.String,
            "language": pl.String,
            "template_version_id": pl.Int64,
            "subject": pl.Binary,
            "body": pl.Binary,
            "created_at": pl.Datetime("us", "UTC"),
        },
    )
    frames.insert_frame(session, table, frame)


def add_agent_tasks(session: Session, tasks: Sequence[AgentTask]) -> None:
    """Tasks for the agents' queues; a second one for the same account, day and queue joins the
    task already there."""
    if not tasks:
        return
    t = AgentTask
    existing = {
        (row[0], row[1], row[2])
        for row in session.execute(
            select(t.account_id, t.as_of_date, t.queue).where(
                among(session, t.account_id, {task.account_id for task in tasks}),
                t.queue.in_({task.queue for task in tasks}),
            )
        )
    }
    rows = []
    for task in tasks:
        key = (task.account_id, task.as_of_date, task.queue)
        if key not in existing:
            existing.add(key)
            rows.append(
                {
                    "account_id": task.account_id,
                    "as_of_date": task.as_of_date,
                    "queue": task.queue,
                    "priority": task.priority,
                    "status": task.status,
                    "source": task.source,
                    "subject_id": task.subject_id,
                    "created_at": task.created_at,
                }
            )
    table = AgentTask.__table__
    assert isinstance(table, Table)
    frames.insert_frame(session, table, pl.DataFrame(rows, schema=TASK))


def cancel_unsent(
    session: Session,
    reason: str,
    *,
    now: dt.datetime,
    actor: str,
    account_id: int | None = None,
    customer_id: int | None = None,
    channel: str | None = None,
) -> int:
    """Cancel the collection contacts not sent yet (of an account, or of a customer on a channel),
    in the caller's transaction, and record why. A contact a worker is sending right now is locked
    by that worker: this waits for it, and it is then `sent`, not cancelled, so nothing leaves after
    the caller commits. Service messages (an opt-out's confirmation) still go."""
    if account_id is None and customer_id is None:
        raise ValueError("cancel_unsent needs an account or a customer")
    c = ContactPlan
    where = [c.purpose == "collection", c.status.in_((*WAITING, ContactStatus.sending))]
    if account_id is not None:
        where.append(c.account_id == account_id)
    if customer_id is not None:
        where.append(c.customer_id == customer_id)
    if channel is not None:
        where.append(c.channel == channel)
    ids = list(
        session.execute(
            update(c)
            .where(*where)
            .values(status=ContactStatus.cancelled, reasons=[reason], updated_at=now)
            .returning(c.id)
        ).scalars()
    )
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
    return len(ids)

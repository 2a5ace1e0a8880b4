"""`recoup audit contacts`: what was sent, read back from the record and checked again, without the
guard. The reads are set-based (one query per kind of record, whatever the number of contacts);
the checks are `contact_rules`, a pure engine over the frames these reads return.

What counts as sent: a contact whose row says `sent` or `delivered`, or whose events say it was
(a message that bounced after it was accepted did leave), timed by its `sent_at` (else the first
such event). Contacts still `sending` are not counted: the record cannot say whether they left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from recoup.audit import contact_rules
from recoup.audit.contact_rules import Breach
from recoup.compliance.packs import Guard, load_guard
from recoup.models import (
    Account,
    ContactEvent,
    ContactPlan,
    ContactStatus,
    Customer,
    DelinquencyPause,
    OptOut,
    Product,
)
from recoup.models.contact import QUEUE_ENTRY

SENT = (ContactStatus.sent, ContactStatus.delivered)
LOOKBACK = dt.timedelta(days=40)  # the longest cap window (a calendar month) and zone slack


@dataclass(frozen=True)
class ContactAudit:
    start: dt.date | None
    end: dt.date | None
    contacts: int  # collection contacts sent in the period, each checked
    service: int  # service messages sent in the period, not collection: not checked
    breaches: list[Breach] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "contacts": self.contacts,
            "service_messages": self.service,
            "breaches": [b.to_json() for b in self.breaches],
        }


def audit_contacts(
    session: Session,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    guard: Guard | None = None,
) -> ContactAudit:
    """Every breach among the contacts sent from `start` to `end` (UTC dates, both included)."""
    lo = _midnight(start)
    hi = _midnight(end + dt.timedelta(days=1)) if end is not None else None
    sent = _sent(session, lo - LOOKBACK if lo is not None else None, hi)
    inside = pl.lit(True)
    if lo is not None:
        inside &= pl.col("sent_at") >= lo
    if hi is not None:
        inside &= pl.col("sent_at") < hi
    period = sent.filter(inside)
    found = contact_rules.breaches(
        sent,
        _opt_outs(session),
        _pauses(session),
        guard or load_guard(),
        report_from=lo,
        report_to=hi,
    )
    return ContactAudit(
        start=start,
        end=end,
        contacts=period.filter(pl.col("purpose") == "collection").height,
        service=period.filter(pl.col("purpose") != "collection").height,
        breaches=contact_rules.as_breaches(found),
    )


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _sent(session: Session, lo: dt.datetime | None, hi: dt.datetime | None) -> pl.DataFrame:
    c, a, p, u, e = ContactPlan, Account, Product, Customer, ContactEvent
    left = select(e.contact_id, func.min(e.at).label("at")).where(e.status.in_(SENT))
    if lo is not None:
        left = left.where(e.at >= lo - dt.timedelta(days=1))
    events = left.group_by(e.contact_id).subquery()
    sent_at = func.coalesce(c.sent_at, events.c.at)
    stmt = (
        select(
            c.id,
            c.customer_id,
            c.account_id,
            c.channel,
            c.purpose,
            c.status,
            sent_at,
            c.address_index,
            a.collector,
            a.product_code,
            p.timezone,
            u.jurisdiction,
            u.timezones,
            c.result,
        )
        .join(a, a.id == c.account_id)
        .join(p, p.code == a.product_code)
        .join(u, u.id == c.customer_id)
        .outerjoin(events, events.c.contact_id == c.id)
        .where(or_(c.status.in_(SENT), events.c.contact_id.is_not(None)))
        # A "call" contact puts the account in the agents' queue: nobody is rung until an agent
        # dials (a "dial" contact, which is audited). The queue entry is no contact with anyone.
        .where(c.channel != QUEUE_ENTRY)
    )
    if lo is not None:
        stmt = stmt.where(sent_at >= lo)
    if hi is not None:
        stmt = stmt.where(sent_at < hi)
    rows = [tuple(r) for r in session.execute(stmt)]
    return pl.DataFrame(rows, schema=contact_rules.SENT, orient="row")


def _opt_outs(session: Session) -> pl.DataFrame:
    o = OptOut
    stmt = select(o.customer_id, o.channel, o.address_index, o.source, o.created_at, o.withdrawn_at)
    rows = [tuple(r) for r in session.execute(stmt)]
    return pl.DataFrame(rows, schema=contact_rules.OPT_OUTS, orient="row")


def _pauses(session: Session) -> pl.DataFrame:
    """The pauses that stand for a dispute, a hardship review or a cease (the others, such as a
    payment plan's, are the policy's choice rather than a rule)."""
    d = DelinquencyPause
    stmt = select(
        d.account_id, d.kind, d.reason, d.start_date, d.end_date, d.created_at, d.cancelled_at
    ).where(d.kind.in_(list(contact_rules.PAUSE_FLAGS)))
    rows = [tuple(r) for r in session.execute(stmt)]
    return pl.DataFrame(rows, schema=contact_rules.PAUSES, orient="row")

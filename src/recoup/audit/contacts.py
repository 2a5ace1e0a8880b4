"""`recoup audit contacts`: what was sent, read back from the record and checked again, without the
guard. The reads are set-based (one query per kind of record, whatever the number of contacts);
the checks are `contact_rules`, a pure engine over the frames these reads return.

The rules checked are the deployment's: the shipped packs under its house policy
(`RECOUP_COMPLIANCE_HOUSE_FILE`, through `compliance.house.deployment_guard`, which loads rules and
decides nothing), since a house rule broken is a breach of the policy the deployment promised. The
audit reads those rules as data; it never asks the guard to decide.

What counts as sent: a contact whose row says `sent` or `delivered`, or whose events say it was
(a message that bounced after it was accepted did leave), timed by its `sent_at` (else the first
such event). Contacts still `sending` are not counted: the record cannot say whether they left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from recoup.audit import contact_rules
from recoup.audit import repository as repo
from recoup.audit.contact_rules import Breach
from recoup.compliance.house import deployment_guard
from recoup.compliance.packs import Guard
from recoup.config import get_settings

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
    sent = repo.sent_contacts(session, lo - LOOKBACK if lo is not None else None, hi)
    inside = pl.lit(True)
    if lo is not None:
        inside &= pl.col("sent_at") >= lo
    if hi is not None:
        inside &= pl.col("sent_at") < hi
    period = sent.filter(inside)
    found = contact_rules.breaches(
        sent,
        repo.opt_outs(session),
        repo.rule_pauses(session),
        guard or deployment_guard(get_settings().compliance_house_file),
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

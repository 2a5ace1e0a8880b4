"""SQL for analytics: every read is one set-based query (grouped in the database where it can be),
returned as a Polars frame. Nothing here loops over accounts.

Dates are business dates; instants ([`start_at`, `end_at`)) bound the rows that carry only a UTC
timestamp (cases, opt-outs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Select, String, Subquery, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.models import (
    Account,
    AccountDelinquency,
    AccountScore,
    AgentTask,
    Allocation,
    Arrangement,
    Bill,
    BillAdjustment,
    Case,
    ContactPlan,
    Customer,
    CustomerAddress,
    DelinquencyEvent,
    DelinquencyPause,
    DelinquencyRun,
    OptOut,
    Product,
    StrategyDecision,
)
from recoup.models.contact import QUEUE_ENTRY

# A contact a channel accepted for the debtor: what counts as an attempt.
ATTEMPTED = ("sent", "delivered", "bounced")
# The call result that is a right-party contact: a conversation with the debtor.
RIGHT_PARTY = "conversation"

# The accounts a figure covers: None for the whole portfolio, else a statement selecting their ids.
Accounts = Select[Any] | None


def scoped_accounts(product: str | None, segment: str | None, to: dt.date) -> Accounts:
    """The ids of the accounts of a product and of a segment, or None when neither is asked. An
    account's segment is the one of the strategy's last decision for it on or before `to` (one
    decision per account and day): each account is in one segment, or none when never decided."""
    if product is None and segment is None:
        return None
    stmt = select(Account.id)
    if product is not None:
        stmt = stmt.where(Account.product_code == product)
    if segment is not None:
        d = StrategyDecision
        last = (
            select(d.account_id, func.max(d.as_of_date).label("day"))
            .where(d.as_of_date <= to)
            .group_by(d.account_id)
            .subquery("last_decision")
        )
        in_segment = (
            select(d.account_id)
            .join(last, and_(last.c.account_id == d.account_id, last.c.day == d.as_of_date))
            .where(d.segment == segment)
        )
        stmt = stmt.where(Account.id.in_(in_segment))
    return stmt


def _within(stmt: Any, column: Any, accounts: Accounts) -> Any:
    return stmt if accounts is None else stmt.where(column.in_(accounts))


def product_codes(session: Session) -> list[str]:
    """Every product's code, in order: what the figures may be filtered by."""
    return list(session.execute(select(Product.code).order_by(Product.code)).scalars())


def segments(session: Session, from_: dt.date, to: dt.date) -> list[str]:
    """The segments the strategy decided accounts in during [from_, to] (by the decisions' date
    index, not over the whole history), in order."""
    d = StrategyDecision
    stmt = (
        select(d.segment)
        .where(d.segment.is_not(None), d.as_of_date.between(from_, to))
        .distinct()
        .order_by(d.segment)
    )
    return [str(s) for s in session.execute(stmt).scalars()]


def segment_exists(session: Session, segment: str) -> bool:
    """Has the strategy ever decided an account in this segment?"""
    d = StrategyDecision
    stmt = select(d.id).where(d.segment == segment).limit(1)
    return session.execute(stmt).first() is not None


def observed_accounts(session: Session, accounts: Accounts = None) -> pl.DataFrame:
    """Accounts the delinquency pass has seen: account_id, customer_id, currency, opened_date,
    closed_date."""
    stmt = select(
        Account.id, Account.customer_id, Account.currency, Account.opened_date, Account.closed_date
    ).join(AccountDelinquency, AccountDelinquency.account_id == Account.id)
    stmt = _within(stmt, Account.id, accounts)
    return frames.read_frame(
        session,
        stmt,
        {
            "account_id": pl.Int64,
            "customer_id": pl.Int64,
            "currency": pl.String,
            "opened_date": pl.Date,
            "closed_date": pl.Date,
        },
    )


def first_run(session: Session) -> dt.date | None:
    """The first business day the delinquency pass ran: bucket history starts there."""
    return session.execute(select(func.min(DelinquencyRun.as_of_date))).scalar_one_or_none()


def bucket_events(session: Session, to: dt.date, accounts: Accounts = None) -> pl.DataFrame:
    """The bucket history up to `to`: id, account_id, effective_date, from_bucket, to_bucket."""
    e = DelinquencyEvent
    return frames.read_frame(
        session,
        _within(
            select(e.id, e.account_id, e.effective_date, e.from_bucket, e.to_bucket).where(
                e.effective_date <= to
            ),
            e.account_id,
            accounts,
        ),
        {
            "id": pl.Int64,
            "account_id": pl.Int64,
            "effective_date": pl.Date,
            "from_bucket": pl.String,
            "to_bucket": pl.String,
        },
    )


def experiment_units(from_: dt.date, to: dt.date, accounts: Accounts = None) -> Subquery:
    """experiment, arm, account_id, start_date: each account an experiment assigned in the period,
    from the first day it was decided in that arm."""
    d = StrategyDecision
    stmt = select(
        d.experiment.label("experiment"),
        d.arm.label("arm"),
        d.account_id.label("account_id"),
        func.min(d.as_of_date).label("start_date"),
    ).where(d.experiment.is_not(None), d.arm.is_not(None), d.as_of_date.between(from_, to))
    if accounts is not None:
        stmt = stmt.where(d.account_id.in_(accounts))
    return stmt.group_by(d.experiment, d.arm, d.account_id).subquery("units")


def _scope(
    stmt: Any, from_: dt.date, units: Subquery | None, accounts: Accounts = None
) -> tuple[Any, list[Any], dict[str, Any], ColumnElement[Any] | dt.date]:
    """The statement joined to the experiment units (when given) and kept to the accounts (when
    given), their key columns and schema, and the start of each account's period (a column, or the
    period's first day)."""
    stmt = _within(stmt, Bill.account_id, accounts)
    if units is None:
        return stmt, [], {}, from_
    stmt = stmt.join(units, units.c.account_id == Bill.account_id)
    keys = [units.c.experiment, units.c.arm, units.c.start_date]
    schema = {"experiment": pl.String, "arm": pl.String, "start_date": pl.Date}
    return stmt, keys, schema, units.c.start_date


def overdue_bills(
    session: Session,
    from_: dt.date,
    to: dt.date,
    units: Subquery | None = None,
    accounts: Accounts = None,
) -> pl.DataFrame:
    """[experiment, arm,] account_id, bill_id, amount_minor (as the bill stands now),
    paid_before_minor: the bills overdue at some point in the period (due before `to`, not paid
    off before the start or on time), with what was applied to each before it was overdue in the
    period (on or before its due date, or before the start)."""
    b, a = Bill, Allocation
    stmt, keys, schema, start = _scope(select().select_from(b), from_, units, accounts)
    before = or_(a.value_date <= b.due_date, a.value_date < start)
    stmt = (
        stmt.outerjoin(a, a.bill_id == b.id)
        .where(
            b.due_date < to,
            or_(
                b.paid_off_date.is_(None),
                (b.paid_off_date >= start) & (b.paid_off_date > b.due_date),
            ),
        )
        .group_by(*keys, b.account_id, b.id, b.principal_minor, b.interest_minor, b.fees_minor)
        .add_columns(
            *keys,
            b.account_id,
            b.id,
            b.principal_minor + b.interest_minor + b.fees_minor,
            func.coalesce(func.sum(case((before, a.amount_minor), else_=0)), 0),
        )
    )
    return frames.read_frame(
        session,
        stmt,
        {
            **schema,
            "account_id": pl.Int64,
            "bill_id": pl.Int64,
            "amount_minor": pl.Int64,
            "paid_before_minor": pl.Int64,
        },
    )


def later_adjustments(
    session: Session,
    from_: dt.date,
    to: dt.date,
    units: Subquery | None = None,
    accounts: Accounts = None,
) -> pl.DataFrame:
    """[experiment, arm,] bill_id, adjusted_minor: what arrangements changed on each bill after it
    fell overdue in the period (waivers, reschedules, fees). Taken off a bill's amount now, it gives
    the amount the bill had when it fell overdue."""
    b, j = Bill, BillAdjustment
    stmt, keys, schema, start = _scope(select().select_from(b), from_, units, accounts)
    stmt = (
        stmt.join(j, j.bill_id == b.id)
        .where(b.due_date < to, j.effective_date > b.due_date, j.effective_date >= start)
        .group_by(*keys, b.id)
        .add_columns(*keys, b.id, func.sum(j.amount_minor))
    )
    return frames.read_frame(
        session, stmt, {**schema, "bill_id": pl.Int64, "adjusted_minor": pl.Int64}
    )


def collections(
    session: Session,
    from_: dt.date,
    to: dt.date,
    units: Subquery | None = None,
    accounts: Accounts = None,
) -> pl.DataFrame:
    """[experiment, arm,] account_id, value_date, collected_minor: money applied to bills while
    they were overdue, per day of the period."""
    b, a = Bill, Allocation
    stmt, keys, schema, start = _scope(select().select_from(b), from_, units, accounts)
    stmt = (
        stmt.join(a, a.bill_id == b.id)
        .where(a.value_date > b.due_date, a.value_date >= start, a.value_date <= to)
        .group_by(*keys, b.account_id, a.value_date)
        .add_columns(*keys, b.account_id, a.value_date, func.sum(a.amount_minor))
    )
    return frames.read_frame(
        session,
        stmt,
        {**schema, "account_id": pl.Int64, "value_date": pl.Date, "collected_minor": pl.Int64},
    )


def contacts_by_status(
    session: Session, from_: dt.date, to: dt.date, accounts: Accounts = None
) -> pl.DataFrame:
    """channel, purpose, status, contacts: the contacts planned for days in the period."""
    c = ContactPlan
    return frames.read_frame(
        session,
        _within(select(c.channel, c.purpose, c.status, func.count(c.id)), c.account_id, accounts)
        .where(c.as_of_date.between(from_, to))
        .group_by(c.channel, c.purpose, c.status),
        {"channel": pl.String, "purpose": pl.String, "status": pl.String, "contacts": pl.Int64},
    )


def conversations(
    session: Session, from_: dt.date, to: dt.date, accounts: Accounts = None
) -> pl.DataFrame:
    """channel, contacts: placed calls whose recorded result is a conversation with the debtor."""
    c = ContactPlan
    return frames.read_frame(
        session,
        _within(select(c.channel, func.count(c.id)), c.account_id, accounts)
        .where(
            c.as_of_date.between(from_, to),
            c.status.in_(ATTEMPTED),
            c.result == RIGHT_PARTY,
        )
        .group_by(c.channel),
        {"channel": pl.String, "contacts": pl.Int64},
    )


def sent_moments(
    session: Session, from_: dt.date, to: dt.date, accounts: Accounts = None
) -> pl.DataFrame:
    """sent_at, zones (the customer's JSON list), jurisdiction: each attempt of the period."""
    c = ContactPlan
    return frames.read_frame(
        session,
        _within(
            select(c.sent_at, cast(Customer.timezones, String), Customer.jurisdiction),
            c.account_id,
            accounts,
        )
        .join(Customer, Customer.id == c.customer_id)
        .where(
            c.as_of_date.between(from_, to),
            c.status.in_(ATTEMPTED),
            c.channel != QUEUE_ENTRY,
            c.sent_at.is_not(None),
        ),
        {"sent_at": pl.Datetime("us", "UTC"), "zones": pl.String, "jurisdiction": pl.String},
    )


def held_contacts(
    session: Session, from_: dt.date, to: dt.date, accounts: Accounts = None
) -> pl.DataFrame:
    """status, reasons (JSON list), contacts: blocked and deferred contacts of the period, grouped
    by their list of reasons in the database."""
    c = ContactPlan
    reasons = cast(c.reasons, String)
    return frames.read_frame(
        session,
        _within(select(c.status, reasons, func.count(c.id)), c.account_id, accounts)
        .where(c.as_of_date.between(from_, to), c.status.in_(("blocked", "deferred")))
        .group_by(c.status, reasons),
        {"status": pl.String, "reasons": pl.String, "contacts": pl.Int64},
    )


def held_contacts_by_day(session: Session, from_: dt.date, to: dt.date) -> pl.DataFrame:
    """as_of_date, status, reasons (JSON list), contacts: `held_contacts` day by day."""
    c = ContactPlan
    reasons = cast(c.reasons, String)
    return frames.read_frame(
        session,
        select(c.as_of_date, c.status, reasons, func.count(c.id))
        .where(c.as_of_date.between(from_, to), c.status.in_(("blocked", "deferred")))
        .group_by(c.as_of_date, c.status, reasons),
        {"as_of_date": pl.Date, "status": pl.String, "reasons": pl.String, "contacts": pl.Int64},
    )


def promises(
    session: Session, from_: dt.date, to: dt.date, accounts: Accounts = None
) -> pl.DataFrame:
    """status, promises: promises to pay that ended (kept or broken) in the period."""
    a = Arrangement
    return frames.read_frame(
        session,
        _within(select(a.status, func.count(a.id)), a.account_id, accounts)
        .where(a.kind == "promise", a.status.in_(("kept", "broken")), a.ended_on.between(from_, to))
        .group_by(a.status),
        {"status": pl.String, "promises": pl.Int64},
    )


def _customers(accounts: Select[Any]) -> Select[Any]:
    return select(Account.customer_id).where(Account.id.in_(accounts))


def complaints(
    session: Session, start_at: dt.datetime, end_at: dt.datetime, accounts: Accounts = None
) -> int:
    """Complaints opened in [start_at, end_at); kept to the accounts, a complaint about one of them,
    or about no account by one of their customers."""
    stmt = select(func.count(Case.id)).where(
        Case.kind == "complaint", Case.created_at >= start_at, Case.created_at < end_at
    )
    if accounts is not None:
        stmt = stmt.where(
            or_(
                Case.account_id.in_(accounts),
                Case.account_id.is_(None) & Case.customer_id.in_(_customers(accounts)),
            )
        )
    return int(session.execute(stmt).scalar_one())


def opt_outs(
    session: Session, start_at: dt.datetime, end_at: dt.datetime, accounts: Accounts = None
) -> int:
    """Opt-outs recorded in [start_at, end_at); kept to the accounts, by their customers (an
    opt-out is a person's, not an account's)."""
    stmt = select(func.count(OptOut.id)).where(
        OptOut.created_at >= start_at, OptOut.created_at < end_at
    )
    if accounts is not None:
        stmt = stmt.where(OptOut.customer_id.in_(_customers(accounts)))
    return int(session.execute(stmt).scalar_one())


def agent_tasks(
    session: Session, from_: dt.date, to: dt.date, accounts: Accounts = None
) -> pl.DataFrame:
    """queue, status, tasks: agent tasks of the period."""
    t = AgentTask
    return frames.read_frame(
        session,
        _within(select(t.queue, t.status, func.count(t.id)), t.account_id, accounts)
        .where(t.as_of_date.between(from_, to))
        .group_by(t.queue, t.status),
        {"queue": pl.String, "status": pl.String, "tasks": pl.Int64},
    )


def last_business_day(session: Session) -> dt.date | None:
    """The latest day the delinquency pass computed: the default end of a period."""
    return session.execute(select(func.max(DelinquencyRun.as_of_date))).scalar_one_or_none()


# -- fairness (`fairness.py`) -------------------------------------------------------------------


def contacts_per_account(
    session: Session, from_: dt.date, to: dt.date, accounts: Accounts = None
) -> pl.DataFrame:
    """account_id, attempts, delivered, calls, firm: each account's collection contacts planned
    for days in the period that a channel accepted (a place in the agents' queue is none; the
    agent's dial is a call), those that reached the debtor (delivered, or a call that was a
    conversation), the calls, and the attempts in a firm tone."""
    c = ContactPlan
    attempted = c.status.in_(ATTEMPTED)

    def count(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    stmt = (
        select(
            c.account_id,
            count(attempted),
            count(attempted & or_(c.status == "delivered", c.result == RIGHT_PARTY)),
            count(attempted & (c.channel == "dial")),
            count(attempted & (c.tone == "firm")),
        )
        .where(
            c.as_of_date.between(from_, to),
            c.purpose == "collection",
            c.channel != QUEUE_ENTRY,
        )
        .group_by(c.account_id)
    )
    return frames.read_frame(
        session,
        _within(stmt, c.account_id, accounts),
        {
            "account_id": pl.Int64,
            "attempts": pl.Int64,
            "delivered": pl.Int64,
            "calls": pl.Int64,
            "firm": pl.Int64,
        },
    )


def paused_accounts(
    session: Session, from_: dt.date, to: dt.date, accounts: Accounts = None
) -> pl.DataFrame:
    """account_id: the accounts with a pause (any kind, not cancelled) on some day of the
    period."""
    p = DelinquencyPause
    stmt = (
        select(p.account_id)
        .where(
            p.start_date <= to,
            or_(p.end_date.is_(None), p.end_date >= from_),
            p.cancelled_at.is_(None),
        )
        .distinct()
    )
    return frames.read_frame(
        session, _within(stmt, p.account_id, accounts), {"account_id": pl.Int64}
    )


def customer_attributes(session: Session, accounts: Accounts = None) -> pl.DataFrame:
    """customer_id, birth_year, sex, region (the first address's that names one, as the strategy's
    fact `region` reads it) of the customers of the accounts the delinquency pass has seen, as
    the ledger holds them (null when unknown)."""
    a = CustomerAddress
    region = (
        select(a.region)
        .where(a.customer_id == Customer.id, a.region.is_not(None), a.region != "")
        .order_by(a.position, a.id)
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
    seen = _within(
        select(Account.customer_id).join(
            AccountDelinquency, AccountDelinquency.account_id == Account.id
        ),
        Account.id,
        accounts,
    )
    stmt = select(Customer.id, Customer.birth_year, Customer.sex, region).where(
        Customer.id.in_(seen)
    )
    return frames.read_frame(
        session,
        stmt,
        {"customer_id": pl.Int64, "birth_year": pl.Int64, "sex": pl.String, "region": pl.String},
    )


def p_pay_scores(session: Session, from_: dt.date, to: dt.date) -> pl.DataFrame:
    """account_id, score: each account's first p_pay score dated in the period (the risk its
    treatment in the period started from); none for an account not scored in it."""
    s = AccountScore
    first = (
        select(s.account_id, func.min(s.as_of_date).label("day"))
        .where(s.kind == "p_pay", s.as_of_date.between(from_, to))
        .group_by(s.account_id)
        .subquery("first_score")
    )
    stmt = (
        select(s.account_id, func.min(s.score))
        .join(
            first,
            and_(
                first.c.account_id == s.account_id, first.c.day == s.as_of_date, s.kind == "p_pay"
            ),
        )
        .group_by(s.account_id)
    )
    return frames.read_frame(session, stmt, {"account_id": pl.Int64, "score": pl.Float64})

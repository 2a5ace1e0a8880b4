"""SQL for risk: the history the features are computed from (other packages' tables, read as
Polars frames up to a date), and the writes of risk's own tables (`risk_models`,
`account_scores`, `risk_drift`), set-based: a day's scores go in with one bulk insert.

The history reads prune what no feature as of a date in [since, until] can use: bills paid off
before `since - 180` days (they are outside every window and not overdue), windowed events older
than their longest window, and for the daily score the accounts in no active model's
population. `risk.features` applies the exact as-of filters; these only save reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.kit.db import INLINE_IDS_FROM, ids_in
from recoup.kit.partitions import Holder, Partitioned
from recoup.kit.repository import Repository
from recoup.models import (
    Account,
    AccountScore,
    Allocation,
    Arrangement,
    Bill,
    ContactEvent,
    ContactPlan,
    DelinquencyEvent,
    DelinquencyPause,
    InboundMessage,
    Payment,
    PaymentIntent,
    RiskDrift,
    RiskModel,
)
from recoup.risk import features as f

UTC_INSTANT = pl.Datetime("us", "UTC")
CALL_CHANNELS = ("call", "ai_call", "dial")


class RiskModelRepository(Repository[RiskModel]):
    model = RiskModel

    def next_version(self, kind: str) -> int:
        top = self.session.execute(
            select(func.max(RiskModel.version)).where(RiskModel.kind == kind)
        ).scalar_one()
        return int(top or 0) + 1

    def active(self) -> dict[str, RiskModel]:
        rows = self.list(select(RiskModel).where(RiskModel.status == "active"))
        return {m.kind: m for m in rows}

    def active_of(self, kind: str) -> RiskModel | None:
        """The kind's active model, its row locked until the transaction ends (an activation
        retires it)."""
        return self.get_one_or_none(
            select(RiskModel)
            .where(RiskModel.kind == kind, RiskModel.status == "active")
            .with_for_update()
        )

    def newest_first(self, kind: str | None = None) -> Sequence[RiskModel]:
        stmt = select(RiskModel).order_by(RiskModel.id.desc())
        if kind is not None:
            stmt = stmt.where(RiskModel.kind == kind)
        return self.list(stmt)

    def make_active(
        self, chosen: RiskModel, previous: RiskModel | None, *, at: dt.datetime, by: str
    ) -> None:
        """`chosen` becomes its kind's one active model; the previous one is retired."""
        if previous is not None and previous.id != chosen.id:
            previous.status = "retired"
            self.session.flush()
        chosen.status, chosen.activated_at, chosen.activated_by = "active", at, by
        self.session.flush()


def _dated(column: str) -> pl.Expr:
    """A UTC instant's date (the history's events are dated by their UTC day)."""
    return pl.col(column).dt.date()


OWING = ("anything", "overdue")  # the populations `history(owing=...)` can keep


def history(
    session: Session,
    *,
    since: dt.date,
    until: dt.date,
    owing: str | None = None,
    account_ids: Collection[int] | None = None,
) -> f.History:
    """Every frame `risk.features` reads, for features as of dates in [since, until].

    `owing` (the daily score, `since == until` == the day): only the accounts with a bill not
    paid off by `until` ("anything": p_roll's population, owing anything) or with such a bill
    due by `until` ("overdue": p_pay's, money overdue). An account left out has no such bill, so
    its overdue (or outstanding) amount on the day is 0: it is in no population the read is for,
    and leaving its rows out changes no score. `account_ids`: only those accounts (one account's
    reasons, computed when asked for). Every frame is keyed by account (the inbound messages by
    the accounts' customers), so either filter leaves the kept accounts' features exactly as an
    unfiltered read gives them. The kept accounts are computed once (`frames.kept_ids`), and the
    frames read one after the other without waiting on the parsing (`frames.read_frames`)."""
    old = since - dt.timedelta(days=180)
    kept: Any = None
    if account_ids is not None and len(account_ids) < INLINE_IDS_FROM:
        kept = select(Account.id).where(Account.id.in_(list(account_ids)))
    elif account_ids is not None:  # many (the accounts a daily run changed): computed once
        kept = frames.kept_ids(session, select(Account.id).where(ids_in(Account.id, account_ids)))
    elif owing is not None:
        if owing not in OWING:
            raise ValueError(f"unknown population {owing!r} (known: {', '.join(OWING)})")
        unpaid = Bill.paid_off_date.is_(None) | (Bill.paid_off_date > until)
        if owing == "overdue":
            unpaid = unpaid & (Bill.due_date <= until)
        kept = frames.kept_ids(session, select(Bill.account_id).where(unpaid))

    def only(stmt: Any, column: Any) -> Any:
        if kept is None:
            return stmt
        if column is InboundMessage.customer_id:  # keyed by customer: the kept accounts' ones
            return stmt.where(column.in_(select(Account.customer_id).where(Account.id.in_(kept))))
        return stmt.where(column.in_(kept))

    reads: list[tuple[Any, frames.Schema]] = []
    month = since - dt.timedelta(days=31)
    reads.append((
        only(
            select(
                Account.id, Account.customer_id, Account.product_code, Account.opened_date,
                Account.closed_date,
            ).where(
                Account.opened_date <= until,
                Account.closed_date.is_(None) | (Account.closed_date > since),
            ),
            Account.id,
        ),
        f.SCHEMAS["accounts"],
    ))  # fmt: skip
    amount = Bill.principal_minor + Bill.interest_minor + Bill.fees_minor
    wanted = (Bill.due_date > old) | Bill.paid_off_date.is_(None) | (Bill.paid_off_date > old)
    reads.append((
        only(
            select(Bill.id, Bill.account_id, Bill.due_date, amount, Bill.created_at).where(wanted),
            Bill.account_id,
        ),
        {
            "bill_id": pl.Int64,
            "account_id": pl.Int64,
            "due_date": pl.Date,
            "amount_minor": pl.Int64,
            "at": UTC_INSTANT,
        },
    ))  # fmt: skip
    paid = select(Allocation.bill_id, func.sum(Allocation.amount_minor), Allocation.value_date)
    if kept is None:  # only the wanted bills' (a join with the bills)
        paid = paid.join(Bill, Bill.id == Allocation.bill_id).where(wanted)
    else:
        # The kept accounts' allocations by their own account_id (an account's allocations are
        # its payments to its bills, `models.payment.Allocation`), without the join: those of
        # bills the bills' read leaves out are read too, and count for nothing (every feature
        # reads allocations through the bills frame's bill ids).
        paid = only(paid, Allocation.account_id)
    reads.append((
        paid.where(Allocation.value_date <= until).group_by(
            Allocation.bill_id, Allocation.value_date
        ),
        f.SCHEMAS["allocations"],
    ))  # fmt: skip
    reads.append((
        only(
            select(Payment.account_id, Payment.amount_minor, Payment.value_date, Payment.reversed_at)
            .where(Payment.value_date <= until),
            Payment.account_id,
        ),
        {**{k: v for k, v in f.SCHEMAS["payments"].items() if k != "reversed_date"}, "at": UTC_INSTANT},
    ))  # fmt: skip
    reads.append((only(_buckets(until), DelinquencyEvent.account_id), f.SCHEMAS["buckets"]))
    start = dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC)
    year = dt.datetime.combine(
        since - dt.timedelta(days=f.CONTACT_LOOKBACK + 1), dt.time(), tzinfo=dt.UTC
    )
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    e, c = ContactEvent, ContactPlan
    reads.append((
        only(
            select(c.account_id, e.at, e.status)
            .join(c, c.id == e.contact_id)
            .where(e.status.in_(("sent", "delivered")), e.at >= year, e.at < end),
            c.account_id,
        ),
        {"account_id": pl.Int64, "at": UTC_INSTANT, "status": pl.String},
    ))  # fmt: skip
    when = func.coalesce(c.updated_at, c.sent_at)
    reads.append((
        only(
            select(c.account_id, when, c.result).where(
                c.channel.in_(CALL_CHANNELS),
                c.result.in_(f.CALLS_ANSWERED),
                when >= start,
                when < end,
            ),
            c.account_id,
        ),
        {"account_id": pl.Int64, "at": UTC_INSTANT, "result": pl.String},
    ))  # fmt: skip
    reads.append((
        only(
            select(PaymentIntent.account_id, PaymentIntent.created_at).where(
                PaymentIntent.created_at >= start, PaymentIntent.created_at < end
            ),
            PaymentIntent.account_id,
        ),
        {"account_id": pl.Int64, "at": UTC_INSTANT},
    ))  # fmt: skip
    i = InboundMessage
    reads.append((
        only(
            select(i.customer_id, i.received_at).where(
                i.customer_id.is_not(None), i.received_at >= start, i.received_at < end
            ),
            i.customer_id,
        ),
        {"customer_id": pl.Int64, "at": UTC_INSTANT},
    ))  # fmt: skip
    a = Arrangement
    reads.append((
        only(
            select(a.account_id, a.kind, a.status, a.start_date, a.ended_on).where(
                a.start_date <= until,
                a.ended_on.is_(None) | (a.ended_on > since - dt.timedelta(days=61)),
            ),
            a.account_id,
        ),
        f.SCHEMAS["arrangements"],
    ))  # fmt: skip
    p = DelinquencyPause
    reads.append((
        only(
            select(p.account_id, p.kind, p.start_date, p.end_date, p.cancelled_at).where(
                p.start_date <= until, p.end_date.is_(None) | (p.end_date >= since)
            ),
            p.account_id,
        ),
        {**{k: v for k, v in f.SCHEMAS["pauses"].items() if k != "cancelled_date"}, "at": UTC_INSTANT},
    ))  # fmt: skip
    (
        accounts, bills, allocations, payments, buckets, contacts, calls, intents, inbound,
        arrangements, pauses,
    ) = frames.read_frames(session, reads)  # fmt: skip
    return f.History(
        accounts=accounts,
        bills=bills.select(
            "bill_id", "account_id", "due_date", "amount_minor", created_date=_dated("at")
        ),
        allocations=allocations,
        payments=payments.select(
            "account_id", "amount_minor", "value_date", reversed_date=_dated("at")
        ),
        buckets=buckets,
        contacts=contacts.select("account_id", day=_dated("at"), status=pl.col("status")),
        calls=calls.select("account_id", day=_dated("at"), result=pl.col("result")),
        intents=intents.select("account_id", day=_dated("at")),
        inbound=inbound.select("customer_id", day=_dated("at")),
        arrangements=arrangements,
        pauses=pauses.select(
            "account_id", "kind", "start_date", "end_date", cancelled_date=_dated("at")
        ),
    )


def _buckets(until: dt.date) -> Select[int, dt.date, str]:
    """The bucket changes `risk.features` reads (`History.buckets`)."""
    e = DelinquencyEvent
    return select(e.account_id, e.effective_date, e.to_bucket).where(e.effective_date <= until)


def buckets(session: Session, *, until: dt.date, account_ids: Collection[int]) -> pl.DataFrame:
    """`History.buckets` of those accounts alone, as `history` reads it: what the daily
    delinquency pass writes of what the features read (`service.score_day`'s `moved`)."""
    stmt = _buckets(until).where(ids_in(DelinquencyEvent.account_id, account_ids))
    return frames.read_frame(session, stmt, f.SCHEMAS["buckets"])


# Partitioned by month on PostgreSQL (`kit.partitions`, the migration `3a8c5e1f9d72`): a score
# a day for every account the daily run scores. A month of scores is kept as long as the
# decisions they informed (the same holders as `strategy_decisions`': while any of its accounts
# has been decided on or contacted since the retention's cutoff), so the debtor's "my data" page
# and a person's review of an automated decision can still show them.
PARTITIONS = (
    Partitioned(
        "account_scores",
        "as_of_date",
        holders=(
            Holder("account_id", "strategy_decisions", "account_id", since="as_of_date"),
            Holder("account_id", "contact_plans", "account_id", since="as_of_date"),
        ),
    ),
)


def replace_scores(session: Session, day: dt.date, kind: str, rows: pl.DataFrame) -> int:
    """The day's scores of a kind (account_id, as_of_date, model_id, kind, score, reasons as
    JSON text), replacing any written for that day and kind before."""
    s = AccountScore
    session.execute(delete(s).where(s.as_of_date == day, s.kind == kind))
    return frames.insert_frame(session, s.__table__, rows)  # type: ignore[arg-type]


def replace_drift(session: Session, day: dt.date, model_id: int, rows: pl.DataFrame) -> int:
    d = RiskDrift
    session.execute(delete(d).where(d.as_of_date == day, d.model_id == model_id))
    return frames.insert_frame(session, d.__table__, rows)  # type: ignore[arg-type]


def latest_scores(session: Session, account_id: int) -> list[AccountScore]:
    """The account's most recent score of each kind."""
    s = AccountScore
    newest = (
        select(s.kind, func.max(s.as_of_date).label("day"))
        .where(s.account_id == account_id)
        .group_by(s.kind)
        .subquery()
    )
    stmt = (
        select(s)
        .join(newest, (newest.c.kind == s.kind) & (newest.c.day == s.as_of_date))
        .where(s.account_id == account_id)
        .order_by(s.kind)
    )
    return list(session.execute(stmt).scalars().all())


def drift_rows(session: Session, day: dt.date | None) -> list[RiskDrift]:
    """The drift rows of `day` (None: the latest day with any), worst first."""
    d = RiskDrift
    if day is None:
        day = session.execute(select(func.max(d.as_of_date))).scalar_one()
        if day is None:
            return []
    stmt = select(d).where(d.as_of_date == day).order_by(d.psi.desc(), d.feature)
    return list(session.execute(stmt).scalars().all())


# --- the models' watch (console, API, report): reads ---------------------------------------------


def all_models(session: Session) -> list[RiskModel]:
    """Every model version: the active ones first, then by kind and newest version."""
    active_first = (RiskModel.status != "active").asc()
    return list(
        session.scalars(
            select(RiskModel).order_by(active_first, RiskModel.kind, RiskModel.version.desc())
        )
    )


def scored_days(session: Session, model_id: int) -> list[dt.date]:
    """The days the model scored accounts on."""
    return list(
        session.scalars(
            select(AccountScore.as_of_date).where(AccountScore.model_id == model_id).distinct()
        )
    )


def model_scores(session: Session, model_id: int, days: Sequence[dt.date]) -> pl.DataFrame:
    """as_of_date, account_id, score: the model's scores on `days`."""
    stmt = select(AccountScore.as_of_date, AccountScore.account_id, AccountScore.score).where(
        AccountScore.model_id == model_id, AccountScore.as_of_date.in_(sorted(set(days)))
    )
    return frames.read_frame(
        session, stmt, {"as_of_date": pl.Date, "account_id": pl.Int64, "score": pl.Float64}
    )


def latest_drift(session: Session, model_id: int) -> pl.DataFrame:
    """as_of_date, feature, psi, level of the model's latest measured day."""
    last = (
        select(func.max(RiskDrift.as_of_date))
        .where(RiskDrift.model_id == model_id)
        .scalar_subquery()
    )
    stmt = select(RiskDrift.as_of_date, RiskDrift.feature, RiskDrift.psi, RiskDrift.level).where(
        RiskDrift.model_id == model_id, RiskDrift.as_of_date == last
    )
    return frames.read_frame(
        session,
        stmt,
        {"as_of_date": pl.Date, "feature": pl.String, "psi": pl.Float64, "level": pl.String},
    )


def latest_drift_levels(session: Session) -> dict[int, dict[str, int]]:
    """Per model, the count of features at each level on its latest measured day."""
    last = (
        select(RiskDrift.model_id, func.max(RiskDrift.as_of_date).label("day"))
        .group_by(RiskDrift.model_id)
        .subquery()
    )
    stmt = (
        select(RiskDrift.model_id, RiskDrift.level, func.count())
        .join(
            last,
            (last.c.model_id == RiskDrift.model_id) & (last.c.day == RiskDrift.as_of_date),
        )
        .group_by(RiskDrift.model_id, RiskDrift.level)
    )
    out: dict[int, dict[str, int]] = {}
    for model_id, level, n in session.execute(stmt):
        out.setdefault(int(model_id), {})[str(level)] = int(n)
    return out

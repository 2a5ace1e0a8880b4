"""SQL for the strategy: policy versions, the account facts read set-based, and the decisions
written (the only place that writes `policy_versions`, `strategy_decisions` and
`learning_arms`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import polars as pl
from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.orm import Session

from recoup.compliance.batch import INCONVENIENT
from recoup.contact.repository import inconvenient_windows
from recoup.kit import frames
from recoup.kit.db import ids_in
from recoup.kit.partitions import Holder, Partitioned
from recoup.kit.repository import Repository
from recoup.models import (
    Account,
    AccountDelinquency,
    AccountScore,
    Arrangement,
    AutopayCollection,
    AutopayMandate,
    Bill,
    Case,
    Consent,
    ContactPlan,
    ContactPreference,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    DelinquencyPause,
    LearningArm,
    OptOut,
    Payment,
    PolicyVersion,
    StrategyDecision,
)

SCORE_FRESH_DAYS = 7
Ids = Collection[int] | None  # None: every row (the daily run); else these accounts or customers


class PolicyVersionRepository(Repository[PolicyVersion]):
    model = PolicyVersion

    def by_sha(self, sha: str) -> PolicyVersion | None:
        return self.get_one_or_none(select(PolicyVersion).where(PolicyVersion.sha256 == sha))

    def active(self) -> PolicyVersion | None:
        return self.get_one_or_none(select(PolicyVersion).where(PolicyVersion.active.is_(True)))

    def all(self) -> Sequence[PolicyVersion]:
        return (
            self.session.execute(select(PolicyVersion).order_by(PolicyVersion.id)).scalars().all()
        )

    def locked(self, version_id: int) -> PolicyVersion | None:
        """The version, its row locked until the transaction ends (a submission or a review
        decides on the status it reads)."""
        return self.get_one_or_none(
            select(PolicyVersion).where(PolicyVersion.id == version_id).with_for_update()
        )

    def newest_first(self, *, limit: int, offset: int) -> Sequence[PolicyVersion]:
        return (
            self.session.execute(
                select(PolicyVersion).order_by(PolicyVersion.id.desc()).limit(limit).offset(offset)
            )
            .scalars()
            .all()
        )

    def count(self) -> int:
        return int(self.session.execute(select(func.count(PolicyVersion.id))).scalar_one())

    def make_active(
        self, chosen: PolicyVersion, previous: PolicyVersion | None, *, at: dt.datetime, by: str
    ) -> None:
        """`chosen` becomes the one active version (the previous one, if another, is not: it is
        superseded)."""
        if previous is not None and previous.id != chosen.id:
            previous.active, previous.status = False, "superseded"
            self.session.flush()
        chosen.active, chosen.activated_at, chosen.activated_by = True, at, by
        chosen.status = "active"
        self.session.flush()

    def mark_submitted(self, version: PolicyVersion, *, at: dt.datetime, by: str) -> None:
        version.status, version.submitted_at, version.submitted_by = "submitted", at, by
        version.reviewed_at = version.reviewed_by = version.rejection_reason = None
        self.session.flush()

    def mark_reviewed(
        self, version: PolicyVersion, *, at: dt.datetime, by: str, rejected_for: str | None
    ) -> None:
        """The second person's answer: approved (activation follows) or rejected with a reason."""
        version.reviewed_at, version.reviewed_by = at, by
        if rejected_for is not None:
            version.status, version.rejection_reason = "rejected", rejected_for
        self.session.flush()


def account_refs(session: Session, accounts: Collection[int]) -> dict[int, str]:
    """The accounts' external references (to show masked beside their ids)."""
    if not accounts:
        return {}
    rows = session.execute(
        select(Account.id, Account.external_ref).where(Account.id.in_(sorted(accounts)))
    )
    return {int(i): str(ref) for i, ref in rows}


def base_facts(session: Session, accounts: Ids = None) -> pl.DataFrame:
    """One row per open account with a delinquency state (or just `accounts`): amounts, product,
    the customer's jurisdiction and language, the collector."""
    return frames.read_frame(session, *_base_facts(accounts))


def base_facts_and_next_due(
    session: Session, as_of: dt.date, accounts: Ids = None, *, states: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`base_facts` and `next_due`, read back to back (`frames.read_frames`: the server computes
    the due dates while the base facts are parsed).

    `states` (the daily run's, every account's: `delinquency.service.RunSummary.states`): the
    delinquency states the pass has just written, not read back; the open accounts and the
    customers are then read as two plain scans and joined here with the states."""
    if states is None:
        base, due = frames.read_frames(session, [_base_facts(accounts), _next_due(as_of, accounts)])
        return base, due
    if accounts is not None:
        raise ValueError("the day's states are the daily run's, for every account")
    # Two plain scans and the joins here: the server's three-way hash join (and its spill to
    # disk at the default work_mem) cost it more than Polars' joins cost this process.
    open_accounts, due, customers = frames.read_frames(
        session, [_open_accounts(), _next_due(as_of, None), _customer_facts()]
    )
    schema = _base_facts(None)[1]
    base = (
        open_accounts.join(customers, on="customer_id", how="inner")
        .join(
            states.select(*(pl.col(c).cast(schema[c]) for c in STATE_FACTS)),
            on="account_id",
            how="inner",
        )
        .select(list(schema))
    )
    return base, due


# The base facts' columns that come from the account's delinquency state.
STATE_FACTS = ("account_id", "state_date", "dpd", "bucket", "overdue_minor", "outstanding_minor")


def _base_facts(accounts: Ids) -> tuple[Any, frames.Schema]:
    d = AccountDelinquency
    stmt = (
        select(
            Account.id,
            Account.customer_id,
            d.as_of_date,
            d.dpd,
            d.bucket,
            d.overdue_minor,
            d.outstanding_minor,
            Account.product_code,
            Account.currency,
            Account.opened_date,
            Account.collector,
            Customer.jurisdiction,
            Customer.preferred_language,
            Customer.birth_year,
        )
        .join(d, d.account_id == Account.id)
        .join(Customer, Customer.id == Account.customer_id)
        .where(Account.closed_date.is_(None))
    )
    return (
        _only(stmt, Account.id, accounts),
        {
            "account_id": pl.Int64,
            "customer_id": pl.Int64,
            "state_date": pl.Date,
            "dpd": pl.Int64,
            "bucket": pl.String,
            "overdue_minor": pl.Int64,
            "outstanding_minor": pl.Int64,
            "product": pl.String,
            "currency": pl.String,
            "opened_date": pl.Date,
            "collector": pl.String,
            "jurisdiction": pl.String,
            "language": pl.String,
            "birth_year": pl.Int64,
        },
    )


def _open_accounts() -> tuple[Any, frames.Schema]:
    """The open accounts' columns of `_base_facts`."""
    return (
        select(
            Account.id,
            Account.customer_id,
            Account.product_code,
            Account.currency,
            Account.opened_date,
            Account.collector,
        ).where(Account.closed_date.is_(None)),
        {
            "account_id": pl.Int64,
            "customer_id": pl.Int64,
            "product": pl.String,
            "currency": pl.String,
            "opened_date": pl.Date,
            "collector": pl.String,
        },
    )


def _customer_facts() -> tuple[Any, frames.Schema]:
    """The customers' columns of `_base_facts`, every customer's."""
    return (
        select(
            Customer.id, Customer.jurisdiction, Customer.preferred_language, Customer.birth_year
        ),
        {
            "customer_id": pl.Int64,
            "jurisdiction": pl.String,
            "language": pl.String,
            "birth_year": pl.Int64,
        },
    )


def _only(stmt: Any, column: Any, ids: Ids) -> Any:
    """All rows for the daily run; those of the accounts or customers of an event (or a batch)."""
    return stmt if ids is None else stmt.where(ids_in(column, ids))


def customer_zones(session: Session, customers: Ids = None) -> pl.DataFrame:
    """Each customer's candidate zones (a JSON list in the table), decoded set-based."""
    raw = frames.read_frame(
        session,
        _only(select(Customer.id, cast(Customer.timezones, String)), Customer.id, customers),
        {"customer_id": pl.Int64, "zones": pl.String},
    )
    return raw.with_columns(
        pl.col("zones").fill_null("[]").str.json_decode(pl.List(pl.String)).fill_null([])
    )


def next_due(session: Session, as_of: dt.date, accounts: Ids = None) -> pl.DataFrame:
    """The earliest due date of each account's unpaid bills, and the last payoff date."""
    return frames.read_frame(session, *_next_due(as_of, accounts))


def _next_due(as_of: dt.date, accounts: Ids) -> tuple[Any, frames.Schema]:
    unpaid = Bill.principal_minor + Bill.interest_minor + Bill.fees_minor > Bill.paid_minor
    return (
        _only(
            select(
                Bill.account_id,
                func.min(Bill.due_date).filter(unpaid),
                func.max(Bill.paid_off_date),
            ),
            Bill.account_id,
            accounts,
        ).group_by(Bill.account_id),
        {"account_id": pl.Int64, "next_due": pl.Date, "last_paid_off": pl.Date},
    )


def payment_facts(session: Session, as_of: dt.date, accounts: Ids = None) -> pl.DataFrame:
    live = Payment.reversed_at.is_(None) & (Payment.value_date <= as_of)
    recent = live & (Payment.value_date > as_of - dt.timedelta(days=30))
    return frames.read_frame(
        session,
        _only(
            select(
                Payment.account_id,
                func.max(Payment.value_date).filter(live),
                func.count(Payment.id).filter(recent),
            ),
            Payment.account_id,
            accounts,
        ).group_by(Payment.account_id),
        {"account_id": pl.Int64, "last_payment": pl.Date, "payments_30d": pl.Int64},
    )


def open_pauses(session: Session, as_of: dt.date, accounts: Ids = None) -> pl.DataFrame:
    p = DelinquencyPause
    stmt = select(p.account_id, p.kind).where(
        p.cancelled_at.is_(None),
        p.start_date <= as_of,
        (p.end_date.is_(None)) | (p.end_date >= as_of),
    )
    return frames.read_frame(
        session,
        _only(stmt, p.account_id, accounts),
        {"account_id": pl.Int64, "kind": pl.String},
    )


def open_reviews(session: Session, customers: Ids = None) -> pl.DataFrame:
    """customer_id, account_id (null: all the customer's accounts): the reviews of automated
    decisions debtors asked for that no person has resolved yet (cases' rows, read here)."""
    c = Case
    stmt = select(c.customer_id, c.account_id).where(c.kind == "review", c.status == "open")
    return frames.read_frame(
        session,
        _only(stmt, c.customer_id, customers),
        {"customer_id": pl.Int64, "account_id": pl.Int64},
    )


def arrangement_facts(session: Session, as_of: dt.date, accounts: Ids = None) -> pl.DataFrame:
    """Per account with arrangements: broken promises in the last 180 days, whether a promise (or
    a settlement or an extension's fee, also money promised by a date) is pending, whether a plan
    is active."""
    a = Arrangement
    recent = as_of - dt.timedelta(days=180)
    stmt = (
        select(
            a.account_id,
            func.sum(
                case(
                    (
                        (a.kind == "promise") & (a.status == "broken") & (a.ended_on >= recent),
                        1,
                    ),
                    else_=0,
                )
            ),
            func.max(case(((a.kind != "plan") & (a.status == "active"), 1), else_=0)),
            func.max(case(((a.kind == "plan") & (a.status == "active"), 1), else_=0)),
        )
        .where(a.start_date <= as_of)
        .group_by(a.account_id)
    )
    return frames.read_frame(
        session,
        _only(stmt, a.account_id, accounts),
        {
            "account_id": pl.Int64,
            "broken_promises": pl.Int64,
            "promise_pending": pl.Int64,
            "plan_active": pl.Int64,
        },
    ).with_columns(pl.col("promise_pending") == 1, pl.col("plan_active") == 1)


def autopay_facts(session: Session, as_of: dt.date, accounts: Ids = None) -> pl.DataFrame:
    """Per account with autopay: whether a mandate is active, and the day the latest failed
    collection of a bill still unpaid ended (null when none)."""
    active = _only(
        select(AutopayMandate.account_id, literal(1)).where(AutopayMandate.state == "active"),
        AutopayMandate.account_id,
        accounts,
    ).distinct()
    mandates = frames.read_frame(
        session, active, {"account_id": pl.Int64, "autopay": pl.Int64}
    ).with_columns(pl.col("autopay") == 1)
    c = AutopayCollection
    failed = _only(
        select(c.account_id, func.max(c.business_date))
        .join(Bill, Bill.id == c.bill_id)
        .where(c.status == "failed", c.business_date <= as_of, Bill.paid_off_date.is_(None))
        .group_by(c.account_id),
        c.account_id,
        accounts,
    )
    failures = frames.read_frame(
        session, failed, {"account_id": pl.Int64, "autopay_failed_on": pl.Date}
    )
    return mandates.join(failures, on="account_id", how="full", coalesce=True)


def reachability(session: Session, customers: Ids = None) -> pl.DataFrame:
    """Which customers have a phone, and which an e-mail address."""
    schema: frames.Schema = {"customer_id": pl.Int64, "kind": pl.String}
    phones = _only(
        select(CustomerPhone.customer_id, literal("phone")), CustomerPhone.customer_id, customers
    ).distinct()
    emails = _only(
        select(CustomerEmail.customer_id, literal("email")), CustomerEmail.customer_id, customers
    ).distinct()
    return pl.concat(
        [frames.read_frame(session, phones, schema), frames.read_frame(session, emails, schema)]
    )


def customer_regions(session: Session, customers: Ids = None) -> pl.DataFrame:
    """Each customer's region (province, state): their first address's that names one."""
    a = CustomerAddress
    stmt = select(a.customer_id, a.position, a.region).where(a.region.is_not(None))
    rows = frames.read_frame(
        session,
        _only(stmt, a.customer_id, customers),
        {"customer_id": pl.Int64, "position": pl.Int64, "region": pl.String},
    )
    return rows.sort("customer_id", "position").unique("customer_id", keep="first").drop("position")


def contact_history(session: Session, as_of: dt.date, accounts: Ids = None) -> pl.DataFrame:
    """Per account and stage, the contacts planned before `as_of` that were not blocked."""
    c = ContactPlan
    stmt = select(c.account_id, c.stage, func.count(c.id), func.max(c.as_of_date)).where(
        c.status != "blocked", c.as_of_date < as_of
    )
    return frames.read_frame(
        session,
        _only(stmt, c.account_id, accounts).group_by(c.account_id, c.stage),
        {"account_id": pl.Int64, "stage": pl.String, "contacts": pl.Int64, "last_contact": pl.Date},
    )


def latest_scores(session: Session, as_of: dt.date, accounts: Ids = None) -> pl.DataFrame:
    """Per account, the latest `p_pay` and `p_roll` scored on or before `as_of` and within
    `SCORE_FRESH_DAYS` of it (risk's `account_scores`; the daily run scores before the strategy
    decides, so on a run day these are the day's). An older score is stale: the fact is null."""
    s = AccountScore
    newest = (
        _only(
            select(s.account_id, s.kind, func.max(s.as_of_date).label("day")).where(
                s.as_of_date <= as_of,
                s.as_of_date > as_of - dt.timedelta(days=SCORE_FRESH_DAYS),
                s.kind.in_(("p_pay", "p_roll")),
            ),
            s.account_id,
            accounts,
        )
        .group_by(s.account_id, s.kind)
        .subquery()
    )
    stmt = select(s.account_id, s.kind, s.score).join(
        newest,
        (newest.c.account_id == s.account_id)
        & (newest.c.kind == s.kind)
        & (newest.c.day == s.as_of_date),
    )
    rows = frames.read_frame(
        session, stmt, {"account_id": pl.Int64, "kind": pl.String, "score": pl.Float64}
    )
    return rows.pivot(on="kind", index="account_id", values="score").select(
        "account_id",
        *(
            (pl.col(k) if k in rows["kind"].unique().to_list() else pl.lit(None, pl.Float64))
            .cast(pl.Float64)
            .alias(k)
            for k in ("p_pay", "p_roll")
        ),
    )


def decided_accounts(session: Session, as_of: dt.date) -> pl.DataFrame:
    return frames.read_frame(
        session,
        select(StrategyDecision.account_id).where(StrategyDecision.as_of_date == as_of),
        {"account_id": pl.Int64},
    )


# Partitioned by month on PostgreSQL (`kit.partitions`): a month of decisions is held while any
# of its accounts has been decided on or contacted since the retention's cutoff (the record-keeping
# rules count from the last collection activity on the debt, 12 CFR 1006.100).
PARTITIONS = (
    Partitioned(
        "strategy_decisions",
        "as_of_date",
        holders=(
            Holder("account_id", "strategy_decisions", "account_id", since="as_of_date"),
            Holder("account_id", "contact_plans", "account_id", since="as_of_date"),
        ),
    ),
)


def insert_decisions(session: Session, rows: pl.DataFrame) -> int:
    """A day's new decision records (the daily run skips the accounts already decided)."""
    return frames.insert_frame(session, StrategyDecision.__table__, rows)  # type: ignore[arg-type]


def upsert_decisions(session: Session, rows: pl.DataFrame) -> int:
    """Decision records that replace the day's earlier ones for the same accounts (an event's
    re-decision), by (account, day)."""
    key = ["account_id", "as_of_date"]
    return frames.upsert_frame(session, StrategyDecision.__table__, rows, key)  # type: ignore[arg-type]


def quiet_hours(session: Session, customers: Ids = None) -> pl.DataFrame:
    """customer_id, inconvenient (the guard's list of {days, start, end})."""
    p = ContactPreference
    stmt = _only(
        select(
            p.customer_id,
            p.quiet_from,
            p.quiet_to,
            p.quiet_days,
            p.preferred_from,
            p.preferred_to,
        ).where(
            (p.quiet_from.is_not(None) & p.quiet_to.is_not(None))
            | (p.preferred_from.is_not(None) & p.preferred_to.is_not(None))
        ),
        p.customer_id,
        customers,
    )
    rows = [
        (
            cid,
            inconvenient_windows(
                (start, end) if start is not None and end is not None else None,
                (pfrom, pto) if pfrom is not None and pto is not None else None,
                list(days or []),
            ),
        )
        for cid, start, end, days, pfrom, pto in session.execute(stmt)
    ]
    return pl.DataFrame(
        {"customer_id": [r[0] for r in rows], "inconvenient": [r[1] for r in rows]},
        schema={"customer_id": pl.Int64, "inconvenient": pl.List(INCONVENIENT)},
    )


def opt_outs(session: Session, customers: Ids = None) -> pl.DataFrame:
    """The channels each customer has opted out of (any address), in force now."""
    o = OptOut
    return frames.read_frame(
        session,
        _only(
            select(o.customer_id, o.channel).where(o.withdrawn_at.is_(None)).distinct(),
            o.customer_id,
            customers,
        ),
        {"customer_id": pl.Int64, "channel": pl.String},
    )


def electronic_consents(session: Session, at: dt.datetime, customers: Ids = None) -> pl.DataFrame:
    """Consents to electronic messages in force at `at`: per customer, the channel (null: every
    electronic channel)."""
    c = Consent
    return frames.read_frame(
        session,
        _only(
            select(c.customer_id, c.channel).where(
                c.purpose == "electronic",
                c.given_at <= at,
                c.withdrawn_at.is_(None),
                (c.expires_at.is_(None)) | (c.expires_at > at),
            ),
            c.customer_id,
            customers,
        ),
        {"customer_id": pl.Int64, "channel": pl.String},
    )


# A contact that counts against a learning stage's budget: one that went or will go.
_BUDGETED = ("planned", "deferred", "queued", "sending", "sent", "delivered", "unknown")
# A contact whose cost the learner's reward pays: one handed to a provider.
_SENT = ("sent", "delivered", "unknown")


def recent_contacts(
    session: Session, as_of: dt.date, days: int, accounts: Ids = None
) -> pl.DataFrame:
    """Per account, the contacts planned in the `days` days before `as_of` (not blocked, not
    cancelled, not failed): what a learning stage's budget counts."""
    c = ContactPlan
    stmt = (
        select(c.account_id, func.count(c.id))
        .where(
            c.as_of_date < as_of,
            c.as_of_date >= as_of - dt.timedelta(days=days),
            c.status.in_(_BUDGETED),
            c.purpose == "collection",
        )
        .group_by(c.account_id)
    )
    return frames.read_frame(
        session,
        _only(stmt, c.account_id, accounts),
        {"account_id": pl.Int64, "recent_contacts": pl.Int64},
    )


def learning_stats(session: Session, policy: str) -> pl.DataFrame:
    """What a policy's learning arms have earned: stage, cell, arm, n, reward_sum, reward_sq_sum."""
    a = LearningArm
    return frames.read_frame(
        session,
        select(a.stage, a.cell, a.arm, a.n, a.reward_sum, a.reward_sq_sum, a.updated_on).where(
            a.policy == policy
        ),
        {
            "stage": pl.String,
            "cell": pl.String,
            "arm": pl.String,
            "n": pl.Int64,
            "reward_sum": pl.Float64,
            "reward_sq_sum": pl.Float64,
            "updated_on": pl.Date,
        },
    )


def all_learning_arms(session: Session) -> pl.DataFrame:
    """Every policy's arms (for the report and the console)."""
    a = LearningArm
    return frames.read_frame(
        session,
        select(a.policy, a.stage, a.cell, a.arm, a.n, a.reward_sum, a.reward_sq_sum, a.updated_on),
        {
            "policy": pl.String,
            "stage": pl.String,
            "cell": pl.String,
            "arm": pl.String,
            "n": pl.Int64,
            "reward_sum": pl.Float64,
            "reward_sq_sum": pl.Float64,
            "updated_on": pl.Date,
        },
    )


def learned_decisions(
    session: Session, first: dt.date, last: dt.date, accounts: Ids = None
) -> pl.DataFrame:
    """The learner's decisions made from `first` to `last`: account, day, and the explanation
    (JSON text); all accounts', or those of `accounts`."""
    d = StrategyDecision
    stmt = select(d.account_id, d.as_of_date, cast(d.learning, String)).where(
        d.as_of_date >= first, d.as_of_date <= last, d.learning.is_not(None)
    )
    return frames.read_frame(
        session,
        _only(stmt, d.account_id, accounts),
        {"account_id": pl.Int64, "as_of_date": pl.Date, "learning": pl.String},
    )


def payments_between(
    session: Session, first: dt.date, last: dt.date, accounts: Ids = None
) -> pl.DataFrame:
    """Live (not reversed) payments with a value date from `first` to `last`."""
    p = Payment
    stmt = select(p.account_id, p.value_date, p.amount_minor).where(
        p.reversed_at.is_(None), p.value_date >= first, p.value_date <= last
    )
    return frames.read_frame(
        session,
        _only(stmt, p.account_id, accounts),
        {"account_id": pl.Int64, "value_date": pl.Date, "amount_minor": pl.Int64},
    )


def sent_contacts(
    session: Session, first: dt.date, last: dt.date, accounts: Ids = None
) -> pl.DataFrame:
    """Contacts planned from `first` to `last` that were handed to a provider: account, day,
    treatment (the learner's arm)."""
    c = ContactPlan
    stmt = select(c.account_id, c.as_of_date, c.treatment).where(
        c.as_of_date >= first, c.as_of_date <= last, c.status.in_(_SENT)
    )
    return frames.read_frame(
        session,
        _only(stmt, c.account_id, accounts),
        {"account_id": pl.Int64, "as_of_date": pl.Date, "treatment": pl.String},
    )


def dialled(session: Session, first: dt.date, last: dt.date, accounts: Ids = None) -> pl.DataFrame:
    """The accounts an agent's call was placed to (a `dial` handed to the provider), per day from
    `first` to `last`: account, day (once each)."""
    c = ContactPlan
    stmt = (
        select(c.account_id, c.as_of_date)
        .where(
            c.as_of_date >= first,
            c.as_of_date <= last,
            c.channel == "dial",
            c.status.in_(_SENT),
        )
        .distinct()
    )
    return frames.read_frame(
        session,
        _only(stmt, c.account_id, accounts),
        {"account_id": pl.Int64, "as_of_date": pl.Date},
    )


def add_learning(session: Session, rows: pl.DataFrame) -> int:
    """Arms' new totals (policy, stage, cell, arm, n, reward_sum, reward_sq_sum, updated_on),
    inserted or replacing the old ones (the caller added the day's rewards to them)."""
    key = ["policy", "stage", "cell", "arm"]
    return frames.upsert_frame(session, LearningArm.__table__, rows, key)  # type: ignore[arg-type]

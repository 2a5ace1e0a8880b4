"""Policies in the database, and the daily strategy run.

The run, for an as-of date (after the delinquency pass):

1. reads the open accounts' facts set-based (delinquency state, next due date, payments, pauses,
   reachability, the contacts planned so far in the current stage);
2. decides with the active policy's kernel;
3. checks every planned contact with the compliance guard's batch function at the start of the
   treatment's preferred window in the debtor's local time: allowed contacts are scheduled then,
   the others at the guard's `next_allowed_at` when time cures them (`deferred`), or recorded as
   `blocked` with the reasons;
4. writes a decision per account in a stage (an account no stage covers is counted in the run's
   report only), the contact plans and the agent tasks, in the caller's transaction.

Idempotent per as-of date: accounts already decided for the day are skipped, and every row has a
unique key (account, day[, treatment]), so a re-run changes nothing and a run killed halfway (its
transaction rolled back) completes when started again.

Counters over past contacts (frequency caps) reach the guard when delivery records outcomes (the
delivery issue); at plan time the guard applies hours, rest days, consent, party, channel, status
and content rules, and the dispatcher checks again, with the counters, right before sending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.audit import service as audit_service
from recoup.compliance import load_guard
from recoup.compliance.batch import INCONVENIENT, decide_frame
from recoup.compliance.localtime import utc_at
from recoup.compliance.vocabulary import (
    COLLECTOR_ROLE,
    DEFAULT_PRODUCT,
    PRODUCT,
    TO_TYPE,
    jurisdiction_zones,
)
from recoup.contact import repository as contact_repo
from recoup.contact import service as contact_service
from recoup.kit import frames
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound
from recoup.models import PauseKind, PolicyVersion, StrategyDecision
from recoup.strategy import repository as repo
from recoup.strategy.kernel import decide
from recoup.strategy.policy import Offer, Policy, PolicyError, parse_policy
from recoup.strategy.repository import PolicyVersionRepository

DEFAULT_WINDOW = "10:00"
OPT_OUT_CHANNELS = ("sms", "call", "email", "push")


class NoActivePolicy(Conflict):
    code = "no_active_policy"
    description = "No policy is active"


class InvalidPolicy(Conflict):
    code = "invalid_policy"
    description = "The policy does not validate"


def save_policy(
    session: Session, text: str, *, author: str, clock: Clock, source: str
) -> PolicyVersion:
    """Store a policy as a version (the same text twice is one version). Invalid text is refused."""
    try:
        policy = parse_policy(text, source=source)
    except PolicyError as exc:
        raise InvalidPolicy(str(exc)) from exc
    sha = hashlib.sha256(text.encode()).hexdigest()
    versions = PolicyVersionRepository(session)
    existing = versions.by_sha(sha)
    if existing is not None:
        return existing
    return versions.create(
        PolicyVersion(
            name=policy.name,
            version=policy.version,
            sha256=sha,
            text=text,
            author=author,
            active=False,
            created_at=clock.now(),
        )
    )


def activate(session: Session, version_id: int, *, actor: str, clock: Clock) -> PolicyVersion:
    versions = PolicyVersionRepository(session)
    chosen = session.get(PolicyVersion, version_id)
    if chosen is None:
        raise NotFound(f"no policy version {version_id}")
    previous = versions.active()
    if previous is not None and previous.id != chosen.id:
        previous.active = False
        session.flush()
    chosen.active, chosen.activated_at, chosen.activated_by = True, clock.now(), actor
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="policy.activated",
        subject_type="policy_version",
        subject_id=chosen.id,
        clock=clock,
        details={
            "name": chosen.name,
            "version": chosen.version,
            "sha256": chosen.sha256,
            "previous": previous.id if previous else None,
        },
    )
    return chosen


def compiled(version: PolicyVersion) -> Policy:
    """A stored version, parsed and compiled once per process (versions never change)."""
    return _compile(version.id, version.sha256, version.text)


@lru_cache(maxsize=16)
def _compile(version_id: int, _sha256: str, text: str) -> Policy:
    return parse_policy(text, source=f"policy version {version_id}")


def active_policy(session: Session) -> tuple[PolicyVersion, Policy]:
    version = PolicyVersionRepository(session).active()
    if version is None:
        raise NoActivePolicy("no policy is active; run `recoup strategy activate FILE`")
    return version, compiled(version)


def facts(
    session: Session, as_of: dt.date, accounts: repo.Ids = None, *, policy: Policy | None = None
) -> pl.DataFrame:
    """The account facts the kernel reads, plus what the guard needs (customer, zones, collector).

    `policy` (the daily run's): when most accounts can be in none of its stages by what the
    accounts and their bills say (`Policy.in_some_stage`; a portfolio is mostly current), the
    facts only a stage can use (payments, contact history, reachability, zones) are read for the
    others alone and are null for the rest: those decide `none` (or `pause`) whatever these facts
    say, and are not recorded. The column `_detailed` says which rows have them."""
    base = repo.base_facts(session, accounts)
    if base.height == 0:
        return base
    # An event reads its accounts' and their customers' rows; the daily run reads them all.
    customers = _customers(base, accounts)
    due = repo.next_due(session, as_of, accounts)
    detail, detail_customers = accounts, customers
    if policy is not None and accounts is None:
        known = base.join(due, on="account_id", how="left").with_columns(**_dates(as_of))
        staged = policy.in_some_stage(known.columns)
        maybe = known.filter(staged) if staged is not None else known
        if maybe.height * 2 < base.height:
            detail = maybe["account_id"].to_list()
            detail_customers = maybe["customer_id"].unique().to_list()
    pays = repo.payment_facts(session, as_of, detail)
    arrangements = repo.arrangement_facts(session, as_of, accounts)
    pauses = (
        repo.open_pauses(session, as_of, accounts)
        .lazy()
        .group_by("account_id")
        .agg(
            (pl.col("kind") == PauseKind.dispute.value).any().alias("dispute_open"),
            (pl.col("kind") == PauseKind.hardship.value).any().alias("hardship"),
        )
    )
    reach = (
        repo.reachability(session, detail_customers)
        .lazy()
        .group_by("customer_id")
        .agg(
            (pl.col("kind") == "phone").any().alias("has_phone"),
            (pl.col("kind") == "email").any().alias("has_email"),
        )
    )
    zones = repo.customer_zones(session, detail_customers).lazy()
    opted = (
        repo.opt_outs(session, customers)
        .lazy()
        .group_by("customer_id")
        .agg(
            *(
                (pl.col("channel") == channel).any().alias(f"opted_out_{channel}")
                for channel in OPT_OUT_CHANNELS
            )
        )
    )
    day = pl.lit(as_of)
    # One lazy plan, collected once: an event deciding one account pays per query, not per step.
    out = (
        base.lazy()
        .join(due.lazy(), on="account_id", how="left")
        .join(pays.lazy(), on="account_id", how="left")
        .join(arrangements.lazy(), on="account_id", how="left")
        .join(pauses, on="account_id", how="left")
        .join(reach, on="customer_id", how="left")
        .join(zones, on="customer_id", how="left")
        .join(opted, on="customer_id", how="left")
        .with_columns(*(pl.col(f"opted_out_{c}").fill_null(False) for c in OPT_OUT_CHANNELS))
        .with_columns(
            **_dates(as_of),
            days_since_last_payment=(day - pl.col("last_payment")).dt.total_days(),
            payments_30d=pl.col("payments_30d").fill_null(0),
            dispute_open=pl.col("dispute_open").fill_null(False),
            hardship=pl.col("hardship").fill_null(False),
            # Reachable: an address on file and no opt-out of the channel (so a STOP makes the
            # policy choose another channel instead of planning a message the guard would block).
            reachable_sms=pl.col("has_phone").fill_null(False) & ~pl.col("opted_out_sms"),
            reachable_call=pl.col("has_phone").fill_null(False) & ~pl.col("opted_out_call"),
            reachable_email=pl.col("has_email").fill_null(False) & ~pl.col("opted_out_email"),
            reachable_push=~pl.col("opted_out_push"),  # a wallet's own users: the app is there
            broken_promises=pl.col("broken_promises").fill_null(0),
            promise_pending=pl.col("promise_pending").fill_null(False),
            plan_active=pl.col("plan_active").fill_null(False),
            zones=pl.col("zones").fill_null(pl.lit([], pl.List(pl.String))),
            _detailed=pl.lit(True) if detail is None else pl.col("account_id").is_in(list(detail)),
        )
        .collect()
    )
    return out


def _dates(as_of: dt.date) -> dict[str, pl.Expr]:
    """The facts counted in days from the account and its bills."""
    day = pl.lit(as_of)
    return {
        "days_to_due": (pl.col("next_due") - day).dt.total_days(),
        "tenure_days": (day - pl.col("opened_date")).dt.total_days(),
        "resolved_days": pl.when(pl.col("outstanding_minor") == 0).then(
            (day - pl.col("last_paid_off")).dt.total_days()
        ),
    }


def _customers(f: pl.DataFrame, accounts: repo.Ids) -> list[int] | None:
    return None if accounts is None else f["customer_id"].unique().to_list()


def _with_history(
    session: Session,
    f: pl.DataFrame,
    stages: pl.DataFrame,
    as_of: dt.date,
    accounts: repo.Ids = None,
) -> pl.DataFrame:
    history = repo.contact_history(session, as_of, accounts)
    latest = history.group_by("account_id").agg(pl.col("last_contact").max())
    in_stage = stages.join(history, on=["account_id", "stage"], how="inner").select(
        "account_id", pl.col("contacts").alias("contacts_in_stage")
    )
    return (
        f.join(latest, on="account_id", how="left")
        .join(in_stage, on="account_id", how="left")
        .with_columns(
            days_since_last_contact=(pl.lit(as_of) - pl.col("last_contact")).dt.total_days(),
            contacts_in_stage=pl.col("contacts_in_stage").fill_null(0),
        )
    )


@dataclass
class StrategyRun:
    as_of: dt.date
    policy: str
    accounts: int = 0
    skipped: int = 0
    contacts_planned: int = 0
    contacts_deferred: int = 0
    contacts_blocked: int = 0
    agent_tasks: int = 0
    by_decision: dict[str, int] | None = None


def plan(
    session: Session,
    as_of: dt.date,
    policy: Policy,
    *,
    now: dt.datetime,
    accounts: repo.Ids = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decide for every open account and check the contacts with the guard, writing nothing:
    (decisions, contact plans). The daily run writes them; `simulate` prints them. A contact is
    planned at its window's start on the day, or `now` if that has passed."""
    f = facts(session, as_of, accounts, policy=policy if accounts is None else None)
    if f.height == 0:
        return pl.DataFrame(), pl.DataFrame()
    detailed = f.filter("_detailed")
    detail = accounts if detailed.height == f.height else detailed["account_id"].to_list()
    f = f.drop("_detailed")
    first = decide(policy, f)  # the stage, to count contacts in it
    f = _with_history(session, f, first.select("account_id", "stage"), as_of, detail)
    decisions = decide(policy, f).join(
        f.select(
            "account_id",
            "customer_id",
            "jurisdiction",
            "zones",
            "collector",
            "product",
            "dpd",
            "overdue_minor",
            "outstanding_minor",
            "dispute_open",
            "hardship",
            *(f"opted_out_{c}" for c in OPT_OUT_CHANNELS),
        ),
        on="account_id",
    )
    contacts = decisions.filter(pl.col("decision") == "contact")
    customers = _customers(f, accounts)
    consents = repo.electronic_consents(session, now, customers)
    quiet = repo.quiet_hours(session, customers)
    return decisions, _check(contacts, as_of, now, consents, quiet)


def _check(
    contacts: pl.DataFrame,
    as_of: dt.date,
    now: dt.datetime,
    consents: pl.DataFrame,
    quiet: pl.DataFrame,
) -> pl.DataFrame:
    if contacts.height == 0:
        return contacts
    contacts = contacts.join(quiet, on="customer_id", how="left").with_columns(
        pl.col("inconvenient").fill_null(pl.lit([], pl.List(INCONVENIENT)))
    )
    jurisdictions = contacts["jurisdiction"].unique().to_list()
    fallback = pl.DataFrame(
        {
            "jurisdiction": jurisdictions,
            "_fallback": [list(jurisdiction_zones(j)) for j in jurisdictions],
        },
        schema={"jurisdiction": pl.String, "_fallback": pl.List(pl.String)},
    )
    with_zones = (
        contacts.join(fallback, on="jurisdiction", how="left")
        .with_columns(
            pl.when(pl.col("zones").list.len() > 0)
            .then(pl.col("zones"))
            .otherwise(pl.col("_fallback"))
            .alias("zones"),
            pl.col("window_from").fill_null(DEFAULT_WINDOW),
        )
        .drop("_fallback")
    )
    # The planned moment: the window's start on the day, in the debtor's first candidate zone,
    # computed once per distinct (zone, window) and joined back.
    with_zones = with_zones.with_columns(pl.col("zones").list.first().alias("_zone"))
    moments = with_zones.select("_zone", "window_from").unique()
    moments = moments.with_columns(
        pl.Series(
            "at",
            [
                max(utc_at(as_of, int(w[:2]) * 60 + int(w[3:]), z), now)
                for z, w in moments.iter_rows()
            ],
            dtype=pl.Datetime("us", "UTC"),
        )
    )
    with_zones = with_zones.join(moments, on=["_zone", "window_from"], how="left").drop("_zone")
    consented = (
        with_zones.select("account_id", "customer_id", "channel")
        .join(consents, on="customer_id", how="inner", suffix="_consent")
        .filter(
            pl.col("channel_consent").is_null() | (pl.col("channel_consent") == pl.col("channel"))
        )
        .select("account_id")
        .unique()
    )
    planned = with_zones.with_columns(
        pl.col("account_id").is_in(consented["account_id"].implode()).alias("electronic_consent"),
    )
    guard_input = planned.select(
        pl.col("account_id").alias("contact_id"),
        "at",
        "channel",
        "jurisdiction",
        "zones",
        pl.lit("debtor").alias("party"),
        pl.col("collector").replace_strict(COLLECTOR_ROLE, default="creditor").alias("collector"),
        pl.col("collector").ne("agency").alias("handover_notice_sent"),
        pl.col("product").replace_strict(PRODUCT, default=DEFAULT_PRODUCT),
        "dpd",
        pl.concat_list(
            pl.when(pl.col("dispute_open"))
            .then(pl.lit(["dispute_open"]))
            .otherwise(pl.lit([], pl.List(pl.String))),
            pl.when(pl.col("hardship"))
            .then(pl.lit(["hardship_review"]))
            .otherwise(pl.lit([], pl.List(pl.String))),
        ).alias("flags"),
        pl.col("channel").replace_strict(TO_TYPE, default="mobile").alias("to_type"),
        "electronic_consent",
        pl.coalesce(
            *(
                pl.when(pl.col("channel") == c).then(pl.col(f"opted_out_{c}"))
                for c in OPT_OUT_CHANNELS
            ),
            pl.lit(False),
        ).alias("opted_out"),
        "inconvenient",
    )
    verdict = decide_frame(load_guard(), guard_input)
    return planned.join(
        verdict.rename({"contact_id": "account_id"}), on="account_id", how="left"
    ).with_columns(
        pl.when(pl.col("allowed"))
        .then(pl.lit("planned"))
        .when(pl.col("next_allowed_at").is_not_null())
        .then(pl.lit("deferred"))
        .otherwise(pl.lit("blocked"))
        .alias("status"),
        pl.when(pl.col("allowed"))
        .then(pl.col("at"))
        .otherwise(pl.col("next_allowed_at"))
        .alias("scheduled_at"),
    )


def run(session: Session, as_of: dt.date, *, clock: Clock, actor: str = "daily-run") -> StrategyRun:
    version, policy = active_policy(session)
    report = StrategyRun(as_of=as_of, policy=f"{policy.name} {policy.version} (#{version.id})")
    decisions, contacts = plan(session, as_of, policy, now=clock.now())
    if decisions.height == 0:
        return report
    done = repo.decided_accounts(session, as_of)
    report.skipped = decisions.join(done, on="account_id", how="semi").height
    decisions = decisions.join(done, on="account_id", how="anti")
    if contacts.height:
        contacts = contacts.join(done, on="account_id", how="anti")
    now = clock.now()
    report.accounts = decisions.height
    report.by_decision = dict(decisions["decision"].value_counts().iter_rows())
    # Accounts no stage covers (current, not near a due date: outside collections today) are
    # counted, not recorded; a row a day for each of them would be most of the table.
    staged = decisions.filter(pl.col("stage").is_not_null())
    rows = _decision_rows(staged, contacts, as_of, version.id, now)
    frames.insert_frame(session, StrategyDecision.__table__, rows)  # type: ignore[arg-type]
    if contacts.height:
        plans = _plan_rows(contacts, as_of, now)
        contact_service.record_plans(session, plans)
        counts: dict[str, Any] = dict(plans["status"].value_counts().iter_rows())
        report.contacts_planned = counts.get("planned", 0)
        report.contacts_deferred = counts.get("deferred", 0)
        report.contacts_blocked = counts.get("blocked", 0)
    tasks = decisions.filter(pl.col("queue").is_not_null()).select(
        "account_id", "queue", pl.col("queue_priority").alias("priority")
    )
    agents_service.queue_day(session, tasks, day=as_of, now=now)
    report.agent_tasks = tasks.height
    audit_service.record(
        session,
        actor=actor,
        action="strategy.run",
        subject_type="policy_version",
        subject_id=version.id,
        clock=clock,
        details={
            "as_of": as_of.isoformat(),
            "accounts": report.accounts,
            "planned": report.contacts_planned,
            "deferred": report.contacts_deferred,
            "blocked": report.contacts_blocked,
            "agent_tasks": report.agent_tasks,
        },
    )
    return report


@dataclass
class Redecision:
    account_id: int
    cancelled: int
    decision: str | None
    planned: str | None  # the status of the new contact plan, if any


DEFERRED = "strategy.deferred_redecisions"


@contextmanager
def deferred_redecisions(session: Session, *, clock: Clock) -> Iterator[None]:
    """Within it, `redecide` notes the account and the cause, and the accounts are re-decided
    together when the block ends (one set-based pass instead of one per event): for work that
    handles many events in one transaction (the arrangements review, a batch of debtors' actions).
    Each account is re-decided once, for the last cause noted. Nested blocks join the outer one."""
    if DEFERRED in session.info:
        yield
        return
    causes: dict[int, str] = {}
    session.info[DEFERRED] = causes
    try:
        yield
    finally:
        session.info.pop(DEFERRED, None)
    if causes:
        session.flush()  # the set-based reads see what the block changed
        redecide_many(session, causes, clock=clock)


def redecision_pending(session: Session, account_id: int) -> bool:
    """Whether `deferred_redecisions` holds a re-decision of the account back (an event changed it
    earlier in the block)."""
    return account_id in session.info.get(DEFERRED, {})


def redecide(session: Session, account_id: int, *, clock: Clock, cause: str) -> Redecision | None:
    """An event (a payment, a reversal, a dispute...) re-decides one account now, with the same
    compiled plan: its pending contacts are cancelled in the caller's transaction, and today's
    decision and contact plan are replaced by the new ones. Nothing happens without an active
    policy or a delinquency state; None then, or when `deferred_redecisions` holds it back."""
    deferred = session.info.get(DEFERRED)
    if deferred is not None:
        deferred[account_id] = cause
        return None
    done = redecide_many(session, {account_id: cause}, clock=clock)
    return done[0] if done else None


def redecide_many(session: Session, causes: Mapping[int, str], *, clock: Clock) -> list[Redecision]:
    """`redecide` for several accounts (account → cause) in one set-based pass."""
    version = PolicyVersionRepository(session).active()
    if version is None or not causes:
        return []
    policy = compiled(version)
    with frames.small_reads(session):
        state = repo.base_facts(session, list(causes))
    if state.height == 0:
        return []
    now = clock.now()
    cancelled = contact_service.cancel_pending(
        session,
        {a: f"redecided after {causes[a]}" for a in state["account_id"].to_list()},
        now=now,
        actor="event",
    )
    decided: list[pl.DataFrame] = []
    planned: list[pl.DataFrame] = []
    for (as_of,), group in _business_days(session, state, now).group_by("today"):
        with frames.small_reads(session):
            decisions, contacts = plan(
                session, as_of, policy, now=now, accounts=group["account_id"].to_list()
            )
        if decisions.height == 0:
            continue
        decided.append(_decision_rows(decisions, contacts, as_of, version.id, now))
        if contacts.height:
            planned.append(_plan_rows(contacts, as_of, now))
    if not decided:
        return []
    rows = pl.concat(decided, how="vertical_relaxed")
    key = ["account_id", "as_of_date"]
    frames.upsert_frame(session, StrategyDecision.__table__, rows, key)  # type: ignore[arg-type]
    status: dict[int, str] = {}
    if planned:
        plans = pl.concat(planned, how="vertical_relaxed")
        contact_service.replan(session, plans, now=now, actor="event", causes=causes)
        status = dict(plans.select("account_id", "status").iter_rows())
    out = [
        Redecision(account_id, cancelled[account_id], decision, status.get(account_id))
        for account_id, decision in rows.select("account_id", "decision").iter_rows()
    ]
    audit_service.record_many(
        session,
        [
            audit_service.Entry(
                actor="event",
                action="strategy.redecided",
                subject_type="account",
                subject_id=r.account_id,
                details={
                    "cause": causes[r.account_id],
                    "cancelled": r.cancelled,
                    "decision": r.decision,
                },
            )
            for r in out
        ],
        clock=clock,
    )
    return out


def offers(session: Session, account_id: int, *, clock: Clock) -> list[Offer]:
    """The offers the active policy makes this account now (the first of each kind whose
    condition holds, none while a pause holds): what the portal and the API may propose."""
    return offers_many(session, [account_id], clock=clock).get(account_id, [])


def _business_days(session: Session, state: pl.DataFrame, now: dt.datetime) -> pl.DataFrame:
    """The day an event decides for: the account's business day now, in its product's zone, not
    the day its delinquency state last changed (the pass writes only the states that change);
    the state's day when a pass already ran for a later day."""
    zones = contact_repo.product_zones(session)
    today = {code: now.astimezone(ZoneInfo(zone)).date() for code, zone in zones.items()}
    return state.with_columns(
        pl.max_horizontal(
            pl.col("product").replace_strict(today, default=None, return_dtype=pl.Date),
            "state_date",
        ).alias("today")
    )


def offers_many(
    session: Session, account_ids: Collection[int], *, clock: Clock
) -> dict[int, list[Offer]]:
    """`offers` for several accounts at once (account → its offers; an account with none, or
    without a delinquency state, is absent)."""
    version = PolicyVersionRepository(session).active()
    if version is None or not account_ids:
        return {}
    policy = compiled(version)
    if not policy.offers:
        return {}
    out: dict[int, list[Offer]] = {}
    with frames.small_reads(session):
        state = repo.base_facts(session, account_ids)
        today = _business_days(session, state, clock.now())
        for (as_of,), group in today.group_by("today"):
            ids = group["account_id"].to_list()
            f = facts(session, as_of, ids)
            if f.height == 0:
                continue
            f = _with_history(
                session, f, decide(policy, f).select("account_id", "stage"), as_of, ids
            )
            held = f.select(
                "account_id",
                *(o.when.fill_null(False).alias(f"offer_{i}") for i, o in enumerate(policy.offers)),
            )
            allowed = dict(decide(policy, f).select("account_id", "offers").iter_rows())
            for account_id, *holds in held.iter_rows():
                kinds = set(allowed.get(account_id) or ())
                chosen: dict[str, Offer] = {}  # the first of each kind
                for offer, holding in zip(policy.offers, holds, strict=True):
                    if holding and offer.kind in kinds:
                        chosen.setdefault(offer.kind, offer)
                if chosen:
                    out[account_id] = list(chosen.values())
    return out


def _decision_rows(
    decisions: pl.DataFrame,
    contacts: pl.DataFrame,
    as_of: dt.date,
    version_id: int,
    now: dt.datetime,
) -> pl.DataFrame:
    """The decision records: what the kernel decided, with the guard's codes for its contact."""
    compliance = (
        contacts.select("account_id", pl.col("codes").alias("compliance"))
        if contacts.height
        else pl.DataFrame(schema={"account_id": pl.Int64, "compliance": pl.List(pl.String)})
    )
    return decisions.join(compliance, on="account_id", how="left").select(
        "account_id",
        pl.lit(as_of).alias("as_of_date"),
        pl.lit(version_id).cast(pl.Int64).alias("policy_version_id"),
        "stage",
        "segment",
        "experiment",
        "arm",
        "decision",
        "pause_reason",
        "treatment",
        "queue",
        "queue_priority",
        "offers",
        pl.col("compliance").fill_null(pl.lit([], pl.List(pl.String))),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("created_at"),
    )


def _plan_rows(contacts: pl.DataFrame, as_of: dt.date, now: dt.datetime) -> pl.DataFrame:
    return contacts.select(
        "account_id",
        "customer_id",
        pl.lit(as_of).alias("as_of_date"),
        "stage",
        "treatment",
        "channel",
        "template",
        "tone",
        "status",
        "scheduled_at",
        "overdue_minor",
        "outstanding_minor",
        pl.col("reasons").fill_null(pl.lit([], pl.List(pl.String))),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("created_at"),
    )


def diff(session: Session, as_of: dt.date, old: Policy, new: Policy) -> pl.DataFrame:
    """How two policies decide the same portfolio differently: per (what changed, segment under the
    new policy), how many accounts, with up to three example account ids. Writes nothing."""
    f = facts(session, as_of)
    if f.height == 0:
        return pl.DataFrame()
    stages = decide(new, f).select("account_id", "stage")
    f = _with_history(session, f, stages, as_of)
    a = decide(old, f)
    b = decide(new, f)
    joined = a.join(b, on="account_id", suffix="_new")
    changes = []
    for column in ("stage", "decision", "treatment", "channel", "queue"):
        changed = joined.filter(pl.col(column).ne_missing(pl.col(f"{column}_new")))
        if changed.height:
            changes.append(
                changed.select(
                    pl.lit(column).alias("change"),
                    pl.col("segment_new").fill_null("-").alias("segment"),
                    pl.concat_str(
                        pl.col(column).fill_null("-"),
                        pl.lit(" → "),
                        pl.col(f"{column}_new").fill_null("-"),
                    ).alias("from_to"),
                    "account_id",
                )
            )
    if not changes:
        return pl.DataFrame(
            schema={
                "change": pl.String,
                "segment": pl.String,
                "from_to": pl.String,
                "accounts": pl.UInt32,
                "examples": pl.List(pl.Int64),
            }
        )
    return (
        pl.concat(changes)
        .group_by("change", "segment", "from_to")
        .agg(pl.len().alias("accounts"), pl.col("account_id").sort().head(3).alias("examples"))
        .sort("change", "accounts", descending=[False, True])
    )

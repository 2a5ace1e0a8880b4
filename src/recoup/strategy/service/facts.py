"""The facts the kernel decides on, read set-based for the daily run (every open account) or for
an event's accounts, and the business day an event decides for."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from recoup.contact import repository as contact_repo
from recoup.models import PauseKind
from recoup.strategy import repository as repo
from recoup.strategy.policy import Policy

OPT_OUT_CHANNELS = ("sms", "call", "email", "push")


def facts(
    session: Session,
    as_of: dt.date,
    accounts: repo.Ids = None,
    *,
    policy: Policy | None = None,
    states: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The account facts the kernel reads, plus what the guard needs (customer, zones, collector).

    `policy` (the daily run's): when most accounts can be in none of its stages by what the
    accounts and their bills say (`Policy.in_some_stage`; a portfolio is mostly current), the
    facts only a stage can use (payments, contact history, reachability, zones) are read for the
    others alone and are null for the rest: those decide `none` (or `pause`) whatever these facts
    say, and are not recorded. The column `_detailed` says which rows have them.

    `states`: the day's delinquency states of every account, as the pass just wrote them
    (`repo.base_facts_and_next_due`); the daily run's only (with `accounts` None)."""
    base, due = repo.base_facts_and_next_due(session, as_of, accounts, states=states)
    if base.height == 0:
        return base
    # An event reads its accounts' and their customers' rows; the daily run reads them all.
    customers = customers_of(base, accounts)
    detail, detail_customers = accounts, customers
    if policy is not None and accounts is None:
        known = base.join(due, on="account_id", how="left").with_columns(**_dates(as_of))
        staged = policy.in_some_stage(known.columns)
        maybe = known.filter(staged) if staged is not None else known
        if maybe.height * 2 < base.height:
            detail = maybe["account_id"].to_list()
            detail_customers = maybe["customer_id"].unique().to_list()
    pays = repo.payment_facts(session, as_of, detail)
    scores = repo.latest_scores(session, as_of, accounts)
    arrangements = repo.arrangement_facts(session, as_of, accounts)
    autopay = repo.autopay_facts(session, as_of, accounts)
    pauses = (
        repo.open_pauses(session, as_of, accounts)
        .lazy()
        .group_by("account_id")
        .agg(
            (pl.col("kind") == PauseKind.dispute.value).any().alias("dispute_open"),
            (pl.col("kind") == PauseKind.hardship.value).any().alias("hardship"),
            (pl.col("kind") == PauseKind.cease.value).any().alias("cease_requested"),
        )
    )
    reviews = repo.open_reviews(session, customers)
    reviewed_accounts = reviews["account_id"].drop_nulls().implode()
    reviewed_customers = reviews.filter(pl.col("account_id").is_null())["customer_id"].implode()
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
    regions = repo.customer_regions(session, customers).lazy()
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
        .join(autopay.lazy(), on="account_id", how="left")
        .join(scores.lazy(), on="account_id", how="left")
        .join(pauses, on="account_id", how="left")
        .join(reach, on="customer_id", how="left")
        .join(zones, on="customer_id", how="left")
        .join(opted, on="customer_id", how="left")
        .join(regions, on="customer_id", how="left")
        .with_columns(*(pl.col(f"opted_out_{c}").fill_null(False) for c in OPT_OUT_CHANNELS))
        .with_columns(
            **_dates(as_of),
            days_since_last_payment=(day - pl.col("last_payment")).dt.total_days(),
            payments_30d=pl.col("payments_30d").fill_null(0),
            dispute_open=pl.col("dispute_open").fill_null(False),
            hardship=pl.col("hardship").fill_null(False),
            cease_requested=pl.col("cease_requested").fill_null(False),
            # The debtor asked a person to review the automated decisions (PIPL art. 24): an
            # open review case of the account, or of all the customer's accounts.
            review_requested=pl.col("account_id").is_in(reviewed_accounts)
            | pl.col("customer_id").is_in(reviewed_customers),
            # Reachable: an address on file and no opt-out of the channel (so a STOP makes the
            # policy choose another channel instead of planning a message the guard would block).
            reachable_sms=pl.col("has_phone").fill_null(False) & ~pl.col("opted_out_sms"),
            reachable_call=pl.col("has_phone").fill_null(False) & ~pl.col("opted_out_call"),
            reachable_email=pl.col("has_email").fill_null(False) & ~pl.col("opted_out_email"),
            reachable_push=~pl.col("opted_out_push"),  # a wallet's own users: the app is there
            broken_promises=pl.col("broken_promises").fill_null(0),
            promise_pending=pl.col("promise_pending").fill_null(False),
            plan_active=pl.col("plan_active").fill_null(False),
            autopay=pl.col("autopay").fill_null(False),
            autopay_failed_days=(day - pl.col("autopay_failed_on")).dt.total_days(),
            zones=pl.col("zones").fill_null(pl.lit([], pl.List(pl.String))),
            age_band=age_band(pl.col("birth_year"), as_of),
            _detailed=pl.lit(True) if detail is None else pl.col("account_id").is_in(list(detail)),
        )
        .collect()
    )
    return out


AGE_BANDS = ((25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"))


def age_band(birth_year: pl.Expr, as_of: dt.date) -> pl.Expr:
    """The age band of the age reached in `as_of`'s year (only the year of birth is kept, so a
    debtor moves up a band on 1 January): "18-24" (any age under 25), "25-34", "35-44", "45-54",
    "55+"; null when the year of birth is unknown."""
    age = pl.lit(as_of.year) - birth_year
    band: pl.Expr = pl.lit("55+")
    for below, name in reversed(AGE_BANDS):
        band = pl.when(age < below).then(pl.lit(name)).otherwise(band)
    return pl.when(birth_year.is_null()).then(pl.lit(None, dtype=pl.String)).otherwise(band)


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


def customers_of(f: pl.DataFrame, accounts: repo.Ids) -> list[int] | None:
    """The customers whose rows an event reads (None: the daily run reads every customer's)."""
    return None if accounts is None else f["customer_id"].unique().to_list()


def with_history(
    session: Session,
    f: pl.DataFrame,
    stages: pl.DataFrame,
    as_of: dt.date,
    accounts: repo.Ids = None,
) -> pl.DataFrame:
    """The facts plus the contact history: days since the last contact, contacts in the stage the
    first decision put each account in."""
    return join_history(f, stages, repo.contact_history(session, as_of, accounts), as_of)


def join_history(
    f: pl.DataFrame, stages: pl.DataFrame, history: pl.DataFrame, as_of: dt.date
) -> pl.DataFrame:
    """`with_history` on a history already read (`repo.contact_history`'s frame): pure."""
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


def business_days(session: Session, state: pl.DataFrame, now: dt.datetime) -> pl.DataFrame:
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

"""A day's decisions for a set of accounts, and their contacts checked by the compliance guard,
as frames: nothing here writes. The daily run and an event's re-decision record them (the
decisions through the strategy's repository, the contact plans through `contact.service`).

Each planned contact is checked with the guard's batch function at the start of the treatment's
preferred window in the debtor's local time: allowed contacts are scheduled then, the others at
the guard's `next_allowed_at` when time cures them (`deferred`), or kept as `blocked` with the
reasons.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

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
from recoup.strategy import repository as repo
from recoup.strategy.kernel import decide
from recoup.strategy.policy import Policy
from recoup.strategy.service.facts import OPT_OUT_CHANNELS, customers_of, facts, with_history

DEFAULT_WINDOW = "10:00"


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
    f = with_history(session, f, first.select("account_id", "stage"), as_of, detail)
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
            "cease_requested",
            *(f"opted_out_{c}" for c in OPT_OUT_CHANNELS),
        ),
        on="account_id",
    )
    contacts = decisions.filter(pl.col("decision") == "contact")
    customers = customers_of(f, accounts)
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
            pl.when(pl.col("cease_requested"))
            .then(pl.lit(["cease_requested"]))
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


def decision_rows(
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


def plan_rows(contacts: pl.DataFrame, as_of: dt.date, now: dt.datetime) -> pl.DataFrame:
    """The contact plans for `contact.service` to write: the checked contacts, with their day."""
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

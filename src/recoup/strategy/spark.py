"""The day's decisions on Apache Spark: the pure step (`planning.decide_day`: the kernel, the
history join, the guard's batch check) run per partition of customers through `mapInArrow`
(`recoup.kit.spark.run_by_customer`).

What runs where:

- the driver (this process) reads the day's frames from the database (`planning.read_day`) and
  hands them to `run_by_customer`, which partitions every frame by `customer_id`, so a
  customer's accounts, contact history, consents and quiet hours land in one partition;
- each Python worker calls `decide_day` on its partition's frames, returning the decisions and
  contact plans;
- the driver concatenates them, and the caller writes them through their owners' repositories
  as the local engine's (COPY on PostgreSQL).

The session is the process's one (`recoup.kit.spark.session`), at `RECOUP_SPARK_MASTER`
(default `local[2]`). pyspark is an optional dependency (`pip install 'recoup[spark]'`):
without it, asking for the engine is `SparkMissing`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from recoup.config import Settings
from recoup.kit import spark as kit_spark
from recoup.kit.spark import KEY, SparkMissing, Tables
from recoup.strategy.policy import Policy

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from recoup.compliance.packs import Guard
    from recoup.strategy.service.planning import DayFrames

__all__ = ["SparkMissing", "decide_day", "master", "session"]


def master() -> str:
    """Where Spark runs: the setting `RECOUP_SPARK_MASTER` (`local[N]`, `spark://host:7077`,
    `yarn`, ...; default `local[2]`)."""
    return Settings().spark_master


def session() -> SparkSession:
    """The process's Spark session at `master()`, created on first use and reused."""
    return kit_spark.session(master())


def decide_day(
    frames: DayFrames, as_of: dt.date, now: dt.datetime, policy: Policy, guard: Guard
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`planning.decide_day` per partition of customers on Spark: (decisions, contacts), in
    account order. `guard` (the driver's, with the deployment's house policy) goes to the
    executors with the step: they read no settings or house file of their own."""
    from recoup.strategy.service import planning

    tables = {
        "facts": frames.facts,
        # The history is keyed by account: its customer comes from the facts (an account with
        # no facts row decides nothing, as locally).
        "history": frames.history.join(
            frames.facts.select("account_id", KEY), on="account_id", how="inner"
        ),
        "consents": frames.consents,
        "quiet": frames.quiet,
    }

    def step(part: Tables) -> Tables:
        decisions, contacts = planning.decide_day(
            planning.DayFrames(
                facts=part["facts"],
                history=part["history"].drop(KEY),
                consents=part["consents"],
                quiet=part["quiet"],
            ),
            as_of,
            now,
            policy,
            guard,
        )
        return {"decisions": decisions, "contacts": contacts}

    out = kit_spark.run_by_customer(master(), tables, step, staging=Settings().spark_staging)
    decisions = out.get("decisions", pl.DataFrame())
    contacts = out.get("contacts", pl.DataFrame())
    if decisions.height:
        decisions = decisions.sort("account_id")
    if contacts.height:
        contacts = contacts.sort("account_id")
    return decisions, contacts

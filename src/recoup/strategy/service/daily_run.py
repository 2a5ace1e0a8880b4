"""The daily strategy run, for an as-of date (after the delinquency pass):

1. reads the open accounts' facts set-based (delinquency state, next due date, payments, pauses,
   reachability, the contacts planned so far in the current stage);
2. decides with the active policy's kernel;
3. checks every planned contact with the compliance guard (`planning`);
0. (a policy with `learn:` stages) rewards the learner's decisions whose horizon ended yesterday
   (`learning.learn`), before deciding;
4. records a decision per account in a stage (an account no stage covers is counted in the run's
   report only) through the strategy's repository, and hands the contact plans to
   `contact.service` and the queues' tasks to `agents.service`, in the caller's transaction.

Idempotent per as-of date: accounts already decided for the day are skipped, and every row has a
unique key (account, day[, treatment]), so a re-run changes nothing and a run killed halfway (its
transaction rolled back) completes when started again.

Counters over past contacts (frequency caps) reach the guard when delivery records outcomes (the
delivery issue); at plan time the guard applies hours, rest days, consent, party, channel, status
and content rules, and the dispatcher checks again, with the counters, right before sending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.audit import service as audit_service
from recoup.contact import service as contact_service
from recoup.kit import partitions
from recoup.kit.clock import Clock
from recoup.strategy import repository as repo
from recoup.strategy.service.learning import learn
from recoup.strategy.service.planning import decision_rows, plan, plan_rows
from recoup.strategy.service.versions import active_policy


@dataclass
class StrategyRun:
    """What a day's run did (accounts decided, skipped as already decided, contacts by status)."""

    as_of: dt.date
    policy: str
    accounts: int = 0
    skipped: int = 0
    contacts_planned: int = 0
    contacts_deferred: int = 0
    contacts_blocked: int = 0
    agent_tasks: int = 0
    by_decision: dict[str, int] | None = None
    rewarded: int = 0  # the learner's decisions whose horizon ended yesterday, rewarded today


def run(
    session: Session,
    as_of: dt.date,
    *,
    clock: Clock,
    actor: str = "daily-run",
    engine: str = "local",
    states: pl.DataFrame | None = None,
) -> StrategyRun:
    """The day's run with the active policy (`NoActivePolicy` without one), in the caller's
    transaction; the accounts already decided for `as_of` are skipped. `engine`: where the
    decisions are computed ("local", or "spark": `planning.plan`); they are written here alike.
    `states`: the day's delinquency pass's states of every account (`RunSummary.states`, the
    daily flow's), so that the facts do not read back the rows the pass has just written."""
    version, policy = active_policy(session)
    report = StrategyRun(as_of=as_of, policy=f"{policy.name} {policy.version} (#{version.id})")
    # The learner learns from what its past decisions earned before it decides today.
    report.rewarded = learn(session, as_of, policy).decisions
    decisions, contacts = plan(
        session, as_of, policy, now=clock.now(), engine=engine, states=states
    )
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
    repo.insert_decisions(session, decision_rows(staged, contacts, as_of, version.id, now))
    if contacts.height:
        plans = plan_rows(contacts, as_of, now)
        contact_service.record_plans(session, plans)
        counts: dict[str, Any] = dict(plans["status"].value_counts().iter_rows())
        report.contacts_planned = counts.get("planned", 0)
        report.contacts_deferred = counts.get("deferred", 0)
        report.contacts_blocked = counts.get("blocked", 0)
    # A learned queue's call is offered from the hour the learner chose for it (`queue_due_at`)
    # until that hour's window ends (`queue_due_until`).
    tasks = decisions.filter(pl.col("queue").is_not_null()).select(
        "account_id",
        "queue",
        pl.col("queue_priority").alias("priority"),
        *(
            (
                pl.col(f"queue_{c}")
                if f"queue_{c}" in decisions.columns
                else pl.lit(None, pl.Datetime("us", "UTC"))
            ).alias(c)
            for c in ("due_at", "due_until")
        ),
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


def maintain_partitions(
    session: Session, day: dt.date, *, years: int, dry_run: bool = False
) -> partitions.Maintenance:
    """Decisions' monthly partitions on PostgreSQL: the months ahead made, the ones past `years`
    dropped unless held (`repository.PARTITIONS` says by what)."""
    return partitions.maintain(session, list(repo.PARTITIONS), day, years=years, dry_run=dry_run)

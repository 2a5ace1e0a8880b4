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

A day of more than `PART_ACCOUNTS` open accounts, decided locally without learning stages, is
decided in parts by account id (`planning.day_parts`), and each part's decisions and plans are
written by a second thread on the session's own connection while the next part is decided
(`kit.background.writes_behind`): the same rows, in the same one transaction, the server's COPY
work beside the client's deciding. A write that fails fails the run with its error once the
writer has stopped; nothing is written after it, and the caller's rollback takes the rest.

Idempotent per as-of date: accounts already decided for the day are skipped, and every row has a
unique key (account, day[, treatment]), so a re-run changes nothing and a run killed halfway (its
transaction rolled back) completes when started again.

Counters over past contacts (frequency caps) reach the guard when delivery records outcomes (the
delivery issue); at plan time the guard applies hours, rest days, consent, party, channel, status
and content rules, and the dispatcher checks again, with the counters, right before sending.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.audit import service as audit_service
from recoup.compliance.packs import Guard
from recoup.contact import service as contact_service
from recoup.kit import partitions
from recoup.kit.background import writes_behind
from recoup.kit.clock import Clock
from recoup.strategy import repository as repo
from recoup.strategy.policy import Policy
from recoup.strategy.service.learning import learn
from recoup.strategy.service.planning import (
    day_parts,
    decide_day,
    decision_rows,
    house_guard,
    plan,
    plan_rows,
    read_day,
)
from recoup.strategy.service.versions import active_policy

# The local engine decides a day of more open accounts than this in parts of this many (by account
# id), each part's rows written while the next one is decided (`kit.background`): on PostgreSQL
# the server's COPY work and the client's deciding overlap on two cores.
PART_ACCOUNTS = 250_000


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
    guard: Guard | None = None,
) -> StrategyRun:
    """The day's run with the active policy (`NoActivePolicy` without one), in the caller's
    transaction; the accounts already decided for `as_of` are skipped. `engine`: where the
    decisions are computed ("local", or "spark": `planning.plan`); they are written here alike.
    `states`: the day's delinquency pass's states of every account (`RunSummary.states`, the
    daily flow's), so that the facts do not read back the rows the pass has just written.
    `guard`: the compliance guard every part is checked with (none: the deployment's, the packs
    under the configured house policy, `planning.house_guard`), one for the whole day."""
    guard = guard or house_guard()
    version, policy = active_policy(session)
    report = StrategyRun(as_of=as_of, policy=f"{policy.name} {policy.version} (#{version.id})")
    # The learner learns from what its past decisions earned before it decides today.
    report.rewarded = learn(session, as_of, policy).decisions
    parts = _decided_parts(
        session, as_of, policy, now=clock.now(), engine=engine, states=states, guard=guard
    )
    if parts is None:
        return report
    count, decided = parts
    done = repo.decided_accounts(session, as_of)
    now = clock.now()
    by_decision: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    task_parts: list[pl.DataFrame] = []
    # From here to the block's end the session is the writer's: the parts are decided in Python
    # while the previous part's rows are written (`writes_behind`), in the same transaction.
    with writes_behind(background=count > 1) as writer:
        for decisions, contacts in decided:
            report.skipped += decisions.join(done, on="account_id", how="semi").height
            decisions = decisions.join(done, on="account_id", how="anti")
            if contacts.height:
                contacts = contacts.join(done, on="account_id", how="anti")
            report.accounts += decisions.height
            by_decision.update(dict(decisions["decision"].value_counts().iter_rows()))
            # Accounts no stage covers (current, not near a due date: outside collections today)
            # are counted, not recorded; a row a day for each of them would be most of the table.
            staged = decisions.filter(pl.col("stage").is_not_null())
            rows = decision_rows(staged, contacts, as_of, version.id, now)
            writer.submit(repo.insert_decisions, session, rows)
            if contacts.height:
                plans = plan_rows(contacts, as_of, now)
                writer.submit(contact_service.record_plans, session, plans)
                by_status.update(dict(plans["status"].value_counts().iter_rows()))
            task_parts.append(_tasks(decisions))
    report.by_decision = dict(by_decision)
    report.contacts_planned = by_status.get("planned", 0)
    report.contacts_deferred = by_status.get("deferred", 0)
    report.contacts_blocked = by_status.get("blocked", 0)
    tasks = pl.concat(task_parts, how="vertical_relaxed")
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


def _decided_parts(
    session: Session,
    as_of: dt.date,
    policy: Policy,
    *,
    now: dt.datetime,
    engine: str,
    states: pl.DataFrame | None,
    guard: Guard,
) -> tuple[int, Iterator[tuple[pl.DataFrame, pl.DataFrame]]] | None:
    """The day's (decisions, contacts), as a count of parts and the parts, each decided when it
    is taken (None: no open account). The local engine without learning stages decides the day
    by `PART_ACCOUNTS` accounts (`planning.day_parts`); the others (the learner's call capacity
    spans the day; Spark partitions the day itself) decide it whole, as one part."""
    if engine == "local" and not policy.learns:
        frames = read_day(session, as_of, policy, now=now, states=states)
        if frames is None:
            return None
        parts = day_parts(frames, PART_ACCOUNTS)
        return len(parts), (decide_day(part, as_of, now, policy, guard) for part in parts)
    decisions, contacts = plan(
        session, as_of, policy, now=now, engine=engine, states=states, guard=guard
    )
    if decisions.height == 0:
        return None
    return 1, iter([(decisions, contacts)])


def _tasks(decisions: pl.DataFrame) -> pl.DataFrame:
    """The agents' tasks of the decisions that queue their account."""
    # A learned queue's call is offered from the hour the learner chose for it (`queue_due_at`)
    # until that hour's window ends (`queue_due_until`).
    return decisions.filter(pl.col("queue").is_not_null()).select(
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


def maintain_partitions(
    session: Session, day: dt.date, *, years: int, dry_run: bool = False
) -> partitions.Maintenance:
    """Decisions' monthly partitions on PostgreSQL: the months ahead made, the ones past `years`
    dropped unless held (`repository.PARTITIONS` says by what)."""
    return partitions.maintain(session, list(repo.PARTITIONS), day, years=years, dry_run=dry_run)

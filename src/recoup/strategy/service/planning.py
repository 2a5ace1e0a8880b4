"""A day's decisions for a set of accounts, and their contacts checked by the compliance guard,
as frames: nothing here writes. The daily run and an event's re-decision record them (the
decisions through the strategy's repository, the contact plans through `contact.service`).

Each planned contact is checked with the guard's batch function at the start of the treatment's
preferred window in the debtor's local time: allowed contacts are scheduled then, the others at
the guard's `next_allowed_at` when time cures them (`deferred`), or kept as `blocked` with the
reasons.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass
from statistics import NormalDist

import polars as pl
from sqlalchemy.orm import Session

from recoup.compliance import deployment_guard
from recoup.compliance.batch import INCONVENIENT, decide_frame
from recoup.compliance.localtime import utc_at
from recoup.compliance.packs import Guard
from recoup.compliance.record import SELECTING
from recoup.compliance.vocabulary import (
    COLLECTOR_ROLE,
    DEFAULT_PRODUCT,
    PRODUCT,
    TO_TYPE,
    jurisdiction_zones,
)
from recoup.config import get_settings
from recoup.kit.errors import ValidationFailed
from recoup.strategy import bandit, kernel
from recoup.strategy import repository as repo
from recoup.strategy.kernel import complete, decide
from recoup.strategy.policy import NO_CONTACT, QUEUE_STAGE_PREFIX, Learning, Policy, Queue
from recoup.strategy.service.facts import OPT_OUT_CHANNELS, customers_of, facts, join_history

DEFAULT_WINDOW = "10:00"
# The hand-off queues' priorities are in major units (yuan) a minute, as the policies' `handoff:`
# expressions divide the amount overdue by 100; the learner's values are in minor units.
MINOR_PER_UNIT = 100


ENGINES = ("local", "spark")


@dataclass(frozen=True)
class DayFrames:
    """Everything a day's decisions read, as frames keyed by account or customer (`read_day`):
    the pure step (`decide_day`) needs nothing else, so it runs here or on Spark per partition.

    - `facts`: one row per account (with `customer_id`), the kernel's facts and the guard's;
    - `history`: per account and stage, the contacts planned before the day (`contacts`,
      `last_contact`), for the accounts whose facts are detailed;
    - `consents`: per customer, electronic consents in force (`channel`, null: every channel);
    - `quiet`: per customer, the inconvenient times (`inconvenient`)."""

    facts: pl.DataFrame
    history: pl.DataFrame
    consents: pl.DataFrame
    quiet: pl.DataFrame


class EngineUnavailable(ValidationFailed):
    """The engine asked for cannot run this day: unknown, not installed, or a policy it cannot
    carry (see docs/strategy.md, "The Spark engine")."""

    code = "engine_unavailable"
    description = "The decision engine asked for cannot run"


def plan(
    session: Session,
    as_of: dt.date,
    policy: Policy,
    *,
    now: dt.datetime,
    accounts: repo.Ids = None,
    engine: str = "local",
    states: pl.DataFrame | None = None,
    guard: Guard | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decide for every open account and check the contacts with the guard, writing nothing:
    (decisions, contact plans). The daily run writes them; `simulate` prints them. A contact is
    planned at its window's start on the day, or `now` if that has passed.

    `engine`: "local" decides in this process; "spark" runs the same pure step (`decide_day`)
    per partition of customers on Spark (`recoup.strategy.spark`); a policy with learning stages
    runs locally only (the bandit's call capacity is shared across the whole day's accounts).
    `states`: the day's delinquency states, when the caller has them (`read_day`). `guard`: the
    compliance guard to check with (none: the deployment's, `deployment_guard`)."""
    if engine not in ENGINES:
        raise EngineUnavailable(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    if engine == "spark" and policy.learns:
        raise EngineUnavailable(
            "the spark engine does not run a policy with learning stages (the learner's call "
            "capacity spans the whole day): use --engine local"
        )
    if engine == "spark":
        from recoup.strategy import spark  # pyspark is optional: imported only when asked

        try:
            spark.session()  # before reading the day: a missing pyspark fails fast
        except spark.SparkMissing as exc:
            raise EngineUnavailable(exc.message) from exc
    guard = guard or house_guard()
    frames = read_day(session, as_of, policy, now=now, accounts=accounts, states=states)
    if frames is None:
        return pl.DataFrame(), pl.DataFrame()
    if engine == "spark":
        return spark.decide_day(frames, as_of, now, policy, guard)
    if not policy.learns:
        return decide_day(frames, as_of, now, policy, guard)
    decisions, f = _decisions(frames, as_of, policy)
    decisions = _learn(
        session, decisions, f, as_of, now, policy, frames.consents, frames.quiet, accounts, guard
    )
    decisions = _learn_queue_hours(
        session, decisions, f, as_of, now, policy, frames.consents, frames.quiet, guard
    )
    contacts = decisions.filter(pl.col("decision") == "contact")
    return decisions, _check(contacts, as_of, now, frames.consents, frames.quiet, guard)


def house_guard() -> Guard:
    """The deployment's guard: the shipped packs under the configured house policy
    (`RECOUP_COMPLIANCE_HOUSE_FILE`), read once and kept until the file changes."""
    return deployment_guard(get_settings().compliance_house_file)


def read_day(
    session: Session,
    as_of: dt.date,
    policy: Policy,
    *,
    now: dt.datetime,
    accounts: repo.Ids = None,
    states: pl.DataFrame | None = None,
) -> DayFrames | None:
    """Every frame the day's decisions read (None: no open account). `states`: the day's
    delinquency states of every account as the pass left them (`delinquency.service.RunSummary`),
    not read again; only without `accounts` (an event reads its accounts' states)."""
    f = facts(session, as_of, accounts, policy=policy if accounts is None else None, states=states)
    if f.height == 0:
        return None
    detailed = f.filter("_detailed")
    detail = accounts if detailed.height == f.height else detailed["account_id"].to_list()
    customers = customers_of(f, accounts)
    return DayFrames(
        facts=f,
        history=repo.contact_history(session, as_of, detail),
        consents=repo.electronic_consents(session, now, customers),
        quiet=repo.quiet_hours(session, customers),
    )


def day_parts(frames: DayFrames, accounts: int) -> list[DayFrames]:
    """The day's frames in parts of `accounts` open accounts, by ranges of account id in
    ascending order, for `decide_day` to decide one after another: the kernel and the guard
    decide row by row, an account's contact history goes with it, and the consents and quiet
    hours (keyed by customer) are whole in every part, so the parts' decisions are the day's.
    Ascending ranges keep the rows' keys in the order a whole day's write has them (the contact
    plans' ids, given in key order, come out the same)."""
    if frames.facts.height <= accounts:
        return [frames]
    ids = frames.facts["account_id"].sort()
    starts = ids.gather(list(range(0, ids.len(), accounts))).to_list()
    parts = []
    for i, start in enumerate(starts):
        in_part = (
            pl.col("account_id").is_between(start, starts[i + 1], closed="left")
            if i + 1 < len(starts)
            else pl.col("account_id") >= start
        )
        parts.append(
            DayFrames(
                facts=frames.facts.filter(in_part),
                history=frames.history.filter(in_part),
                consents=frames.consents,
                quiet=frames.quiet,
            )
        )
    return parts


def decide_day(
    frames: DayFrames, as_of: dt.date, now: dt.datetime, policy: Policy, guard: Guard
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The day's decisions and their guard-checked contacts from its frames, reading nothing
    else (no session, no clock, no settings: `guard` is the caller's, built once for the day):
    the local engine calls it on the whole day, the Spark engine on each partition of customers. A policy's learning stages are not applied here (`plan` does)."""
    decisions, _ = _decisions(frames, as_of, policy)
    decisions = decisions.with_columns(pl.lit(None, LEARNING).alias("learning"))
    contacts = decisions.filter(pl.col("decision") == "contact")
    return decisions, _check(contacts, as_of, now, frames.consents, frames.quiet, guard)


def _decisions(
    frames: DayFrames, as_of: dt.date, policy: Policy
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The kernel's decisions with the guard's facts, and the facts with the contact history."""
    # The stage, to count contacts in it: only the accounts whose contact history was read
    # (`_detailed`) need it (the kernel decides row by row, so deciding those alone gives them
    # the same stage).
    first = kernel.stages(policy, frames.facts.filter("_detailed").drop("_detailed"))
    f = frames.facts.drop("_detailed")
    f = join_history(f, first, frames.history, as_of)
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
    return decisions, f


_DRIVERS = pl.List(pl.Struct({"fact": pl.String, "value": pl.String}))
# The hour the learner chose for a hand-off queue's call (`_learn_queue_hours`), inside the
# decision's explanation: the queue, its cell, the arm (its window's start is when the call is
# offered; channel `none`: no call today, no window), how it was chosen, its value and
# uncertainty, the facts that set the cell.
QUEUE_HOUR = pl.Struct(
    {
        "queue": pl.String,
        "cell": pl.String,
        "arm": pl.String,
        "channel": pl.String,
        "window_from": pl.String,
        "mode": pl.String,
        "value": pl.Float64,
        "sd": pl.Float64,
        "context": _DRIVERS,
        "horizon": pl.Int64,
        "cost": pl.Float64,
        "choices": pl.Int64,
    }
)
# The learner's explanation on a decision record (`strategy_decisions.learning`, JSON).
LEARNING = pl.Struct(
    {
        "policy": pl.String,
        "stage": pl.String,
        "cell": pl.String,
        "arm": pl.String,
        "channel": pl.String,
        "mode": pl.String,
        "value": pl.Float64,
        "sd": pl.Float64,
        "context": _DRIVERS,
        "p_pay": pl.Float64,
        "horizon": pl.Int64,
        "cost": pl.Float64,
        "call_value": pl.Float64,
        "choices": pl.Int64,
        "queue_hour": QUEUE_HOUR,
    }
)

# The decisions a learning stage may replace: the kernel's ladder would contact, wait or do
# nothing; a pause, an experiment's holdout and accounts in no stage stay as they are.
_LEARNABLE = ("contact", "wait", "none")


def _cell(learning: Learning) -> pl.Expr:
    """The context cell's name, e.g. `overdue_minor<50000|product=bnpl` (`na` when unknown)."""
    parts: list[pl.Expr] = []
    for fact, cuts in learning.context:
        value = pl.col(fact)
        if cuts is None:
            label = value.cast(pl.String).fill_null("na")
        else:
            names = [f"<{cuts[0]:g}"]
            names += [f"={a:g}..{b:g}" for a, b in itertools.pairwise(cuts)]
            names.append(f">={cuts[-1]:g}")
            label = pl.lit(names[-1])
            for cut, name in reversed(list(zip(cuts, names, strict=False))):
                label = pl.when(value < cut).then(pl.lit(name)).otherwise(label)
            label = label.cast(pl.String)
        parts.append(
            pl.lit(fact + ("=" if cuts is None else "")) + label
            if cuts is None
            else pl.when(value.is_null()).then(pl.lit(f"{fact}=na")).otherwise(pl.lit(fact) + label)
        )
    if not parts:
        return pl.lit("all")
    return pl.concat_str(parts, separator="|")


def _learn(
    session: Session,
    decisions: pl.DataFrame,
    f: pl.DataFrame,
    as_of: dt.date,
    now: dt.datetime,
    policy: Policy,
    consents: pl.DataFrame,
    quiet: pl.DataFrame,
    accounts: repo.Ids,
    guard: Guard,
) -> pl.DataFrame:
    """The learning stages' choice: every arm with a channel checked by the guard at its window
    (an arm it blocks is never a candidate; one it defers to later stays one, as the ladder's
    contacts do), the budget applied, then the bandit picks per account; the chosen arm becomes
    the decision's treatment, with its explanation in `learning`."""
    stages = {s.name: s for s in policy.learning_stages}
    learnable = decisions.filter(
        pl.col("stage").is_in(list(stages)) & pl.col("decision").is_in(_LEARNABLE)
    )
    if learnable.height == 0:
        return decisions.with_columns(pl.lit(None, LEARNING).alias("learning"))
    longest = max(s.learn.budget_days for s in stages.values() if s.learn)
    budget_days = {s.learn.budget_days for s in stages.values() if s.learn}
    ids = learnable["account_id"].to_list() if accounts is not None else None
    recent = {
        days: repo.recent_contacts(session, as_of, days, ids).rename(
            {"recent_contacts": f"_recent_{days}"}
        )
        for days in budget_days | {longest}
    }
    facts_cols = [c for c in complete(f).columns if c not in learnable.columns or c == "account_id"]
    frame = learnable.join(complete(f).select(facts_cols), on="account_id", how="left")
    for days, counts in recent.items():
        frame = frame.join(counts, on="account_id", how="left").with_columns(
            pl.col(f"_recent_{days}").fill_null(0)
        )
    frame = frame.with_columns(
        pl.when(pl.col("stage") == name).then(_cell(s.learn)).alias(f"_cell_{name}")
        for name, s in stages.items()
        if s.learn
    ).with_columns(pl.coalesce(*(pl.col(f"_cell_{n}") for n in stages)).alias("_cell"))
    options: list[pl.DataFrame] = []
    arm_rows: list[dict[str, object]] = []
    params: list[bandit.StageParams] = []
    for name, stage in stages.items():
        learning = stage.learn
        assert learning is not None
        in_stage = frame.filter(pl.col("stage") == name)
        params.append(
            dataclasses.replace(
                _bandit_params(name, learning),
                call_arms=tuple(a.id for a in learning.arms if a.channel == "call"),
                call_minutes=learning.call_minutes,
                calls_per_day=learning.calls_per_day,
            )
        )
        within = (
            pl.lit(True)
            if learning.budget_contacts is None
            else pl.col(f"_recent_{learning.budget_days}") < learning.budget_contacts
        )
        for arm in learning.arms:
            arm_rows.append(
                {
                    "stage": name,
                    "_arm": arm.id,
                    "_channel": arm.channel,
                    "_template": arm.template,
                    "_tone": arm.tone,
                    "_from": arm.window.start if arm.window else None,
                    "_to": arm.window.end if arm.window else None,
                    "_cost": float(learning.costs.get(arm.channel, 0)),
                    "_horizon": learning.horizon_days,
                }
            )
            if in_stage.height == 0:
                continue
            if arm.channel == NO_CONTACT:
                ok = in_stage.select("account_id", "stage", "_cell")
            else:
                ok = in_stage.filter((arm.when & within).fill_null(False)).select(
                    "account_id", "stage", "_cell"
                )
            options.append(ok.with_columns(pl.lit(arm.id).alias("arm")))
    arms = pl.DataFrame(
        arm_rows,
        schema={
            "stage": pl.String,
            "_arm": pl.String,
            "_channel": pl.String,
            "_template": pl.String,
            "_tone": pl.String,
            "_from": pl.String,
            "_to": pl.String,
            "_cost": pl.Float64,
            "_horizon": pl.Int64,
        },
    )
    candidates = (
        pl.concat(options)
        if options
        else pl.DataFrame(
            schema={
                "account_id": pl.Int64,
                "stage": pl.String,
                "_cell": pl.String,
                "arm": pl.String,
            }
        )
    ).join(arms.rename({"_arm": "arm"}), on=["stage", "arm"], how="left")
    allowed = _guard_allows(candidates, frame, as_of, now, consents, quiet, guard)
    stats = repo.learning_stats(session, policy.name)
    chosen = bandit.choose(
        allowed.select("account_id", "stage", pl.col("_cell").alias("cell"), "arm", "allowed"),
        stats,
        params,
        day=as_of,
    ).join(arms.rename({"_arm": "arm"}), on=["stage", "arm"], how="left")
    context_facts = sorted(
        {fact for s in stages.values() if s.learn for fact, _ in s.learn.context}
    )
    chosen = chosen.join(
        frame.select("account_id", "p_pay", *[c for c in context_facts if c != "p_pay"]),
        on="account_id",
        how="left",
    )
    explained = []
    for name, stage in stages.items():
        assert stage.learn is not None
        part = chosen.filter(pl.col("stage") == name)
        if part.height == 0:
            continue
        facts_here = [fact for fact, _ in stage.learn.context]
        explained.append(
            part.select(
                "account_id",
                pl.col("arm").alias("_arm_id"),
                "_channel",
                "_template",
                "_tone",
                "_from",
                "_to",
                "call_value",
                pl.struct(
                    pl.lit(policy.name).alias("policy"),
                    pl.col("stage"),
                    pl.col("cell"),
                    pl.col("arm"),
                    pl.col("_channel").alias("channel"),
                    pl.col("mode"),
                    pl.col("value").round(1),
                    pl.col("sd").round(1),
                    # The facts that set the cell (the drivers), as they were.
                    pl.concat_list(
                        [
                            pl.struct(
                                pl.lit(c).alias("fact"),
                                pl.col(c).cast(pl.String).alias("value"),
                            )
                            for c in facts_here
                        ]
                    ).alias("context")
                    if facts_here
                    else pl.lit([], _DRIVERS).alias("context"),
                    pl.col("p_pay"),
                    pl.col("_horizon").alias("horizon"),
                    pl.col("_cost").alias("cost"),
                    pl.col("call_value").round(2),
                    pl.col("choices"),
                    pl.lit(None, QUEUE_HOUR).alias("queue_hour"),
                ).alias("learning"),
            )
        )
    picked = (
        pl.concat(explained).with_columns(pl.col("learning").cast(LEARNING))
        if explained
        else pl.DataFrame(
            schema={
                "account_id": pl.Int64,
                "_arm_id": pl.String,
                "_channel": pl.String,
                "_template": pl.String,
                "_tone": pl.String,
                "_from": pl.String,
                "_to": pl.String,
                "call_value": pl.Float64,
                "learning": LEARNING,
            }
        )
    )
    # A learning account with no allowed arm (all blocked, or the budget spent, and no "none"
    # arm) waits: the ladder's treatment is not a way around the guard or the budget.
    learned = pl.col("account_id").is_in(learnable["account_id"].implode())
    contact = learned & pl.col("_channel").is_not_null() & (pl.col("_channel") != NO_CONTACT)
    replaced = decisions.join(picked, on="account_id", how="left").with_columns(
        pl.when(~learned)
        .then(pl.col("decision"))
        .when(contact)
        .then(pl.lit("contact"))
        .otherwise(pl.lit("wait"))
        .alias("decision"),
        *(
            pl.when(~learned)
            .then(pl.col(column))
            .when(contact)
            .then(pl.col(source))
            .otherwise(None)
            .alias(column)
            for column, source in (
                ("treatment", "_arm_id"),
                ("channel", "_channel"),
                ("template", "_template"),
                ("tone", "_tone"),
                ("window_from", "_from"),
                ("window_to", "_to"),
            )
        ),
        # A call the learner chose is worked in the order of an agent minute's value, in the
        # hand-off's unit (yuan a minute; `call_value` is in minor units a minute).
        pl.when(
            learned
            & (pl.col("_channel") == "call")
            & pl.col("call_value").is_not_null()
            & pl.col("queue").is_not_null()
        )
        .then(pl.col("call_value") / MINOR_PER_UNIT)
        .otherwise(pl.col("queue_priority"))
        .alias("queue_priority"),
    )
    return replaced.select(*decisions.columns, "learning")


def _drivers(learning: Learning) -> pl.Expr:
    """The facts that set a context cell, as they were (the explanation's `context`)."""
    facts_here = [fact for fact, _ in learning.context]
    if not facts_here:
        return pl.lit([], _DRIVERS)
    return pl.concat_list(
        [
            pl.struct(pl.lit(c).alias("fact"), pl.col(c).cast(pl.String).alias("value"))
            for c in facts_here
        ]
    )


def _bandit_params(stage: str, learning: Learning) -> bandit.StageParams:
    """What the bandit needs of a `learn:` block (a stage's, or a queue's hour), without the
    agents' call capacity, which only a stage's arms share."""
    none = [a.id for a in learning.arms if a.channel == NO_CONTACT]
    return bandit.StageParams(
        stage=stage,
        arms=tuple(a.id for a in learning.arms),
        exploration=learning.exploration,
        holdout=learning.holdout,
        prior_mean=learning.prior_mean,
        prior_sd=learning.prior_sd,
        strength=learning.prior_strength,
        none_arm=none[0] if none else None,
        none_z=None
        if learning.none_confidence is None
        else NormalDist().inv_cdf(learning.none_confidence),
        # Only a queue's block has message terms (a stage's arms are all its contacts).
        message_arms=()
        if learning.message_confidence is None
        else tuple(a.id for a in learning.arms if a.channel not in ("call", NO_CONTACT)),
        message_z=None
        if learning.message_confidence is None
        else NormalDist().inv_cdf(learning.message_confidence),
    )


def _learn_queue_hours(
    session: Session,
    decisions: pl.DataFrame,
    f: pl.DataFrame,
    as_of: dt.date,
    now: dt.datetime,
    policy: Policy,
    consents: pl.DataFrame,
    quiet: pl.DataFrame,
    guard: Guard,
) -> pl.DataFrame:
    """What a learned hand-off queue does for each account it holds today: its arms (calls at an
    hour, a message in the call's place, no call) checked by the guard at their window's start
    (an hour it blocks is never a candidate), then the bandit picks per account and context cell. Without a none arm
    the account stays in the queue whatever the hour (the floor: the call is not the learner's
    to drop); the chosen arm's moment becomes `queue_due_at`, before which the agents are not
    offered the task, and its window's end `queue_due_until`, from which they are not offered it
    any more; the choice is explained in `learning.queue_hour`. An account for which
    the guard blocks every hour keeps its task without a moment (the dial is checked again, and
    refused, when placed).

    A queue with a `channel: none` arm may also skip: an account for which the bandit picks it
    leaves the queue for the day (`queue` and `queue_priority` null, so the daily run opens no
    task for it), and `learning.queue_hour` names the queue and the none arm. The none arm is
    always allowed, so an account whose every hour the guard blocks is skipped (one choice: it
    teaches the arms nothing).

    A message arm (a channel other than a call) is the queue's contact by another way: a
    candidate only on a day the account's decision sends nothing (one contact a day: the stage's
    comes first), and when picked the account leaves the queue for the day, as with the none arm,
    and the decision becomes that message (treatment: the arm's id), checked again with the
    day's other contacts. A contact replaces a call: the stage's contact budget is not asked."""
    due = [
        pl.lit(None, pl.Datetime("us", "UTC")).alias("queue_due_at"),
        pl.lit(None, pl.Datetime("us", "UTC")).alias("queue_due_until"),
    ]
    queues = {q.name: q for q in policy.learning_queues}
    held = decisions.filter(pl.col("queue").is_in(list(queues)))
    if held.height == 0:
        return decisions.with_columns(*due)
    facts_cols = [c for c in complete(f).columns if c not in held.columns or c == "account_id"]
    frame = held.join(complete(f).select(facts_cols), on="account_id", how="left")
    options: list[pl.DataFrame] = []
    arm_rows: list[dict[str, object]] = []
    params: list[bandit.StageParams] = []
    for name, queue in queues.items():
        learning = queue.learn
        assert learning is not None
        stage = queue.learning_stage
        # Every arm is the queue's one call at an hour: no agent capacity to share among arms.
        params.append(_bandit_params(stage, learning))
        in_queue = frame.filter(pl.col("queue") == name).with_columns(
            pl.lit(stage).alias("stage"), _cell(learning).alias("_cell")
        )
        for arm in learning.arms:
            arm_rows.append(
                {
                    "stage": stage,
                    "arm": arm.id,
                    "_channel": arm.channel,
                    "_template": arm.template,
                    "_tone": arm.tone,
                    "_from": arm.window.start if arm.window else None,
                    "_to": arm.window.end if arm.window else None,
                    "_cost": float(learning.costs.get(arm.channel, 0)),
                    "_horizon": learning.horizon_days,
                }
            )
            if in_queue.height:
                holds = arm.when.fill_null(False)
                if arm.channel not in ("call", NO_CONTACT):
                    holds = holds & (pl.col("decision") != "contact")  # one contact a day
                options.append(
                    in_queue.filter(holds)
                    .select("account_id", "stage", "_cell")
                    .with_columns(pl.lit(arm.id).alias("arm"))
                )
    arms = pl.DataFrame(
        arm_rows,
        schema={
            "stage": pl.String,
            "arm": pl.String,
            "_channel": pl.String,
            "_template": pl.String,
            "_tone": pl.String,
            "_from": pl.String,
            "_to": pl.String,
            "_cost": pl.Float64,
            "_horizon": pl.Int64,
        },
    )
    if not options:
        return decisions.with_columns(*due)
    candidates = pl.concat(options).join(arms, on=["stage", "arm"], how="left")
    allowed = _guard_allows(candidates, frame, as_of, now, consents, quiet, guard)
    stages = [p.stage for p in params]
    context_facts = sorted(
        {fact for q in queues.values() if q.learn for fact, _ in q.learn.context}
    )
    stats = repo.learning_stats(session, policy.name).filter(pl.col("stage").is_in(stages))
    holding = _held_skips(session, allowed, queues, as_of)
    chosen = bandit.choose(
        allowed.join(holding, on=["account_id", "stage"], how="anti").select(
            "account_id", "stage", pl.col("_cell").alias("cell"), "arm", "allowed"
        ),
        stats,
        params,
        day=as_of,
    )
    chosen = (
        pl.concat([chosen, holding.drop("_since")], how="diagonal_relaxed")
        .join(arms, on=["stage", "arm"], how="left")
        .join(
            allowed.select("account_id", "arm", "scheduled_at", "due_until"),
            on=["account_id", "arm"],
            how="left",
        )
        .join(frame.select("account_id", *context_facts), on="account_id", how="left")
    )
    explained = [
        chosen.filter(pl.col("stage") == queue.learning_stage).select(
            "account_id",
            pl.col("scheduled_at").alias("queue_due_at"),
            # The window's end, once the task has a moment (one the guard blocks has neither).
            pl.when(pl.col("scheduled_at").is_not_null())
            .then(pl.col("due_until"))
            .alias("queue_due_until"),
            pl.col("arm").alias("_q_arm"),
            pl.col("_template").alias("_q_template"),
            pl.col("_tone").alias("_q_tone"),
            pl.col("_to").alias("_q_to"),
            pl.struct(
                pl.col("stage").str.strip_prefix(QUEUE_STAGE_PREFIX).alias("queue"),
                pl.col("cell"),
                pl.col("arm"),
                pl.col("_channel").alias("channel"),
                pl.col("_from").alias("window_from"),
                pl.col("mode"),
                pl.col("value").round(1),
                pl.col("sd").round(1),
                _drivers(queue.learn).alias("context"),
                pl.col("_horizon").alias("horizon"),
                pl.col("_cost").alias("cost"),
                pl.col("choices"),
            )
            .cast(QUEUE_HOUR)
            .alias("_queue_hour"),
        )
        for queue in queues.values()
        if queue.learn is not None
    ]
    picked = pl.concat(explained)
    out = decisions.join(picked, on="account_id", how="left")
    # No call today, or a message in its place: the account leaves the queue for the day (no
    # task; decided again tomorrow); a message becomes the day's contact.
    channel = pl.col("_queue_hour").struct.field("channel")
    messaged = (~channel.is_in(["call", NO_CONTACT])).fill_null(False)
    skipped = (channel == NO_CONTACT).fill_null(False) | messaged
    out = out.with_columns(
        *(
            pl.when(skipped).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("queue", "queue_priority", "queue_due_at", "queue_due_until")
        ),
        pl.when(messaged).then(pl.lit("contact")).otherwise(pl.col("decision")).alias("decision"),
        *(
            pl.when(messaged).then(source).otherwise(pl.col(column)).alias(column)
            for column, source in (
                ("treatment", pl.col("_q_arm")),
                ("channel", channel),
                ("template", pl.col("_q_template")),
                ("tone", pl.col("_q_tone")),
                ("window_from", pl.col("_queue_hour").struct.field("window_from")),
                ("window_to", pl.col("_q_to")),
            )
        ),
    )
    if "learning" not in out.columns:
        out = out.with_columns(pl.lit(None, LEARNING).alias("learning"))
    # The explanation keeps the stage's learner's fields and gains the queue's hour; a decision
    # no stage learned gets one with the policy and the hour only.
    fields = [n for n in LEARNING.to_schema() if n != "queue_hour"]
    explanation = (
        pl.when(pl.col("_queue_hour").is_null())
        .then(pl.col("learning"))
        .otherwise(
            pl.struct(
                *(
                    (
                        pl.coalesce(pl.col("learning").struct.field(n), pl.lit(policy.name))
                        if n == "policy"
                        else pl.col("learning").struct.field(n)
                    ).alias(n)
                    for n in fields
                ),
                pl.col("_queue_hour").alias("queue_hour"),
            )
        )
        .cast(LEARNING)
        .alias("learning")
    )
    kept = [c for c in decisions.columns if c != "learning"]
    return out.with_columns(explanation).select(
        *kept, "learning", "queue_due_at", "queue_due_until"
    )


_SKIP_RECORD = pl.Struct(
    {"queue_hour": pl.Struct({"queue": pl.String, "channel": pl.String, "choices": pl.Int64})}
)


def _held_skips(
    session: Session, allowed: pl.DataFrame, queues: dict[str, Queue], as_of: dt.date
) -> pl.DataFrame:
    """The accounts a learned queue's none arm still holds today (for queues whose `none_arm`
    says `hold`): skipped by a choice (two arms or more allowed) made within the queue's
    horizon, `(as_of - horizon, as_of)`. A skip is
    "no call from this queue for the horizon", the window its reward is measured over; decided
    again every day, a skipped account would be called the next day, and the skip's reward
    would hold that call's money. A held day is recorded as the none arm with `mode` "held"
    and one choice, so it earns nothing of its own and holds nothing further. Returns
    account_id, stage, cell, arm (the queue's none arm), mode, choices and `_since`."""
    empty = pl.DataFrame(
        schema={
            "account_id": pl.Int64,
            "stage": pl.String,
            "cell": pl.String,
            "arm": pl.String,
            "mode": pl.String,
            "choices": pl.Int64,
            "_since": pl.Date,
        }
    )
    skips = {
        q.learning_stage: (a.id, q.learn.horizon_days)
        for q in queues.values()
        if q.learn is not None and q.learn.none_hold
        for a in q.learn.arms
        if a.channel == NO_CONTACT
    }
    if not skips or allowed.height == 0:
        return empty
    longest = max(h for _, h in skips.values())
    accounts = allowed.filter(pl.col("stage").is_in(list(skips)))["account_id"].unique()
    past = repo.learned_decisions(
        session,
        as_of - dt.timedelta(days=longest - 1),
        as_of - dt.timedelta(days=1),
        accounts.to_list(),
    )
    if past.height == 0:
        return empty
    horizon = pl.DataFrame(
        {
            "stage": list(skips),
            "_none": [a for a, _ in skips.values()],
            "_horizon": [h for _, h in skips.values()],
        }
    )
    skipped = (
        past.with_columns(pl.col("learning").str.json_decode(_SKIP_RECORD))
        .unnest("learning")
        .unnest("queue_hour")
        .filter(pl.col("channel") == NO_CONTACT, pl.col("choices").fill_null(2) >= 2)
        .select(
            "account_id",
            (pl.lit(QUEUE_STAGE_PREFIX) + pl.col("queue")).alias("stage"),
            pl.col("as_of_date").alias("_since"),
        )
        .join(horizon, on="stage", how="inner")
        .filter((pl.lit(as_of) - pl.col("_since")).dt.total_days() < pl.col("_horizon"))
        .group_by("account_id", "stage")
        .agg(pl.col("_since").max(), pl.col("_none").first())
    )
    today = allowed.select("account_id", "stage", pl.col("_cell").alias("cell")).unique(
        ["account_id", "stage"]
    )
    return (
        skipped.join(today, on=["account_id", "stage"], how="inner")
        .select(
            "account_id",
            "stage",
            "cell",
            pl.col("_none").alias("arm"),
            pl.lit("held").alias("mode"),
            pl.lit(1, pl.Int64).alias("choices"),
            "_since",
        )
        .cast(empty.schema)
    )


def _guard_allows(
    candidates: pl.DataFrame,
    frame: pl.DataFrame,
    as_of: dt.date,
    now: dt.datetime,
    consents: pl.DataFrame,
    quiet: pl.DataFrame,
    guard: Guard,
) -> pl.DataFrame:
    """The candidates with `allowed`: the arm's contact, checked by the guard at its window's
    start as `_check` checks the ladder's, is not blocked (no contact: always allowed); and
    `scheduled_at`, when the contact would go (its window's start, or when the guard allows)."""
    contactable = candidates.filter(pl.col("_channel") != NO_CONTACT).with_row_index("_key")
    allowed = candidates.filter(pl.col("_channel") == NO_CONTACT).with_columns(
        pl.lit(True).alias("allowed")
    )
    if contactable.height == 0:
        return allowed
    guard_cols = [
        "customer_id",
        "jurisdiction",
        "zones",
        "collector",
        "product",
        "dpd",
        "dispute_open",
        "hardship",
        "cease_requested",
        *(f"opted_out_{c}" for c in OPT_OUT_CHANNELS),
    ]
    rows = contactable.join(frame.select("account_id", *guard_cols), on="account_id").select(
        pl.col("_key").cast(pl.Int64).alias("account_id"),
        *guard_cols,
        pl.col("_channel").alias("channel"),
        pl.col("_from").alias("window_from"),
        (pl.col("_to") if "_to" in contactable.columns else pl.lit(None, pl.String)).alias(
            "window_to"
        ),
    )
    verdicts = _check(rows, as_of, now, consents, quiet, guard).select(
        pl.col("account_id").alias("_key"),
        (pl.col("status") != "blocked").alias("allowed"),
        "scheduled_at",
        "due_until",
    )
    checked = (
        contactable.with_columns(pl.col("_key").cast(pl.Int64))
        .join(verdicts, on="_key", how="left")
        .drop("_key")
    )
    return pl.concat(
        [allowed, checked.with_columns(pl.col("allowed").fill_null(False))], how="diagonal_relaxed"
    )


def _check(
    contacts: pl.DataFrame,
    as_of: dt.date,
    now: dt.datetime,
    consents: pl.DataFrame,
    quiet: pl.DataFrame,
    guard: Guard,
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
    with_zones = with_zones.join(moments, on=["_zone", "window_from"], how="left")
    # The window's end on the day (past midnight when it ends before it starts), where the
    # treatment has one: a call handed to the agents is not offered from then on.
    if "window_to" not in with_zones.columns:
        with_zones = with_zones.with_columns(pl.lit(None, pl.String).alias("window_to"))
    ends = with_zones.select("_zone", "window_from", "window_to").unique()
    ends = ends.with_columns(
        pl.Series(
            "due_until",
            [_window_end(as_of, w, e, z) for z, w, e in ends.iter_rows()],
            dtype=pl.Datetime("us", "UTC"),
        )
    )
    with_zones = with_zones.join(
        ends, on=["_zone", "window_from", "window_to"], how="left", nulls_equal=True
    ).drop("_zone")
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
    verdict = decide_frame(guard, guard_input)
    return (
        planned.join(verdict.rename({"contact_id": "account_id"}), on="account_id", how="left")
        .join(_kept(guard, guard_input, verdict), on="account_id", how="left")
        .with_columns(
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
    )


ISO_UTC = "%Y-%m-%dT%H:%M:%S+00:00"


def _kept(guard: Guard, checked: pl.DataFrame, verdict: pl.DataFrame) -> pl.DataFrame:
    """Per contact (`account_id`), the guard's verdict as `compliance.record` keeps it
    (`guard`, a struct): the moment and zones checked, the packs' versions, the facts that
    selected the rules, the reasons and the next allowed moment. The rules that passed are not
    kept: `compliance.record.rule_verdicts` selects them again from the packs and the facts."""
    pairs = checked.select("jurisdiction", "collector").unique()
    packs = pairs.with_columns(
        pl.Series(
            "packs",
            [guard.versions(j, c) for j, c in pairs.iter_rows()],
            dtype=pl.List(pl.String),
        )
    )
    rows = (
        checked.select("contact_id", "at", "zones", *SELECTING)
        .join(packs, on=["jurisdiction", "collector"], how="left")
        .join(
            verdict.select("contact_id", "allowed", "reasons", "next_allowed_at"),
            on="contact_id",
            how="left",
        )
    )
    return rows.select(
        pl.col("contact_id").alias("account_id"),
        pl.struct(
            pl.when(pl.col("allowed"))
            .then(pl.lit("allow"))
            .when(pl.col("next_allowed_at").is_not_null())
            .then(pl.lit("defer"))
            .otherwise(pl.lit("block"))
            .alias("decision"),
            pl.col("at").dt.convert_time_zone("UTC").dt.strftime(ISO_UTC).alias("at"),
            "zones",
            "packs",
            pl.struct(*SELECTING).alias("facts"),
            "reasons",
            pl.col("next_allowed_at")
            .dt.convert_time_zone("UTC")
            .dt.strftime(ISO_UTC)
            .alias("next_allowed_at"),
        ).alias("guard"),
    )


def _minute(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _window_end(as_of: dt.date, start: str, end: str | None, zone: str) -> dt.datetime | None:
    """The instant a treatment's window ends on `as_of` in `zone` (None: no window). A window that
    ends at or before its start runs past midnight."""
    if end is None:
        return None
    minute = _minute(end)
    return utc_at(as_of, minute + (1440 if minute <= _minute(start) else 0), zone)


def decision_rows(
    decisions: pl.DataFrame,
    contacts: pl.DataFrame,
    as_of: dt.date,
    version_id: int,
    now: dt.datetime,
) -> pl.DataFrame:
    """The decision records: what the kernel decided, with the guard's verdict on its contact
    as `compliance.record` keeps it (JSON text, `_kept`; `[]` for a decision without a
    contact). Encoded by Polars: the batch writes hundreds of thousands a day."""
    compliance = (
        contacts.select("account_id", pl.col("guard").struct.json_encode().alias("compliance"))
        if contacts.height and "guard" in contacts.columns
        else pl.DataFrame(schema={"account_id": pl.Int64, "compliance": pl.String})
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
        pl.col("compliance").fill_null(pl.lit("[]")),
        (pl.col("learning") if "learning" in decisions.columns else pl.lit(None, LEARNING)).alias(
            "learning"
        ),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("created_at"),
    )


def plan_rows(contacts: pl.DataFrame, as_of: dt.date, now: dt.datetime) -> pl.DataFrame:
    """The contact plans for `contact.service` to write: the checked contacts, with their day.
    A call carries its place in the agents' queue (`priority`), in the hand-off's unit (yuan an
    agent's minute recovers): the decision's `queue_priority`, else the learner's value of an
    agent's minute for it; None when the decision has neither (the dispatcher falls back)."""
    learned_value = (
        pl.col("learning").struct.field("call_value") / MINOR_PER_UNIT
        if "learning" in contacts.columns
        else pl.lit(None, pl.Float64)
    )
    queue_priority = (
        pl.col("queue_priority") if "queue_priority" in contacts.columns else pl.lit(None)
    )
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
        pl.when(pl.col("channel") == "call")
        .then(pl.coalesce(queue_priority.cast(pl.Float64), learned_value))
        .cast(pl.Float64)
        .alias("priority"),
        # A call's end (its window's, `_check`): the agents' task is not offered past it.
        pl.when(pl.col("channel") == "call")
        .then(pl.col("due_until") if "due_until" in contacts.columns else None)
        .cast(pl.Datetime("us", "UTC"))
        .alias("due_until"),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("created_at"),
    )

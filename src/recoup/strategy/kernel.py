"""The decision kernel: account facts in, one decision per account out. Pure and set-based (no
session), so the daily run, a single-account event and a later distributed engine call the same
function (`decide_batch` takes and returns Arrow record batches).

For each account, in this order:

1. the stage: the first stage whose range or condition holds (none: nothing to do);
2. experiments covering the stage: a sticky arm from a stable hash of the account id and the
   experiment (splitmix64, so the same account lands in the same arm on every run and version),
   the holdout share first; the arm is then a fact conditions may read;
3. the segment: the first segment whose condition holds;
4. a pause: the first pause whose condition holds stops contact, hand-off and offers;
5. the treatment: among the stage's treatments for the segment whose condition holds and whose
   cadence allows it (every N days since the last contact, at most M in the stage), the one with
   the highest priority (the first listed on a tie), with the arm's overrides;
6. the agent queue (the first hand-off rule that holds) with its priority, and the offers allowed.

`decision` is `pause`, `holdout`, `contact`, `wait` (the cadence says not yet) or `none`.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa

from recoup.strategy.policy import FACTS, Experiment, Policy

TYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "float": pl.Float64(),
    "str": pl.String(),
    "bool": pl.Boolean(),
}
_U64 = pl.UInt64
_GOLDEN, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def complete(facts: pl.DataFrame) -> pl.DataFrame:
    """Every fact column present with its type; missing ones are null (a condition on them is false)."""
    if "account_id" not in facts.columns:
        raise ValueError("facts need an account_id column")
    exprs = []
    for name, kind in FACTS.items():
        if name == "arm":
            continue
        if name in facts.columns:
            exprs.append(pl.col(name).cast(TYPES[kind]))
        else:
            exprs.append(pl.lit(None, dtype=TYPES[kind]).alias(name))
    return facts.with_columns(pl.col("account_id").cast(pl.Int64), *exprs)


def unit_hash(account_id: pl.Expr, seed: int) -> pl.Expr:
    """A uniform number in [0, 1) from splitmix64(account_id xor seed): stable and sticky."""
    x = account_id.cast(_U64).xor(pl.lit(seed, dtype=_U64))
    z = x + pl.lit(_GOLDEN, dtype=_U64)
    z = z.xor(z // (1 << 30)) * pl.lit(_MIX1, dtype=_U64)
    z = z.xor(z // (1 << 27)) * pl.lit(_MIX2, dtype=_U64)
    z = z.xor(z // (1 << 31))
    return (z // (1 << 11)).cast(pl.Float64) / float(1 << 53)


def _first(cases: list[tuple[pl.Expr, Any]], dtype: pl.DataType) -> pl.Expr:
    out = pl.lit(None, dtype=dtype)
    for cond, value in reversed(cases):
        out = (
            pl.when(cond)
            .then(value if isinstance(value, pl.Expr) else pl.lit(value, dtype=dtype))
            .otherwise(out)
        )
    return out


def _arm_of(experiment: Experiment) -> pl.Expr:
    u = unit_hash(pl.col("account_id"), experiment.seed)
    total = sum(a.weight for a in experiment.arms)
    cases: list[tuple[pl.Expr, Any]] = []
    if experiment.holdout > 0:
        cases.append((u < experiment.holdout, "holdout"))
    rest = (u - experiment.holdout) / (1 - experiment.holdout)
    cumulative = 0.0
    for arm in experiment.arms:
        cumulative += arm.weight / total
        cases.append((rest < cumulative, arm.name))
    cases.append((pl.lit(True), experiment.arms[-1].name))  # rounding at the top end
    return _first(cases, pl.String())


def decide(policy: Policy, facts: pl.DataFrame) -> pl.DataFrame:
    """One decision per account (the facts' rows), in their order: stage, segment, arm, pause,
    treatment and its attributes, queue, offers."""
    steps = _steps(policy)
    frame = complete(facts).lazy()
    for step in steps[:-1]:
        frame = frame.with_columns(*step)
    return frame.select(*steps[-1]).collect()


def stages(policy: Policy, facts: pl.DataFrame) -> pl.DataFrame:
    """`decide`'s `account_id` and `stage` alone (its first step): for the reads a stage decides
    (the contacts counted in it) before the whole decision is made."""
    return complete(facts).select("account_id", *_steps(policy)[0])


# `decide`'s steps up to the pause: stage; experiment and arm; the arm filled; segment and pause.
_TO_THE_PAUSE = 4


def offers(policy: Policy, facts: pl.DataFrame) -> pl.DataFrame:
    """`decide`'s `account_id` and `offers` alone: the offers allowed depend on the stage and the
    pause only, so the treatments' steps (most of `decide`'s work) are not run."""
    frame = complete(facts).lazy()
    for step in _steps(policy)[:_TO_THE_PAUSE]:
        frame = frame.with_columns(*step)
    return frame.select("account_id", _offers(policy).alias("offers")).collect()


def _offers(policy: Policy) -> pl.Expr:
    """The kinds offered: none while a pause holds or outside every stage."""
    allowed = (
        pl.concat_list(
            [
                pl.when(o.when)
                .then(pl.lit([o.kind]))
                .otherwise(pl.lit([], dtype=pl.List(pl.String)))
                for o in policy.offers
            ]
        )
        if policy.offers
        else pl.lit([], dtype=pl.List(pl.String))
    )
    return (
        pl.when(pl.col("pause_reason").is_null() & pl.col("stage").is_not_null())
        .then(allowed)
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
    )


_STEPS: dict[int, tuple[Policy, list[list[pl.Expr]]]] = {}


def _steps(policy: Policy) -> list[list[pl.Expr]]:
    """The policy as successive column steps, built once per policy object: an event deciding
    one account pays for running them, not for building them."""
    cached = _STEPS.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    if len(_STEPS) > 64:
        _STEPS.clear()
    steps = _build_steps(policy)
    _STEPS[id(policy)] = (policy, steps)
    return steps


def _build_steps(policy: Policy) -> list[list[pl.Expr]]:
    steps: list[list[pl.Expr]] = []
    stage = _first([(s.when, s.name) for s in policy.stages], pl.String())
    steps.append([stage.alias("stage")])

    experiment_cases = [(pl.col("stage").is_in(list(e.stages)), e) for e in policy.experiments]
    steps.append(
        [
            _first([(c, e.name) for c, e in experiment_cases], pl.String()).alias("experiment"),
            _first([(c, _arm_of(e)) for c, e in experiment_cases], pl.String()).alias("arm"),
        ]
    )
    steps.append([pl.col("arm").fill_null("")])
    steps.append(
        [
            _first([(s.when, s.name) for s in policy.segments], pl.String()).alias("segment"),
            _first([(p.when, p.reason) for p in policy.pauses], pl.String()).alias("pause_reason"),
        ]
    )

    cadence_ok = {}
    candidates: list[tuple[pl.Expr, str]] = []
    for s in policy.stages:
        ordered = sorted(enumerate(s.treatments), key=lambda it: (-it[1].priority, it[0]))
        for _, t in ordered:
            ok = pl.lit(True)
            if t.every_days is not None:
                ok = ok & (
                    pl.col("days_since_last_contact").is_null()
                    | (pl.col("days_since_last_contact") >= t.every_days)
                )
            if t.max_in_stage is not None:
                ok = ok & (pl.col("contacts_in_stage").fill_null(0) < t.max_in_stage)
            cadence_ok[t.id] = ok
            in_segment = pl.col("segment").is_in(list(t.segments)) if t.segments else pl.lit(True)
            candidates.append(((pl.col("stage") == s.name) & t.when & in_segment & ok, t.id))
    # Eligible but for the cadence: the account waits rather than has nothing to do.
    waiting: list[tuple[pl.Expr, str]] = []
    for s in policy.stages:
        for t in s.treatments:
            in_segment = pl.col("segment").is_in(list(t.segments)) if t.segments else pl.lit(True)
            waiting.append(((pl.col("stage") == s.name) & t.when & in_segment, t.id))
    steps.append(
        [
            _first(candidates, pl.String()).alias("treatment"),
            _first(waiting, pl.String()).is_not_null().alias("_eligible"),
        ]
    )

    treatments = [t for s in policy.stages for t in s.treatments]

    def attribute(name: str) -> pl.Expr:
        base = _first(
            [(pl.col("treatment") == t.id, getattr(t, name)) for t in treatments], pl.String()
        )
        overrides = [
            ((pl.col("experiment") == e.name) & (pl.col("arm") == a.name), a.overrides[name])
            for e in policy.experiments
            for a in e.arms
            if name in a.overrides
        ]
        if not overrides:
            return base
        return (
            pl.when(pl.col("treatment").is_null())
            .then(None)
            .otherwise(pl.coalesce(_first(overrides, pl.String()), base))
        )

    window = [(pl.col("treatment") == t.id, t.window) for t in treatments if t.window]
    paused = pl.col("pause_reason").is_not_null()
    decision = (
        pl.when(paused)
        .then(pl.lit("pause"))
        .when(pl.col("stage").is_null())
        .then(pl.lit("none"))
        .when(pl.col("arm") == "holdout")
        .then(pl.lit("holdout"))
        .when(pl.col("treatment").is_not_null())
        .then(pl.lit("contact"))
        .when(pl.col("_eligible"))
        .then(pl.lit("wait"))
        .otherwise(pl.lit("none"))
    )
    queue = _first([(q.when, q.name) for q in policy.queues], pl.String())
    queue_priority = _first(
        [(q.when, q.priority.cast(pl.Float64)) for q in policy.queues], pl.Float64()
    )
    contact = decision == "contact"
    steps.append(
        [
            pl.col("account_id"),
            pl.lit(policy.version).alias("policy_version"),
            pl.col("stage"),
            pl.col("segment"),
            pl.col("experiment"),
            pl.when(pl.col("arm") == "").then(None).otherwise(pl.col("arm")).alias("arm"),
            decision.alias("decision"),
            pl.col("pause_reason"),
            pl.when(contact).then(pl.col("treatment")).alias("treatment"),
            pl.when(contact).then(attribute("channel")).alias("channel"),
            pl.when(contact).then(attribute("template")).alias("template"),
            pl.when(contact).then(attribute("tone")).alias("tone"),
            pl.when(contact)
            .then(_first([(c, w.start) for c, w in window], pl.String()))
            .alias("window_from"),
            pl.when(contact)
            .then(_first([(c, w.end) for c, w in window], pl.String()))
            .alias("window_to"),
            pl.when(~paused & pl.col("stage").is_not_null()).then(queue).alias("queue"),
            pl.when(~paused & pl.col("stage").is_not_null())
            .then(queue_priority)
            .alias("queue_priority"),
            _offers(policy).alias("offers"),
        ]
    )
    return steps


def decide_batch(policy: Policy, batch: pa.RecordBatch) -> pa.RecordBatch:
    """The kernel on Arrow: a record batch of facts to a record batch of decisions."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    out = decide(policy, frame).to_arrow()
    batches = out.to_batches()
    return (
        batches[0]
        if len(batches) == 1
        else pa.concat_tables([out]).combine_chunks().to_batches()[0]
    )

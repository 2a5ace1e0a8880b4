"""Collection policies as YAML: segments, stages with treatment ladders, agent hand-off, offers,
pauses and experiments. Loading validates everything and compiles every expression, so a policy
that loads can run; each error names the file, line and column.

The account facts a policy may read are `FACTS` (name → type); `docs/strategy.md` describes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from recoup.arrangements.terms import OFFER_BOUNDS, bounds_error
from recoup.strategy.expr import ExprError, condition, number

CHANNELS = ("sms", "email", "push", "in_app", "call", "ai_call", "letter")
TONES = ("gentle", "neutral", "firm")
OFFER_KINDS = tuple(OFFER_BOUNDS)

# The account facts, as the daily run builds them (see strategy/facts.py) and conditions read them.
FACTS: dict[str, str] = {
    "dpd": "int",  # days past due of the oldest unpaid bill (0 when current)
    "days_to_due": "int",  # days until the next unpaid bill is due (negative once past due)
    "bucket": "str",
    "overdue_minor": "int",
    "outstanding_minor": "int",
    "product": "str",
    "currency": "str",
    "jurisdiction": "str",
    "language": "str",
    "tenure_days": "int",
    # The debtor's attributes (kept together):
    "age_band": "str",  # "18-24" (under 25), "25-34", "35-44", "45-54", "55+"; null if unknown
    "region": "str",  # the address's region: province (GD, SH) or state (CA, MA); null if none
    "days_since_last_payment": "int",
    "payments_30d": "int",
    "broken_promises": "int",
    "promise_pending": "bool",
    "plan_active": "bool",
    "dispute_open": "bool",
    "hardship": "bool",
    "cease_requested": "bool",  # the debtor asked that collection contact stop (a cease pause)
    "review_requested": "bool",  # the debtor asked a person to review (an open review case)
    "resolved_days": "int",  # days since the debt was cleared (null while owing)
    "reachable_sms": "bool",
    "reachable_email": "bool",
    "reachable_push": "bool",
    "reachable_call": "bool",
    "p_pay": "float",  # P(pays what is overdue within the model's horizon): risk's latest score
    "p_roll": "float",  # P(its bucket rises within the model's horizon): risk's latest score
    "days_since_last_contact": "int",
    "contacts_in_stage": "int",
    "arm": "str",  # the experiment arm assigned to the account ("" when none)
    "autopay": "bool",  # an active autopay mandate: the wallet collects each bill on its due date
    # Days since an autopay collection of a bill still unpaid failed (0: today); null when none.
    "autopay_failed_days": "int",
}


class PolicyError(ValueError):
    """Why a policy does not load. The text names the source, line and column; the attributes
    say the same for an editor: `path` (the keys and indexes down to the node at fault, as in the
    YAML), `at_key` (the fault is the key itself, e.g. an unknown one), `line` and `column` (1-based,
    when known without walking the YAML, e.g. a syntax error or an expression's own position) and
    `problem` (the message without the location or the path)."""

    def __init__(
        self,
        message: str,
        *,
        problem: str | None = None,
        path: tuple[str | int, ...] = (),
        at_key: bool = False,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem or message
        self.path, self.at_key, self.line, self.column = path, at_key, line, column


class _Str(str):
    """A YAML string that remembers where it was."""

    line: int
    column: int


class _Loader(yaml.SafeLoader):
    pass


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> _Str:
    value = _Str(loader.construct_scalar(node))
    value.line, value.column = node.start_mark.line + 1, node.start_mark.column + 1
    if node.style in ('"', "'"):
        value.column += 1  # the expression starts after the quote
    return value


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


@dataclass(frozen=True)
class Window:
    start: str
    end: str


@dataclass(frozen=True)
class Treatment:
    id: str
    channel: str
    template: str
    tone: str
    when: pl.Expr
    priority: float
    window: Window | None
    every_days: int | None
    max_in_stage: int | None
    segments: frozenset[str]


# What a contact costs, in minor units, when a `learn:` block does not say (its reward is the money
# paid within the horizon minus this). Copied from the house figures in
# src/recoup/analytics/costs.yaml (strategy may not import analytics): a call is the dial (20)
# plus an agent task's time (500).
DEFAULT_COSTS: dict[str, float] = {
    "sms": 5,
    "email": 1,
    "push": 0,
    "in_app": 0,
    "call": 520,
    "ai_call": 30,
    "letter": 300,
    "none": 0,
}
NO_CONTACT = "none"  # the channel of the arm "no contact today"


@dataclass(frozen=True)
class LearnArm:
    """A treatment the learner may choose (channel `none`: no contact today)."""

    id: str
    channel: str
    template: str
    tone: str
    window: Window | None
    when: pl.Expr  # the arm's own condition (a referenced treatment's condition and segments)


@dataclass(frozen=True)
class Learning:
    """A stage's `learn:` block: the learner chooses among `arms` per context cell."""

    arms: tuple[LearnArm, ...]
    # (fact, cut points) per context fact; None: each value of a string or yes/no fact is a cell
    context: tuple[tuple[str, tuple[float, ...] | None], ...]
    horizon_days: int
    costs: Mapping[str, float]
    exploration: float
    holdout: float
    prior_mean: float
    prior_sd: float
    prior_strength: float
    budget_contacts: int | None
    budget_days: int
    call_minutes: float
    calls_per_day: int | None
    # The `channel: none` arm's terms (`none_arm:`): with `hold`, a hand-off queue's skip holds
    # for the horizon (no call from the queue on those days, so the skip's reward is the money
    # of days without the queue's call, not of a call the next day); with `confidence`, learning
    # chooses it only where its posterior says it beats the arm it would replace with at least
    # that probability (exploration and the holdout still draw it at random).
    none_hold: bool = False
    none_confidence: float | None = None
    # A hand-off queue's message arms' terms (`message_arms: {confidence: 0.95}`): learning sends
    # a message in the call's place only where its posterior says it beats the call it would
    # replace with at least that probability, as a cautious none arm (a message is always sent,
    # a queue's call may go undialled: a near tie is no reason for one more contact).
    message_confidence: float | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    when: pl.Expr  # the ranges and the condition, together
    treatments: tuple[Treatment, ...]
    dpd: tuple[int, int] | None = None  # the ranges the stage requires, as written
    days_to_due: tuple[int, int] | None = None
    learn: Learning | None = None


@dataclass(frozen=True)
class Segment:
    name: str
    when: pl.Expr


@dataclass(frozen=True)
class Queue:
    name: str
    when: pl.Expr
    priority: pl.Expr
    # The learner chooses the hour of the queue's call (its arms are calls with a window: by day,
    # in the evening); without a `channel: none` arm the call itself stays, so the queue's floor
    # (every account it holds is called) is not the learner's to lower. With one, the learner may
    # also choose no call today (the account gets no task from the queue that day; it is decided
    # again the next). None: the call is offered from the morning.
    learn: Learning | None = None

    @property
    def learning_stage(self) -> str:
        """The name its arms are kept under in `learning_arms` (beside the stages' names)."""
        return f"{QUEUE_STAGE_PREFIX}{self.name}"


QUEUE_STAGE_PREFIX = "queue:"


@dataclass(frozen=True)
class Offer:
    kind: str
    when: pl.Expr
    bounds: Mapping[str, Any]


@dataclass(frozen=True)
class Pause:
    reason: str
    when: pl.Expr


@dataclass(frozen=True)
class Arm:
    name: str
    weight: float
    overrides: Mapping[str, str]


@dataclass(frozen=True)
class Experiment:
    name: str
    stages: frozenset[str]
    holdout: float
    arms: tuple[Arm, ...]

    @property
    def seed(self) -> int:
        """A stable number per experiment: assignment is sticky across runs and versions."""
        return int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class AutopayRules:
    """How often the daily run asks the wallet again after a collection under a mandate failed:
    at most `retries` more attempts per bill, `every_days` apart (none when the policy says
    nothing)."""

    retries: int = 0
    every_days: int = 1


MAX_AUTOPAY_RETRIES = 5  # a wallet may refuse more; the debtor's bank statement shows each try
MAX_AUTOPAY_EVERY_DAYS = 30


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    description: str
    segments: tuple[Segment, ...]
    stages: tuple[Stage, ...]
    queues: tuple[Queue, ...]
    offers: tuple[Offer, ...]
    pauses: tuple[Pause, ...]
    experiments: tuple[Experiment, ...]
    source: str
    text: str = field(repr=False, default="")
    autopay: AutopayRules = field(default_factory=AutopayRules)

    def in_some_stage(self, available: Collection[str]) -> pl.Expr | None:
        """A necessary condition for an account to be in some stage, on the facts `available`
        (what the daily run knows before reading the rest): a stage's whole condition when it
        reads only those, else its `dpd` and `days_to_due` ranges; None when a stage has neither,
        so any account may be in it."""
        parts: list[pl.Expr] = []
        for stage in self.stages:
            if set(stage.when.meta.root_names()) <= set(available):
                parts.append(stage.when.fill_null(False))
                continue
            if stage.dpd is None and stage.days_to_due is None:
                return None
            part = pl.lit(True)
            for column, bounds in (("dpd", stage.dpd), ("days_to_due", stage.days_to_due)):
                if bounds is not None:
                    part = part & pl.col(column).is_between(*bounds).fill_null(False)
            parts.append(part)
        return pl.any_horizontal(parts) if parts else pl.lit(False)

    @property
    def learning_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.learn is not None)

    @property
    def learning_queues(self) -> tuple[Queue, ...]:
        """The hand-off queues whose call hour is learned."""
        return tuple(q for q in self.queues if q.learn is not None)

    @property
    def learns(self) -> bool:
        return bool(self.learning_stages or self.learning_queues)

    def treatment(self, treatment_id: str) -> Treatment:
        for stage in self.stages:
            for t in stage.treatments:
                if t.id == treatment_id:
                    return t
        raise KeyError(treatment_id)


def load_policy(path: Path) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"), source=str(path))


# Deeper than any policy nests (the shipped ones reach 6): PyYAML builds nested nodes recursively,
# and a text of brackets would exhaust Python's stack before it reported anything.
MAX_DEPTH = 32


def _too_deep(text: str) -> tuple[int, int] | None:
    """Where (0-based line and column) the text first nests deeper than `MAX_DEPTH` (PyYAML's
    parser, which reads events without recursing, finds it); None when it does not (or does not
    parse: `yaml.load` says)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                mark = event.start_mark
                if depth > MAX_DEPTH and mark is not None:
                    return mark.line, mark.column
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def parse_policy(text: str, *, source: str) -> Policy:
    deep = _too_deep(text)
    if deep is not None:
        problem = f"nested deeper than {MAX_DEPTH} levels"
        line, column = deep[0] + 1, deep[1] + 1
        raise PolicyError(
            f"{source}:{line}:{column}: {problem}", problem=problem, line=line, column=column
        )
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = f"not valid YAML ({getattr(exc, 'problem', None) or exc})"
        raise PolicyError(
            f"{where}: {problem}",
            problem=problem,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from exc
    except (ValueError, OverflowError) as exc:
        # A scalar the parser reads as a date or time that no calendar has (`0000-01-01`).
        problem = f"not valid YAML (a date or time out of range: {exc})"
        raise PolicyError(f"{source}: {problem}", problem=problem) from exc
    r = _Reader(data, source, "")
    try:
        return _build(r, text, source)
    except ExprError as exc:
        raise PolicyError(str(exc), problem=exc.message, line=exc.line, column=exc.column) from exc


def _build(r: _Reader, text: str, source: str) -> Policy:
    r.only(
        "policy",
        "version",
        "description",
        "segments",
        "stages",
        "handoff",
        "offers",
        "pauses",
        "experiments",
        "autopay",
    )
    segments = tuple(Segment(s.name("name"), s.condition("when")) for s in r.items("segments"))
    names = {s.name for s in segments}
    stages = []
    seen_ids: set[str] = set()
    for st in r.items("stages"):
        st.only("name", "dpd", "days_to_due", "when", "treatments", "learn")
        treatments = tuple(_treatment(t, names, seen_ids) for t in st.items("treatments"))
        stages.append(
            Stage(
                st.name("name"),
                st.stage_condition(),
                treatments,
                dpd=_range(st.raw.get("dpd")),
                days_to_due=_range(st.raw.get("days_to_due")),
                learn=_learning(st.sub("learn"), treatments, seen_ids)
                if st.raw.get("learn") is not None
                else None,
            )
        )
    if not stages:
        raise r.error("a policy needs at least one stage", "stages")
    stage_names = {s.name for s in stages}
    experiments = tuple(_experiment(e, stage_names) for e in r.items("experiments"))
    return Policy(
        name=r.name("policy"),
        version=str(r.raw.get("version", "1")),
        description=str(r.raw.get("description", "")),
        segments=segments,
        stages=tuple(stages),
        queues=tuple(_queue(q, seen_ids) for q in r.items("handoff")),
        offers=tuple(_offer(o) for o in r.items("offers")),
        pauses=tuple(Pause(p.name("reason"), p.condition("when")) for p in r.items("pauses")),
        experiments=experiments,
        source=source,
        text=text,
        autopay=_autopay(r.sub("autopay", default={})),
    )


def _queue(q: _Reader, seen: set[str]) -> Queue:
    """A hand-off queue; with `learn:`, the learner chooses what the queue does for an account
    today: its call at an hour (`channel: call` with a window: when the call is offered to the
    agents), a message in place of the call (another channel, with its template and a window:
    the account leaves the queue for the day and gets that message, on a day the stage sends it
    nothing), or, at most once, no call today (`channel: none`, no window, beside a call arm).
    At least two arms, one of them a call at an hour."""
    q.only("queue", "when", "priority", "learn")
    learn = None
    if q.raw.get("learn") is not None:
        block = q.sub("learn")
        _queue_skip_arms(block)
        learn = _learning(block, (), seen, queue=True)
        for arm in learn.arms:
            if arm.channel == NO_CONTACT:
                continue
            if arm.window is None:
                raise block.error(
                    f"arm {arm.id!r}: a queue's learned arms are its call at an hour "
                    "(channel: call, with a window), a message at an hour in its place "
                    "(another channel, with a template and a window) or no call today "
                    "(channel: none)",
                    "arms",
                )
        if not any(a.channel == "call" for a in learn.arms):
            raise block.error(
                "a queue's learn block needs its call at an hour (channel: call, with a "
                "window) among its arms: without it the queue would never call",
                "arms",
            )
    return Queue(q.name("queue"), q.condition("when"), q.number("priority", default=0), learn)


def _queue_skip_arms(block: _Reader) -> None:
    """A queue's `channel: none` arms, checked before the block is read: no window (a call not
    placed has no hour), at most one, and never alone (a queue that could only skip would never
    call: drop its `learn:` block or the queue instead)."""
    arms = block.items("arms")
    skips = [a for a in arms if a.raw.get("channel") == NO_CONTACT]
    for arm in skips:
        if "window" in arm.raw:
            raise arm.error(
                "a queue's none arm (no call today) has no hour: remove its window", "window"
            )
    if len(skips) > 1:
        raise block.error(
            f"a queue has at most one none arm (no call today); found {len(skips)}", "arms"
        )
    if skips and len(skips) == len(arms):
        raise block.error(
            "a queue's learn block needs a call at an hour (channel: call, with a window) "
            "beside its none arm: with only the none arm the queue would never call",
            "arms",
        )


def _autopay(a: _Reader) -> AutopayRules:
    a.only("retries", "every_days")
    retries = a.raw.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int):
        raise a.error("must be a whole number", "retries")
    if not 0 <= retries <= MAX_AUTOPAY_RETRIES:
        raise a.error(f"must be between 0 and {MAX_AUTOPAY_RETRIES}", "retries")
    every = a.positive("every_days") or 1
    if every > MAX_AUTOPAY_EVERY_DAYS:
        raise a.error(f"must be at most {MAX_AUTOPAY_EVERY_DAYS} days", "every_days")
    return AutopayRules(retries, every)


def _range(bounds: Any) -> tuple[int, int] | None:
    """A stage's range (already checked by `stage_condition`)."""
    return None if bounds is None else (int(bounds[0]), int(bounds[1]))


def _treatment(t: _Reader, segments: set[str], seen: set[str]) -> Treatment:
    t.only(
        "id",
        "channel",
        "template",
        "tone",
        "when",
        "priority",
        "window",
        "every_days",
        "max_in_stage",
        "segments",
    )
    tid = t.name("id")
    if tid in seen:
        raise t.error(f"treatment id {tid!r} is used twice", "id")
    seen.add(tid)
    listed = frozenset(t.strings("segments"))
    unknown = sorted(listed - segments)
    if unknown:
        raise t.error(
            f"unknown segment(s) {', '.join(unknown)}; segments are: {', '.join(sorted(segments))}",
            "segments",
        )
    window = None
    if "window" in t.raw:
        w = t.sub("window")
        window = Window(w.time("from"), w.time("to"))
    priority = t.raw.get("priority", 0)
    if not isinstance(priority, int | float):
        raise t.error("priority must be a number", "priority")
    return Treatment(
        id=tid,
        channel=t.choice("channel", CHANNELS),
        template=t.name("template"),
        tone=t.choice("tone", TONES, default="neutral"),
        when=t.condition("when", default=True),
        priority=float(priority),
        window=window,
        every_days=t.positive("every_days"),
        max_in_stage=t.positive("max_in_stage"),
        segments=listed,
    )


def _share(r: _Reader, key: str, default: float) -> float:
    value = r.raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise r.error("is a share between 0 and 1 (0 included)", key)
    return float(value)


def _real(
    r: _Reader, key: str, default: float, *, minimum: float = 0, strict: bool = False
) -> float:
    value = r.raw.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < minimum
        or (strict and value == minimum)
    ):
        raise r.error(f"must be a number {'>' if strict else '>='} {minimum:g}", key)
    return float(value)


def _learning(
    r: _Reader, treatments: tuple[Treatment, ...], seen: set[str], *, queue: bool = False
) -> Learning:
    """A stage's (or, with `queue`, a hand-off queue's) `learn:` block, checked: arms (new ones
    or the stage's treatments, with overrides), the context facts and their cut points, the
    horizon, costs, exploration, holdout, prior, budget, call capacity and the none arm's terms."""
    r.only(
        "arms",
        "context",
        "horizon_days",
        "costs",
        "exploration",
        "holdout",
        "prior",
        "budget",
        "call_minutes",
        "calls_per_day",
        "none_arm",
        "message_arms",
    )
    own = {t.id: t for t in treatments}
    arms: list[LearnArm] = []
    ids: set[str] = set()
    for a in r.items("arms"):
        a.only("id", "treatment", "channel", "template", "tone", "window", "when")
        base: Treatment | None = None
        if "treatment" in a.raw:
            ref = a.name("treatment")
            if ref not in own:
                raise a.error(
                    f"{ref!r} is not a treatment of this stage; they are: "
                    f"{', '.join(own) or '(none)'}",
                    "treatment",
                )
            base = own[ref]
            overridden = {"channel", "template", "tone", "window"} & set(a.raw)
            if overridden and "id" not in a.raw:
                raise a.error("an arm that changes a treatment needs its own id", "treatment")
            arm_id = str(a.raw.get("id", ref))
        else:
            arm_id = a.name("id")
        if arm_id in ids:
            raise a.error(f"arm id {arm_id!r} is used twice", "id" if "id" in a.raw else None)
        if arm_id != (base.id if base else None):
            if arm_id in seen:
                raise a.error(f"arm id {arm_id!r} is already a treatment's id", "id")
            seen.add(arm_id)
        ids.add(arm_id)
        channel = a.choice(
            "channel", (*CHANNELS, NO_CONTACT), default=base.channel if base else None
        )
        window = base.window if base else None
        if "window" in a.raw:
            w = a.sub("window")
            window = Window(w.time("from"), w.time("to"))
        when = base.when if base else pl.lit(True)
        if base is not None and base.segments:
            when = when & pl.col("segment").is_in(sorted(base.segments))
        if "when" in a.raw:
            when = when & a.condition("when")
        if channel == NO_CONTACT:
            template = ""
        elif "template" in a.raw or base is None:
            template = a.name("template")
        else:
            template = base.template
        arms.append(
            LearnArm(
                id=arm_id,
                channel=channel,
                template=template,
                tone=a.choice("tone", TONES, default=base.tone if base else "neutral"),
                window=window,
                when=when,
            )
        )
    if len(arms) < 2:
        raise r.error("a learning stage needs at least two arms to choose among", "arms")
    context: list[tuple[str, tuple[float, ...] | None]] = []
    ctx = r.sub("context", default={})
    for fact, cuts in ctx.raw.items():
        kind = FACTS.get(str(fact))
        if kind is None:
            raise ctx.error(
                f"unknown fact {fact!r}; facts are: {', '.join(sorted(FACTS))}",
                str(fact),
                at_key=True,
            )
        if kind in ("int", "float"):
            if (
                not isinstance(cuts, list)
                or not cuts
                or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in cuts)
                or list(cuts) != sorted(set(cuts))
            ):
                raise ctx.error(
                    f"a number fact's cells are its cut points, increasing: e.g. {fact}: [50_000, 200_000]",
                    str(fact),
                )
            context.append((str(fact), tuple(float(c) for c in cuts)))
        else:
            if cuts is not True:
                raise ctx.error(
                    f"{fact} is a {'yes/no' if kind == 'bool' else 'text'} fact: write "
                    f"`{fact}: true` (each value its own cell)",
                    str(fact),
                )
            context.append((str(fact), None))
    costs = dict(DEFAULT_COSTS)
    given = r.sub("costs", default={})
    for channel, cost in given.raw.items():
        if channel not in CHANNELS:
            raise given.error(
                f"{channel!r} is not one of {', '.join(CHANNELS)}", str(channel), at_key=True
            )
        if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
            raise given.error("a cost is a number of minor units >= 0", str(channel))
        costs[str(channel)] = float(cost)
    prior = r.sub("prior", default={})
    prior.only("mean", "sd", "strength")
    mean = prior.raw.get("mean", 0)
    if isinstance(mean, bool) or not isinstance(mean, int | float):
        raise prior.error("must be a number", "mean")
    budget = r.sub("budget", default={})
    budget.only("contacts", "days")
    calls = any(a.channel == "call" for a in arms)
    calls_per_day = r.positive("calls_per_day")
    if calls_per_day is not None and not calls:
        raise r.error("calls_per_day needs an arm whose channel is call", "calls_per_day")
    none_hold, none_confidence = _none_terms(r, arms, queue=queue)
    message_confidence = _message_terms(r, arms, queue=queue)
    return Learning(
        arms=tuple(arms),
        context=tuple(context),
        horizon_days=r.positive("horizon_days") or 7,
        costs=costs,
        exploration=_share(r, "exploration", 0.05),
        holdout=_share(r, "holdout", 0.05),
        prior_mean=float(mean),
        prior_sd=_real(prior, "sd", 20_000, strict=True),
        prior_strength=_real(prior, "strength", 10, strict=True),
        budget_contacts=budget.positive("contacts"),
        budget_days=budget.positive("days") or 7,
        call_minutes=_real(r, "call_minutes", 6, strict=True),
        calls_per_day=calls_per_day,
        none_hold=none_hold,
        none_confidence=none_confidence,
        message_confidence=message_confidence,
    )


def _none_terms(r: _Reader, arms: list[LearnArm], *, queue: bool) -> tuple[bool, float | None]:
    """`none_arm: {hold: true, confidence: 0.95}`: the terms of the block's `channel: none` arm
    (which it must have); `hold` only for a hand-off queue's (a stage's no-contact day is
    decided again every day); `confidence` a probability from 0.5 to below 1."""
    if r.raw.get("none_arm") is None:
        return False, None
    terms = r.sub("none_arm")
    terms.only("hold", "confidence")
    if not any(a.channel == NO_CONTACT for a in arms):
        raise r.error("none_arm needs an arm whose channel is none", "none_arm")
    hold = terms.raw.get("hold", False)
    if not isinstance(hold, bool):
        raise terms.error("is true or false", "hold")
    if hold and not queue:
        raise terms.error(
            "only a hand-off queue's no-call day holds for the horizon; a stage decides "
            "its no-contact day again every day",
            "hold",
        )
    return hold, _confidence(terms)


def _message_terms(r: _Reader, arms: list[LearnArm], *, queue: bool) -> float | None:
    """`message_arms: {confidence: 0.95}`: how sure learning must be before a hand-off queue
    sends a message in its call's place (which it must be able to: an arm of another channel);
    a stage's arms are all its contacts, so only a queue's block takes it."""
    if r.raw.get("message_arms") is None:
        return None
    terms = r.sub("message_arms")
    terms.only("confidence")
    if not queue:
        raise r.error(
            "only a hand-off queue's block has messages in a call's place; a stage's arms "
            "are all its contacts",
            "message_arms",
        )
    if not any(a.channel not in ("call", NO_CONTACT) for a in arms):
        raise r.error(
            "message_arms needs an arm that sends a message (a channel other than call and none)",
            "message_arms",
        )
    if "confidence" not in terms.raw:
        raise terms.error("says how sure learning must be, e.g. confidence: 0.95", None)
    return _confidence(terms)


def _confidence(terms: _Reader) -> float | None:
    """A cautious arm's `confidence`: a probability from 0.5 to below 1 (None: not given)."""
    confidence = terms.raw.get("confidence")
    if confidence is not None and (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.5 <= confidence < 1
    ):
        raise terms.error("is a probability from 0.5 to below 1, e.g. 0.95", "confidence")
    return None if confidence is None else float(confidence)


def _offer(o: _Reader) -> Offer:
    kind = o.choice("kind", OFFER_KINDS)
    bounds = {k: v for k, v in o.raw.items() if k not in ("kind", "when")}
    problem = bounds_error(kind, bounds)
    if problem is not None:
        wrong = [k for k in bounds if k in problem] or ["kind"]
        raise o.error(problem, wrong[0])
    return Offer(kind, o.condition("when", default=True), bounds)


def _experiment(e: _Reader, stages: set[str]) -> Experiment:
    e.only("name", "stages", "holdout", "arms")
    listed = frozenset(e.strings("stages")) or frozenset(stages)
    unknown = sorted(listed - stages)
    if unknown:
        raise e.error(f"unknown stage(s) {', '.join(unknown)}", "stages")
    holdout = e.raw.get("holdout", 0)
    if not isinstance(holdout, int | float) or not 0 <= holdout < 1:
        raise e.error("holdout is a share between 0 and 1", "holdout")
    arms = []
    for a in e.items("arms"):
        weight = a.raw.get("weight", 1)
        if not isinstance(weight, int | float) or weight <= 0:
            raise a.error("weight must be a positive number", "weight")
        overrides = {k: str(v) for k, v in a.sub("overrides", default={}).raw.items()}
        bad = sorted(set(overrides) - {"template", "tone", "channel"})
        if bad:
            raise a.error(
                f"an arm can override template, tone and channel, not {', '.join(bad)}", "overrides"
            )
        if "tone" in overrides and overrides["tone"] not in TONES:
            raise a.error(f"tone must be one of {', '.join(TONES)}", "overrides")
        arms.append(Arm(a.name("name"), float(weight), overrides))
    if len(arms) < 1:
        raise e.error("an experiment needs arms", "arms")
    return Experiment(e.name("name"), listed, float(holdout), tuple(arms))


class _Reader:
    def __init__(self, raw: Any, source: str, path: str, keys: tuple[str | int, ...] = ()) -> None:
        if not isinstance(raw, Mapping):
            problem = f"{path or 'the policy'} must be a mapping"
            raise PolicyError(f"{source}: {problem}", problem=problem, path=keys)
        self.raw, self.source, self.path, self.keys = raw, source, path, keys

    def error(self, message: str, key: str | None = None, *, at_key: bool = False) -> PolicyError:
        value = self.raw.get(key) if key else None
        where = self.source
        if isinstance(value, _Str):
            where = f"{self.source}:{value.line}:{value.column}"
        else:
            marks = [v for v in self.raw.values() if isinstance(v, _Str)]
            if marks:
                where = f"{self.source}:{marks[0].line}"
        at = f"{self.path}.{key}" if key and self.path else (key or self.path)
        if at_key:
            at = self.path
        return PolicyError(
            f"{where}: {at}: {message}" if at else f"{where}: {message}",
            problem=message,
            path=(*self.keys, key) if key else self.keys,
            at_key=at_key,
        )

    def only(self, *keys: str) -> None:
        unknown = sorted(set(self.raw) - set(keys), key=str)
        if unknown:
            first = unknown[0]
            raise self.error(
                f"unknown key(s) {', '.join(map(str, unknown))}; expected {', '.join(keys)}",
                first if isinstance(first, str) else None,
                at_key=True,
            )

    def items(self, key: str) -> list[_Reader]:
        value = self.raw.get(key) or []
        if not isinstance(value, list):
            raise self.error("must be a list", key)
        return [
            _Reader(
                v,
                self.source,
                f"{self.path + '.' if self.path else ''}{key}[{i}]",
                (*self.keys, key, i),
            )
            for i, v in enumerate(value)
        ]

    def sub(self, key: str, default: Any = None) -> _Reader:
        value = self.raw.get(key, default)
        return _Reader(
            value, self.source, f"{self.path}.{key}" if self.path else key, (*self.keys, key)
        )

    def name(self, key: str) -> str:
        value = self.raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error("is required (a name)", key)
        return str(value)

    def strings(self, key: str) -> list[str]:
        value = self.raw.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error("must be a list of names", key)
        return [str(v) for v in value]

    def choice(self, key: str, allowed: Sequence[str], default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if value not in allowed:
            raise self.error(f"{value!r} is not one of {', '.join(allowed)}", key)
        return str(value)

    def positive(self, key: str) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error("must be a whole number of 1 or more", key)
        return value

    def time(self, key: str) -> str:
        value = self.raw.get(key)
        if (
            not isinstance(value, str)
            or len(value) != 5
            or value[2] != ":"
            or not (
                value[:2].isdigit()
                and value[3:].isdigit()
                and int(value[:2]) <= 24
                and int(value[3:]) < 60
            )
        ):
            raise self.error("must be a local time HH:MM", key)
        return str(value)

    def _expr_args(self, key: str) -> dict[str, Any]:
        value = self.raw.get(key)
        line, column = (value.line, value.column) if isinstance(value, _Str) else (1, 1)
        return {"source": self.source, "line": line, "column": column}

    def condition(self, key: str, default: bool | None = None) -> pl.Expr:
        value = self.raw.get(key, default)
        if value is None:
            raise self.error("is required (a condition)", key)
        if isinstance(value, bool):
            return pl.lit(value)
        if not isinstance(value, str):
            raise self.error("must be a condition", key)
        try:
            return condition(value, FACTS, **self._expr_args(key))
        except ExprError as exc:
            raise self._expr_error(exc, key) from exc

    def number(self, key: str, default: float) -> pl.Expr:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error("must be a number or an expression", key)
        try:
            return number(value, FACTS, **self._expr_args(key))
        except ExprError as exc:
            raise self._expr_error(exc, key) from exc

    def _expr_error(self, exc: ExprError, key: str) -> PolicyError:
        """An expression's error at its own line and column, with the path to it."""
        return PolicyError(
            str(exc),
            problem=exc.message,
            path=(*self.keys, key),
            line=exc.line,
            column=exc.column,
        )

    def stage_condition(self) -> pl.Expr:
        parts: list[pl.Expr] = []
        for key, column in (("dpd", "dpd"), ("days_to_due", "days_to_due")):
            if key in self.raw:
                bounds = self.raw[key]
                if (
                    not isinstance(bounds, list)
                    or len(bounds) != 2
                    or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
                    or bounds[0] > bounds[1]
                ):
                    raise self.error("must be [from, to], whole numbers, from <= to", key)
                parts.append(pl.col(column).is_between(bounds[0], bounds[1]).fill_null(False))
        if "when" in self.raw:
            parts.append(self.condition("when"))
        if not parts:
            raise self.error("a stage needs dpd, days_to_due or when", "name")
        out = parts[0]
        for p in parts[1:]:
            out = out & p
        return out

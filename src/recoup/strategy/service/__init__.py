"""The strategy's service: decides, writes only its own tables (through `strategy.repository`),
and hands contacts and tasks to their owners as frames. One module per part:

- `versions`: policies stored as versions, one active, compiled once per process;
- `facts`: the facts the kernel reads, set-based, and the business day an event decides for;
- `planning`: decisions and guard-checked contact plans as frames, writing nothing: the day's
  frames read once (`read_day`), then a pure step (`decide_day`) run here or on Spark
  (`recoup.strategy.spark`, `engine="spark"`);
- `daily_run`: the day's run (decisions recorded, plans to `contact.service`, queue tasks to
  `agents.service`), idempotent per day;
- `learning`: the learner's rewards, added to `learning_arms` once per day (the run calls it);
- `redecisions`: an event re-decides its accounts now, or at the end of a deferred block;
- `offering`: the offers the active policy makes an account now;
- `comparison`: how two policies decide the same portfolio differently (the CLI's diff, the
  desk's dry-run);
- `learned`: what the learning stages have learned, for people (arms, leaders, the holdout's
  uplift).

`versions` also holds the desk's four eyes: save a draft, submit, a second person approves
(activating it) or rejects.

Callers write `from recoup.strategy import service as strategy_service` and use the names below.
"""

from recoup.strategy.service.comparison import (
    COMPARED,
    DryRun,
    changes,
    diff,
    dry_run,
    dry_run_version,
)
from recoup.strategy.service.daily_run import StrategyRun, maintain_partitions, run
from recoup.strategy.service.facts import OPT_OUT_CHANNELS, facts
from recoup.strategy.service.learned import LearningSummary, learning_summary, queue_choices
from recoup.strategy.service.learning import Learned, learn, rewards
from recoup.strategy.service.offering import offers, offers_many
from recoup.strategy.service.planning import (
    DEFAULT_WINDOW,
    ENGINES,
    DayFrames,
    EngineUnavailable,
    decide_day,
    decision_rows,
    house_guard,
    plan,
    plan_rows,
    read_day,
)
from recoup.strategy.service.redecisions import (
    DEFERRED,
    Redecision,
    deferred_redecisions,
    redecide,
    redecide_many,
    redecision_pending,
)
from recoup.strategy.service.versions import (
    MAX_POLICY_CHARS,
    MAX_REASON_CHARS,
    FourEyes,
    InvalidPolicy,
    NoActivePolicy,
    PolicyTextInvalid,
    PolicyVersionNotFound,
    ReasonRefused,
    WrongStatus,
    activate,
    active_policy,
    approve,
    check_policy_text,
    compiled,
    get_version,
    list_versions,
    reject,
    save_draft,
    save_policy,
    submit,
)

__all__ = [
    "COMPARED",
    "DEFAULT_WINDOW",
    "DEFERRED",
    "ENGINES",
    "MAX_POLICY_CHARS",
    "MAX_REASON_CHARS",
    "OPT_OUT_CHANNELS",
    "DayFrames",
    "DryRun",
    "EngineUnavailable",
    "FourEyes",
    "InvalidPolicy",
    "Learned",
    "LearningSummary",
    "NoActivePolicy",
    "PolicyTextInvalid",
    "PolicyVersionNotFound",
    "ReasonRefused",
    "Redecision",
    "StrategyRun",
    "WrongStatus",
    "activate",
    "active_policy",
    "approve",
    "changes",
    "check_policy_text",
    "compiled",
    "decide_day",
    "decision_rows",
    "deferred_redecisions",
    "diff",
    "dry_run",
    "dry_run_version",
    "facts",
    "get_version",
    "house_guard",
    "learn",
    "learning_summary",
    "list_versions",
    "maintain_partitions",
    "offers",
    "offers_many",
    "plan",
    "plan_rows",
    "queue_choices",
    "read_day",
    "redecide",
    "redecide_many",
    "redecision_pending",
    "reject",
    "rewards",
    "run",
    "save_draft",
    "save_policy",
    "submit",
]

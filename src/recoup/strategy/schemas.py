"""Pydantic shapes of policy versions and the desk's steps for the REST API."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from recoup.kit.schemas import Schema
from recoup.strategy.checking import MAX_POLICY_CHARS


class PolicyIn(Schema):
    # The text as written: stripping would move every line the editor's positions name.
    model_config = ConfigDict(str_strip_whitespace=False)

    text: str = Field(
        min_length=1,
        max_length=MAX_POLICY_CHARS,
        description="The policy's YAML (docs/strategy.md); it is checked as `recoup strategy "
        "validate` checks a file, and the first problem is a 422 naming its line and column",
    )


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=2_000, description="Why it is rejected")


class PolicyVersion(Schema):
    """A stored version, without its text (`GET /v1/policies/{version_id}` has it)."""

    id: int
    name: str
    version: str
    sha256: str
    author: str
    status: str = Field(description="draft, submitted, active, rejected or superseded")
    active: bool
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    submitted_by: str | None
    reviewed_at: dt.datetime | None
    reviewed_by: str | None
    rejection_reason: str | None
    activated_at: dt.datetime | None
    activated_by: str | None


class PolicyVersionText(PolicyVersion):
    model_config = ConfigDict(str_strip_whitespace=False)

    text: str


class PolicyVersions(Schema):
    items: list[PolicyVersion]
    total: int
    limit: int
    offset: int


class ChangedAccount(Schema):
    account_id: int
    account_ref: str = Field(description="The account's reference, masked")
    segment: str | None = Field(description="Under the candidate")
    before: dict[str, str | None] = Field(description="stage, decision, treatment, channel, queue")
    after: dict[str, str | None]


class DryRun(Schema):
    """The candidate against the active policy on today's portfolio; nothing is written."""

    version_id: int
    active_version_id: int
    as_of: dt.date
    accounts: int = Field(description="Accounts decided")
    changed: int = Field(description="Accounts deciding differently")
    counts: dict[str, int] = Field(description="Per compared column, accounts that change")
    items: list[ChangedAccount]
    limit: int
    offset: int


# --- the learning strategy, as people read it (GET /v1/learning/arms) ---------------------------


class Interval(Schema):
    n: int
    mean: float | None
    low: float | None = Field(description="95 % interval's low end; null under two pulls")
    high: float | None


class LearningArm(Schema):
    policy: str
    stage: str
    arm: str
    reward: Interval = Field(
        description="Reward per pull: money paid within the horizon net of cost"
    )
    contexts: int = Field(description="Context cells the arm was pulled in")


class LeadingArm(Schema):
    policy: str
    stage: str
    context: str = Field(description="The context cell")
    arm: str = Field(description="The arm with the highest mean reward in the cell")
    reward: Interval
    arms: int = Field(description="Arms pulled in the cell")


class LearningUplift(Schema):
    first_end: dt.date = Field(description="Decisions whose horizon ended from this day ...")
    last_end: dt.date = Field(description="... to this day")
    learner: Interval
    holdout: Interval
    diff: float | None = Field(description="Learner's mean reward minus the holdout's")
    low: float | None
    high: float | None
    recovered_learner: Interval = Field(description="Money paid per decision (minor units)")
    recovered_holdout: Interval
    recovered_diff: float | None
    recovered_low: float | None
    recovered_high: float | None


class Learning(Schema):
    arms: list[LearningArm]
    leaders: list[LeadingArm]
    uplift: LearningUplift

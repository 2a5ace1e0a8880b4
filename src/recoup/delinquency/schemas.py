from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from recoup.kit.schemas import Schema
from recoup.models import PauseKind


class DelinquencyState(Schema):
    account_id: int
    as_of_date: dt.date = Field(description="The business date this state was computed for")
    dpd: int = Field(description="Days past due of the oldest unpaid bill", examples=[12])
    bucket: str = Field(examples=["M1"])
    oldest_unpaid_due_date: dt.date | None
    overdue_minor: int = Field(description="Unpaid on bills already due")
    outstanding_minor: int = Field(description="Unpaid on all bills")
    credit_minor: int = Field(description="Paid beyond every bill; applied to the next one")


class BucketChange(Schema):
    effective_date: dt.date
    from_bucket: str | None
    to_bucket: str
    dpd: int
    cause: str = Field(description="daily, payment, reversal, bill or pause", examples=["daily"])


KIND = (
    "What the pause means to the strategy, the guard and the contact audit: `dispute` (the debt is "
    "contested), `hardship` (a person reviews, pressure stops), `cease` (the debtor asked that "
    "collection contact stop) or `other` (it only stops the count, as a disaster-relief programme "
    "does). `plan` is refused here: a plan's pause comes with the plan. Never read from `reason`."
)


class PauseCreate(Schema):
    start_date: dt.date
    end_date: dt.date | None = Field(None, description="Open-ended when absent")
    kind: PauseKind = Field(PauseKind.other, description=KIND, examples=["other"])
    reason: str = Field(
        min_length=1,
        max_length=256,
        description="Free text for people",
        examples=["natural disaster relief"],
    )
    created_by: str = Field(min_length=1, max_length=128, examples=["supervisor:wang"])

    @field_validator("kind")
    @classmethod
    def _not_a_plan(cls, kind: PauseKind) -> PauseKind:
        if kind == PauseKind.plan:
            raise ValueError("a plan's pause comes with the plan, not from here")
        return kind


class PauseEnd(Schema):
    end_date: dt.date


class Pause(Schema):
    id: int
    account_id: int
    start_date: dt.date
    end_date: dt.date | None
    kind: PauseKind = Field(
        description="dispute, hardship, cease, plan (a payment plan's) or other", examples=["other"]
    )
    arrangement_id: int | None = Field(description="The plan that holds this pause, if one does")
    case_id: int | None = Field(description="The dispute or hardship case that holds this pause")
    reason: str
    created_by: str

from __future__ import annotations

import datetime as dt

from pydantic import Field

from recoup.kit.schemas import Schema


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


class PauseCreate(Schema):
    start_date: dt.date
    end_date: dt.date | None = Field(None, description="Open-ended when absent")
    reason: str = Field(min_length=1, max_length=256, examples=["natural disaster relief"])
    created_by: str = Field(min_length=1, max_length=128, examples=["supervisor:wang"])


class PauseEnd(Schema):
    end_date: dt.date


class Pause(Schema):
    id: int
    account_id: int
    start_date: dt.date
    end_date: dt.date | None
    reason: str
    created_by: str

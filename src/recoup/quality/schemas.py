"""Pydantic shapes of QA samples and reviews for the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from recoup.kit.schemas import Schema

Answer = Literal["yes", "no", "na"]


class SampleIn(Schema):
    start: dt.date = Field(description="First day (UTC) of the period", examples=["2026-06-01"])
    end: dt.date = Field(
        description="Last day (UTC), at most 92 days after the start", examples=["2026-06-30"]
    )
    size: int = Field(ge=1, le=200, description="How many contacts to draw", examples=[20])
    seed: int = Field(
        ge=0, le=2**31 - 1, description="The draw's seed: the same seed draws the same contacts"
    )


class Review(Schema):
    id: int
    sample_id: int
    contact_id: int
    channel: str
    status: str = Field(description="pending, passed or failed")
    checks: dict[str, str]
    findings: str | None
    reviewed_by: str | None
    reviewed_at: dt.datetime | None


class Sample(Schema):
    id: int
    seed: int
    start_date: dt.date
    end_date: dt.date
    size: int
    population: int = Field(description="How many contacts it was drawn from")
    drawn_by: str
    created_at: dt.datetime
    items: list[Review] = Field(default_factory=list)


class Checks(Schema):
    identified_self: Answer
    right_party_verified: Answer
    no_threat: Answer
    correct_amount: Answer
    within_hours: Answer
    disclosure_given: Answer


class ReviewIn(Schema):
    checks: Checks
    findings: str = Field(
        default="", max_length=2_000, description="What the reviewer found (required on a fail)"
    )

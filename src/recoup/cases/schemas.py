"""Pydantic shapes of cases for the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from recoup.kit.schemas import Schema


class CaseIn(Schema):
    kind: Literal["dispute", "hardship", "complaint"]
    reason: str = Field(max_length=32, description="One of the kind's reasons (see docs)")
    text: str | None = Field(default=None, max_length=2_000, description="In the debtor's words")
    account_ref: str | None = Field(
        default=None, max_length=128, description="The account it is about; none: all of them"
    )
    channel: Literal["api", "agent", "portal"] = "api"


class Case(Schema):
    """The debtor's own words are not returned here: they are read in the console."""

    id: int
    customer_id: int
    account_id: int | None
    kind: str
    reason: str
    status: str
    opened_by: str
    channel: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str | None


class ResolveIn(Schema):
    resolution: str = Field(min_length=1, max_length=2_000)

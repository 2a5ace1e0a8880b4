"""Pydantic shapes of cases for the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from recoup.kit.schemas import Schema


class CaseIn(Schema):
    kind: Literal["dispute", "hardship", "complaint", "review"]
    reason: str = Field(
        max_length=32,
        description="One of the kind's reasons (see docs); a review's is automated_decision",
    )
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


class Due(Schema):
    date: dt.date = Field(description="When the case must be answered by")
    overdue: bool = Field(description="Open past its date")
    rule: str | None = Field(
        description="The rule pack deadline that sets it (None: house 30 days)"
    )
    citation: str | None
    days: int | None = Field(description="Calendar days from the day the case was opened")


class InboxCase(Schema):
    """A case in the inbox with its answer deadline (the debtor's words are read in the console)."""

    case: Case
    jurisdiction: str
    due: Due


class ReplyIn(Schema):
    template: Literal["case_received", "case_answered"] = Field(
        description="case_received: we have it and are looking into it; case_answered: the answer "
        "is ready (in the debtor's language, on their own mobile unless opted out, else in-app)"
    )


class ReplyPlanned(Schema):
    contact_id: int = Field(description="The outbox row; `GET /v1/contacts/{id}` explains it")
    channel: str

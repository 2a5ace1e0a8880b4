"""Pydantic shapes of arrangements for the REST API (the wallet builds them into its own app)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from recoup.kit.money import MAX_MINOR
from recoup.kit.schemas import Schema

Money = Field(ge=1, le=MAX_MINOR, description="Minor units (fen, cents)")


class Position(Schema):
    today: dt.date = Field(description="The account's business date")
    owed_minor: int
    overdue_minor: int
    currency: str


class Offers(Schema):
    position: Position
    offers: dict[str, dict[str, Any]] = Field(
        description="Kind → the bounds the active policy allows this account now (none while a "
        "dispute, hardship case or another arrangement holds)",
        examples=[{"promise": {"max_days": 7, "grace_days": 1, "min_share_bps": 0}}],
    )


class PlanQuoteIn(Schema):
    instalments: int = Field(ge=1, le=120)
    monthly_budget_minor: int | None = Field(default=None, ge=0, le=MAX_MINOR)
    monthly_income_minor: int | None = Field(default=None, ge=0, le=MAX_MINOR)


class InstalmentOut(Schema):
    seq: int
    due_date: dt.date
    amount_minor: int


class PlanQuote(Schema):
    fee_minor: int
    total_minor: int
    schedule: list[InstalmentOut]


class ArrangementIn(Schema):
    """One of: a promise (`amount_minor`, `date`), a plan (`instalments` and a budget or income),
    an extension (`days`) or a settlement (`amount_minor`)."""

    kind: Literal["promise", "plan", "extension", "settlement"]
    amount_minor: int | None = Field(default=None, ge=1, le=MAX_MINOR)
    date: dt.date | None = Field(default=None, description="A promise's date")
    instalments: int | None = Field(default=None, ge=1, le=120)
    monthly_budget_minor: int | None = Field(default=None, ge=0, le=MAX_MINOR)
    monthly_income_minor: int | None = Field(default=None, ge=0, le=MAX_MINOR)
    days: int | None = Field(default=None, ge=1, le=365, description="An extension's days")
    channel: Literal["api", "agent", "portal"] = "api"


class Arrangement(Schema):
    id: int
    account_id: int
    kind: str
    status: str
    currency: str
    amount_minor: int
    balance_minor: int
    fee_minor: int
    paid_minor: int
    start_date: dt.date
    due_date: dt.date
    grace_days: int
    terms: dict[str, Any]
    made_by: str
    channel: str
    approved_by: str | None
    ended_on: dt.date | None
    end_reason: str | None
    instalments: list[InstalmentOut] = Field(default_factory=list)


class CancelIn(Schema):
    reason: str = Field(min_length=1, max_length=256)


class RevokeIn(Schema):
    contact_id: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description="The message whose link to withdraw; none: all",
    )
    reason: str = Field(min_length=1, max_length=256)


class Revoked(Schema):
    customer_id: int
    contact_id: int | None
    at: dt.datetime
    by: str
    reason: str


class DecisionIn(Schema):
    reason: str | None = Field(
        default=None,
        max_length=256,
        description="Why (kept on the arrangement and in the audit ledger; never sent)",
        examples=["the debtor's income covers 80% within the policy's time"],
    )


class Approval(Schema):
    """An arrangement waiting for a supervisor, with the policy's bounds beside it."""

    arrangement: Arrangement
    owed_minor: int = Field(description="What the account owes now")
    dpd: int | None = Field(description="Days past due now")
    asked_share_bps: int = Field(description="The share of the balance asked for, in basis points")
    bounds: dict[str, Any] | None = Field(
        description="What the active policy offers of this kind now (None: no longer offered)"
    )

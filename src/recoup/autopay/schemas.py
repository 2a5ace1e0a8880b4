"""Autopay as the API shows it to staff and integrators."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from recoup.kit.schemas import Schema


class Mandate(Schema):
    id: int = Field(description="Recoup's id of the mandate", examples=[7])
    reference: str = Field(description="What the wallet is told (`ram_<id>`)", examples=["ram_7"])
    customer_id: int = Field(examples=[42])
    account_id: int = Field(examples=[101])
    state: Literal["pending", "active", "cancelled", "failed"] = Field(
        description="pending: waiting for the debtor's approval at the wallet; active: the "
        "wallet collects each bill on its due date; cancelled or failed: no longer collects",
        examples=["active"],
    )
    wallet_ref: str | None = Field(description="The wallet's id of the mandate", examples=["sbm_3"])
    created_at: dt.datetime
    created_by: str = Field(description="Who asked for it", examples=["debtor"])
    activated_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancelled_by: str | None = Field(description="Who ended it", examples=["debtor"])

"""Pydantic shapes of consents and data-subject requests for the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from recoup.kit.schemas import Schema
from recoup.ledger.schemas import AwareDatetime

ConsentKind = Literal["electronic", "time_window", "call_back", "third_party", "data_processing"]
ConsentChannel = Literal["sms", "email", "push", "in_app", "call", "letter", "wechat", "whatsapp"]


class ConsentScope(Schema):
    account: str | None = Field(
        default=None,
        max_length=128,
        description="The account it covers (its reference); none: every account",
        examples=["bnpl-778812"],
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="A time_window consent's local start, HH:MM",
        examples=["21:00"],
    )
    to: str | None = Field(
        default=None,
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="A time_window consent's local end, HH:MM",
        examples=["22:00"],
    )
    address: str | None = Field(
        default=None,
        max_length=128,
        description="The one phone number or e-mail address it covers; none: all of them",
    )
    openid: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{16,64}$",
        description="A wechat consent's openid: the debtor as the lender's service account knows "
        "them (from the account's OAuth when they followed it and agreed); where messages go",
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in {
                "account": self.account,
                "from": self.from_,
                "to": self.to,
                "address": self.address,
                "openid": self.openid,
            }.items()
            if v is not None
        }


class ConsentIn(Schema):
    kind: ConsentKind = Field(
        description="What it permits: electronic (messages on a channel; the guard reads it), "
        "time_window (contact at other local hours), call_back, third_party, data_processing",
        examples=["electronic"],
    )
    channel: ConsentChannel | None = Field(
        default=None, description="The channel it covers; none: all", examples=["sms"]
    )
    scope: ConsentScope = Field(default_factory=ConsentScope)
    evidence: str = Field(
        min_length=1,
        max_length=256,
        description="Who took it, how, and a reference (a recording id, a message id)",
        examples=["sms reply YES to message 7781"],
    )
    expires_at: AwareDatetime | None = Field(
        default=None,
        description="When it lapses (at most three years ahead); none: until withdrawn",
    )


class Consent(Schema):
    id: int
    customer_id: int
    kind: str = Field(validation_alias="purpose")
    channel: str | None
    scope: dict[str, str]
    evidence: str
    source: str = Field(description="agent, portal, api, import, reply or wallet")
    given_at: dt.datetime
    expires_at: dt.datetime | None
    withdrawn_at: dt.datetime | None


class RequestIn(Schema):
    reason: str = Field(
        min_length=1,
        max_length=256,
        description="The request as the person made it (goes on their data-access log)",
        examples=["access request by e-mail, ticket 4411"],
    )


class ErasureRequest(Schema):
    id: int
    customer_id: int
    requested_by: str
    status: str = Field(description="done, scheduled (erased on not_before) or refused")
    ground: str | None = Field(description="The legal ground when not erased now")
    not_before: dt.date | None
    decided_at: dt.datetime
    done_at: dt.datetime | None

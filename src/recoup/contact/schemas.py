from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, Field

from recoup.kit.schemas import Schema


class InboxMessage(Schema):
    id: int = Field(description="Message id; the read receipt names it", examples=[42])
    customer_id: int = Field(examples=[7])
    language: str = Field(description="zh-CN, zh-TW or en", examples=["zh-CN"])
    subject: str | None = Field(None, examples=[None])
    body: str = Field(
        description="The text as the debtor sees it", examples=["您的账单已逾期 3 天"]
    )
    created_at: dt.datetime = Field(description="When it reached the inbox (UTC)")
    read_at: dt.datetime | None = Field(None, description="When the debtor first read it (UTC)")


class InboundSms(Schema):
    """A reply received by the generic SMS gateway, as it posts it to Recoup (signed)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(min_length=1, max_length=128, description="The gateway's id for the message")
    sender: str = Field(
        alias="from",
        min_length=3,
        max_length=32,
        description="The sender's number",
        examples=["+8613812345678"],
    )
    body: str = Field(max_length=1600, description="The text as received", examples=["TD"])
    country: str = Field(
        "CN", pattern=r"^[A-Z]{2}$", description="Where to read a number without a country code"
    )


class InboundResult(Schema):
    message_id: int
    intent: str = Field(description="opt_out, reply or unknown_sender", examples=["opt_out"])
    duplicate: bool = Field(description="The same gateway id was received before")


class DialRequest(Schema):
    agent: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z+*#._-]+$",
        description="The agent's extension or number: the provider rings it first",
        examples=["8021"],
    )


class DialResult(Schema):
    contact_id: int = Field(description="The call's contact; its explanation shows what follows")
    status: str = Field(description="planned (the worker rings within seconds) or blocked")
    reasons: list[str] = Field(description="Why not, when blocked (rule:CODE)")


CallResultName = Literal[
    "not_connected", "busy", "no_answer", "voicemail", "connected", "conversation"
]  # compliance.codes.CALL_RESULTS, lowest first (a test holds them equal)


class CallResultIn(Schema):
    result: CallResultName = Field(
        description="What became of the call: `conversation` is a talk with the right party",
        examples=["conversation"],
    )


class CallStatus(Schema):
    """The click-to-call provider's report on a call it placed (signed like its requests)."""

    id: str = Field(min_length=1, max_length=128, description="The call id it answered with")
    result: CallResultName


class CallOutcome(Schema):
    contact_id: int
    status: str = Field(description="The call's status in the outbox (sent once placed)")
    result: str = Field(description="The result on record (the highest reported)")


class PreferencesIo(Schema):
    """How the debtor wants to be contacted: the channels allowed (the others are opted out of),
    quiet hours and a preferred window in their local time (`HH:MM`, both ends or neither; either
    may run past midnight; contact outside the preferred window is treated as inconvenient) and
    the language of messages and pages."""

    channels: list[Literal["sms", "email", "push", "call"]] = Field(
        description="Channels we may use", examples=[["sms", "push"]]
    )
    quiet_from: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_to: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    preferred_from: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    preferred_to: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    language: Literal["zh-CN", "zh-TW", "en"] | None = None


class Retried(Schema):
    id: int
    status: str = Field(description="queued: back in the outbox, checked again before it is sent")

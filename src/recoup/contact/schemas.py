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


LetterStatusName = Literal["printed", "mailed", "delivered", "returned"]


class LetterStatus(Schema):
    """The print-and-post provider's report on a letter it accepted (signed as Recoup signs)."""

    id: str = Field(min_length=1, max_length=128, description="The letter id it answered with")
    reference: str | None = Field(
        default=None, max_length=128, description="Our reference for the letter (its contact's key)"
    )
    status: LetterStatusName
    at: dt.datetime | None = Field(default=None, description="When, by the provider's clock")


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


class InboundReply(Schema):
    id: int = Field(description="The inbound message's id (the evidence a consent names)")
    channel: str = Field(examples=["sms"])
    body: str = Field(description="The debtor's words (personal data: the view is logged)")
    received_at: dt.datetime


class ReplyTask(Schema):
    """An open task of the replies queue and the replies it stands for, newest first."""

    task_id: int
    account_id: int
    customer_id: int | None
    created_at: dt.datetime
    messages: list[InboundReply]


class ReplyHandleIn(Schema):
    action: Literal["case", "consent", "opt_out", "done"] = Field(
        description="case: open a case with the reply as the debtor's words; consent: record "
        "consent to electronic messages on the reply's channel (evidence: the message); opt_out: "
        "opt the reply's address out of its channel; done: nothing to do. Each closes the task."
    )
    kind: Literal["dispute", "hardship", "complaint"] | None = Field(
        default=None, description="A case's kind (action case)"
    )
    reason: str | None = Field(
        default=None, max_length=32, description="A case's reason code (action case)"
    )
    expires_at: dt.datetime | None = Field(
        default=None, description="When a consent ends (action consent; none: until withdrawn)"
    )


class ReplyHandled(Schema):
    action: str
    message_id: int
    case_id: int | None = None
    consent_id: int | None = None
    cancelled: int | None = Field(default=None, description="Contacts an opt-out cancelled")


class Retried(Schema):
    id: int
    status: str = Field(description="queued: back in the outbox, checked again before it is sent")


# -- message templates ----------------------------------------------------------------------------

TemplateChannel = Literal["sms", "email", "push", "in_app", "letter"]
TemplateLanguage = Literal["zh-CN", "zh-TW", "en"]
TemplateTone = Literal["gentle", "neutral", "firm"]
# A message is a few hundred characters; an e-mail or a letter a few thousand.
MAX_TEMPLATE_BODY = 10_000


class TemplateDraftIn(Schema):
    """A template's text for one channel, language and tone. Variables and filters:
    `src/recoup/contact/templates.py` (`{{ first_name }}`, `{{ overdue_minor|money(currency) }}`...)."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="The template's name, as a policy's treatment names it",
        examples=["early_reminder"],
    )
    channel: TemplateChannel = Field(examples=["sms"])
    language: TemplateLanguage = Field(examples=["en"])
    tone: TemplateTone = Field(examples=["gentle"])
    subject: str | None = Field(None, max_length=256, description="E-mail and letters only")
    body: str = Field(
        min_length=1,
        max_length=MAX_TEMPLATE_BODY,
        examples=[
            "{{ creditor_name }}: Hi {{ first_name }}, {{ overdue_minor|money(currency) }} is "
            "late. Pay or choose a plan: {{ pay_link }} {{ opt_out }}"
        ],
    )


class TemplateProblemOut(Schema):
    rule: str = Field(description="The rule the text breaks", examples=["cn.threats"])
    code: str = Field(description="The guard's reason code", examples=["CONTENT_FORBIDDEN"])
    message: str = Field(examples=["forbidden content (threat): 起诉"])


class JurisdictionVerdict(Schema):
    jurisdiction: str = Field(examples=["CN"])
    allowed: bool = Field(description="No content rule of the jurisdiction refuses the text")
    problems: list[TemplateProblemOut]


class TemplateCheckOut(Schema):
    """What the guard says of a text, without saving it: the text rendered with sample data, and
    the content verdict in every jurisdiction a template may be used in."""

    subject: str | None = Field(None, description="The subject rendered")
    body: str = Field(description="The text rendered with sample data")
    sms_segments: int | None = Field(None, description="SMS only: segments the text takes")
    verdicts: list[JurisdictionVerdict]


class TemplatePreviewOut(Schema):
    """The text as one account's debtor would read it, masked (name masked, no pay link)."""

    account_id: int
    subject: str | None = None
    body: str
    sms_segments: int | None = None


class TemplateVersionOut(Schema):
    id: int = Field(examples=[12])
    name: str = Field(examples=["early_reminder"])
    channel: str = Field(examples=["sms"])
    language: str = Field(examples=["en"])
    tone: str = Field(examples=["gentle"])
    version: int = Field(examples=[2])
    subject: str | None = None
    body: str
    status: Literal["draft", "rejected", "submitted", "approved", "retired"] = Field(
        description="draft or rejected (with its problems) when saved, submitted for approval, "
        "approved by a second person (the one the dispatcher uses), retired by a later approval"
    )
    problems: list[TemplateProblemOut] = Field(description="The guard's reasons, when rejected")
    author: str = Field(examples=["staff:zhou.min"])
    approved_by: str | None = Field(None, examples=["staff:lin"])
    approved_at: dt.datetime | None = None
    created_at: dt.datetime

"""Reason codes: stable names a strategy, a dashboard and a compliance officer can rely on."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    OUTSIDE_HOURS = "OUTSIDE_HOURS"
    REST_DAY = "REST_DAY"
    DEBTOR_INCONVENIENT = "DEBTOR_INCONVENIENT"
    FREQUENCY_CAP = "FREQUENCY_CAP"
    CONVERSATION_COOLDOWN = "CONVERSATION_COOLDOWN"
    GRACE_PERIOD = "GRACE_PERIOD"
    OPTED_OUT = "OPTED_OUT"
    CEASE = "CEASE"
    DISPUTE_PENDING = "DISPUTE_PENDING"
    NO_CONSENT = "NO_CONSENT"
    THIRD_PARTY = "THIRD_PARTY"
    DISCLOSURE = "DISCLOSURE"
    CONTENT_FORBIDDEN = "CONTENT_FORBIDDEN"
    CONTENT_MISSING = "CONTENT_MISSING"
    CHANNEL_FORBIDDEN = "CHANNEL_FORBIDDEN"
    ACCOUNT_STATUS = "ACCOUNT_STATUS"
    WRONG_PARTY = "WRONG_PARTY"
    HANDOVER_NOTICE_MISSING = "HANDOVER_NOTICE_MISSING"
    # A rule needs a day's holiday or working-day status that no calendar covers: refused, not
    # guessed, until the calendar is extended (`recoup compliance calendars`).
    CALENDAR_UNKNOWN = "CALENDAR_UNKNOWN"


# Reasons that waiting cures: a decision blocked only by these carries `next_allowed_at`.
TEMPORAL = frozenset(
    {
        Code.OUTSIDE_HOURS,
        Code.REST_DAY,
        Code.DEBTOR_INCONVENIENT,
        Code.FREQUENCY_CAP,
        Code.CONVERSATION_COOLDOWN,
        Code.GRACE_PERIOD,
    }
)

CHANNELS = (
    "call",
    "ai_call",
    "voicemail",
    "sms",
    "email",
    "push",
    "in_app",
    "chat",
    "letter",
    "visit",
    "social_dm",
    "social_post",
    # A licensed lender's own business accounts on messaging platforms (a WeChat service account's
    # template messages, WhatsApp Business): not a collector's private account (`social_dm`).
    "wechat",
    "whatsapp",
)
VOICE = frozenset({"call", "ai_call", "voicemail"})
ELECTRONIC = frozenset(
    {"sms", "email", "push", "in_app", "chat", "social_dm", "social_post", "wechat", "whatsapp"}
)
PARTIES = (
    "debtor",
    "spouse",
    "guarantor",
    "co_maker",
    "debt_related_third_party",
    "emergency_contact",
    "phonebook_contact",
    "employer",
    "attorney",
    "other_third_party",
)
COLLECTORS = ("creditor", "affiliated_servicer", "third_party", "debt_buyer")
PRODUCTS = ("bnpl", "credit_line", "micro_loan", "personal_loan", "credit_card", "student_loan")
FLAGS = (
    "dispute_open",
    "cease_requested",
    "deceased",
    "bankrupt",
    "attorney",
    "vulnerable",
    "hardship_review",
)
CALL_RESULTS = ("not_connected", "busy", "no_answer", "voicemail", "connected", "conversation")
MESSAGE_RESULTS = ("sent", "delivered", "failed")
RESULTS = CALL_RESULTS + MESSAGE_RESULTS
# A call whose outcome telephony has not reported: it counts for any call result a cap counts
# (the reading that counts most), so a cap on answered or unanswered calls binds on every call.
UNRECORDED = "unrecorded"
TO_TYPES = ("mobile", "home", "work", "other", "personal_email", "work_email", "app", "postal")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

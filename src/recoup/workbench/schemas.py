"""The workbench's API bodies and answers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from recoup.kit.money import MAX_MINOR
from recoup.kit.schemas import Schema

Outcome = Literal[
    "conversation",
    "no_answer",
    "voicemail",
    "wrong_number",
    "refused",
    "promise",
    "dispute",
    "hardship",
    "callback",
    "consent",
    "review",
]


class Task(Schema):
    id: int
    account_id: int
    as_of_date: dt.date
    queue: str
    priority: float
    status: str
    source: str | None
    assigned_to: int | None
    taken_by: int | None
    taken_at: dt.datetime | None
    lock_until: dt.datetime | None
    due_at: dt.datetime | None
    due_until: dt.datetime | None = Field(
        default=None,
        description="Not offered from this moment on: the end of its treatment's window "
        "(null: no end)",
        examples=["2026-06-20T10:00:00Z"],
    )
    outcome: str | None
    closed_at: dt.datetime | None


class Taken(Schema):
    task: Task | None = Field(description="The task in hand; null when no callable account is left")
    account_tasks: list[Task]
    skipped: int = Field(description="Accounts passed over: the guard refuses a call to them now")
    already_held: bool


class CallCheck(Schema):
    account_id: int
    allowed: bool
    status: str
    reasons: list[str]
    next_at: dt.datetime | None


class WrapUpIn(Schema):
    """The call's outcome; each outcome's own fields are required for it and a missing one is
    named: promise (`amount_minor`, `date`), dispute and hardship (`reason`, `words`: the debtor's
    own), callback (`call_at`), consent (`hours_from`, `hours_to`, `consent_until`)."""

    outcome: Outcome
    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="The call placed")
    amount_minor: int | None = Field(default=None, ge=1, le=MAX_MINOR)
    date: dt.date | None = None
    reason: str | None = Field(default=None, max_length=32)
    words: str | None = Field(default=None, max_length=2_000)
    call_at: dt.datetime | None = None
    hours_from: dt.time | None = None
    hours_to: dt.time | None = None
    consent_until: dt.date | None = None
    note: str | None = Field(default=None, max_length=2_000)


class WrappedUp(Schema):
    closed: list[int]
    arrangement_id: int | None
    arrangement_status: str | None
    case_id: int | None
    consent_id: int | None
    callback: bool
    call_result: str | None
    call_result_skipped: str | None


class TaskEvent(Schema):
    task_id: int
    kind: str
    actor: str
    at: dt.datetime
    detail: dict[str, Any] | None


class ReassignIn(Schema):
    staff_id: int | None = Field(
        ge=1, le=2**63 - 1, description="The agent; null: back to the queue"
    )


class QueueLoad(Schema):
    queue: str
    open: int
    taken: int
    done: int
    expired: int
    ended: int = Field(
        default=0,
        description="Open tasks whose window has ended: no longer offered, expired by the next "
        "daily run",
        examples=[12],
    )


class AgentLoad(Schema):
    staff_id: int
    name: str
    held: int
    assigned: int
    done: int


class Queues(Schema):
    day: dt.date
    queues: list[QueueLoad]
    agents: list[AgentLoad]


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=2_000)


class Note(Schema):
    id: int
    account_id: int
    author: str
    text: str
    created_at: dt.datetime

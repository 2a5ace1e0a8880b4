"""Agent tasks: created by the daily run (the policy's queues), by the dispatcher (a call to
place), by a reply nobody could classify and by a case; worked by agents (closed `done`); a policy
queue's task left open past its day `expired` by the next daily run. One service for all of them.

Statuses: `open` → `done` | `expired`. A task is unique per account, day and queue: a second one
asked for joins the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from recoup.agents import repository as repo
from recoup.kit.errors import NotFound
from recoup.models import AgentTask

OPEN, DONE, EXPIRED = "open", "done", "expired"


def open_tasks(session: Session, tasks: Sequence[dict[str, Any]]) -> int:
    """Queue tasks (account_id, as_of_date, queue, priority, source, subject_id, created_at)."""
    return repo.add(session, [{**t, "status": OPEN} for t in tasks])


def queue_day(session: Session, tasks: pl.DataFrame, *, day: dt.date, now: dt.datetime) -> int:
    """The day's queue as the policy ordered it (account_id, queue, priority)."""
    if tasks.height == 0:
        return 0
    return repo.add_frame(
        session,
        tasks.select(
            "account_id",
            pl.lit(day).alias("as_of_date"),
            "queue",
            pl.col("priority").fill_null(0.0),
            pl.lit(OPEN).alias("status"),
            pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("created_at"),
        ),
    )


def get_many(session: Session, ids: Sequence[int]) -> dict[int, AgentTask]:
    found = repo.by_ids(session, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"no agent task {missing[0]}")
    return found


def next_open(session: Session, day: dt.date, *, limit: int) -> list[int]:
    """The policy queues' open tasks of the day, highest priority first."""
    return repo.open_on(session, day, policy_queues_only=True, limit=limit)


def done(session: Session, ids: Collection[int], *, now: dt.datetime) -> int:
    return repo.close(session, ids, DONE, now=now)


def expire_stale(session: Session, day: dt.date, *, now: dt.datetime) -> int:
    """Close the policy queues' tasks left open from before `day` (`expired`)."""
    return repo.expire_before(session, day, now=now)

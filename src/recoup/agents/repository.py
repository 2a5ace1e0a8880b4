"""SQL for agent tasks. The only module that writes `agent_tasks`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from recoup.kit import bulk, frames
from recoup.kit.db import among
from recoup.models import AgentTask

COLUMNS = (
    "account_id",
    "as_of_date",
    "queue",
    "priority",
    "status",
    "source",
    "subject_id",
    "created_at",
)


def _table() -> Table:
    table = AgentTask.__table__
    assert isinstance(table, Table)
    return table


def add(session: Session, tasks: Sequence[dict[str, Any]]) -> int:
    """Insert tasks (`COLUMNS`); one for an account, day and queue that already has one is left
    out (the task already there stands for it). How many were added."""
    if not tasks:
        return 0
    t = AgentTask
    existing = {
        (row[0], row[1], row[2])
        for row in session.execute(
            select(t.account_id, t.as_of_date, t.queue).where(
                among(session, t.account_id, {task["account_id"] for task in tasks}),
                t.queue.in_({task["queue"] for task in tasks}),
            )
        )
    }
    rows = []
    for task in tasks:
        key = (task["account_id"], task["as_of_date"], task["queue"])
        if key not in existing:
            existing.add(key)
            rows.append({c: task.get(c) for c in COLUMNS})
    bulk.insert_rows(session, _table(), rows)
    return len(rows)


def add_frame(session: Session, tasks: pl.DataFrame) -> int:
    """A day's queue from the daily run (a frame of `COLUMNS`, one per account and queue, for a day
    that has none yet)."""
    return frames.insert_frame(session, _table(), tasks)


def by_ids(session: Session, ids: Collection[int]) -> dict[int, AgentTask]:
    return {
        t.id: t for t in session.scalars(select(AgentTask).where(among(session, AgentTask.id, ids)))
    }


def open_on(session: Session, day: dt.date, *, policy_queues_only: bool, limit: int) -> list[int]:
    """The open tasks of a day, highest priority first."""
    t = AgentTask
    stmt = select(t.id).where(t.as_of_date == day, t.status == "open")
    if policy_queues_only:
        stmt = stmt.where(t.source.is_(None))
    return list(session.execute(stmt.order_by(t.priority.desc(), t.id).limit(limit)).scalars())


def close(session: Session, ids: Collection[int], status: str, *, now: dt.datetime) -> int:
    if not ids:
        return 0
    t = AgentTask
    result = session.execute(
        update(t)
        .where(among(session, t.id, ids), t.status == "open")
        .values(status=status, closed_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def expire_before(session: Session, day: dt.date, *, now: dt.datetime) -> int:
    """Open tasks of the policy's queues from days before `day`: nobody reached them that day and
    the day's run queues them afresh; the tasks for a reply, a case or a call stay until done."""
    t = AgentTask
    result = session.execute(
        update(t)
        .where(t.as_of_date < day, t.status == "open", t.source.is_(None))
        .values(status="expired", closed_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]

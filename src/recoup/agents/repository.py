"""SQL for agent tasks, their events and account notes. The only module that writes
`agent_tasks`, `agent_task_events` and `account_notes`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from recoup.kit import bulk, frames
from recoup.kit.db import among
from recoup.kit.types import UTCDateTime
from recoup.models import AccountNote, AgentTask, AgentTaskEvent

COLUMNS = (
    "account_id",
    "as_of_date",
    "queue",
    "priority",
    "status",
    "source",
    "subject_id",
    "created_at",
    "assigned_to",
    "due_at",
    "due_until",
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
    if rows:
        t, e = AgentTask, AgentTaskEvent
        for (queue, day, actor), group in _groups(rows).items():
            _events_from(
                session,
                "assigned",
                actor,
                group[0]["created_at"],
                and_(
                    among(session, t.account_id, {r["account_id"] for r in group}),
                    t.queue == queue,
                    t.as_of_date == day,
                    ~exists().where(e.task_id == t.id),
                ),
            )
    return len(rows)


def _groups(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, dt.date, str], list[dict[str, Any]]]:
    out: dict[tuple[str, dt.date, str], list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(
            (r["queue"], r["as_of_date"], f"queue:{r.get('source') or 'policy'}"), []
        ).append(r)
    return out


def add_frame(session: Session, tasks: pl.DataFrame) -> int:
    """A day's queue from the daily run (a frame of `COLUMNS`, one per account and queue, for a day
    that has none yet), each with its `assigned` event (to the queue, by the daily run), written
    set-based: one INSERT ... SELECT of the day's policy tasks without an event."""
    added = frames.insert_frame(session, _table(), tasks)
    if added:
        # The rows just inserted, by what they share (the day's queue is written once, at one
        # moment): no anti-join against the events, whose planner estimates lag a fresh day.
        t = AgentTask
        days = tasks.get_column("as_of_date").unique().to_list()
        at = tasks.get_column("created_at")[0]
        _events_from(
            session,
            "assigned",
            "daily run",
            at,
            and_(t.as_of_date.in_(days), t.source.is_(None), t.created_at == at),
        )
    return added


def by_ids(session: Session, ids: Collection[int]) -> dict[int, AgentTask]:
    return {
        t.id: t for t in session.scalars(select(AgentTask).where(among(session, AgentTask.id, ids)))
    }


def _of_sources(sources: Collection[str | None]) -> ColumnElement[bool]:
    t = AgentTask
    named = [s for s in sources if s is not None]
    return or_(t.source.is_(None), t.source.in_(named)) if None in sources else t.source.in_(named)


def _in_window(now: dt.datetime) -> ColumnElement[bool]:
    """The task's moment has come (`due_at`) and its window has not ended (`due_until`, the end
    excluded: a day call ending at 18:00 is not offered at 18:00). A task without either has no
    such bound."""
    t = AgentTask
    return and_(
        or_(t.due_at.is_(None), t.due_at <= now),
        or_(t.due_until.is_(None), t.due_until > now),
    )


def _ended(now: dt.datetime) -> ColumnElement[bool]:
    """An open task whose window has ended: not offered any more, left for the next daily run to
    expire (and counted apart in the supervisor's view)."""
    t = AgentTask
    return and_(t.status == "open", t.due_until.is_not(None), t.due_until <= now)


def _workable_now(day: dt.date, now: dt.datetime, sources: Collection[str | None]) -> Any:
    """The day's open tasks of these sources nobody holds, within their window now."""
    t = AgentTask
    return and_(
        t.as_of_date == day,
        t.status == "open",
        _of_sources(sources),
        _free(now),
        _in_window(now),
    )


def first_per_account(
    session: Session,
    day: dt.date,
    now: dt.datetime,
    *,
    sources: Collection[str | None],
    limit: int,
) -> list[tuple[int, int]]:
    """(task, account) for at most `limit` accounts: each account's highest-priority workable task
    (`_workable_now`), the accounts in the order of that task's priority. One row per account,
    however many queues hold it (a window function, on SQLite and PostgreSQL alike)."""
    t = AgentTask
    ranked = (
        select(
            t.id,
            t.account_id,
            t.priority,
            func.row_number()
            .over(partition_by=t.account_id, order_by=(t.priority.desc(), t.id))
            .label("n"),
        )
        .where(_workable_now(day, now, sources))
        .subquery()
    )
    stmt = (
        select(ranked.c.id, ranked.c.account_id)
        .where(ranked.c.n == 1)
        .order_by(ranked.c.priority.desc(), ranked.c.id)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in session.execute(stmt)]


def workable_of_accounts(
    session: Session,
    account_ids: Collection[int],
    day: dt.date,
    now: dt.datetime,
    *,
    sources: Collection[str | None],
) -> list[int]:
    """The workable tasks (`_workable_now`) of these accounts, every queue's."""
    t = AgentTask
    stmt = select(t.id).where(
        among(session, t.account_id, account_ids), _workable_now(day, now, sources)
    )
    return list(session.scalars(stmt.order_by(t.id)))


def close(
    session: Session, ids: Collection[int], status: str, *, now: dt.datetime, actor: str
) -> int:
    """Close open tasks (`done` or `expired`), each with its event (one INSERT ... SELECT first,
    of the ones still open, then the UPDATE)."""
    if not ids:
        return 0
    t = AgentTask
    _events_from(session, status, actor, now, and_(among(session, t.id, ids), t.status == "open"))
    result = session.execute(
        update(t)
        .where(among(session, t.id, ids), t.status == "open")
        .values(status=status, closed_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def expire_before(session: Session, day: dt.date, *, now: dt.datetime) -> int:
    """Open tasks of the policy's queues and of the strategy's calls from days before `day`:
    nobody reached them that day (the workbench offers them on their day only) and the day's run
    queues and plans afresh; the tasks for a reply, a case or a call back stay until done."""
    t = AgentTask
    stale = and_(
        t.as_of_date < day, t.status == "open", or_(t.source.is_(None), t.source == "call")
    )
    _events_from(session, "expired", "daily run", now, stale)
    result = session.execute(
        update(t).where(stale).values(status="expired", closed_at=now, lock_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- the life of a task: events -------------------------------------------------------------------


def add_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Events (task_id, kind, actor, at, detail) row by row: an agent's few."""
    if events:
        session.execute(insert(AgentTaskEvent), [dict(e) for e in events])


def _events_from(session: Session, kind: str, actor: str, now: dt.datetime, where: Any) -> None:
    """One event of `kind` for every task `where` selects, in one statement (the daily run's
    100,000 tasks are one INSERT ... SELECT, not 100,000 rows through Python)."""
    t = AgentTask
    session.execute(
        insert(AgentTaskEvent).from_select(
            ["task_id", "kind", "actor", "at"],
            select(
                t.id,
                literal(kind, String(16)),
                literal(actor, String(128)),
                literal(now, UTCDateTime()),
            ).where(where),
        )
    )


def events_of(session: Session, task_ids: Collection[int]) -> list[AgentTaskEvent]:
    e = AgentTaskEvent
    return list(
        session.scalars(select(e).where(among(session, e.task_id, task_ids)).order_by(e.at, e.id))
    )


# -- taking, holding, letting go ------------------------------------------------------------------


def _free(now: dt.datetime) -> ColumnElement[bool]:
    t = AgentTask
    return or_(t.taken_by.is_(None), t.lock_until < now)


def held_by(session: Session, staff_id: int, now: dt.datetime) -> list[AgentTask]:
    """The open tasks this agent holds with a lock still running, highest priority first."""
    t = AgentTask
    return list(
        session.scalars(
            select(t)
            .where(t.taken_by == staff_id, t.status == "open", t.lock_until >= now)
            .order_by(t.priority.desc(), t.id)
        )
    )


def candidates(
    session: Session,
    *,
    staff_id: int,
    day: dt.date,
    now: dt.datetime,
    sources: Collection[str | None],
    limit: int,
    offset: int,
) -> list[tuple[int, int, int | None]]:
    """(task, account, holder whose lock ran out) of the tasks an agent may take now: the day's
    open tasks of the workable queues nobody holds (or whose holder's lock ran out), not given to
    another agent; the ones given to this agent first (any day), then by priority."""
    t = AgentTask
    of_queue = _of_sources(sources)
    stmt = (
        select(t.id, t.account_id, t.taken_by)
        .where(
            t.status == "open",
            _free(now),
            _in_window(now),
            or_(t.assigned_to.is_(None), t.assigned_to == staff_id),
            or_(and_(t.as_of_date == day, of_queue), t.assigned_to == staff_id),
        )
        .order_by(case((t.assigned_to == staff_id, 0), else_=1), t.priority.desc(), t.id)
        .limit(limit)
        .offset(offset)
    )
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def workable_of_account(
    session: Session,
    account_id: int,
    *,
    day: dt.date,
    now: dt.datetime,
    staff_id: int,
    sources: Collection[str | None],
) -> list[int]:
    """The open tasks of one account an agent works together (a policy queue's and a call's)."""
    t = AgentTask
    of_queue = _of_sources(sources)
    stmt = select(t.id).where(
        t.account_id == account_id,
        t.status == "open",
        _in_window(now),
        or_(t.assigned_to.is_(None), t.assigned_to == staff_id),
        or_(and_(t.as_of_date == day, of_queue), t.assigned_to == staff_id),
    )
    return list(session.scalars(stmt.order_by(t.id)))


def claim(
    session: Session, ids: Collection[int], *, staff_id: int, now: dt.datetime, until: dt.datetime
) -> bool:
    """Take these tasks (one account's) for an agent, all or none, atomically: a conditional
    UPDATE that only touches rows still open and free. Two agents claiming the same tasks at once
    update the same rows: the second waits on the first's row locks (PostgreSQL re-reads the
    condition, SQLite has one writer), finds them taken, and updates fewer than it asked for, so
    it lets go of what it got and answers False."""
    t = AgentTask
    result = session.execute(
        update(t)
        .where(among(session, t.id, ids), t.status == "open", _free(now))
        .values(taken_by=staff_id, taken_at=now, lock_until=until)
    )
    if int(result.rowcount) == len(ids):  # type: ignore[attr-defined]
        return True
    session.execute(
        update(t)
        .where(among(session, t.id, ids), t.taken_by == staff_id, t.taken_at == now)
        .values(taken_by=None, taken_at=None, lock_until=None)
    )
    return False


def let_go(session: Session, ids: Collection[int], *, staff_id: int) -> int:
    """The agent's hold on these tasks ends (released, or reassigned by a supervisor)."""
    t = AgentTask
    result = session.execute(
        update(t)
        .where(among(session, t.id, ids), t.taken_by == staff_id)
        .values(taken_by=None, taken_at=None, lock_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def assign(session: Session, task_id: int, *, to: int | None) -> int:
    """Give an open task to an agent (or back to the queue); whoever held it lets go."""
    t = AgentTask
    result = session.execute(
        update(t)
        .where(t.id == task_id, t.status == "open")
        .values(assigned_to=to, taken_by=None, taken_at=None, lock_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def finish(session: Session, ids: Collection[int], *, outcome: str, now: dt.datetime) -> int:
    """Close an agent's tasks `done` with the wrap-up's outcome (only open ones)."""
    t = AgentTask
    result = session.execute(
        update(t)
        .where(among(session, t.id, ids), t.status == "open")
        .values(status="done", outcome=outcome, closed_at=now, lock_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- what supervisors see -------------------------------------------------------------------------


def queue_counts(
    session: Session, day: dt.date, now: dt.datetime
) -> list[tuple[str, str, str, int]]:
    """(queue, status, state now: held | ended | free, how many) of the day's tasks: an open task
    is `held` while an agent's lock runs, else `ended` once its window has (`_ended`)."""
    t = AgentTask
    held = and_(t.taken_by.is_not(None), t.lock_until >= now)
    state = case((held, "held"), (_ended(now), "ended"), else_="free").label("state")
    stmt = (
        select(t.queue, t.status, state, func.count())
        .where(t.as_of_date == day)
        .group_by(t.queue, t.status, state)
    )
    return [(r[0], r[1], str(r[2]), int(r[3])) for r in session.execute(stmt)]


def agent_load(session: Session, day: dt.date, now: dt.datetime) -> list[tuple[int, str, int]]:
    """(staff id, what: held | assigned | done, how many) for the day's tasks."""
    t = AgentTask
    out: list[tuple[int, str, int]] = []
    held = select(t.taken_by, func.count()).where(
        t.status == "open", t.taken_by.is_not(None), t.lock_until >= now
    )
    out += [(r[0] or 0, "held", int(r[1])) for r in session.execute(held.group_by(t.taken_by))]
    assigned = select(t.assigned_to, func.count()).where(
        t.status == "open", t.assigned_to.is_not(None)
    )
    out += [
        (r[0] or 0, "assigned", int(r[1]))
        for r in session.execute(assigned.group_by(t.assigned_to))
    ]
    done = (
        select(t.taken_by, func.count())
        .where(t.status == "done", t.taken_by.is_not(None), t.as_of_date == day)
        .group_by(t.taken_by)
    )
    out += [(r[0] or 0, "done", int(r[1])) for r in session.execute(done)]
    return out


def done_by(session: Session, staff_id: int, day: dt.date) -> int:
    t = AgentTask
    stmt = select(func.count()).where(
        t.status == "done", t.taken_by == staff_id, t.closed_at.is_not(None), t.as_of_date == day
    )
    return int(session.scalar(stmt) or 0)


def open_of_day(session: Session, day: dt.date, *, limit: int) -> list[AgentTask]:
    t = AgentTask
    stmt = (
        select(t)
        .where(t.status == "open", or_(t.as_of_date == day, t.assigned_to.is_not(None)))
        .order_by(t.priority.desc(), t.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def of_account(session: Session, account_id: int, *, limit: int) -> list[AgentTask]:
    t = AgentTask
    stmt = select(t).where(t.account_id == account_id).order_by(t.id.desc()).limit(limit)
    return list(session.scalars(stmt))


# -- notes ----------------------------------------------------------------------------------------


def add_note(session: Session, *, account_id: int, author: str, text: str, now: dt.datetime) -> int:
    note = AccountNote(account_id=account_id, author=author, text=text, created_at=now)
    session.add(note)
    session.flush()
    return note.id


def notes_of(session: Session, account_id: int, *, limit: int) -> list[AccountNote]:
    n = AccountNote
    stmt = select(n).where(n.account_id == account_id).order_by(n.id.desc()).limit(limit)
    return list(session.scalars(stmt))

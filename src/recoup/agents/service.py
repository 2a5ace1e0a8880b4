"""Agent tasks: created by the daily run (the policy's queues), by the dispatcher (a call to
place), by a reply nobody could classify and by a case; worked by agents (closed `done`); a policy
queue's or a call's task left open past its day `expired` by the next daily run. One service for all of them.

Statuses: `open` → `done` | `expired`. A task is unique per account, day and queue: a second one
asked for joins the first.

Its life is a row of events (`agent_task_events`): `assigned` (queued by the daily run or another
package, or given to an agent by a supervisor: `reassigned`), `taken` (an agent holds it under a
lock of `LOCK` without a wrap-up), `released` (let go, or its lock ran out and another agent took
it), `done` (with the wrap-up's outcome) and `expired`.

An agent asks for the next account (`take_next`): the highest-priority open task of the day's
workable queues that nobody holds, the tasks a supervisor gave this agent first, within its
window: not before its `due_at`, not from its `due_until` on (the end of its treatment's window: a
day call is not offered in the evening; it stays open, counted `ended` in the supervisor's view,
and the next daily run expires it and decides again). Every open task of
that account the agent could work is claimed with it, atomically (a conditional UPDATE, checked by
its row count), so two agents never hold the same account; an agent holds at most one account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from recoup.agents import repository as repo
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.models import AccountNote, AgentTask, AgentTaskEvent

OPEN, DONE, EXPIRED = "open", "done", "expired"
# How long an agent holds an account without a wrap-up before anyone may take it.
LOCK = dt.timedelta(minutes=15)
# The tasks "next account" offers: the policy's queues (no source) and the calls the strategy
# put in the agents' queue (`call`), and the calls back an agent promised (`callback`, given to
# that agent, not offered before their moment); replies and cases have their own inboxes.
WORKABLE: tuple[str | None, ...] = (None, "call", "callback")
# How far down the queue one "next account" looks for an account the guard lets us call now.
SCAN_LIMIT = 500
SCAN_BATCH = 50
MAX_NOTE = 2_000


def open_tasks(session: Session, tasks: Sequence[dict[str, Any]]) -> int:
    """Queue tasks (account_id, as_of_date, queue, priority, source, subject_id, created_at)."""
    return repo.add(session, [{**t, "status": OPEN} for t in tasks])


def queue_day(session: Session, tasks: pl.DataFrame, *, day: dt.date, now: dt.datetime) -> int:
    """The day's queue as the policy ordered it (account_id, queue, priority; optionally
    due_at: not offered before that moment, the hour a learned queue's call was given; and
    due_until: not offered from that moment, the end of that hour's window)."""
    if tasks.height == 0:
        return 0
    due = [
        (
            pl.col(c).cast(pl.Datetime("us", "UTC"))
            if c in tasks.columns
            else pl.lit(None, pl.Datetime("us", "UTC")).alias(c)
        )
        for c in ("due_at", "due_until")
    ]
    return repo.add_frame(
        session,
        tasks.select(
            "account_id",
            pl.lit(day).alias("as_of_date"),
            "queue",
            pl.col("priority").fill_null(0.0),
            pl.lit(OPEN).alias("status"),
            pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("created_at"),
            *due,
        ),
    )


def get_many(session: Session, ids: Sequence[int]) -> dict[int, AgentTask]:
    found = repo.by_ids(session, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"no agent task {missing[0]}")
    return found


@dataclass(frozen=True)
class Round:
    """A dialler's round: one task to dial per account (its highest-priority one), the accounts
    highest priority first, and every workable task of those accounts, to close with the call."""

    dial: list[int]
    tasks: list[int]


def next_round(session: Session, day: dt.date, now: dt.datetime, *, limit: int) -> Round:
    """What "next account" would offer, `limit` accounts at a time: the day's open tasks of the
    `WORKABLE` queues nobody holds, within their window (a call back only from its moment, a day
    call not past its window's end), one dial per account
    however many queues hold it (a policy queue's task and a call treatment's on the same day
    are one call), highest priority first."""
    first = repo.first_per_account(session, day, now, sources=WORKABLE, limit=limit)
    if not first:
        return Round([], [])
    tasks = repo.workable_of_accounts(session, [a for _, a in first], day, now, sources=WORKABLE)
    return Round([t for t, _ in first], tasks)


def done(
    session: Session, ids: Collection[int], *, now: dt.datetime, actor: str = "simulation"
) -> int:
    """Close tasks `done` (with a `done` event each, set-based)."""
    return repo.close(session, ids, DONE, now=now, actor=actor)


def expire_stale(session: Session, day: dt.date, *, now: dt.datetime) -> int:
    """Close the policy queues' and the strategy's calls' tasks left open from before `day`
    (`expired`, an event each, set-based)."""
    return repo.expire_before(session, day, now=now)


# -- an agent's work ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """What "next account" gave: the task in hand (None: nothing callable is left), the account's
    other tasks claimed with it, and how many accounts were passed over because the guard refuses
    a call to them now (they stay in the queue for later)."""

    task: AgentTask | None
    tasks: list[AgentTask]
    skipped: int = 0
    already_held: bool = False


def in_hand(session: Session, staff_id: int, now: dt.datetime) -> list[AgentTask]:
    """The tasks this agent holds now (one account's), highest priority first."""
    return repo.held_by(session, staff_id, now)


def take_next(
    session: Session,
    staff_id: int,
    day: dt.date,
    now: dt.datetime,
    *,
    actor: str,
    callable_now: Callable[[Sequence[int]], Collection[int]] | None = None,
) -> Taken:
    """The next account for an agent, locked to them for `LOCK`. An agent already holding one
    gets it back (at most one at a time). `callable_now` answers which of some accounts the
    compliance guard lets us call at this moment: the others are passed over (counted in
    `skipped`), so the agent is handed an account they can call, and the ones passed over stay
    in the queue for a moment when the guard allows it."""
    held = repo.held_by(session, staff_id, now)
    if held:
        return Taken(held[0], held, already_held=True)
    skipped: set[int] = set()
    tried: set[int] = set()
    offset = 0
    while offset < SCAN_LIMIT:
        batch = repo.candidates(
            session,
            staff_id=staff_id,
            day=day,
            now=now,
            sources=WORKABLE,
            limit=SCAN_BATCH,
            offset=offset,
        )
        if not batch:
            break
        offset += len(batch)
        accounts = list(dict.fromkeys(a for _, a, _ in batch if a not in tried | skipped))
        allowed = set(callable_now(accounts)) if callable_now is not None else set(accounts)
        skipped |= set(accounts) - allowed
        for account_id in accounts:
            if account_id not in allowed:
                continue
            tried.add(account_id)
            ids = repo.workable_of_account(
                session, account_id, day=day, now=now, staff_id=staff_id, sources=WORKABLE
            )
            # Who held them (a lock that ran out), read before the claim changes the rows.
            holders = {t.id: t.taken_by for t in repo.by_ids(session, ids).values()}
            if not ids or not repo.claim(
                session, ids, staff_id=staff_id, now=now, until=now + LOCK
            ):
                continue  # another agent has it (or part of it): the next account
            events: list[dict[str, Any]] = []
            for task_id in ids:
                was = holders.get(task_id)
                if was is not None and was != staff_id:
                    events.append(_event(task_id, "released", "lock", now, {"staff": was}))
                events.append(_event(task_id, "taken", actor, now, {"staff": staff_id}))
            repo.add_events(session, events)
            session.expire_all()
            tasks = repo.held_by(session, staff_id, now)
            return Taken(tasks[0] if tasks else None, tasks, skipped=len(skipped))
    return Taken(None, [], skipped=len(skipped))


def _event(
    task_id: int, kind: str, actor: str, at: dt.datetime, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"task_id": task_id, "kind": kind, "actor": actor, "at": at, "detail": detail or {}}


def held_task(session: Session, task_id: int, staff_id: int, now: dt.datetime) -> AgentTask:
    """The task, if this agent holds it now (else 409: its lock ran out, or someone else has it)."""
    task = get_many(session, [task_id])[task_id]
    if task.status != OPEN:
        raise Conflict(f"agent task {task_id} is {task.status}")
    if task.taken_by != staff_id or task.lock_until is None or task.lock_until < now:
        raise Conflict(f"agent task {task_id} is not in your hands (take it with next account)")
    return task


def release(session: Session, task_id: int, staff_id: int, now: dt.datetime, *, actor: str) -> int:
    """The agent lets go of the account without a wrap-up: it goes back to the queue."""
    task = held_task(session, task_id, staff_id, now)
    ids = [t.id for t in repo.held_by(session, staff_id, now) if t.account_id == task.account_id]
    repo.let_go(session, ids, staff_id=staff_id)
    repo.add_events(session, [_event(i, "released", actor, now) for i in ids])
    return len(ids)


def wrap_up(
    session: Session,
    task_id: int,
    staff_id: int,
    now: dt.datetime,
    *,
    outcome: str,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> list[int]:
    """Close the account's tasks this agent holds `done`, with the outcome (an event each): the
    account leaves the queue. Which tasks were closed."""
    task = held_task(session, task_id, staff_id, now)
    ids = [t.id for t in repo.held_by(session, staff_id, now) if t.account_id == task.account_id]
    repo.add_events(
        session, [_event(i, DONE, actor, now, {"outcome": outcome, **(detail or {})}) for i in ids]
    )
    repo.finish(session, ids, outcome=outcome, now=now)
    return ids


def reassign(
    session: Session, task_id: int, to: int | None, now: dt.datetime, *, actor: str
) -> AgentTask:
    """A supervisor gives an open task to an agent (staff id), or back to the queue (None):
    whoever held it lets go (`released`), and the task is `reassigned`."""
    task = get_many(session, [task_id])[task_id]
    if task.status != OPEN:
        raise Conflict(f"agent task {task_id} is {task.status}: only an open task is reassigned")
    events: list[dict[str, Any]] = []
    if task.taken_by is not None and task.lock_until is not None and task.lock_until >= now:
        events.append(_event(task.id, "released", actor, now, {"staff": task.taken_by}))
    events.append(_event(task.id, "reassigned", actor, now, {"to": to, "from": task.assigned_to}))
    repo.assign(session, task.id, to=to)
    repo.add_events(session, events)
    session.expire_all()
    return get_many(session, [task_id])[task_id]


def events_of(session: Session, task_ids: Collection[int]) -> list[AgentTaskEvent]:
    return repo.events_of(session, task_ids)


def of_account(session: Session, account_id: int, *, limit: int = 50) -> list[AgentTask]:
    return repo.of_account(session, account_id, limit=limit)


def open_tasks_of_day(session: Session, day: dt.date, *, limit: int = 200) -> list[AgentTask]:
    return repo.open_of_day(session, day, limit=limit)


def done_today(session: Session, staff_id: int, day: dt.date) -> int:
    return repo.done_by(session, staff_id, day)


@dataclass(frozen=True)
class QueueLoad:
    """A queue's day: `open` (offered, nobody holds), `taken` (held now), `ended` (still open but
    its window has ended: no longer offered, expired by the next daily run), `done`, `expired`."""

    queue: str
    open: int
    taken: int
    done: int
    expired: int
    ended: int = 0


@dataclass(frozen=True)
class AgentLoad:
    staff_id: int
    held: int
    assigned: int
    done: int


def queues(
    session: Session, day: dt.date, now: dt.datetime
) -> tuple[list[QueueLoad], list[AgentLoad]]:
    """Each queue's open (nobody holds), taken (held now), ended (open past its window), done and
    expired counts of the day, and the load per agent (held now, assigned and open, done today)."""
    per: dict[str, dict[str, int]] = {}
    states = {"held": "taken", "ended": "ended", "free": "open"}
    for queue, status, state, n in repo.queue_counts(session, day, now):
        row = per.setdefault(queue, {"open": 0, "taken": 0, "done": 0, "expired": 0, "ended": 0})
        key = states[state] if status == OPEN else status
        row[key] = row.get(key, 0) + n
    loads: dict[int, dict[str, int]] = {}
    for staff_id, what, n in repo.agent_load(session, day, now):
        loads.setdefault(staff_id, {"held": 0, "assigned": 0, "done": 0})[what] += n
    return (
        [
            QueueLoad(q, r["open"], r["taken"], r["done"], r["expired"], r["ended"])
            for q, r in sorted(per.items())
        ],
        [AgentLoad(s, **v) for s, v in sorted(loads.items())],
    )


# -- notes ----------------------------------------------------------------------------------------


def add_note(session: Session, account_id: int, text: str, *, author: str, now: dt.datetime) -> int:
    """A note on an account (the caller checked the account exists): at most `MAX_NOTE`
    characters, sealed at rest."""
    text = text.strip()
    if not text:
        raise ValidationFailed("text: write the note")
    if len(text) > MAX_NOTE:
        raise ValidationFailed(f"text: a note is at most {MAX_NOTE:,} characters")
    if "\x00" in text:
        raise ValidationFailed("text: holds a NUL character")
    return repo.add_note(session, account_id=account_id, author=author, text=text, now=now)


def notes_of(session: Session, account_id: int, *, limit: int = 100) -> list[AccountNote]:
    return repo.notes_of(session, account_id, limit=limit)


CALLBACKS = "callbacks"


def call_back(
    session: Session,
    account_id: int,
    at: dt.datetime,
    *,
    day: dt.date,
    staff_id: int,
    now: dt.datetime,
) -> int:
    """A call back the debtor asked for: a task for that moment, given to the agent who promised
    it (offered to them by "next account" from `at` on). How many were added (0: one stands)."""
    return repo.add(
        session,
        [
            {
                "account_id": account_id,
                "as_of_date": day,
                "queue": CALLBACKS,
                "priority": 1_000_000.0,  # a promise to call at a time comes before the queue
                "status": OPEN,
                "source": "callback",
                "subject_id": None,
                "created_at": now,
                "assigned_to": staff_id,
                "due_at": at,
            }
        ],
    )

"""The simulated agents: twice a day they work the day's call queue, highest priority first, as
far as their capacity goes, through click-to-call (`contact.flows.dial_many`, checked by the guard
twice, like a real agent's call), and close the tasks they worked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from recoup.agents import service as agents_service
from recoup.compliance import Guard
from recoup.contact import flows as contact_flows
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import Clock
from recoup.simulation.report import DayReport


def dial(
    sessions: sessionmaker[Session],
    day: dt.date,
    report: DayReport,
    *,
    capacity: int,
    clock: Clock,
    config: DispatchConfig,
    guard: Guard,
    channels: Sequence[str],
) -> None:
    """One round of calls: up to `capacity` of the day's open tasks, asked for together."""
    with sessions.begin() as session:
        tasks = agents_service.next_open(session, day, limit=capacity)
        if not tasks:
            return
        calls = contact_flows.dial_many(
            session,
            tasks,
            agent="sim-agent",
            actor="agent:sim",
            clock=clock,
            config=config,
            guard=guard,
            channels=list(channels),
        )
        agents_service.done(session, tasks, now=clock.now())
    report.events["dials"] += len(calls)
    report.events["dial_blocked"] += sum(c.status == "blocked" for c in calls)

"""The simulated agents: twice a day they work what the workbench's "next account" offers
(`agents.service.next_round`: the policy's hand-off queues and the call treatments' tasks alike),
highest priority first, as far as their capacity goes, one call per account however many of its
tasks are open, through click-to-call (`contact.flows.dial_many`, checked by the guard twice, like
a real agent's call), and close every task of the accounts they worked."""

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
    """One round of calls: up to `capacity` accounts of the day's open tasks, asked for together."""
    with sessions.begin() as session:
        work = agents_service.next_round(session, day, clock.now(), limit=capacity)
        if not work.dial:
            return
        calls = contact_flows.dial_many(
            session,
            work.dial,
            agent="sim-agent",
            actor="agent:sim",
            clock=clock,
            config=config,
            guard=guard,
            channels=list(channels),
        )
        agents_service.done(session, work.tasks, now=clock.now())
    report.events["dials"] += len(calls)
    report.events["dial_blocked"] += sum(c.status == "blocked" for c in calls)

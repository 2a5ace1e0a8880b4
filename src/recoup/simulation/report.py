"""What a simulation reports: per day, the payments, the money collected, the contacts sent,
the events counted and the wall and CPU time by phase."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from recoup.assistant.service import Kpis


@dataclass
class DayReport:
    date: dt.date
    payments: int = 0
    collected: Counter[str] = field(default_factory=Counter)  # currency -> minor units
    recovered: Counter[str] = field(default_factory=Counter)  # of it, toward overdue amounts
    sent: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time by phase
    cpu: dict[str, float] = field(default_factory=dict)  # the process's CPU time by phase
    # By the world's segment (`-` for debtors in none): (segment, channel) -> contacts sent,
    # (segment, currency) -> minor units recovered.
    segment_sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    segment_recovered: Counter[tuple[str, str]] = field(default_factory=Counter)
    # The agents' calls by the world's segment, the local hour they were placed (`day` before
    # 18:00, `evening` from 18:00) and whether the debtor answered: (segment, "evening answered")
    # -> calls. Says whether a policy's calls reached a segment when it answers.
    segment_calls: Counter[tuple[str, str]] = field(default_factory=Counter)


@dataclass
class SimulationResult:
    start: dt.date
    days: list[DayReport] = field(default_factory=list)
    accounts: int = 0  # in the portfolio
    segments: dict[str, int] = field(default_factory=dict)  # accounts in each segment
    breaches: int | None = None  # what the independent contact audit found, once it has run
    # Roll rates over the run (analytics' roll table: from bucket -> to bucket -> share of the
    # accounts in the first at a snapshot), once the command has read them.
    rolls: dict[tuple[str, str], float] = field(default_factory=dict)
    # The assistant's figures over the run (`assistant.service.kpis`), when debtors wrote to it.
    assistant: Kpis | None = None
    # Money recovered over the run by currency as the KPIs count it (`analytics.service.recovery`:
    # applied to bills while overdue), once the command has read it; `recovered` is the
    # simulator's own tally (payments not made by the due date), which the benchmarks compare.
    recovery: Counter[str] = field(default_factory=Counter)

    def contacts(self) -> int:
        """Messages sent and calls placed."""
        return sum(self.sent.values())

    def per_segment(self, name: str) -> Counter[tuple[str, str]]:
        """`segment_sent`, `segment_recovered` or `segment_calls` summed over the days."""
        out: Counter[tuple[str, str]] = Counter()
        for d in self.days:
            out.update(getattr(d, name))
        return out

    def total(self, name: str) -> int:
        return sum(d.events[name] for d in self.days)

    @property
    def collected(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for d in self.days:
            out.update(d.collected)
        return out

    @property
    def recovered(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for d in self.days:
            out.update(d.recovered)
        return out

    @property
    def sent(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for d in self.days:
            out.update(d.sent)
        return out

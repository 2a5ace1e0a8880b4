"""What a simulation reports: per day, the payments, the money collected, the contacts sent,
the events counted and the wall time by phase."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class DayReport:
    date: dt.date
    payments: int = 0
    collected: Counter[str] = field(default_factory=Counter)  # currency -> minor units
    sent: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time by phase


@dataclass
class SimulationResult:
    start: dt.date
    days: list[DayReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(d.events[name] for d in self.days)

    @property
    def collected(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for d in self.days:
            out.update(d.collected)
        return out

    @property
    def sent(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for d in self.days:
            out.update(d.sent)
        return out

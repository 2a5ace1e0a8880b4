"""The simulation's channels: the real dispatcher sends through adapters that hand each message
to the simulated debtors instead of a network (every message it would hand a provider, after its
send-time checks)."""

from __future__ import annotations

import dataclasses
import random
import threading

from sqlalchemy.orm import Session, sessionmaker

from recoup.channels.base import Accepted, Outgoing
from recoup.compliance import Guard
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import Clock
from recoup.simulation.report import DayReport
from recoup.worker.dispatcher import Dispatcher

CHANNELS = ("sms", "email", "push", "dial")
CLAIM_BATCH = 1000  # contacts the simulated dispatcher claims at a time


class SimulationAdapter:
    """A channel provider that hands each message to the simulated debtors instead of a network.
    Thread-safe: the dispatcher sends from several threads."""

    def __init__(self, channel: str) -> None:
        self.name = "simulation"
        self.channel = channel
        self.concurrency = 1
        self.rate_per_second: float | None = None
        self.inline = True  # hands the message over in memory
        self._lock = threading.Lock()
        self._sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> Accepted:
        with self._lock:
            self._sent.append(message)
        return Accepted(self.name, message.idempotency_key, delivered=self.channel != "dial")

    def take(self) -> list[Outgoing]:
        with self._lock:
            sent, self._sent = self._sent, []
        return sent

    def close(self) -> None:
        pass


def adapters() -> dict[str, SimulationAdapter]:
    return {c: SimulationAdapter(c) for c in CHANNELS}


def taken(channels: dict[str, SimulationAdapter]) -> list[tuple[str, Outgoing]]:
    """(channel, message) of everything sent since the last look."""
    return [(c, m) for c, a in channels.items() for m in a.take()]


def dispatcher(
    sessions: sessionmaker[Session],
    channels: dict[str, SimulationAdapter],
    *,
    clock: Clock,
    config: DispatchConfig,
    guard: Guard,
    seed: int,
) -> Dispatcher:
    return Dispatcher(
        sessions,
        channels,
        clock=clock,
        # The simulation channels answer at once: larger batches, fewer round trips.
        config=dataclasses.replace(config, batch=max(config.batch, CLAIM_BATCH)),
        guard=guard,
        rng=random.Random(seed),
    )


def drain(dispatcher: Dispatcher, report: DayReport) -> None:
    """The dispatcher sends everything due now, until nothing is left."""
    outcomes = dispatcher.run(stop=threading.Event(), until_idle=True, idle_seconds=0)
    report.events.update({f"contact_{k}": v for k, v in outcomes.items()})

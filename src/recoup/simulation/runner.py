"""The simulator: the real engine on a simulated portfolio, day by day, with a simulated clock.
This module is the run loop; its parts are modules of their own:

- `clock`: the day's moments in the debtors' zone, and when the dispatcher and agents work;
- `channels`: the adapters the real dispatcher sends through, to the debtors instead of a network;
- `agents`: the agents working the call queue through click-to-call;
- `debtors`: who the debtors are, what reached them, what they do through the real flows;
- `money`: the day's payments, the wallets, the settlement file;
- `report`: what a run reports.

Each simulated day, in the debtors' time zone (Asia/Shanghai for the default world):

- 06:00 the daily run, the same flow as `recoup run daily` (`daily.flows.run_day`): arrangements
  kept and broken, the delinquency pass, the strategy's decisions and contact plans (checked by
  the compliance guard);
- 09:00 to 20:00 the dispatcher sends what is due, slot by slot, through the simulation channels,
  and agents work the call queue; debtors react to what reached them through the real flows;
- 20:00 the day's payments arrive as the wallet's settlement file (the importer, settled by
  `ledger.flows.settle`).

What the debtors do comes from the behaviour model (`behaviour.py`), deterministic for a seed.
The simulator runs no SQL of its own: it reads through the owners' repositories and changes
things through their flows and services.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session, sessionmaker

from recoup.assistant import service as assistant_service
from recoup.compliance import deployment_guard
from recoup.config import get_settings
from recoup.contact.dispatch import DispatchConfig
from recoup.daily import flows as daily_flows
from recoup.ingest.columns import ORDER
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.kit.errors import RecoupError
from recoup.simulation import agents, channels, money
from recoup.simulation.clock import CALL_SLOTS, MORNING, ZONE, local, reply_at, slots, timed
from recoup.simulation.debtors import Debtors
from recoup.simulation.generator import Generator
from recoup.simulation.report import DayReport, SimulationResult
from recoup.simulation.world import World
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import parse_policy

__all__ = ["DayReport", "Progress", "Simulation", "SimulationResult", "local"]

Progress = Callable[[int, int, str], None]


class Simulation:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        world: World,
        *,
        seed: int,
        start: dt.date,
        config: DispatchConfig,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.world = world
        self.seed = seed
        self.start = start
        self.config = config
        # The deployment's guard (the packs under RECOUP_COMPLIANCE_HOUSE_FILE), at plan and at
        # send time alike: the simulator plays the deployment as configured, so a house policy's
        # cost in contacts and payments shows in its report; run it with another file to compare.
        self.guard = deployment_guard(get_settings().compliance_house_file)
        self.adapters = channels.adapters()
        self.debtors = Debtors(sessions, clock, world, seed=seed)
        self.slots: list[dt.time] = list(CALL_SLOTS)  # set from the policy by `load_portfolio`

    # setting up

    def load_portfolio(self, *, days: int, policy_text: str, policy_source: str) -> None:
        """Generate the world's portfolio as of the start, import it, activate the policy."""
        self.clock.set(local(self.start - dt.timedelta(days=1), 23))
        portfolio = Generator(
            seed=self.seed,
            as_of=self.start,
            foreign_share=self.world.portfolio.foreign_share,
            horizon=max(20, days + 20),
        ).portfolio(accounts=self.world.portfolio.accounts, prefix="s")
        for kind in ORDER:
            with self.sessions.begin() as session:
                result = Importer(session, clock=self.clock).import_rows(
                    f"simulated {kind}", kind, portfolio.frame(kind)
                )
            if result.errors:
                raise RecoupError(f"the generated {kind} failed validation: {result.errors[:3]}")
        with self.sessions.begin() as session:
            version = strategy_service.save_policy(
                session, policy_text, author="simulator", clock=self.clock, source=policy_source
            )
            strategy_service.activate(session, version.id, actor="simulator", clock=self.clock)
        self.slots = slots(parse_policy(policy_text, source=policy_source))
        self.debtors.load()

    # running

    def run(self, days: int, progress: Progress | None = None) -> SimulationResult:
        result = SimulationResult(self.start, accounts=self.debtors.accounts.height)
        dispatcher = channels.dispatcher(
            self.sessions,
            self.adapters,
            clock=self.clock,
            config=self.config,
            guard=self.guard,
            seed=self.seed,
        )
        try:
            for n in range(days):
                day = self.start + dt.timedelta(days=n)
                report = DayReport(day)
                phase = functools.partial(timed, report.seconds, cpu=report.cpu)
                if progress:
                    progress(n, days, f"{day.isoformat()}: daily run")
                self.debtors.forget(n)
                self._morning(day, phase)
                with phase("segments"):
                    self.debtors.assign(day)
                for slot, after in zip(self.slots, [*self.slots[1:], None], strict=True):
                    self.clock.set(local(day, slot.hour, slot.minute))
                    if slot in CALL_SLOTS:
                        # A call treatment's task opens when the dispatcher claims its contact
                        # at the window's start: the dispatcher first, so the agents find the
                        # slot's calls in this round; the dials go out in the drain below.
                        with phase("dispatcher"):
                            channels.drain(dispatcher, report)
                        with phase("agents dialling"):
                            self._agents_dial(day, report)
                    with phase("dispatcher"):
                        channels.drain(dispatcher, report)
                    self.clock.set(reply_at(day, slot, after))
                    with phase("debtors reacting"):
                        self.debtors.react(n, day, channels.taken(self.adapters), report)
                if progress:
                    progress(n, days, f"{day.isoformat()}: payments")
                with phase("payments"):
                    money.payments(self.sessions, self.clock, self.debtors, n, day, report)
                result.days.append(report)
        finally:
            dispatcher.close()
        result.segments = self.debtors.segment_sizes()
        with self.sessions() as session:
            kpis = assistant_service.kpis(session, since=local(self.start, 0))
        result.assistant = kpis if kpis.conversations else None
        if progress:
            progress(days, days, "done")
        return result

    def _morning(self, day: dt.date, phase: Callable[[str], AbstractContextManager[None]]) -> None:
        """The daily run, the same flow as `recoup run daily` (timed by step)."""
        self.clock.set(local(day, MORNING))
        with self.sessions.begin() as session:
            daily_flows.run_day(
                session,
                day,
                clock=self.clock,
                zone=ZONE.key,
                actor="simulator",
                timer=phase,
                guard=self.guard,
            )

    def _agents_dial(self, day: dt.date, report: DayReport) -> None:
        agents.dial(
            self.sessions,
            day,
            report,
            capacity=self.world.responses.calls.capacity_per_day // len(CALL_SLOTS),
            clock=self.clock,
            config=self.config,
            guard=self.guard,
            channels=list(self.adapters),
        )

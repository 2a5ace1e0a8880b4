"""Simulated debtors who write back in words: the assistant reads them through the SMS webhook's
own road and the run reports its figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from recoup.bootstrap import init_database
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import Conversation, InboundMessage
from recoup.simulation.runner import Simulation, SimulationResult, local
from recoup.simulation.world import Portfolio, Responses, World
from tests.conftest import MASTER
from tests.strategy.test_daily_run import policy_text

pytestmark = pytest.mark.pure
START = dt.date(2026, 6, 1)


def run(tmp_path: Path, name: str) -> tuple[SimulationResult, list[str], int]:
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}.db'}")
    clock = SettableClock(local(START - dt.timedelta(days=1), 23))
    init_database(engine, clock=clock, master=MASTER)
    sessions = make_sessionmaker(engine)
    # Every debtor a text reaches opens its link and writes back in words.
    world = World(
        portfolio=Portfolio(accounts=120),
        responses=Responses(
            opens_link=1.0, wants_plan=0.25, promises_online=0.75, replies_in_words=1.0
        ),
    )
    simulation = Simulation(
        sessions, clock, world, seed=11, start=START, config=DispatchConfig(worker="sim")
    )
    simulation.load_portfolio(days=2, policy_text=policy_text(), policy_source=name)
    result = simulation.run(2)
    with sessions() as session:
        providers = list(
            session.scalars(select(InboundMessage.provider_id).order_by(InboundMessage.id))
        )
        conversations = len(list(session.scalars(select(Conversation.id))))
    return result, providers, conversations


class TestRepliesInWords:
    def test_debtors_replies_reach_the_assistant_and_the_run_reports_its_figures(
        self, tmp_path: Path
    ) -> None:
        """Without the simulator's call to the assistant's road (`Debtors._in_words`) no
        conversation is recorded and the figures are absent: this fails."""
        result, providers, conversations = run(tmp_path, "words")
        words = result.total("replied_in_words")
        assert words > 0
        assert conversations > 0
        assert result.assistant is not None
        assert result.assistant.conversations == conversations
        k = result.assistant
        assert k.resolved_without_person + k.handed_over <= k.conversations
        assert any(p.startswith("sim-11-") for p in providers)
        # what the assistant understood is counted by intent
        understood = [e for d in result.days for e in d.events if e.startswith("assistant:")]
        assert understood
        # The same seed gives the same words: tests/simulation/test_runner.py, same seed.

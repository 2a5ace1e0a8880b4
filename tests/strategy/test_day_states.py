"""The delinquency pass hands the states it wrote to the day's strategy run
(`delinquency.service.RunSummary.states`, through `daily.flows.run_day`), and the strategy's facts
then read the open accounts and the customers without reading the states back
(`strategy.repository.base_facts_and_next_due`). The facts, and so the decisions, are the ones
reading the table gives, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from recoup.daily import flows as daily_flows
from recoup.delinquency import service as delinquency_service
from recoup.ingest.columns import ORDER
from recoup.ingest.importer import Importer
from recoup.kit import frames
from recoup.kit.clock import SettableClock
from recoup.models import Account
from recoup.simulation.generator import Generator
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import load_policy

AS_OF = dt.date(2026, 6, 1)
POLICY = Path(__file__).resolve().parents[2] / "src/recoup/strategy/policies/cn-wallet.yaml"


def _portfolio(session: Session, clock: SettableClock) -> None:
    portfolio = Generator(seed=9, as_of=AS_OF).portfolio(accounts=400)
    for kind in ORDER:
        assert (
            not Importer(session, clock=clock).import_rows(kind, kind, portfolio.frame(kind)).errors
        )
    version = strategy_service.save_policy(
        session, POLICY.read_text(encoding="utf-8"), author="t", clock=clock, source=str(POLICY)
    )
    strategy_service.activate(session, version.id, actor="t", clock=clock)


def _statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every set-based read from now on."""
    seen: list[str] = []
    read_frame, read_frames = frames.read_frame, frames.read_frames

    inside: list[bool] = []  # `read_frames` reads one by one through `read_frame` on SQLite

    def one(session: Session, stmt: Any, *args: Any, **kwargs: Any) -> pl.DataFrame:
        if not inside:
            seen.append(str(stmt))
        return read_frame(session, stmt, *args, **kwargs)

    def many(session: Session, reads: list[Any]) -> list[pl.DataFrame]:
        seen.extend(str(stmt) for stmt, _ in reads)
        inside.append(True)
        try:
            return read_frames(session, reads)
        finally:
            inside.pop()

    monkeypatch.setattr(frames, "read_frame", one)
    monkeypatch.setattr(frames, "read_frames", many)
    return seen


def test_the_facts_from_the_passs_states_are_the_facts_read_from_the_table(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches states dated by the pass's day where the row was not rewritten (`state_date` is
    the day the stored row was written: an unchanged account's is an earlier day), a states
    frame not equal to the table's, and the facts reading the states table although given them
    (`base_facts_and_next_due` ignoring `states`)."""
    yesterday = AS_OF - dt.timedelta(days=1)
    clock = SettableClock(dt.datetime.combine(AS_OF, dt.time(1), tzinfo=dt.UTC))
    _portfolio(session, clock)
    clock.set(dt.datetime.combine(yesterday, dt.time(1), tzinfo=dt.UTC))
    # A closed account keeps its state but has no facts.
    closed = session.scalars(Account.__table__.select().with_only_columns(Account.id)).first()
    session.execute(update(Account).where(Account.id == closed).values(closed_date=yesterday))
    delinquency_service.run_daily(session, yesterday, clock=clock)
    clock.set(dt.datetime.combine(AS_OF, dt.time(1), tzinfo=dt.UTC))
    summary = delinquency_service.run_daily(session, AS_OF, clock=clock)
    assert summary.states is not None
    assert summary.states.height == summary.accounts
    dated = summary.states["state_date"]
    assert (dated == AS_OF).any()
    assert (dated < AS_OF).any()
    assert 0 < summary.changed < summary.accounts
    policy = load_policy(POLICY)

    read = strategy_service.facts(session, AS_OF, policy=policy)
    seen = _statements(monkeypatch)
    handed = strategy_service.facts(session, AS_OF, policy=policy, states=summary.states)
    assert seen
    assert not any("account_delinquency" in sql for sql in seen)
    assert closed not in handed["account_id"].to_list()
    key = ["account_id"]
    assert handed.sort(key).equals(read.sort(key))
    assert handed.height == read.height == summary.accounts - 1


def test_the_daily_flow_hands_the_passs_states_to_the_strategy_run(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches the flow calling the strategy run without the pass's states (its facts would read
    them back from the table), and the flow's result keeping a frame of every account after the
    run (a caller holding a day's results would hold them all)."""
    clock = SettableClock(dt.datetime.combine(AS_OF, dt.time(1), tzinfo=dt.UTC))
    _portfolio(session, clock)
    handed: list[pl.DataFrame | None] = []
    run = strategy_service.run

    def spy(*args: Any, **kwargs: Any) -> strategy_service.StrategyRun:
        handed.append(kwargs.get("states"))
        return run(*args, **kwargs)

    monkeypatch.setattr(strategy_service, "run", spy)
    seen = _statements(monkeypatch)
    day = daily_flows.run_day(session, AS_OF, clock=clock, zone="Asia/Shanghai", actor="t")
    assert day.delinquency is not None
    assert day.strategy is not None
    assert day.strategy.accounts == 400
    [states] = handed
    assert states is not None
    assert states.height == day.delinquency.accounts == 400
    # The pass reads the states it compares with; the strategy run does not read them again.
    assert sum("account_delinquency" in sql for sql in seen) == 1
    assert day.delinquency.states is None

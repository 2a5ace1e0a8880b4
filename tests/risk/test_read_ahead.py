"""The day's scoring begun ahead on a connection of its own (`risk.service.read_ahead`, what
`recoup run daily` does): the accounts the run's own steps wrote for are read, computed and
scored again, and the scores are those of a read taken after every write. PostgreSQL only (a second connection that
cannot see the run's uncommitted writes is the point); on SQLite there is no read ahead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recoup.bootstrap import init_database
from recoup.daily import flows as daily_flows
from recoup.delinquency import service as delinquency_service
from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import Account, AccountScore
from recoup.risk import service as risk_service
from tests.conftest import MASTER, own_database
from tests.factories import pay, shanghai
from tests.risk import portfolio
from tests.risk.test_service import clock_at, train

DAY = portfolio.AS_OF + dt.timedelta(days=5)  # the stopped payers' oldest bill past 90 days


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A committed history with `p_pay` active, in a database of its own (a second connection
    sees it)."""
    with own_database(tmp_path_factory.mktemp("ahead")) as url:
        if not url.startswith("postgresql"):
            pytest.skip("a read ahead needs PostgreSQL (a second connection); CI runs it there")
        yield from _built(url)


def _built(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    init_database(engine, clock=clock_at(portfolio.AS_OF), master=MASTER)
    before = crypto.installed_keyring()
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        crypto.install_keyring(keys_service.load_keyring(session, MASTER))
        portfolio.build(session, clock_at(portfolio.AS_OF), accounts=24)
    with sessions.begin() as session:
        model = train(session, "p_pay")
    with sessions.begin() as session:
        risk_service.activate(session, model, actor="wei", clock=clock_at(portfolio.AS_OF))
    yield engine
    crypto.install_keyring(before)
    engine.dispose()


def scores(session: Session, day: dt.date) -> pl.DataFrame:
    s = AccountScore
    rows = session.execute(
        select(s.account_id, s.score).where(s.as_of_date == day).order_by(s.account_id)
    ).all()
    return pl.DataFrame(rows, schema={"account_id": pl.Int64, "score": pl.Float64}, orient="row")


class TestReadAhead:
    def test_the_scores_are_those_of_a_read_after_the_runs_own_writes(
        self, database: Engine
    ) -> None:
        """Catches the changed accounts' rows not replaced in `score_day` (`_replaced`: the early
        scores used as they are): the payment and the buckets the transaction wrote after the
        read began are missing from them, and the paying account's score differs from a read
        here (it leaves the population)."""
        clock = clock_at(DAY)
        with make_sessionmaker(database)() as session:
            with risk_service.read_ahead(session, DAY) as early:
                assert early is not None
                assert early.scored() is not None  # scored before any write below
                payer = session.scalars(select(Account).order_by(Account.id)).all()[3]
                pay(session, clock, payer, 15_000, shanghai(DAY, 5))
                moved = delinquency_service.run_daily(session, DAY, clock=clock).moved
                assert moved is not None
                assert moved.len() > 0
                ahead = risk_service.score_day(
                    session,
                    DAY,
                    clock=clock,
                    early=early,
                    changed={payer.id},
                    moved=set(moved.to_list()),
                )
                assert "the accounts the run changed" in ahead.seconds
                assert "the accounts whose bucket moved" in ahead.seconds
                with_early = scores(session, DAY)
                stale = risk_service.score_day(session, DAY, clock=clock, early=early)
                stale_scores = scores(session, DAY)
            assert "the accounts the run changed" not in stale.seconds
            risk_service.score_day(session, DAY, clock=clock)
            read_here = scores(session, DAY)
            session.rollback()
        assert with_early.height == read_here.height > 0
        assert with_early.equals(read_here)
        assert not stale_scores.equals(read_here)  # what the refresh is for

    def test_the_daily_run_with_the_read_ahead_scores_as_the_run_without(
        self, database: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Catches the accounts whose bucket moved left out of `daily.flows._moved` (or the flow
        not passing them), and their bucket changes not read again in `score_day` (the early
        read's taken): the early read has the buckets before the day's pass, and the features
        of the accounts that rolled (their bucket) differ from a run that reads after it. (This
        small model gives them the same score either way: the features are compared.)"""
        computed: list[pl.DataFrame] = []
        drift = risk_service._drift

        def spy(*args: Any) -> None:  # the population scored (its features), and its drift
            computed.append(args[5])
            drift(*args)

        monkeypatch.setattr(risk_service, "_drift", spy)
        runs: dict[bool, pl.DataFrame] = {}
        for ahead in (False, True):
            with make_sessionmaker(database)() as session:
                result = daily_flows.run_day(
                    session,
                    DAY,
                    clock=clock_at(DAY),
                    zone="Asia/Shanghai",
                    actor="test",
                    read_ahead=ahead,
                )
                assert result.scoring is not None
                assert result.delinquency is not None
                begun = "waiting for the scores begun ahead" in result.scoring.seconds
                assert begun is ahead
                assert result.delinquency.moved is not None
                assert result.delinquency.moved.len()
                runs[ahead] = scores(session, DAY)
                session.rollback()
        assert runs[True].height > 0
        assert runs[True].equals(runs[False])
        plain, early = (frame.sort("account_id") for frame in computed)
        assert early.height > 0
        assert early.equals(plain)


class TestWhenNot:
    def test_no_read_ahead_for_a_session_inside_a_callers_transaction(
        self, history_session: Session
    ) -> None:
        """Catches `read_ahead` starting whatever the session is bound to: this session holds
        a caller's transaction on a connection (the history written, not committed), which a
        second connection would not see; so is SQLite's, where there is no read ahead at all."""
        risk_service.activate(
            history_session, train(history_session, "p_pay"), actor="wei", clock=clock_at(DAY)
        )
        with risk_service.read_ahead(history_session, DAY) as early:
            assert early is None

"""The daily decision on Spark (`recoup.strategy.spark`): the same day run with `engine="local"`
and `engine="spark"` on the same database writes the same decisions and contact plans, row by
row. The process's one Spark session starts with the first (its start-up is most of the time)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.contact import repository as contact_repo
from recoup.daily import flows as daily_flows
from recoup.ingest.columns import ORDER
from recoup.ingest.importer import Importer
from recoup.kit import spark as kit_spark
from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan, StrategyDecision
from recoup.privacy import service as privacy_service
from recoup.simulation.generator import Generator
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import load_policy

AS_OF = dt.date(2026, 6, 1)
ZONE = "Asia/Shanghai"
POLICY = Path(__file__).resolve().parents[2] / "src/recoup/strategy/policies/cn-wallet.yaml"

DECISION_COLUMNS = (
    "account_id",
    "as_of_date",
    "stage",
    "segment",
    "experiment",
    "arm",
    "decision",
    "pause_reason",
    "treatment",
    "queue",
    "queue_priority",
    "offers",
    "compliance",
)
PLAN_COLUMNS = (
    "account_id",
    "customer_id",
    "as_of_date",
    "stage",
    "treatment",
    "channel",
    "template",
    "tone",
    "status",
    "scheduled_at",
    "overdue_minor",
    "outstanding_minor",
    "reasons",
)


def at(day: dt.date, hour: int = 1) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def portfolio(session: Session, clock: SettableClock) -> None:
    """Some 500 accounts, a policy, a first day run (so the second has a contact history), and
    customers with quiet hours and electronic consents (so a mis-joined customer shows)."""
    generated = Generator(seed=23, as_of=AS_OF).portfolio(accounts=500)
    for kind in ORDER:
        result = Importer(session, clock=clock).import_rows(kind, kind, generated.frame(kind))
        assert not result.errors
    version = strategy_service.save_policy(
        session, POLICY.read_text(encoding="utf-8"), author="t", clock=clock, source=str(POLICY)
    )
    strategy_service.activate(session, version.id, actor="t", clock=clock)
    first = AS_OF - dt.timedelta(days=1)
    clock.set(at(first))
    assert daily_flows.run_day(session, first, clock=clock, zone=ZONE, actor="t").ran
    late = session.scalars(
        select(ContactPlan.customer_id).where(ContactPlan.as_of_date == first).distinct()
    ).all()
    assert len(late) > 40
    for customer in sorted(late)[::3]:  # quiet 09:00-12:00: the 10:00 contacts are deferred
        contact_repo.set_preference(
            session,
            customer,
            quiet=(9 * 60, 12 * 60),
            preferred=None,
            source="portal",
            at=clock.now(),
        )
    for customer in sorted(late)[1::3]:
        privacy_service.record_consent(
            session,
            customer,
            purpose="electronic",
            evidence="ticked the box in the app",
            source="portal",
            clock=clock,
        )
    session.flush()


def day_rows(session: Session, clock: SettableClock, engine: str) -> dict[str, pl.DataFrame]:
    """The day `AS_OF` run with `engine` in a savepoint rolled back after: what it wrote."""
    clock.set(at(AS_OF))
    savepoint = session.begin_nested()
    try:
        run = daily_flows.run_day(session, AS_OF, clock=clock, zone=ZONE, actor="t", engine=engine)
        assert run.ran
        assert run.strategy is not None
        decisions = rows(session, StrategyDecision, DECISION_COLUMNS, AS_OF)
        plans = rows(session, ContactPlan, PLAN_COLUMNS, AS_OF)
    finally:
        savepoint.rollback()
    return {"decisions": decisions, "plans": plans}


def rows(session: Session, model: Any, columns: tuple[str, ...], day: dt.date) -> pl.DataFrame:
    table = model.__table__
    result = session.execute(
        select(*(table.c[c] for c in columns)).where(table.c.as_of_date == day)
    ).all()
    # Lists as sets: order is not kept. A column holding JSON objects too (the decisions'
    # `compliance`: the guard's kept verdict, or `[]` without a contact) compared as JSON text.
    values = [[sorted(v) if isinstance(v, list) else v for v in row] for row in result]
    for i in range(len(columns)):
        if any(isinstance(row[i], dict) for row in values):
            for row in values:
                row[i] = json.dumps(row[i], sort_keys=True)
    return pl.DataFrame(values, schema=list(columns), orient="row").sort("account_id")


class TestSparkDecidesAsLocal:
    def test_the_spark_engine_writes_the_local_engines_decisions_and_plans_row_by_row(
        self, session: Session
    ) -> None:
        """Catches a Spark path that drops a partition (checked: the worker of Spark partition 0
        returning nothing: 58 decisions instead of 107) or mis-partitions a customer's frames
        (checked: the history, consents and quiet hours partitioned by `customer_id + 1`, so they
        meet another customer's accounts), and a pure step that reads anything but its frames."""
        clock = SettableClock(at(AS_OF))
        portfolio(session, clock)
        local = day_rows(session, clock, "local")
        on_spark = day_rows(session, clock, "spark")
        decisions, plans = local["decisions"], local["plans"]
        assert decisions.height > 100
        statuses = set(plans["status"])
        assert {"planned", "deferred"} <= statuses  # the quiet hours deferred some
        assert (
            plans.filter(pl.col("reasons").list.len() > 0).height > 0
        )  # the guard's reasons are compared too
        assert plans.height > 30
        for name in ("decisions", "plans"):
            expected, got = local[name], on_spark[name]
            assert got.height == expected.height, name
            assert got.to_dicts() == expected.to_dicts(), name

    def test_a_policy_with_learning_stages_is_refused_on_spark_with_a_clear_error(
        self, session: Session
    ) -> None:
        policy = load_policy(POLICY)
        learning = load_policy(POLICY.with_name("cn-wallet-learning.yaml"))
        assert learning.learning_stages
        with pytest.raises(strategy_service.EngineUnavailable, match="learning stages"):
            strategy_service.plan(session, AS_OF, learning, now=at(AS_OF), engine="spark")
        with pytest.raises(strategy_service.EngineUnavailable, match="unknown engine"):
            strategy_service.plan(session, AS_OF, policy, now=at(AS_OF), engine="ray")

    def test_the_spark_engine_without_pyspark_is_refused_with_a_clear_error(
        self, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Catches `session()` letting pyspark's ImportError through (a 500 and a traceback)."""
        monkeypatch.setattr(kit_spark, "_session", None)
        monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if not installed
        with pytest.raises(
            strategy_service.EngineUnavailable, match=r"pip install 'recoup\[spark\]'"
        ):
            strategy_service.plan(
                session, AS_OF, load_policy(POLICY), now=at(AS_OF), engine="spark"
            )

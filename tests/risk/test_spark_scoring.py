"""The daily score on Spark (`recoup.risk.spark`): the same day scored with `engine="local"` and
`engine="spark"` writes the same scores and the same drift, row by row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.kit import spark as kit_spark
from recoup.models import Account, AccountScore, Customer, RiskDrift
from recoup.risk import features
from recoup.risk import service as risk_service
from recoup.risk import spark as risk_spark
from tests.factories import add_bill, create_account
from tests.risk.test_service import AS_OF, _activity, clock_at, train


def scored(session: Session, engine: str) -> tuple[list[Any], list[Any]]:
    result = risk_service.score_day(session, AS_OF, clock=clock_at(AS_OF), engine=engine)
    assert set(result.scored) == {"p_pay", "p_roll"}
    scores = session.execute(
        select(
            AccountScore.account_id, AccountScore.kind, AccountScore.model_id, AccountScore.score
        )
        .where(AccountScore.as_of_date == AS_OF)
        .order_by(AccountScore.kind, AccountScore.account_id)
    ).all()
    drift = session.execute(
        select(RiskDrift.model_id, RiskDrift.feature, RiskDrift.psi, RiskDrift.level)
        .where(RiskDrift.as_of_date == AS_OF)
        .order_by(RiskDrift.model_id, RiskDrift.feature)
    ).all()
    return [tuple(r) for r in scores], [tuple(r) for r in drift]


class TestSparkScoresAsLocal:
    def test_the_spark_engine_writes_the_local_engines_scores_and_drift(
        self, history_session: Session
    ) -> None:
        """Catches a Spark path that mis-partitions a customer's rows (checked: the inbound
        messages partitioned by `customer_id + 1`, so a customer's replies meet another
        customer's accounts: the scores of the accounts with replies differ) or drops the
        allocations' rows (their bills' customers), and a model shipped wrong."""
        s, clock = history_session, clock_at(AS_OF)
        for kind in ("p_pay", "p_roll"):
            risk_service.activate(s, train(s, kind), actor="wei", clock=clock)
        accounts = list(s.execute(select(Account).order_by(Account.id)).scalars().all())
        # A customer with two accounts (the features read the customer's replies per account),
        # and every kind of row the history reads on a few accounts.
        customer = s.get(Customer, accounts[0].customer_id)
        second = create_account(s, clock, customer=customer, opened=dt.date(2026, 1, 1))
        add_bill(s, clock, second, AS_OF - dt.timedelta(days=10), 7_000)
        for account in [*accounts[::2], second]:
            _activity(s, account)
        local = scored(s, "local")
        on_spark = scored(s, "spark")
        assert len(local[0]) > 10
        assert {kind for _, kind, _, _ in local[0]} == {"p_pay", "p_roll"}
        assert len({score for *_, score in local[0]}) >= 3  # scores that tell accounts apart
        assert local[1]  # the drift is compared too
        assert on_spark[0] == local[0]
        assert on_spark[1] == local[1]
        # The features behind them, column by column (the small model's scores take few values,
        # so a feature gone wrong may leave them be): the populations as the whole history gives.
        history = risk_service.repo.history(s, since=AS_OF, until=AS_OF, owing="anything")
        everyone = features.compute(history, [AS_OF])
        artefacts = {
            k: row.artefact for k, row in risk_service.repo.RiskModelRepository(s).active().items()
        }
        for kind, (population, scores) in risk_spark.score_by_customer(
            history, AS_OF, artefacts
        ).items():
            expected = everyone.filter(features.population(kind)).sort("account_id")
            assert population.height == expected.height == len(scores)
            assert population.equals(expected), kind
        assert everyone.filter(pl.col("replies_30d") > 0).height >= 3  # replies were compared

    def test_an_unknown_engine_is_refused(self, history_session: Session) -> None:
        s, clock = history_session, clock_at(AS_OF)
        risk_service.activate(s, train(s, "p_pay"), actor="wei", clock=clock)
        with pytest.raises(risk_service.ValidationFailed, match="unknown engine"):
            risk_service.score_day(s, AS_OF, clock=clock, engine="ray")

    def test_without_pyspark_the_spark_engine_is_refused_with_a_clear_error(
        self, history_session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import sys

        s, clock = history_session, clock_at(AS_OF)
        risk_service.activate(s, train(s, "p_pay"), actor="wei", clock=clock)
        monkeypatch.setattr(kit_spark, "_session", None)
        monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if not installed
        with pytest.raises(kit_spark.SparkMissing, match=r"pip install 'recoup\[spark\]'"):
            risk_service.score_day(s, AS_OF, clock=clock, engine="spark")

"""The daily score on Apache Spark (`recoup run daily --engine spark`): the features as of the day
and each active model's calibrated score, computed per partition of customers through
`mapInArrow` (`recoup.kit.spark.run_by_customer`), as `service.score_day` computes them locally.

The driver reads the history (`repository.history`), gives every frame its rows' customer (the
account-keyed frames through the accounts, the allocations through their bills) so a customer's
rows land in one partition, and ships the models as their stored artefacts (each worker loads
them once). Every feature of an account reads only that account's rows and its customer's
inbound messages (`features.compute`), so a partition's features, and so its scores, are the
ones the whole history gives. The driver then writes the scores and computes the drift on the
whole population, as locally.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import polars as pl

from recoup.config import Settings
from recoup.kit import spark as kit_spark
from recoup.kit.spark import KEY, Tables
from recoup.risk import features, tabular

SCORE = "_score"


def score_by_customer(
    history: features.History, day: dt.date, artefacts: dict[str, str]
) -> dict[str, tuple[pl.DataFrame, np.ndarray]]:
    """Per kind of `artefacts` (kind -> stored model): its population's features as of `day`, in
    account order, and their calibrated scores."""
    accounts = history.accounts.select("account_id", KEY)
    bills = history.bills.select("bill_id", "account_id").join(accounts, on="account_id")
    tables: Tables = {}
    for name in features.SCHEMAS:
        frame: pl.DataFrame = getattr(history, name)
        if KEY not in frame.columns:
            by = bills if "account_id" not in frame.columns else accounts
            key = "bill_id" if by is bills else "account_id"
            frame = frame.join(by.select(key, KEY), on=key, how="inner")
        tables[name] = frame

    def step(part: Tables) -> Tables:
        own = features.History(
            **{name: part[name].select(list(schema)) for name, schema in features.SCHEMAS.items()}
        )
        computed = features.compute(own, [day])
        out: Tables = {}
        for kind, artefact in artefacts.items():
            population = computed.filter(features.population(kind))
            scores = tabular.predict(_model(artefact), population)
            out[kind] = population.with_columns(pl.Series(SCORE, scores, dtype=pl.Float64))
        return out

    done = kit_spark.run_by_customer(
        Settings().spark_master, tables, step, staging=Settings().spark_staging
    )
    result: dict[str, tuple[pl.DataFrame, np.ndarray]] = {}
    for kind in artefacts:
        got = done.get(kind)
        if got is None:  # no partition had rows
            result[kind] = (features.compute(features.History.empty(), [day]), np.empty(0))
            continue
        got = got.sort("account_id")
        result[kind] = (got.drop(SCORE), got[SCORE].to_numpy())
    return result


@lru_cache(maxsize=8)
def _model(artefact: str) -> tabular.Model:
    """A worker's models, loaded once per process (an artefact never changes)."""
    return tabular.loads(artefact)

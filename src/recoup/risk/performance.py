"""How each risk model does after it is trained: the AUC of each scoring day's scores against the
outcomes that arrived within the model's horizon, calibration on those outcomes beside the
training's, and the drift of each feature on the latest measured day. Read by the console's
models desk, `GET /v1/risk-models/{id}` and `recoup report`.

The outcome of a score is the training label (`risk.features.labels`, one definition): p_pay,
the account paid at least what was overdue within the horizon; p_roll, its bucket rose. A day's
outcomes are all known once its horizon has passed, so only those days count (a day whose
horizon is still open would count the slow payers as non-payers). Reads the latest `MAX_DAYS`
matured days: enough for a trend, bounded for a page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from recoup.risk import features, watch
from recoup.risk import repository as repo
from recoup.risk.service import RiskModelNotFound as RiskModelNotFound

MAX_DAYS = 60


@dataclass(frozen=True)
class DriftRow:
    feature: str
    psi: float
    level: str


@dataclass(frozen=True)
class Summary:
    """A model in the list: its row, training metrics, matured days and drift on its latest day."""

    model: Any
    cv_auc: float | None
    brier: float | None
    matured_days: int
    alerts: int
    watches: int


@dataclass(frozen=True)
class ModelReport:
    model: Any
    cv_auc: float | None
    brier: float | None
    training_reliability: list[watch.Bin]
    performance: watch.Performance
    drift_day: dt.date | None
    drift: list[DriftRow]


def _metric(model: Any, name: str) -> float | None:
    value = (model.metrics or {}).get(name)
    return float(value) if isinstance(value, int | float) else None


def training_reliability(model: Any) -> list[watch.Bin]:
    """The reliability the training measured (cross-validated): [mean_predicted, observed, n]."""
    out: list[watch.Bin] = []
    for item in (model.metrics or {}).get("reliability") or []:
        if isinstance(item, list | tuple) and len(item) >= 3:
            out.append(watch.Bin(predicted=float(item[0]), observed=float(item[1]), n=int(item[2])))
    return out


def overview(session: Session, *, today: dt.date) -> list[Summary]:
    """Every model, active ones first, then newest first."""
    drift = repo.latest_drift_levels(session)
    rows = []
    for model in repo.all_models(session):
        days = repo.scored_days(session, model.id)
        matured = watch.matured_days(days, horizon_days=model.horizon_days, today=today)
        levels = drift.get(model.id, {})
        rows.append(
            Summary(
                model=model,
                cv_auc=_metric(model, "cv_auc"),
                brier=_metric(model, "brier"),
                matured_days=len(matured),
                alerts=levels.get("alert", 0),
                watches=levels.get("watch", 0),
            )
        )
    return rows


def model_report(session: Session, model_id: int, *, today: dt.date) -> ModelReport:
    model = repo.RiskModelRepository(session).get(model_id)
    if model is None:
        raise RiskModelNotFound(f"no risk model {model_id}")
    drift_day, drift = _drift(session, model_id)
    return ModelReport(
        model=model,
        cv_auc=_metric(model, "cv_auc"),
        brier=_metric(model, "brier"),
        training_reliability=training_reliability(model),
        performance=performance(session, model, today=today),
        drift_day=drift_day,
        drift=drift,
    )


def performance(session: Session, model: Any, *, today: dt.date) -> watch.Performance:
    """The model's matured scoring days (the latest `MAX_DAYS`) against their outcomes."""
    days = repo.scored_days(session, model.id)
    matured = watch.matured_days(days, horizon_days=model.horizon_days, today=today)[-MAX_DAYS:]
    return watch.performance(outcomes(session, model, matured))


def outcomes(session: Session, model: Any, days: list[dt.date]) -> pl.DataFrame:
    """as_of_date, account_id, score, label: the model's scores on `days` with the outcome that
    arrived within its horizon (the training's label)."""
    empty = pl.DataFrame(
        schema={
            "as_of_date": pl.Date,
            "account_id": pl.Int64,
            "score": pl.Float64,
            "label": pl.Int64,
        }
    )
    if not days:
        return empty
    scores = repo.model_scores(session, model.id, days)
    if scores.height == 0:
        return empty
    # The training's own history read, over the days and their horizons.
    history = repo.history(
        session, since=min(days), until=max(days) + dt.timedelta(days=model.horizon_days)
    )
    frame = features.compute(history, days)
    labelled = features.labels(
        history, frame, kind=model.kind, horizon_days=model.horizon_days
    ).select("account_id", "as_of_date", pl.col("label").cast(pl.Int64))
    return scores.join(labelled, on=["account_id", "as_of_date"], how="inner").select(
        "as_of_date", "account_id", "score", "label"
    )


def _drift(session: Session, model_id: int) -> tuple[dt.date | None, list[DriftRow]]:
    """The latest measured day's PSI per feature, alerts first, then by PSI."""
    frame = repo.latest_drift(session, model_id)
    if frame.height == 0:
        return None, []
    order = {"alert": 0, "watch": 1}
    rows = sorted(
        (
            DriftRow(f, float(p), str(lv))
            for f, p, lv in frame.select("feature", "psi", "level").iter_rows()
        ),
        key=lambda r: (order.get(r.level, 2), -r.psi, r.feature),
    )
    return frame["as_of_date"][0], rows


def reports(session: Session, *, today: dt.date) -> list[ModelReport]:
    """Every model's report (for `recoup report`), in the list's order."""
    return [model_report(session, m.id, today=today) for m in repo.all_models(session)]

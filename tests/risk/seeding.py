"""Seed rows for the models' watch through the owners' repositories: a trained model in the risk
registry, a day's scores, a day's drift (its level as the daily run records it), and a learning
stage's arms in strategy's `learning_arms`."""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
from sqlalchemy.orm import Session

from recoup.kit.clock import Clock
from recoup.models import RiskModel
from recoup.risk import repository as risk_repository
from recoup.risk import service as risk_service
from recoup.strategy import repository as strategy_repository

_versions = itertools.count(1)


def add_model(
    session: Session,
    clock: Clock,
    *,
    kind: str,
    horizon_days: int,
    trained_by: str,
    cv_auc: float = 0.81,
) -> RiskModel:
    return risk_repository.RiskModelRepository(session).create(
        RiskModel(
            kind=kind,
            version=next(_versions),
            status="trained",
            horizon_days=horizon_days,
            window_from=dt.date(2025, 6, 1),
            window_to=dt.date(2026, 1, 31),
            trained_at=clock.now(),
            trained_by=trained_by,
            features=["dpd", "overdue_log", "on_time_ratio_180d"],
            metrics={
                "cv_auc": cv_auc,
                "brier": 0.18,
                "reliability": [[0.1, 0.12, 400], [0.5, 0.47, 300], [0.85, 0.88, 300]],
            },
            calibration={},
            artefact="{}",
        ),
    )


def add_scores(session: Session, model: RiskModel, day: dt.date, scores: dict[int, float]) -> None:
    risk_repository.replace_scores(
        session,
        day,
        model.kind,
        pl.DataFrame(
            {
                "account_id": list(scores),
                "as_of_date": [day] * len(scores),
                "model_id": [model.id] * len(scores),
                "kind": [model.kind] * len(scores),
                "score": list(scores.values()),
                "reasons": ["[]"] * len(scores),
            },
            schema={
                "account_id": pl.Int64,
                "as_of_date": pl.Date,
                "model_id": pl.Int64,
                "kind": pl.String,
                "score": pl.Float64,
                "reasons": pl.String,
            },
        ),
    )


def add_drift(session: Session, model: RiskModel, day: dt.date, psi: dict[str, float]) -> None:
    risk_repository.replace_drift(
        session,
        day,
        model.id,
        pl.DataFrame(
            {
                "as_of_date": [day] * len(psi),
                "model_id": [model.id] * len(psi),
                "feature": list(psi),
                "psi": list(psi.values()),
                "level": [risk_service.level(v) for v in psi.values()],
            },
            schema={
                "as_of_date": pl.Date,
                "model_id": pl.Int64,
                "feature": pl.String,
                "psi": pl.Float64,
                "level": pl.String,
            },
        ),
    )


def add_arms(
    session: Session,
    policy: str,
    stage: str,
    rewards: dict[tuple[str, str], list[float]],
    *,
    day: dt.date = dt.date(2026, 5, 31),
) -> None:
    """`rewards`: per (cell, arm), the rewards the arm earned there."""
    strategy_repository.add_learning(
        session,
        pl.DataFrame(
            {
                "policy": [policy] * len(rewards),
                "stage": [stage] * len(rewards),
                "cell": [cell for cell, _ in rewards],
                "arm": [arm for _, arm in rewards],
                "n": [len(v) for v in rewards.values()],
                "reward_sum": [float(sum(v)) for v in rewards.values()],
                "reward_sq_sum": [float(sum(x * x for x in v)) for v in rewards.values()],
                "updated_on": [day] * len(rewards),
            },
            schema={
                "policy": pl.String,
                "stage": pl.String,
                "cell": pl.String,
                "arm": pl.String,
                "n": pl.Int64,
                "reward_sum": pl.Float64,
                "reward_sq_sum": pl.Float64,
                "updated_on": pl.Date,
            },
        ),
    )

"""REST: the risk models' registry. Every model version with its training metrics, a model with
its performance on the outcomes that arrived since it scored (AUC per day, calibration, drift),
and activation by a second person (four eyes, audited: `risk.service.activate`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from recoup.http.deps import ClockDep, RowId, SessionDep, SettingsDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.risk import performance as risk_performance
from recoup.risk import schemas
from recoup.risk import service as risk_service

P = Permission
router = APIRouter(prefix="/v1", tags=["risk models"], responses=AUTHENTICATED)


def _model(model: Any) -> dict[str, Any]:
    metrics = model.metrics or {}
    return {
        "id": model.id,
        "kind": model.kind,
        "version": model.version,
        "status": model.status,
        "horizon_days": model.horizon_days,
        "window_from": model.window_from,
        "window_to": model.window_to,
        "trained_at": model.trained_at,
        "trained_by": model.trained_by,
        "activated_at": model.activated_at,
        "activated_by": model.activated_by,
        "features": list(model.features or []),
        "cv_auc": metrics.get("cv_auc"),
        "brier": metrics.get("brier"),
    }


def _bins(bins: list[Any]) -> list[schemas.ReliabilityBin]:
    return [schemas.ReliabilityBin(predicted=b.predicted, observed=b.observed, n=b.n) for b in bins]


def detail(view: risk_performance.ModelReport) -> schemas.RiskModelDetail:
    perf = view.performance
    return schemas.RiskModelDetail(
        **_model(view.model),
        training_reliability=_bins(view.training_reliability),
        days=[
            schemas.PerformanceDay(
                as_of_date=d.as_of_date,
                n=d.n,
                positives=d.positives,
                auc=d.auc,
                brier=d.brier,
                mean_score=d.mean_score,
                observed=d.observed,
            )
            for d in perf.days
        ],
        auc=perf.auc,
        scored=perf.n,
        reliability=_bins(perf.reliability),
        drift_day=view.drift_day,
        drift=[schemas.Drift(feature=d.feature, psi=d.psi, level=d.level) for d in view.drift],
    )


@router.get("/risk-models", response_model=schemas.RiskModels, summary="Risk models")
def list_models(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    _: Principal = require(P.models_read),
) -> schemas.RiskModels:
    """Every model version (active first, then newest), with its training metrics, the scoring
    days whose outcomes have arrived, and its drift on the latest measured day."""
    today = clock.now().astimezone(settings.business_zone).date()
    return schemas.RiskModels(
        items=[
            schemas.RiskModelSummary(
                **_model(s.model),
                matured_days=s.matured_days,
                drift_alerts=s.alerts,
                drift_watches=s.watches,
            )
            for s in risk_performance.overview(session, today=today)
        ]
    )


@router.get(
    "/risk-models/{model_id}",
    response_model=schemas.RiskModelDetail,
    summary="A risk model and its performance over time",
    responses=responses(risk_performance.RiskModelNotFound),
)
def get_model(
    model_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    _: Principal = require(P.models_read),
) -> schemas.RiskModelDetail:
    """The model, the AUC of each scoring day whose horizon has passed against the outcomes
    that arrived, calibration on them (deciles) beside the training's, and drift per feature."""
    today = clock.now().astimezone(settings.business_zone).date()
    return detail(risk_performance.model_report(session, model_id, today=today))


@router.post(
    "/risk-models/{model_id}/activate",
    response_model=schemas.RiskModel,
    summary="Activate a model (four eyes)",
    responses=responses(
        risk_performance.RiskModelNotFound, risk_service.WrongStatus, risk_service.FourEyes
    ),
)
def activate(
    model_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.models_activate),
) -> schemas.RiskModel:
    """The daily run scores with it from its next run; the kind's active model is retired.
    Whoever trained it cannot activate it (403); the step is on the audit ledger."""
    model = risk_service.activate(session, model_id, actor=principal.actor, clock=clock)
    return schemas.RiskModel(**_model(model))

"""The models desk: the risk models with their metrics, a model's page (its reliability at training
and on the outcomes that arrived since, its AUC over time, the drift of each feature with the
alerts in words, and activation with four eyes), and the learning strategy's page (the bandit's
arms, the leading arm per context cell, and the holdout's uplift).

Every figure comes from the same service calls as `GET /v1/risk-models/...` and
`GET /v1/learning/arms`; activation calls `risk.service.activate`, which refuses the person who
trained the model whatever the entry point, and writes the audit entry."""

from __future__ import annotations

import math
from typing import Annotated, Any

from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.console.base import StaffPage, page_for, read_form, redirect, render, translator
from recoup.http.deps import ClockDep, RowId, SessionDep, SettingsDep
from recoup.identity.permissions import Permission as P
from recoup.kit.errors import RecoupError
from recoup.risk import performance as risk_performance
from recoup.risk import service as risk_service
from recoup.strategy import service as strategy_service

router = APIRouter(include_in_schema=False)

Reader = Annotated[StaffPage, Depends(page_for(P.models_read))]
Activator = Annotated[StaffPage, Depends(page_for(P.models_activate))]


class Numbers:
    """Figures in the staff member's locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def dec(self, value: float | None, digits: int = 3) -> str:
        if value is None or math.isnan(value):
            return "—"
        return str(format_decimal(value, f"#,##0.{'0' * digits}", locale=self.locale))

    def pct(self, value: float | None) -> str:
        if value is None or math.isnan(value):
            return "—"
        return str(format_percent(value, "#,##0.0%", locale=self.locale))

    def signed(self, value: float | None, digits: int = 2) -> str:
        if value is None or math.isnan(value):
            return "—"
        return str(
            format_decimal(
                value, f"+#,##0.{'0' * digits};-#,##0.{'0' * digits}", locale=self.locale
            )
        )

    def interval(self, low: float | None, high: float | None, digits: int = 2) -> str:
        if low is None or high is None:
            return "—"
        return f"[{self.dec(low, digits)}, {self.dec(high, digits)}]"


def _today(clock: Any, settings: Any) -> Any:
    return clock.now().astimezone(settings.business_zone).date()


@router.get("/console/models")
def models_page(
    request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep, staff: Reader
) -> Response:
    rows = risk_performance.overview(session, today=_today(clock, settings))
    return render(request, staff, "models/index.html", rows=rows, n=Numbers(staff.locale))


@router.get("/console/models/{model_id}")
def model_page(
    request: Request,
    model_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: Reader,
) -> Response:
    return _model(request, session, staff, model_id, today=_today(clock, settings))


def _model(
    request: Request,
    session: SessionDep,
    staff: StaffPage,
    model_id: int,
    *,
    today: Any,
    error: str | None = None,
    status: int = 200,
) -> Response:
    t = translator(staff.lang)
    view = risk_performance.model_report(session, model_id, today=today)
    model = view.model
    perf = view.performance
    charts = {
        "reliability": {
            "title": t("models.chart_reliability"),
            "series": [
                {
                    "name": t("models.at_training"),
                    "points": [[b.predicted, b.observed] for b in view.training_reliability],
                },
                {
                    "name": t("models.since"),
                    "points": [[b.predicted, b.observed] for b in perf.reliability],
                },
            ],
        },
        "auc": {
            "title": t("models.chart_auc"),
            "labels": [d.as_of_date.isoformat() for d in perf.days],
            "values": [None if d.auc is None else round(d.auc, 6) for d in perf.days],
            "reference": view.cv_auc,
            "reference_name": t("models.cv_auc"),
        },
    }
    return render(
        request,
        staff,
        "models/model.html",
        status=status,
        view=view,
        model=model,
        perf=perf,
        charts=charts,
        n=Numbers(staff.locale),
        error=error,
        own=model.trained_by == staff.principal.actor,
        activated=request.query_params.get("activated") == "1",
    )


@router.post("/console/models/{model_id}/activate")
async def activate(
    request: Request,
    model_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: Activator,
) -> Response:
    await read_form(request, staff)
    try:
        risk_service.activate(session, model_id, actor=staff.principal.actor, clock=clock)
    except (risk_service.FourEyes, risk_service.WrongStatus) as exc:
        return _refused(request, session, staff, model_id, exc, today=_today(clock, settings))
    return redirect(f"/console/models/{model_id}?activated=1")


def _refused(
    request: Request,
    session: SessionDep,
    staff: StaffPage,
    model_id: int,
    exc: RecoupError,
    *,
    today: Any,
) -> Response:
    return _model(
        request, session, staff, model_id, today=today, error=exc.code, status=exc.status_code
    )


@router.get("/console/learning")
def learning_page(
    request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep, staff: Reader
) -> Response:
    summary = strategy_service.learning_summary(session, today=_today(clock, settings))
    return render(request, staff, "models/learning.html", summary=summary, n=Numbers(staff.locale))

"""Pydantic shapes of the risk models' registry and their performance for the REST API."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from recoup.kit.schemas import Schema


class RiskModel(Schema):
    """A model version as the registry keeps it (without its artefact)."""

    id: int
    kind: str = Field(description="p_pay (pays the overdue within the horizon) or p_roll")
    version: int
    status: str = Field(description="trained, active or retired")
    horizon_days: int
    window_from: dt.date
    window_to: dt.date
    trained_at: dt.datetime
    trained_by: str
    activated_at: dt.datetime | None
    activated_by: str | None
    features: list[str]
    cv_auc: float | None = Field(description="Cross-validated AUC at training")
    brier: float | None = Field(description="Brier score at training")


class RiskModelSummary(RiskModel):
    matured_days: int = Field(description="Scoring days whose horizon has passed")
    drift_alerts: int = Field(description="Features past the alert threshold on the latest day")
    drift_watches: int = Field(description="Features past the watch threshold on the latest day")


class RiskModels(Schema):
    items: list[RiskModelSummary]


class ReliabilityBin(Schema):
    predicted: float = Field(description="Mean predicted probability of the group")
    observed: float = Field(description="Observed share of the outcome in the group")
    n: int


class PerformanceDay(Schema):
    as_of_date: dt.date = Field(description="The scoring day")
    n: int = Field(description="Accounts scored that day whose outcome arrived")
    positives: int = Field(description="Of them, those whose outcome happened")
    auc: float | None = Field(description="AUC of the day's scores; null with one outcome only")
    brier: float | None
    mean_score: float
    observed: float


class Drift(Schema):
    feature: str
    psi: float
    level: str = Field(description="ok, watch (PSI past 0.1) or alert (past 0.25)")


class RiskModelDetail(RiskModel):
    """The model with its performance on the outcomes that arrived since it scored."""

    training_reliability: list[ReliabilityBin]
    days: list[PerformanceDay] = Field(description="Matured scoring days, oldest first")
    auc: float | None = Field(description="AUC over every matured score together")
    scored: int = Field(description="Matured scores counted")
    reliability: list[ReliabilityBin] = Field(description="Calibration on the outcomes, deciles")
    drift_day: dt.date | None
    drift: list[Drift]

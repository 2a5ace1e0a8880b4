"""The risk models' registry, the daily scores and the drift of what is scored (owner: `risk`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.models.base import BigId, IdMixin, Model


class RiskModel(IdMixin, Model):
    """A trained model of one kind (`p_pay`: pays at least what is overdue within `horizon_days`;
    `p_roll`: its bucket rises within them), numbered per kind. `status`: trained, active (at most
    one per kind, the one the daily run scores with), retired (was active). `artefact` is the
    engine's JSON (`risk.tabular.dumps`): the trees, the calibration and the reference bins."""

    __tablename__ = "risk_models"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="trained")
    horizon_days: Mapped[int] = mapped_column(Integer, nullable=False)
    window_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    window_to: Mapped[dt.date] = mapped_column(Date, nullable=False)
    trained_at: Mapped[dt.datetime]
    trained_by: Mapped[str] = mapped_column(String(128), nullable=False)
    features: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    calibration: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    artefact: Mapped[str] = mapped_column(Text, nullable=False)
    activated_at: Mapped[dt.datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(128))


class AccountScore(IdMixin, Model):
    """An account's score of one kind on a business day, by the model then active. `reasons` is
    null when the daily run wrote it (`risk.service.explain` computes them when asked); a list of
    {"code": feature, "value": its value, "weight": its contribution} when given."""

    __tablename__ = "account_scores"
    __table_args__ = (
        UniqueConstraint("account_id", "as_of_date", "kind"),
        Index("ix_account_scores_day_kind", "as_of_date", "kind"),
    )

    account_id: Mapped[int] = mapped_column(BigId, nullable=False)
    as_of_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    model_id: Mapped[int] = mapped_column(BigId, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    reasons: Mapped[list[Any] | None] = mapped_column(JSON)


class RiskDrift(IdMixin, Model):
    """The population stability index of one feature (or `score`) on a day against the model's
    training reference, and its level: ok, watch (past 0.1), alert (past 0.25)."""

    __tablename__ = "risk_drift"
    __table_args__ = (Index("ix_risk_drift_day_model", "as_of_date", "model_id"),)

    as_of_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    model_id: Mapped[int] = mapped_column(BigId, nullable=False)
    feature: Mapped[str] = mapped_column(String(64), nullable=False)
    psi: Mapped[float] = mapped_column(Float, nullable=False)
    level: Mapped[str] = mapped_column(String(8), nullable=False)

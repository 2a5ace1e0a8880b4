"""SQL for risk: the models' registry, the daily scores and their drift (the only place that
writes `risk_models`, `account_scores` and `risk_drift`), and the reads the models' watch needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.models import (
    Account,
    Allocation,
    Bill,
    DelinquencyEvent,
    Payment,
    RiskDrift,
    RiskModel,
)
from recoup.models import AccountScore as Score
from recoup.risk.features import SCHEMAS, History

Ids = Collection[int] | None
# Past this many accounts a read takes every row rather than an IN list of ids.
IN_LIST = 5_000


# --- the models' watch (console, API, report): reads -------------------------------------------


def all_models(session: Session) -> list[RiskModel]:
    """Every model version: the active ones first, then by kind and newest version."""
    active_first = (RiskModel.status != "active").asc()
    return list(
        session.scalars(
            select(RiskModel).order_by(active_first, RiskModel.kind, RiskModel.version.desc())
        )
    )


def get_model(session: Session, model_id: int) -> RiskModel | None:
    return session.get(RiskModel, model_id)


def active_models(session: Session, kind: str) -> list[RiskModel]:
    return list(
        session.scalars(
            select(RiskModel).where(RiskModel.kind == kind, RiskModel.status == "active")
        )
    )


def scored_days(session: Session, model_id: int) -> list[dt.date]:
    """The days the model scored accounts on."""
    return list(
        session.scalars(select(Score.as_of_date).where(Score.model_id == model_id).distinct())
    )


def model_scores(session: Session, model_id: int, days: Sequence[dt.date]) -> pl.DataFrame:
    """as_of_date, account_id, score: the model's scores on `days`."""
    stmt = select(Score.as_of_date, Score.account_id, Score.score).where(
        Score.model_id == model_id, Score.as_of_date.in_(sorted(set(days)))
    )
    return frames.read_frame(
        session, stmt, {"as_of_date": pl.Date, "account_id": pl.Int64, "score": pl.Float64}
    )


def latest_drift(session: Session, model_id: int) -> pl.DataFrame:
    """as_of_date, feature, psi, level of the model's latest measured day."""
    last = (
        select(func.max(RiskDrift.as_of_date))
        .where(RiskDrift.model_id == model_id)
        .scalar_subquery()
    )
    stmt = select(RiskDrift.as_of_date, RiskDrift.feature, RiskDrift.psi, RiskDrift.level).where(
        RiskDrift.model_id == model_id, RiskDrift.as_of_date == last
    )
    return frames.read_frame(
        session,
        stmt,
        {"as_of_date": pl.Date, "feature": pl.String, "psi": pl.Float64, "level": pl.String},
    )


def latest_drift_levels(session: Session) -> dict[int, dict[str, int]]:
    """Per model, the count of features at each level on its latest measured day."""
    last = (
        select(RiskDrift.model_id, func.max(RiskDrift.as_of_date).label("day"))
        .group_by(RiskDrift.model_id)
        .subquery()
    )
    stmt = (
        select(RiskDrift.model_id, RiskDrift.level, func.count())
        .join(
            last,
            (last.c.model_id == RiskDrift.model_id) & (last.c.day == RiskDrift.as_of_date),
        )
        .group_by(RiskDrift.model_id, RiskDrift.level)
    )
    out: dict[int, dict[str, int]] = {}
    for model_id, level, n in session.execute(stmt):
        out.setdefault(int(model_id), {})[str(level)] = int(n)
    return out


def _only(stmt: Any, column: Any, ids: Ids) -> Any:
    return stmt if ids is None or len(ids) > IN_LIST else stmt.where(column.in_(sorted(ids)))


def label_history(session: Session, accounts: Ids) -> History:
    """What the training labels read of these accounts (accounts, bills, allocations, payments,
    the bucket history); the contact frames empty (labels read none of them)."""
    bill_amount = Bill.principal_minor + Bill.interest_minor + Bill.fees_minor
    reads: dict[str, Any] = {
        "accounts": _only(
            select(
                Account.id,
                Account.customer_id,
                Account.product_code,
                Account.opened_date,
                Account.closed_date,
            ),
            Account.id,
            accounts,
        ),
        "bills": _only(
            select(
                Bill.id, Bill.account_id, Bill.due_date, bill_amount, func.date(Bill.created_at)
            ),
            Bill.account_id,
            accounts,
        ),
        "allocations": _only(
            select(Allocation.bill_id, Allocation.amount_minor, Allocation.value_date),
            Allocation.account_id,
            accounts,
        ),
        "payments": _only(
            select(
                Payment.account_id,
                Payment.amount_minor,
                Payment.value_date,
                func.date(Payment.reversed_at),
            ),
            Payment.account_id,
            accounts,
        ),
        "buckets": _only(
            select(
                DelinquencyEvent.account_id,
                DelinquencyEvent.effective_date,
                DelinquencyEvent.to_bucket,
            ),
            DelinquencyEvent.account_id,
            accounts,
        ),
    }
    got = {name: frames.read_frame(session, stmt, SCHEMAS[name]) for name, stmt in reads.items()}
    empty = {n: pl.DataFrame(schema=s) for n, s in SCHEMAS.items() if n not in got}
    if accounts is not None and len(accounts) > IN_LIST:
        keep = set(accounts)
        got["accounts"] = got["accounts"].filter(pl.col("account_id").is_in(keep))
    return History(**got, **empty)


# --- writes --------------------------------------------------------------------------------------


def add_model(session: Session, model: RiskModel) -> RiskModel:
    session.add(model)
    session.flush()
    return model


def insert_scores(session: Session, rows: pl.DataFrame) -> int:
    """account_id, as_of_date, model_id, kind, score, reasons (a list of dicts per row)."""
    return frames.insert_frame(session, Score.__table__, rows)  # type: ignore[arg-type]


def insert_drift(session: Session, rows: pl.DataFrame) -> int:
    """as_of_date, model_id, feature, psi, level."""
    return frames.insert_frame(session, RiskDrift.__table__, rows)  # type: ignore[arg-type]

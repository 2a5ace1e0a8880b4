"""Risk's service: models trained from Recoup's own history, the registry (versions per kind, one
active per kind, activation audited like a policy's), the daily score of every open account
owing, its drift against training, and the explanation of an account's scores.

Invariants: at most one model of a kind is `active` (an activation retires the previous one in the
same transaction); a day's scores of a kind come from one model and are written together (a second
scoring of the day replaces them); the features scored are `risk.features`, the very definition
the model was trained on.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit import partitions
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.kit.logging import get_logger
from recoup.models import AccountScore, RiskModel
from recoup.risk import drift as drift_engine
from recoup.risk import features, reasons, tabular
from recoup.risk import repository as repo

log = get_logger(__name__)
Progress = Callable[[str], None]

KINDS = features.KINDS
# The direction a reason explains: p_pay, what lowers the chance of paying; p_roll, what raises
# the risk of rolling. Either way, "why this account is a risk".
SIGN = {"p_pay": -1, "p_roll": 1}
TOP_REASONS = 3
SNAPSHOT_EVERY = 7  # days between training snapshots
MAX_SNAPSHOTS = 104
MAX_HORIZON = 365
# Shallower trees than the engine's defaults for the history's models: on the benchmark's
# portfolio (100,000 accounts, 76,753 snapshot rows) the cross-validated AUC is the same to three
# decimals (0.8436 against 0.8439), training takes half the time and the per-account reasons (tree
# SHAP, whose cost grows with leaves times depth squared) a quarter (docs/models.md).
# At most 250 rounds: on the benchmark's million-account history early stopping ran to 657 rounds
# for a held-out AUC of 0.8308; the rounds after the first few hundred add little to it and
# their cost to every prediction of the daily run (LightGBM's prediction time grows with the
# trees).
HISTORY_PARAMS: dict[str, Any] = {
    "num_leaves": 15,
    "max_depth": 4,
    "learning_rate": 0.1,
    "max_rounds": 250,
}
# From this many snapshot rows on, `train_from_history` (unless told the folds) fits one booster
# and calibrates and measures it on a stratified tenth held out, instead of five folds and a final
# fit: six fits become one. A tenth of 250,000 rows measures the AUC to about ±0.002 (its
# standard error on the benchmark's history), as close as the folds' spread; below it, the folds.
BIG_FRAME = 250_000


class RiskModelNotFound(NotFound):
    code = "risk_model_not_found"
    description = "No such risk model"


class NotEnoughHistory(Conflict):
    code = "not_enough_history"
    description = "The history has too few accounts, or only one outcome, to train on"


class WrongStatus(Conflict):
    code = "model_status"
    description = "The model is not in a status that allows this step"


class FourEyes(Forbidden):
    code = "four_eyes"
    description = "A model is activated by someone other than the person who trained it"


class BadTrainingRequest(ValidationFailed):
    code = "bad_training_request"
    description = "The kind, horizon or number of snapshots is out of bounds"


def snapshot_dates(as_of: dt.date, *, horizon_days: int, snapshots: int) -> list[dt.date]:
    """Every 7 days, ending `horizon_days` before `as_of` (so each label's window is over)."""
    last = as_of - dt.timedelta(days=horizon_days)
    return [last - dt.timedelta(days=SNAPSHOT_EVERY * i) for i in reversed(range(snapshots))]


def training_frame(
    session: Session,
    *,
    as_of: dt.date,
    kind: str,
    horizon_days: int,
    snapshots: int,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """The features at each snapshot of the kind's population, with the `label` observed in the
    horizon after it (nothing after `as_of` is read)."""
    _check(kind, horizon_days, snapshots)
    dates = snapshot_dates(as_of, horizon_days=horizon_days, snapshots=snapshots)
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    history = repo.history(session, since=dates[0], until=as_of)
    say(
        f"history read: {history.accounts.height:,} accounts ({time.perf_counter() - started:.1f} s)"
    )
    started = time.perf_counter()
    computed = features.compute(history, dates, kind=kind)
    framed = features.labels(history, computed, kind=kind, horizon_days=horizon_days)
    say(f"features and labels of {len(dates)} snapshots ({time.perf_counter() - started:.1f} s)")
    return framed


def train_from_history(
    session: Session,
    *,
    as_of: dt.date,
    kind: str,
    actor: str,
    clock: Clock,
    horizon_days: int = 30,
    snapshots: int = 12,
    folds: int | None = None,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> RiskModel:
    """Train a model of `kind` on the snapshots of the history up to `as_of` and register it
    (status `trained`: `activate` puts it to work). `folds` None: 5, or a held-out tenth from
    `BIG_FRAME` rows on."""
    say = progress or (lambda _m: None)
    say(f"reading the history up to {as_of.isoformat()}")
    frame = training_frame(
        session,
        as_of=as_of,
        kind=kind,
        horizon_days=horizon_days,
        snapshots=snapshots,
        progress=say,
    )
    positives = int(frame["label"].sum()) if frame.height else 0
    say(f"{frame.height:,} snapshot rows, {positives:,} with {kind} = 1")
    if folds is None:
        folds = 5 if frame.height < BIG_FRAME else 0
    try:
        model = tabular.train(
            frame.select(*features.FEATURES, "label"),
            "label",
            columns=columns(frame),
            monotone=features.MONOTONE[kind],
            folds=folds,
            seed=seed,
            params={**HISTORY_PARAMS, **(params or {})},
            progress=say,
        )
    except tabular.ModelError as exc:
        raise NotEnoughHistory(f"cannot train {kind} up to {as_of.isoformat()}: {exc}") from exc
    dates = frame["as_of_date"]
    return register(
        session,
        model,
        kind=kind,
        horizon_days=horizon_days,
        window_from=dates.min(),  # type: ignore[arg-type]
        window_to=dates.max(),  # type: ignore[arg-type]
        actor=actor,
        clock=clock,
    )


def columns(frame: pl.DataFrame) -> tuple[tabular.Column, ...]:
    """The features as the engine's columns (categories as seen in `frame`)."""
    inferred = {c.name: c for c in tabular.infer_columns(frame.select(*features.FEATURES))}
    out = []
    for name, feature in features.FEATURES.items():
        column = inferred[name]
        if feature.kind == "categorical" and column.kind != "categorical":
            column = tabular.Column(name, "categorical", ())
        out.append(column)
    return tuple(out)


def register(
    session: Session,
    model: tabular.Model,
    *,
    kind: str,
    horizon_days: int,
    window_from: dt.date,
    window_to: dt.date,
    actor: str,
    clock: Clock,
) -> RiskModel:
    """A trained model becomes the next version of its kind (audited `risk_model.registered`)."""
    models = repo.RiskModelRepository(session)
    row = models.create(
        RiskModel(
            kind=kind,
            version=models.next_version(kind),
            status="trained",
            horizon_days=horizon_days,
            window_from=window_from,
            window_to=window_to,
            trained_at=clock.now(),
            trained_by=actor,
            features=[c.name for c in model.columns],
            metrics=json.loads(json.dumps(_finite(model.metrics))),
            calibration={"x": list(model.calibration.x), "y": list(model.calibration.y)},
            artefact=tabular.dumps(model),
        )
    )
    audit_service.record(
        session,
        actor=actor,
        action="risk_model.registered",
        subject_type="risk_model",
        subject_id=row.id,
        clock=clock,
        details={"kind": kind, "version": row.version, **_headline(row)},
    )
    return row


def activate(
    session: Session, model_id: int, *, actor: str, clock: Clock, at_host: bool = False
) -> RiskModel:
    """The model becomes its kind's active one; the previous active one is retired. Audited
    (`risk_model.activated`, naming the previous). Four eyes, like a policy's activation: the
    person who trained the model never activates it, whatever the entry point (403
    `four_eyes`); an active model is not activated again (409
    `model_status`); a retired one may be, to go back to it. `at_host`: the
    operator at the host (`recoup models train --activate`, `recoup models activate`), trusted
    like `recoup strategy activate`, is not held to four eyes; the audit entry says so."""
    models = repo.RiskModelRepository(session)
    chosen = models.get(model_id)
    if chosen is None:
        raise RiskModelNotFound(f"no risk model {model_id}")
    if chosen.trained_by == actor and not at_host:
        raise FourEyes("the person who trained a model does not activate it: another one does")
    if chosen.status == "active":
        raise WrongStatus(f"risk model {model_id} is active already")
    previous = models.active_of(chosen.kind)
    models.make_active(chosen, previous, at=clock.now(), by=actor)
    audit_service.record(
        session,
        actor=actor,
        action="risk_model.activated",
        subject_type="risk_model",
        subject_id=chosen.id,
        clock=clock,
        details={
            "kind": chosen.kind,
            "version": chosen.version,
            "previous": previous.id if previous is not None and previous.id != chosen.id else None,
            "at_host": at_host,
        },
    )
    return chosen


def list_models(session: Session, kind: str | None = None) -> list[RiskModel]:
    return list(repo.RiskModelRepository(session).newest_first(kind))


def get_model(session: Session, model_id: int) -> RiskModel:
    row = repo.RiskModelRepository(session).get(model_id)
    if row is None:
        raise RiskModelNotFound(f"no risk model {model_id}")
    return row


def engine_model(row: RiskModel) -> tabular.Model:
    """A stored model, loaded once per process (a version's artefact never changes)."""
    return _load(row.id, row.artefact)


@lru_cache(maxsize=8)
def _load(_model_id: int, artefact: str) -> tabular.Model:
    return tabular.loads(artefact)


@dataclass
class Drifted:
    kind: str
    model_id: int
    feature: str
    psi: float


@dataclass
class ScoreDay:
    day: dt.date
    scored: dict[str, int] = field(default_factory=dict)  # kind -> accounts scored
    models: dict[str, int] = field(default_factory=dict)  # kind -> model id
    alerts: list[Drifted] = field(default_factory=list)  # PSI past drift.ALERT
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall time (benchmarks)

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {f"scored_{k}": n for k, n in self.scored.items()}
        if self.alerts:
            out["drift_alerts"] = [f"{a.kind} {a.feature} psi {a.psi:.3f}" for a in self.alerts]
        return out


@dataclass(frozen=True)
class Scored:
    """One kind's population (its features) and their scores, in the same order."""

    population: pl.DataFrame
    scores: np.ndarray


class ReadAhead:
    """The day's scoring begun on a connection of its own, in a thread, while the daily run's
    first steps (arrangements, autopay, the delinquency pass) work on the run's connection: the
    active models loaded (the first load of a process imports the boosting engine, about a
    second), the day's read (`repository.history` of the accounts the active kinds score), the
    features and the scores. On two cores this overlaps those steps, and the scoring step that
    follows has only the accounts they changed to read, compute and score
    (`score_day(early=..., changed=...)`).

    The read cannot see the run's own writes (uncommitted on the other connection), so an
    account a step wrote for is read again on the run's connection and its features and scores
    replace the early ones: the daily flow names them (the arrangements reviewed, the accounts
    autopay asked, the accounts whose bucket moved). Exact because no feature of an account
    depends on another account's rows (`features.compute`), and a score on its own features
    alone. What others commit while the run works is in neither read for the accounts the run
    left alone, as for a read taken at the run's start; the early read is one snapshot
    (REPEATABLE READ), where a read on the run's connection sees each statement's own."""

    def __init__(self, bind: Engine, day: dt.date, models: Iterable[RiskModel]) -> None:
        self.day = day
        self.models = {m.kind: m.id for m in models}
        artefacts = {m.kind: (m.id, m.artefact) for m in models}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="risk-read-ahead")
        # The models loaded beside the read: the engine's import is the interpreter's work, the
        # read mostly the server's.
        loaded = self._pool.submit(lambda: {k: _load(*a) for k, a in artefacts.items()})
        self._future = self._pool.submit(self._score, bind, _read_for(artefacts), loaded)

    def _score(
        self, bind: Engine, owing: str, loaded: Future[dict[str, tabular.Model]]
    ) -> tuple[features.History, dict[str, Scored]]:
        with Session(bind) as early:
            early.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            try:
                history = repo.history(early, since=self.day, until=self.day, owing=owing)
            finally:
                early.rollback()
        return history, _scored(features.compute(history, [self.day]), loaded.result())

    def scored(self) -> tuple[features.History, dict[str, Scored]] | None:
        """The early read and the scores of each kind (waits for them); None when they failed
        (no connection free in the pool, say): the caller scores on its own connection instead,
        and the failure is logged."""
        try:
            return self._future.result()
        except Exception as exc:  # any failure ahead: the caller reads and scores again
            log.warning(
                "risk.read_ahead_failed", day=self.day.isoformat(), error=type(exc).__name__
            )
            return None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def read_ahead(session: Session, day: dt.date) -> Iterator[ReadAhead | None]:
    """A `ReadAhead` of `day` while the block runs, when it can help: on PostgreSQL, with a model
    active, the session on an engine (not a connection holding a caller's transaction, whose
    writes a second connection would not see). None otherwise. The caller's transaction must
    hold none of its own writes yet: the daily run's, begun by its claim."""
    bind = session.get_bind()
    active = repo.RiskModelRepository(session).active()
    if not active or not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        yield None
        return
    early = ReadAhead(bind, day, active.values())
    try:
        yield early
    finally:
        early.close()


def _scored(computed: pl.DataFrame, models: dict[str, tabular.Model]) -> dict[str, Scored]:
    """Each kind's population of `computed` (`features.compute`) and its scores."""
    out = {}
    for kind, model in models.items():
        population = computed.filter(features.population(kind))
        out[kind] = Scored(population, tabular.predict(model, population))
    return out


def _replaced(early: Scored, fresh: Iterable[Scored], changed: Collection[int]) -> Scored:
    """`early` with the rows of the `changed` accounts replaced by `fresh` (theirs alone)."""
    kept = ~early.population["account_id"].is_in(
        pl.Series(sorted(changed), dtype=pl.Int64).implode()
    )
    fresh = list(fresh)
    return Scored(
        pl.concat([early.population.filter(kept), *(f.population for f in fresh)]),
        np.concatenate([early.scores[kept.to_numpy()], *(f.scores for f in fresh)]),
    )


def score_day(
    session: Session,
    day: dt.date,
    *,
    clock: Clock,
    engine: str = "local",
    early: ReadAhead | None = None,
    changed: Collection[int] = (),
    moved: Collection[int] = (),
) -> ScoreDay:
    """Score every open account owing with each kind's active model (nothing when none is): the
    features as of `day` and the calibrated score, written to `account_scores`; the PSI of every
    feature and of the score against the model's training written to `risk_drift`, with a
    `risk.drift_alert` warning past `drift.ALERT`.

    The reasons are not computed here: `explain` computes an account's when someone asks (the
    console, `contact explain`, the debtor's "my data" page), from the same features as of the
    score's day. Features as of a day read nothing after it, so they come out the same later;
    computing them for every account every day cost more than the rest of the step together
    (docs/models.md, "Speed").

    `engine`: where the features and scores are computed, "local" (this process) or "spark"
    (per partition of customers, `risk.spark`: the same scores, the same drift).

    `early`: the day's scores begun before (`read_ahead`, local), used when they are of the
    models active now, with `changed` (every account the caller's transaction wrote for since it
    began) read, computed and scored again here: the same scores as a read here of every account
    (`ReadAhead`). `moved`: accounts whose bucket changes alone the transaction wrote (the daily
    delinquency pass's); their bucket changes are read again and the rest taken from the early
    read (one statement instead of the eleven of a whole read; those in `changed` too are read
    whole)."""
    out = ScoreDay(day)
    active = repo.RiskModelRepository(session).active()
    if not active:
        return out
    rows = {kind: active[kind] for kind in KINDS if kind in active}
    scored = None
    if (
        early is not None
        and early.day == day
        and early.models == {k: r.id for k, r in rows.items()}
    ):
        with _timed(out, "waiting for the scores begun ahead"):
            ahead = early.scored()
        if ahead is not None:
            scored = _rescored(session, out, day, rows, ahead, changed, moved)
    if scored is None:
        scored = _score_here(session, out, day, rows, engine)
    for kind, row in rows.items():
        population, scores = scored[kind].population, scored[kind].scores
        with _timed(out, f"{kind} write"):
            repo.replace_scores(session, day, kind, _score_rows(row, population, scores, day=day))
        out.scored[kind], out.models[kind] = population.height, row.id
        with _timed(out, f"{kind} drift"):
            _drift(session, out, kind, row, engine_model(row), population, scores)
    return out


def _rescored(
    session: Session,
    out: ScoreDay,
    day: dt.date,
    rows: dict[str, RiskModel],
    ahead: tuple[features.History, dict[str, Scored]],
    changed: Collection[int],
    moved: Collection[int],
) -> dict[str, Scored]:
    """The early scores with the rows of the accounts the run wrote for computed again: those
    of `changed` from a whole read on the caller's connection, those only `moved` from the
    early read with their bucket changes read again."""
    history, scored = ahead
    changed, moved = set(changed), set(moved) - set(changed)
    if not changed and not moved:
        return scored
    models = {k: engine_model(r) for k, r in rows.items()}
    again: list[dict[str, Scored]] = []
    if changed:
        with _timed(out, "the accounts the run changed"):
            fresh = repo.history(session, since=day, until=day, account_ids=changed)
            again.append(_scored(features.compute(fresh, [day]), models))
    if moved:
        with _timed(out, "the accounts whose bucket moved"):
            spliced = replace(
                history.of_accounts(moved),
                buckets=repo.buckets(session, until=day, account_ids=moved),
            )
            again.append(_scored(features.compute(spliced, [day]), models))
    return {k: _replaced(scored[k], [a[k] for a in again], changed | moved) for k in scored}


def _score_here(
    session: Session, out: ScoreDay, day: dt.date, rows: dict[str, RiskModel], engine: str
) -> dict[str, Scored]:
    """The day's read, features and scores on the caller's connection, on `engine`."""
    with _timed(out, "read"):
        history = repo.history(session, since=day, until=day, owing=_read_for(rows))
    if engine == "spark":
        from recoup.risk import spark  # pyspark is optional: imported only when asked

        with _timed(out, "features and scores on spark"):
            on_spark = spark.score_by_customer(
                history, day, {kind: row.artefact for kind, row in rows.items()}
            )
        return {kind: Scored(*on_spark[kind]) for kind in rows}
    if engine != "local":
        raise ValidationFailed(f"unknown engine {engine!r} (local or spark)")
    with _timed(out, "features"):
        computed = features.compute(history, [day])
    with _timed(out, "scores"):
        return _scored(computed, {kind: engine_model(row) for kind, row in rows.items()})


def maintain_partitions(
    session: Session, day: dt.date, *, years: int, dry_run: bool = False
) -> partitions.Maintenance:
    """The scores' monthly partitions on PostgreSQL: the months ahead made, the ones past `years`
    dropped unless held (`repository.PARTITIONS` says by what)."""
    return partitions.maintain(session, list(repo.PARTITIONS), day, years=years, dry_run=dry_run)


def _read_for(kinds: Iterable[str]) -> str:
    """The accounts the day's read keeps for the active kinds (`repo.history(owing=...)`):
    p_pay alone scores only the accounts with money overdue (117,441 of the 316,375 owing
    anything on the benchmark's 1,000,000 accounts); p_roll needs every account owing."""
    return "overdue" if set(kinds) == {"p_pay"} else "anything"


@contextmanager
def _timed(out: ScoreDay, phase: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    out.seconds[phase] = round(time.perf_counter() - started, 3)


def _drift(
    session: Session,
    out: ScoreDay,
    kind: str,
    row: RiskModel,
    model: tabular.Model,
    population: pl.DataFrame,
    scores: np.ndarray,
) -> None:
    """The PSI of every feature and of the score against the model's training, written for the
    day; a warning (and an alert on `out`) past `drift.ALERT`."""
    psi = drift_engine.drift(model, population, scores) if population.height else {}
    drifted = [(name, v) for name, v in psi.items() if v is not None and math.isfinite(v)]
    repo.replace_drift(
        session,
        out.day,
        row.id,
        pl.DataFrame(
            {
                "as_of_date": [out.day] * len(drifted),
                "model_id": [row.id] * len(drifted),
                "feature": [n for n, _ in drifted],
                "psi": [v for _, v in drifted],
                "level": [level(v) for _, v in drifted],
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
    for name, value in drifted:
        if value > drift_engine.ALERT:
            out.alerts.append(Drifted(kind, row.id, name, value))
            log.warning(
                "risk.drift_alert",
                kind=kind,
                model_id=row.id,
                feature=name,
                psi=round(value, 4),
                day=out.day.isoformat(),
            )


def level(psi: float) -> str:
    if psi > drift_engine.ALERT:
        return "alert"
    if psi > drift_engine.WATCH:
        return "watch"
    return "ok"


def _score_rows(
    row: RiskModel, population: pl.DataFrame, scores: np.ndarray, *, day: dt.date
) -> pl.DataFrame:
    """account_id, as_of_date, model_id, kind, score (the reasons left null: `explain`)."""
    n = population.height
    return pl.DataFrame(
        {
            "account_id": population["account_id"],
            "as_of_date": pl.Series([day] * n, dtype=pl.Date),
            "model_id": pl.Series([row.id] * n, dtype=pl.Int64),
            "kind": pl.Series([row.kind] * n, dtype=pl.String),
            "score": pl.Series(scores, dtype=pl.Float64),
        }
    )


@dataclass
class Explained:
    kind: str
    as_of_date: dt.date
    score: float
    model_id: int
    reasons: list[dict[str, Any]]  # code, value, weight, and the words: en, zh-CN


def explain(session: Session, account_id: int) -> list[Explained]:
    """The account's latest score of each kind, with its top reasons in words (zh-CN and en):
    the features as of the score's day, computed again for this one account, and the score's own
    model's contributions (tree SHAP)."""
    out = []
    for s in repo.latest_scores(session, account_id):
        found = s.reasons if s.reasons is not None else _reasons(session, s)
        out.append(
            Explained(
                kind=s.kind,
                as_of_date=s.as_of_date,
                score=s.score,
                model_id=s.model_id,
                reasons=[
                    {
                        **r,
                        **{
                            lang: reasons.words(r["code"], r.get("value"), lang)
                            for lang in reasons.LANGUAGES
                        },
                    }
                    for r in found
                ],
            )
        )
    return out


def _reasons(session: Session, score: AccountScore) -> list[dict[str, Any]]:
    """One score's top reasons: {"code": feature, "value": its value as of the day, "weight":
    its contribution}, strongest first."""
    history = repo.history(
        session, since=score.as_of_date, until=score.as_of_date, account_ids=[score.account_id]
    )
    frame = features.compute(history, [score.as_of_date]).filter(
        pl.col("account_id") == score.account_id
    )
    if frame.is_empty():
        return []
    model = engine_model(get_model(session, score.model_id))
    values = frame.row(0, named=True)
    return [
        {"code": name, "value": _plain(values.get(name)), "weight": round(weight, 4)}
        for name, weight in tabular.reasons(model, frame, top=TOP_REASONS, sign=SIGN[score.kind])[0]
    ]


def drift_report(session: Session, day: dt.date | None = None) -> list[dict[str, Any]]:
    """The drift rows of a day (the latest scored when None), worst first."""
    return [
        {
            "as_of_date": d.as_of_date,
            "model_id": d.model_id,
            "feature": d.feature,
            "psi": d.psi,
            "level": d.level,
        }
        for d in repo.drift_rows(session, day)
    ]


def _check(kind: str, horizon_days: int, snapshots: int) -> None:
    if kind not in KINDS:
        raise BadTrainingRequest(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    if not 1 <= horizon_days <= MAX_HORIZON:
        raise BadTrainingRequest(f"horizon: {horizon_days} days is not within 1..{MAX_HORIZON}")
    if not 1 <= snapshots <= MAX_SNAPSHOTS:
        raise BadTrainingRequest(f"snapshots: {snapshots} is not within 1..{MAX_SNAPSHOTS}")


def _plain(value: Any) -> Any:
    """A feature's value as the reasons show it: a number to 4 places, a missing one null."""
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value


def _finite(value: Any) -> Any:
    """JSON-safe metrics: NaN and infinities as null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _headline(row: RiskModel) -> dict[str, Any]:
    m = row.metrics
    return {k: m[k] for k in ("rows", "positives", "cv_auc", "holdout_auc", "brier") if k in m}

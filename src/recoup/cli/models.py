"""`recoup models ...`: train a calibrated risk model on any CSV and score a CSV with it.

The commands read files and print; the learning is `recoup.risk.tabular`'s. Every problem with
the input (no file, an empty one, a column that is not there, a target that is not binary, a file
past the bounds) ends with one line on standard error and exit status 2.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import polars as pl
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from recoup.cli.common import console, fail, parse_date, runtime
from recoup.kit.errors import RecoupError
from recoup.risk import service as risk_service
from recoup.risk import tabular
from recoup.risk.tabular import ModelError

models_app = typer.Typer(
    help="Risk models: train a calibrated model on a CSV, score a CSV with it.",
    no_args_is_help=True,
)

MAX_ROWS = 5_000_000
MAX_COLUMNS = 500
MAX_REASONS = 10
NULLS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
BAD_INPUT = 2


def _bad(message: str) -> typer.Exit:
    return fail(message, code=BAD_INPUT)


def read_table(path: Path) -> pl.DataFrame:
    """A CSV (or .csv.gz) as a frame: types inferred from every row, the usual spellings of a
    missing value as null, at most `MAX_ROWS` rows and `MAX_COLUMNS` columns."""
    if not path.is_file():
        raise _bad(f"{path}: no such file")
    try:
        header = pl.read_csv(path, n_rows=0, null_values=NULLS)
        if len(header.columns) > MAX_COLUMNS:
            raise _bad(
                f"{path}: {len(header.columns):,} columns; at most {MAX_COLUMNS} can be modelled"
            )
        frame = pl.read_csv(path, null_values=NULLS, infer_schema_length=None, n_rows=MAX_ROWS + 1)
    except pl.exceptions.NoDataError:
        raise _bad(f"{path}: the file is empty") from None
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _bad(f"{path}: not a readable CSV ({said})") from None
    if frame.height == 0:
        raise _bad(f"{path}: the file has a header but no rows")
    if frame.height > MAX_ROWS:
        raise _bad(f"{path}: more than {MAX_ROWS:,} rows; sample it to at most {MAX_ROWS:,}")
    return frame


def _need(frame: pl.DataFrame, names: list[str], path: Path, option: str) -> None:
    for name in names:
        if name not in frame.columns:
            raise _bad(
                f"{path}: no column {name!r} ({option}); the columns are: "
                + ", ".join(frame.columns)
            )


def binary_target(
    series: pl.Series, positive: str | None, path: Path
) -> tuple[pl.Series, str | None]:
    """The target as 0/1, and what 1 stands for when the file spells it otherwise."""
    name = series.name
    nulls = series.is_null()
    if nulls.any():
        row = int(nulls.arg_max() or 0)
        raise _bad(f"{path}: the target {name!r} is empty in row {row + 1} (line {row + 2})")
    text = series.cast(pl.String)
    values = text.unique(maintain_order=True).to_list()
    if positive is not None:
        if positive not in values:
            raise _bad(
                f"{path}: --positive {positive!r} is not a value of {name!r} "
                f"(it holds {', '.join(map(repr, values[:5]))})"
            )
        if len(values) > 2:
            raise _not_binary(text, values, path)
        return (text == positive).cast(pl.Int8).alias(name), positive
    if series.dtype.is_numeric() and set(series.cast(pl.Float64).unique().to_list()) <= {0, 1}:
        return series.cast(pl.Int8), None
    if series.dtype == pl.Boolean:
        return series.cast(pl.Int8), None
    if len(values) != 2:
        raise _not_binary(text, values, path)
    # Two values other than 0 and 1: the rarer is the event (1), as in credit data's "bad".
    counts = dict(text.value_counts().iter_rows())
    event = min(sorted(values), key=lambda v: counts[v])
    return (text == event).cast(pl.Int8).alias(name), event


def _not_binary(text: pl.Series, values: list[Any], path: Path) -> typer.Exit:
    first_two = values[:2]
    row = int((~text.is_in(first_two)).arg_max() or 0)
    shown = ", ".join(repr(v) for v in values[:6]) + (", ..." if len(values) > 6 else "")
    return _bad(
        f"{path}: the target {text.name!r} must be 0/1 or two values; it holds {len(values)}: "
        f"{shown} (the first third value, {text[row]!r}, is in row {row + 1}, line {row + 2})"
    )


def _monotone(specs: list[str]) -> dict[str, int]:
    out = {}
    for spec in specs:
        name, sep, direction = spec.rpartition("=")
        if not sep or not name or direction not in ("+1", "1", "-1", "0"):
            raise _bad(f"--monotone {spec!r}: write COLUMN=+1 (rising), COLUMN=-1 or COLUMN=0")
        out[name] = int(direction)
    return out


@models_app.command("train")
def train(
    file: Annotated[
        Path | None, typer.Argument(help="a CSV (or .csv.gz) with a header row")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="the column to predict: 0/1, or two values")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="where to write the model (JSON)")] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="a row identifier: kept for scoring, not learned")
    ] = None,
    drop: Annotated[
        list[str] | None, typer.Option(help="a column not to learn from (repeatable)")
    ] = None,
    monotone: Annotated[
        list[str] | None,
        typer.Option(help="COLUMN=+1 or COLUMN=-1: the score only rises (falls) with it"),
    ] = None,
    positive: Annotated[
        str | None,
        typer.Option(help="which target value is 1 (default: the rarer of two values)"),
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=20,
            help="cross-validation folds; 0 for a held-out tenth [default: 5; from history, 0 "
            "from 250,000 snapshot rows on]",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed; the same seed, the same model")] = 0,
    from_history: Annotated[
        bool,
        typer.Option(
            "--from-history",
            help="train on Recoup's own ledger and contact history instead of a CSV",
        ),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="with --from-history: YYYY-MM-DD, the last day read"),
    ] = None,
    kind: Annotated[
        str, typer.Option(help="with --from-history: p_pay (pays what is overdue) or p_roll")
    ] = "p_pay",
    horizon: Annotated[
        int, typer.Option(min=1, max=365, help="with --from-history: the outcome's window, days")
    ] = 30,
    snapshots: Annotated[
        int, typer.Option(min=1, max=104, help="with --from-history: weekly snapshots")
    ] = 12,
    activate: Annotated[
        bool, typer.Option("--activate", help="with --from-history: make it the active model")
    ] = False,
    actor: Annotated[str, typer.Option(help="who trains (recorded)")] = "cli",
) -> None:
    """Train a calibrated gradient-boosting model of P(target = 1) on every other column and
    print its cross-validated AUC per fold, the Brier score and the reliability table. With
    `--from-history --as-of DATE`: a p_pay or p_roll model trained on Recoup's own history and
    registered in the database (`recoup models list`, `recoup models activate`)."""
    if from_history:
        day = parse_date(as_of, option="--as-of")
        if day is None:
            raise _bad("--from-history needs --as-of YYYY-MM-DD (the last day the history reads)")
        _train_from_history(
            day,
            kind=kind,
            horizon=horizon,
            snapshots=snapshots,
            folds=folds,
            seed=seed,
            activate=activate,
            actor=actor,
        )
        return
    if file is None or target is None or out is None:
        raise _bad("train FILE --target COLUMN --out MODEL (or --from-history --as-of DATE)")
    frame = read_table(file)
    _need(frame, [target], file, "--target")
    _need(frame, [id_column] if id_column else [], file, "--id")
    _need(frame, list(drop or []), file, "--drop")
    y, event = binary_target(frame.get_column(target), positive, file)
    excluded = {target, *(drop or []), *([id_column] if id_column else [])}
    folds = 5 if folds is None else folds
    try:
        columns = tabular.infer_columns(frame, exclude=excluded)
        constraints = _monotone(list(monotone or []))
        learn = frame.select([c.name for c in columns]).with_columns(y)
        steps = folds + 1 if folds else 1
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("training", total=steps)

            def step(line: str) -> None:
                console.print(f"  {line}")
                bar.advance(task)

            model = tabular.train(
                learn,
                target,
                columns=columns,
                monotone=constraints,
                folds=folds,
                seed=seed,
                progress=step,
            )
    except ModelError as exc:
        raise _bad(f"{file}: {exc}") from None
    params = {**model.params, "id": id_column, "positive": event}
    model = dataclasses.replace(model, params=params)
    try:
        out.write_text(tabular.dumps(model), encoding="utf-8")
    except OSError as exc:
        raise _bad(f"{out}: cannot write the model ({exc.strerror})") from None
    _summary(model, event)
    console.print(f"model written to [bold]{out}[/]")


def _summary(model: tabular.Model, event: str | None) -> None:
    m = model.metrics
    meaning = f"; 1 = {event!r}" if event is not None else ""
    console.print(
        f"rows {m['rows']:,}, positives {m['positives']:,} "
        f"({m['positives'] / m['rows']:.1%}{meaning}); {len(model.columns)} columns; "
        f"{model.params['rounds']} rounds"
    )
    if "cv_auc" in m:
        folds = ", ".join(f"{a:.4f}" for a in m["cv_auc_folds"])
        console.print(f"AUC per fold: {folds}")
        console.print(
            f"cross-validated AUC: [bold]{m['cv_auc']:.4f} ± {m['cv_auc_sd']:.4f}[/] "
            f"({len(m['cv_auc_folds'])} folds, mean ± sd)"
        )
    else:
        console.print(
            f"held-out AUC: [bold]{m['holdout_auc']:.4f}[/] on {m['holdout_rows']:,} rows"
        )
    console.print(f"Brier score: {m['brier']:.4f}")
    table = Table(title="reliability (calibrated, out of sample)")
    for column in ("bin", "mean predicted", "observed", "rows"):
        table.add_column(column, justify="right")
    for i, (predicted, observed, n) in enumerate(m["reliability"], start=1):
        table.add_row(str(i), f"{predicted:.3f}", f"{observed:.3f}", f"{n:,}")
    console.print(table)


def reason_texts(
    model: tabular.Model, frame: pl.DataFrame, index: np.ndarray
) -> list[list[str | None]]:
    """Per reason slot, per row, "COLUMN=value" (the value as the file has it; "missing" for an
    empty cell), or None where fewer columns pushed the score that way."""
    slots: list[list[str | None]] = []
    for k in range(index.shape[1]):
        texts: np.ndarray = np.full(frame.height, None, dtype=object)
        for j in np.unique(index[:, k]):
            if j < 0:
                continue
            rows = np.flatnonzero(index[:, k] == j)
            name = model.columns[j].name
            values = frame.get_column(name).gather(rows).cast(pl.String).fill_null("missing")
            texts[rows] = [f"{name}={v}" for v in values.to_list()]
        slots.append(texts.tolist())
    return slots


@models_app.command("score")
def score(
    model_file: Annotated[Path, typer.Argument(help="a model written by `recoup models train`")],
    file: Annotated[Path, typer.Argument(help="a CSV (or .csv.gz) with the model's columns")],
    out: Annotated[Path, typer.Option(help="where to write id,score,reason_1,... (CSV)")],
    id_column: Annotated[
        str | None,
        typer.Option("--id", help="the id column (default: the model's, else the row number)"),
    ] = None,
    reasons: Annotated[
        int, typer.Option(min=0, max=MAX_REASONS, help="reason columns per row (0 for none)")
    ] = 3,
    why: Annotated[
        str,
        typer.Option(
            help="reasons for a high score (columns pushing it up) or a low one (pushing it down)"
        ),
    ] = "high",
    fast_reasons: Annotated[
        bool,
        typer.Option(
            "--fast-reasons",
            help="rank reasons by path attribution (much cheaper than tree SHAP; for big files)",
        ),
    ] = False,
) -> None:
    """Score every row: the calibrated P(target = 1) and the columns that moved it most."""
    if why not in ("high", "low"):
        raise _bad(f"--why {why!r}: high or low")
    if not model_file.is_file():
        raise _bad(f"{model_file}: no such file")
    try:
        model = tabular.loads(model_file.read_text(encoding="utf-8"))
    except (ModelError, UnicodeDecodeError) as exc:
        raise _bad(f"{model_file}: {exc}") from None
    frame = read_table(file)
    if id_column:
        _need(frame, [id_column], file, "--id")
    key = id_column or model.params.get("id")
    try:
        scores = tabular.predict(model, frame)
        if reasons:
            index, _ = tabular.top_contributions(
                model,
                frame,
                top=reasons,
                sign=1 if why == "high" else -1,
                method="path" if fast_reasons else "shap",
            )
            slots = reason_texts(model, frame, index)
    except ModelError as exc:
        raise _bad(f"{file}: {exc}") from None
    ids = (
        frame.get_column(key).alias("id")
        if key and key in frame.columns
        else pl.int_range(1, frame.height + 1, eager=True).alias("id")
    )
    result = pl.DataFrame([ids, pl.Series("score", scores)])
    if reasons:
        result = result.with_columns(
            pl.Series(f"reason_{k + 1}", slot, dtype=pl.String) for k, slot in enumerate(slots)
        )
        result = result.with_columns(
            pl.lit(None, dtype=pl.String).alias(f"reason_{k + 1}")
            for k in range(len(slots), reasons)
        )
    try:
        result.write_csv(out)
    except OSError as exc:
        raise _bad(f"{out}: cannot write the scores ({exc.strerror})") from None
    console.print(
        f"{frame.height:,} rows scored (mean score {float(np.mean(scores)):.4f}); "
        f"written to [bold]{out}[/]"
    )


# -- the registry: models trained on Recoup's own history ----------------------------------------


def _train_from_history(
    day: dt.date,
    *,
    kind: str,
    horizon: int,
    snapshots: int,
    folds: int | None,
    seed: int,
    activate: bool,
    actor: str,
) -> None:
    rt = runtime()
    try:
        with rt.transaction() as session:
            row = risk_service.train_from_history(
                session,
                as_of=day,
                kind=kind,
                actor=actor,
                clock=rt.clock,
                horizon_days=horizon,
                snapshots=snapshots,
                folds=folds,
                seed=seed,
                progress=lambda line: console.print(f"  {line}"),
            )
            if activate:
                risk_service.activate(session, row.id, actor=actor, clock=rt.clock, at_host=True)
            model = risk_service.engine_model(row)
    except RecoupError as exc:
        raise _bad(exc.message) from None
    _summary(model, None)
    console.print(
        f"registered [bold]#{row.id}[/]: {row.kind} version {row.version}, snapshots "
        f"{row.window_from} .. {row.window_to}, horizon {row.horizon_days} days"
        + (" — [green]active[/]" if activate else f" (activate: recoup models activate {row.id})")
    )


@models_app.command("list")
def list_models(
    kind: Annotated[str | None, typer.Option(help="only this kind: p_pay or p_roll")] = None,
) -> None:
    """The registry: every model trained from history, newest first."""
    rt = runtime()
    with rt.transaction() as session:
        rows = risk_service.list_models(session, kind)
        table = Table(title="risk models")
        for column in (
            "id",
            "kind",
            "version",
            "status",
            "snapshots",
            "horizon",
            "rows",
            "AUC",
            "trained",
        ):
            table.add_column(column)
        for m in rows:
            auc = m.metrics.get("cv_auc", m.metrics.get("holdout_auc"))
            table.add_row(
                str(m.id),
                m.kind,
                str(m.version),
                m.status,
                f"{m.window_from} .. {m.window_to}",
                f"{m.horizon_days} d",
                f"{m.metrics.get('rows', 0):,}",
                f"{auc:.3f}" if isinstance(auc, float) else "-",
                f"{m.trained_at:%Y-%m-%d %H:%M} by {m.trained_by}",
            )
    console.print(table)


@models_app.command("activate")
def activate_model(
    model_id: Annotated[int, typer.Argument(help="a model's id (recoup models list)")],
    actor: Annotated[
        str, typer.Option(help="who activates (recorded on the audit ledger)")
    ] = "cli",
) -> None:
    """Make a model its kind's active one (the daily run scores with it); the previous active
    model of the kind is retired. Audited. The operator at the host is trusted like `recoup
    strategy activate`; the console and the API hold activation to four eyes."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            row = risk_service.activate(
                session, model_id, actor=actor, clock=rt.clock, at_host=True
            )
            kind, version = row.kind, row.version
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(f"[green]active[/]: {kind} version {version} (model #{model_id})")


@models_app.command("drift")
def drift(
    day: Annotated[
        str | None, typer.Option("--day", help="YYYY-MM-DD; default the latest day scored")
    ] = None,
) -> None:
    """The population stability index of every feature and of the score on a day's scoring,
    against the model's training: ok, watch (past 0.1), alert (past 0.25)."""
    rt = runtime()
    with rt.transaction() as session:
        rows = risk_service.drift_report(session, parse_date(day, option="--day"))
    if not rows:
        console.print("no drift recorded (no day has been scored with an active model)")
        return
    table = Table(title=f"drift on {rows[0]['as_of_date']}")
    for column in ("model", "feature", "PSI", "level"):
        table.add_column(column)
    colour = {"ok": "green", "watch": "yellow", "alert": "red"}
    for r in rows:
        table.add_row(
            str(r["model_id"]),
            r["feature"],
            f"{r['psi']:.3f}",
            f"[{colour[r['level']]}]{r['level']}[/]",
        )
    console.print(table)

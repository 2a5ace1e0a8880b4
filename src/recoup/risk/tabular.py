"""The tabular model engine: gradient boosting (LightGBM) on any frame of numeric and categorical
columns, calibrated, explained per row, stored as JSON.

Pure: frames in, arrays out; no database, no settings. Everything the daily run, the CLI and the
public-data benchmark learn goes through `train`, and everything they score through `predict`.

- Columns are matched by name. Numeric columns: any number or boolean (null and NaN are missing).
  Categorical columns: text; each category seen in training gets an integer code in the model's own
  order (most frequent first, at most `MAX_CATEGORIES`), LightGBM splits on them as categories, and
  a category the model never saw (or one past the cap) is missing.
- `train` with `folds >= 2` cross-validates: stratified folds; inside each fold the fit rows are
  split again (90/10, stratified) and boosting stops when the inner tenth's log loss has not
  improved for `EARLY_STOP` rounds, so the held-out fold is never seen while choosing the number of
  rounds (its AUC is honest). The isotonic calibration is fitted on the out-of-fold raw scores; the
  final booster is trained on every row for the folds' mean best round count plus a tenth (with 5
  folds it sees about 40 % more rows than a fold's fit; the AUC is flat around the optimum, so
  the exact count matters little). `folds=0` skips cross-validation: 90 % of the rows are fitted (a tenth of them
  stopping the boosting, as in a fold), the other 10 % calibrate and give `holdout_auc`; that
  booster is the model.
- The Brier score and the reliability table are measured out of sample twice over: each fold's
  (or each fifth of the calibration split's) scores are calibrated by an isotonic fit on the others.
- Probabilities are the calibration applied to the booster's raw score (log-odds); contributions
  are LightGBM's exact tree SHAP values in log-odds, so a reason is what moved this person's score.
- Stored as JSON (never pickle): the booster as LightGBM's own model text, the rest as lists.
"""

from __future__ import annotations

import importlib.abc
import json
import math
import os
import sys
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, cast

# OpenMP threads that wait for work spin by default: on shared cores a spinning thread takes the
# core its partner needs, and training slows tenfold. Waiting threads sleep instead (read once, when
# LightGBM's OpenMP runtime loads: after this module's import; a value set by the operator wins).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import polars as pl

# LightGBM and scikit-learn are imported where a model is trained, loaded or measured, not with
# this module: every `recoup` command imports it (through the daily run's scoring), and the two
# cost some 3 s of CPU at start (`python -X importtime`), which most commands never need.
if TYPE_CHECKING:
    import lightgbm as lgb
    from sklearn.isotonic import IsotonicRegression

Kind = Literal["numeric", "categorical"]
FORMAT = "recoup.tabular/1"
MAX_CATEGORIES = 250  # most frequent first; the rest are missing (an id column is not a category)
MAX_ROUNDS = 3000
EARLY_STOP = 100  # rounds without improvement of the inner split's log loss
RELIABILITY_BINS = 10
REFERENCE_BINS = 10
DEFAULTS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 50,  # lowered for small frames (see `_settings`)
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "deterministic": True,
    "force_col_wise": True,
    "num_threads": 0,  # OpenMP's default: every core
    "verbosity": -1,
}


class ModelError(ValueError):
    """A frame, a column, a target or a model file the engine cannot use; the message says which."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    categories: tuple[str, ...] = ()  # categories as seen in training, in code order


@dataclass(frozen=True)
class Calibration:
    """Isotonic: raw score (log-odds) → probability, by `np.interp(raw, x, y)`."""

    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class Bins:
    """A column's (or the score's) distribution in training, the reference of PSI. Numeric: bins
    (-inf, e1], (e1, e2], ..., (ek, inf) and a last share for missing (len(edges) + 2 shares).
    Categorical: one share per category and a last one for missing (len(categories) + 1)."""

    edges: tuple[float, ...]
    shares: tuple[float, ...]
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Model:
    target: str
    columns: tuple[Column, ...]
    booster: str  # LightGBM model text (Booster.model_to_string)
    calibration: Calibration
    metrics: dict[str, Any]
    reference: dict[str, Bins]  # every column and "score"
    monotone: dict[str, int]
    params: dict[str, Any]


# -- columns and encoding -------------------------------------------------------------------------


def infer_columns(frame: pl.DataFrame, *, exclude: Collection[str] = ()) -> tuple[Column, ...]:
    """Every column of the frame but `exclude`: numbers and booleans numeric, text categorical."""
    columns = []
    for name, dtype in frame.schema.items():
        if name in exclude:
            continue
        if dtype.is_numeric() or dtype == pl.Boolean:
            columns.append(Column(name, "numeric"))
        elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            counts = (
                frame.get_column(name)
                .cast(pl.String)
                .alias("value")
                .drop_nulls()
                .value_counts(name="count", sort=False)
                .sort(["count", "value"], descending=[True, False])
            )
            categories = tuple(counts.get_column("value").head(MAX_CATEGORIES).to_list())
            columns.append(Column(name, "categorical", categories))
        elif dtype == pl.Null:
            columns.append(Column(name, "numeric"))
        else:
            raise ModelError(
                f"column {name!r} holds {dtype}: only numbers and text can be modelled; "
                "drop it or convert it"
            )
    return tuple(columns)


def _numeric(series: pl.Series) -> np.ndarray:
    dtype = series.dtype
    if dtype.is_numeric() or dtype in (pl.Boolean, pl.Null):
        values = series.cast(pl.Float64)
    elif dtype == pl.String:
        values = series.cast(pl.Float64, strict=False)
        bad = values.is_null() & series.is_not_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise ModelError(
                f"column {series.name!r} is numeric in the model but row {row + 1} holds "
                f"{series[row]!r}"
            )
    else:
        raise ModelError(f"column {series.name!r} holds {dtype}, not numbers")
    return values.fill_null(float("nan")).to_numpy().astype(np.float64, copy=False)


def _codes(series: pl.Series, categories: Sequence[str]) -> np.ndarray:
    """Category codes as floats (NaN for null, unseen or capped categories)."""
    text = series.cast(pl.String)
    if not categories:
        return np.full(len(series), np.nan)
    codes = text.replace_strict(
        list(categories), list(range(len(categories))), default=None, return_dtype=pl.Float64
    )
    return codes.fill_null(float("nan")).to_numpy().astype(np.float64, copy=False)


def matrix(columns: Sequence[Column], frame: pl.DataFrame) -> np.ndarray:
    """The frame as the booster reads it: rows x columns, float64, NaN for missing."""
    absent = [c.name for c in columns if c.name not in frame.columns]
    if absent:
        raise ModelError(f"the data lacks column(s) the model needs: {', '.join(absent)}")
    out = np.empty((frame.height, len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        series = frame.get_column(column.name)
        out[:, j] = (
            _numeric(series) if column.kind == "numeric" else _codes(series, column.categories)
        )
    return out


def _target(series: pl.Series) -> np.ndarray:
    name = series.name
    nulls = series.is_null()
    if nulls.any():
        raise ModelError(f"target {name!r} is missing in row {int(nulls.arg_max() or 0) + 1}")
    if series.dtype == pl.Boolean:
        y = series.cast(pl.Int8).to_numpy()
    elif series.dtype.is_numeric():
        bad = ~series.is_in([0, 1])
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise ModelError(f"target {name!r} must be 0 or 1; row {row + 1} holds {series[row]!r}")
        y = series.to_numpy()
    else:
        raise ModelError(f"target {name!r} must be 0 or 1; it holds {series.dtype} values")
    return y.astype(np.float64)


# -- training -------------------------------------------------------------------------------------


def _settings(params: Mapping[str, Any] | None, *, rows: int, seed: int) -> dict[str, Any]:
    settings = dict(DEFAULTS)
    # Small frames get smaller leaves and simpler trees: a leaf of 50 rows is a tenth of a small
    # frame's positives, and 31 leaves of 25 rows would split 1,000 rows to the bone. Leaves of
    # rows/40 (10 to 50 rows) and at most rows/(8 x leaf size) leaves (4 to 31: all 31 from
    # 12,400 rows on). The same rule for every frame, no tuning per dataset.
    leaf = max(10, min(50, rows // 40))
    settings["min_child_samples"] = leaf
    settings["num_leaves"] = max(4, min(31, rows // (8 * leaf)))
    settings["min_data_per_group"] = min(100, 2 * leaf)  # a category's split needs as many rows
    # OpenMP threads wait for each other: on a small frame (and two shared cores) one thread is
    # ten times faster than two; a big frame gains from every core.
    settings["num_threads"] = 1 if rows < 100_000 else 0
    settings["seed"] = seed
    settings.update(params or {})
    return settings


def _fit(
    x: np.ndarray,
    y: np.ndarray,
    settings: Mapping[str, Any],
    categorical: list[int],
    *,
    seed: int,
) -> lgb.Booster:
    """A booster with early stopping on an inner stratified tenth of the rows, or a fixed count
    of rounds when `settings` says `num_rounds` (or a class is too rare to split)."""
    import lightgbm as lgb
    from sklearn.model_selection import train_test_split

    lgb_params = {k: v for k, v in settings.items() if k not in ("num_rounds", "max_rounds")}
    lgb_params["seed"] = seed
    fixed = settings.get("num_rounds")
    counts = np.bincount(y.astype(np.int64), minlength=2)
    if fixed is not None or counts.min() < 20:
        train_set = lgb.Dataset(x, label=y, categorical_feature=categorical, free_raw_data=True)
        return lgb.train(lgb_params, train_set, num_boost_round=int(fixed or 100))
    fit, stop = train_test_split(
        np.arange(len(y)), test_size=0.1, stratify=y, random_state=seed % (2**32)
    )
    train_set = lgb.Dataset(x[fit], label=y[fit], categorical_feature=categorical)
    stop_set = lgb.Dataset(x[stop], label=y[stop], reference=train_set)
    lgb_params["metric"] = "binary_logloss"
    return lgb.train(
        lgb_params,
        train_set,
        num_boost_round=int(settings.get("max_rounds", MAX_ROUNDS)),
        valid_sets=[stop_set],
        callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False)],
    )


def _rounds(booster: lgb.Booster) -> int:
    return int(booster.best_iteration or booster.current_iteration())


def _isotonic(raw: np.ndarray, y: np.ndarray) -> IsotonicRegression:
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)


def _crossfit(raw: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each group's scores calibrated by an isotonic fit on the other groups: honest probabilities
    for the Brier score and the reliability table."""
    out = np.empty_like(raw)
    for g in np.unique(groups):
        inside = groups == g
        out[inside] = _isotonic(raw[~inside], y[~inside]).predict(raw[inside])
    return out


def reliability(p: np.ndarray, y: np.ndarray, bins: int = RELIABILITY_BINS) -> list[list[float]]:
    """[mean predicted, observed frequency, rows] per bin of equal counts, by predicted value."""
    order = np.argsort(p, kind="stable")
    return [
        [float(p[chunk].mean()), float(y[chunk].mean()), len(chunk)]
        for chunk in np.array_split(order, bins)
        if len(chunk)
    ]


def numeric_bins(values: np.ndarray, bins: int = REFERENCE_BINS) -> Bins:
    """Deciles (fewer where values repeat) of the finite values, and a share for missing."""
    finite = values[np.isfinite(values)]
    edges = (
        np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
        if len(finite)
        else np.empty(0)
    )
    reference = Bins(tuple(float(e) for e in edges), ())
    shares = bin_counts(reference, values) / max(len(values), 1)
    return Bins(reference.edges, tuple(float(s) for s in shares))


def categorical_bins(codes: np.ndarray, categories: Sequence[str]) -> Bins:
    shares = _code_counts(codes, len(categories)) / max(len(codes), 1)
    return Bins((), tuple(float(s) for s in shares), tuple(categories))


def _code_counts(codes: np.ndarray, k: int) -> np.ndarray:
    known = np.isfinite(codes)
    counts = np.bincount(codes[known].astype(np.int64), minlength=k).astype(np.float64)
    return np.append(counts[:k], float((~known).sum()))


def is_categorical(reference: Bins) -> bool:
    return len(reference.shares) == len(reference.categories) + 1 and not reference.edges


def bin_counts(reference: Bins, values: np.ndarray | pl.Series) -> np.ndarray:
    """How many values fall in each of the reference's bins (the last: missing or unseen)."""
    if reference.categories or (reference.shares and is_categorical(reference)):
        series = values if isinstance(values, pl.Series) else pl.Series(values)
        return _code_counts(_codes(series, reference.categories), len(reference.categories))
    array = _numeric(values) if isinstance(values, pl.Series) else np.asarray(values, np.float64)
    finite = np.isfinite(array)
    where = np.searchsorted(np.asarray(reference.edges), array[finite], side="left")
    counts = np.bincount(where, minlength=len(reference.edges) + 1).astype(np.float64)
    return np.append(counts, float((~finite).sum()))


def _monotone(columns: Sequence[Column], monotone: Mapping[str, int] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    kinds = {c.name: c.kind for c in columns}
    for name, direction in (monotone or {}).items():
        if name not in kinds:
            raise ModelError(f"monotone constraint on {name!r}, which is not a model column")
        if kinds[name] != "numeric":
            raise ModelError(f"monotone constraint on {name!r}: only numeric columns can have one")
        if direction not in (-1, 0, 1):
            raise ModelError(f"monotone constraint on {name!r} must be -1, 0 or +1")
        if direction:
            out[name] = int(direction)
    return out


def train(
    frame: pl.DataFrame,
    target: str,
    *,
    columns: Sequence[Column] | None = None,
    monotone: Mapping[str, int] | None = None,
    folds: int = 5,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Model:
    """A calibrated model of P(target == 1) from the frame's other columns (or `columns`).

    `params` are LightGBM's, over `DEFAULTS`; two are the engine's own: `num_rounds` (a fixed
    count, no early stopping) and `max_rounds`. `progress` hears one line per fold and one for the
    final booster (`folds + 1` calls; one with `folds=0`)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, train_test_split

    if target not in frame.columns:
        raise ModelError(f"no column {target!r}; the columns are: {', '.join(frame.columns)}")
    if folds == 1 or folds < 0:
        raise ModelError(f"folds must be 0 (no cross-validation) or at least 2, not {folds}")
    cols = tuple(columns) if columns is not None else infer_columns(frame, exclude=(target,))
    names = [c.name for c in cols]
    if not cols:
        raise ModelError("there is no column to learn from besides the target")
    if target in names or len(set(names)) != len(names):
        raise ModelError("the columns must be distinct and must not include the target")
    y = _target(frame.get_column(target))
    x = matrix(cols, frame)
    rows, positives = len(y), int(y.sum())
    rarest = min(positives, rows - positives)
    if rarest < max(folds, 10):
        raise ModelError(
            f"target {target!r} has {positives} rows of 1 and {rows - positives} of 0: at least "
            f"{max(folds, 10)} of each are needed"
        )
    constraints = _monotone(cols, monotone)
    settings = _settings(params, rows=rows, seed=seed)
    if constraints:
        settings["monotone_constraints"] = [constraints.get(n, 0) for n in names]
    categorical = [j for j, c in enumerate(cols) if c.kind == "categorical"]
    say = progress or (lambda _: None)
    metrics: dict[str, Any] = {"rows": rows, "positives": positives}

    if folds:
        raw = np.empty(rows)
        groups = np.empty(rows, dtype=np.int64)
        aucs, rounds, fit_rows = [], [], []
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed % (2**32))
        for k, (fit, held) in enumerate(splitter.split(x, y)):
            booster = _fit(x[fit], y[fit], settings, categorical, seed=seed + k)
            raw[held] = booster.predict(x[held], raw_score=True)
            groups[held] = k
            aucs.append(float(roc_auc_score(y[held], raw[held])))
            rounds.append(_rounds(booster))
            fit_rows.append(len(fit))
            say(f"fold {k + 1}/{folds}: AUC {aucs[-1]:.4f} ({rounds[-1]} rounds)")
        final_rounds = int(settings.get("num_rounds") or max(1, round(np.mean(rounds) * 1.1)))
        booster = _fit(
            x, y, {**settings, "num_rounds": final_rounds}, categorical, seed=seed + folds
        )
        say(f"final booster on {rows:,} rows ({final_rounds} rounds)")
        metrics |= {
            "cv_auc": float(np.mean(aucs)),
            "cv_auc_folds": aucs,
            "cv_auc_sd": float(np.std(aucs, ddof=1)),
            "cv_auc_pooled": float(roc_auc_score(y, raw)),
            "fold_rounds": rounds,
        }
        calibrated_y = y
    else:
        rest, calibrate = train_test_split(
            np.arange(rows), test_size=0.1, stratify=y, random_state=seed % (2**32)
        )
        booster = _fit(x[rest], y[rest], settings, categorical, seed=seed)
        final_rounds = _rounds(booster)
        raw = np.asarray(booster.predict(x[calibrate], raw_score=True), dtype=np.float64)
        calibrated_y = y[calibrate]
        groups = np.arange(len(calibrate)) % 5
        metrics["holdout_auc"] = float(roc_auc_score(calibrated_y, raw))
        metrics["holdout_rows"] = len(calibrate)
        say(f"booster on {len(rest):,} rows ({final_rounds} rounds)")

    isotonic = _isotonic(raw, calibrated_y)
    calibration = Calibration(
        tuple(float(v) for v in isotonic.X_thresholds_),
        tuple(float(v) for v in isotonic.y_thresholds_),
    )
    honest = _crossfit(raw, calibrated_y, groups)
    metrics["brier"] = float(np.mean((honest - calibrated_y) ** 2))
    metrics["reliability"] = reliability(honest, calibrated_y)
    metrics["rounds"] = final_rounds

    reference = {
        c.name: (
            numeric_bins(x[:, j])
            if c.kind == "numeric"
            else categorical_bins(x[:, j], c.categories)
        )
        for j, c in enumerate(cols)
    }
    # The score's reference: the final booster's calibrated scores on its training rows. The
    # out-of-fold scores would seem the honest choice, but they come from other boosters (fewer
    # rows, other round counts): against them, a fresh draw of the same population read PSI 0.04
    # to 0.05; against these, 0.001 to 0.003 (4,000 rows; tests/risk/test_drift.py's population).
    final_raw = np.asarray(
        booster.predict(x, raw_score=True, num_threads=_threads(len(x))),
        dtype=np.float64,
    )
    reference["score"] = numeric_bins(np.interp(final_raw, calibration.x, calibration.y))
    stored = {k: v for k, v in settings.items() if k not in ("num_rounds", "max_rounds")}
    stored |= {"rounds": final_rounds, "folds": folds}
    text = booster.model_to_string(num_iteration=final_rounds)
    return Model(
        target=target,
        columns=cols,
        booster=text,
        calibration=calibration,
        metrics=metrics,
        reference=reference,
        monotone=constraints,
        params=_plain(stored),
    )


# -- scoring --------------------------------------------------------------------------------------


class _Refused(importlib.abc.MetaPathFinder):
    """Refuses the import of `names` to one thread: the others import as always."""

    def __init__(self, names: Collection[str]) -> None:
        self.names = frozenset(names)
        self.thread = threading.get_ident()

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.partition(".")[0] in self.names and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def _scoring_engine() -> ModuleType:
    """LightGBM for scoring, imported without the scikit-learn and pandas integrations it loads
    when they are installed (its estimator classes and data frame inputs, which scoring never
    uses: a booster and NumPy matrices). Its import with them takes 1.0-1.2 s of the interpreter
    on a quiet machine, 0.2 s without (docs/models.md, "twenty-first session"): the daily run's
    scoring begun ahead pays it beside the delinquency pass. Only this thread's imports of the two
    are refused while LightGBM's own run; when either is already imported, LightGBM takes it as
    always. Training imports both where it needs them, and LightGBM's training from NumPy needs
    neither (`lightgbm.compat`)."""
    if "lightgbm" in sys.modules:
        return sys.modules["lightgbm"]
    refused = _Refused([n for n in ("sklearn", "pandas") if n not in sys.modules])
    sys.meta_path.insert(0, refused)
    try:
        import lightgbm
    finally:
        sys.meta_path.remove(refused)
    return lightgbm


@lru_cache(maxsize=8)
def _booster(text: str) -> lgb.Booster:
    return cast("lgb.Booster", _scoring_engine().Booster(model_str=text))


def _threads(rows: int) -> int:
    """Threads to score with, whatever the model was trained with (see `_settings`)."""
    return 1 if rows < 100_000 else 0


def raw_scores(model: Model, frame: pl.DataFrame) -> np.ndarray:
    """The booster's log-odds, before calibration."""
    x = matrix(model.columns, frame)
    if not len(x):
        return np.empty(0)
    return np.asarray(
        _booster(model.booster).predict(x, raw_score=True, num_threads=_threads(len(x))),
        dtype=np.float64,
    )


def predict(model: Model, frame: pl.DataFrame) -> np.ndarray:
    """Calibrated P(target == 1) per row."""
    calibration = model.calibration
    return np.asarray(np.interp(raw_scores(model, frame), calibration.x, calibration.y))


def contributions(model: Model, frame: pl.DataFrame) -> np.ndarray:
    """Rows x columns: each column's contribution to the row's log-odds (tree SHAP; the bias left
    out, so a row's contributions sum to its raw score minus the average one)."""
    x = matrix(model.columns, frame)
    if not len(x):
        return np.empty((0, len(model.columns)))
    out = np.asarray(
        _booster(model.booster).predict(x, pred_contrib=True, num_threads=_threads(len(x))),
        dtype=np.float64,
    )
    return out[:, :-1]


@lru_cache(maxsize=8)
def _path_tables(text: str) -> tuple[np.ndarray, ...]:
    """Per tree, leaves x columns: what each split on the way from the root to the leaf added
    to the tree's output (the child's expected value minus its parent's), by the split's column."""
    booster = _booster(text)
    width = booster.num_feature()
    tables = []
    for tree in booster.dump_model()["tree_info"]:
        table = np.zeros((max(int(tree["num_leaves"]), 1), width))
        stack = [(tree["tree_structure"], np.zeros(width))]
        while stack:
            node, acc = stack.pop()
            if "leaf_index" in node or "split_feature" not in node:
                table[int(node.get("leaf_index", 0))] = acc
                continue
            for side in ("left_child", "right_child"):
                child = node[side]
                value = child["leaf_value"] if "leaf_index" in child else child["internal_value"]
                step = acc.copy()
                step[int(node["split_feature"])] += value - node["internal_value"]
                stack.append((child, step))
        tables.append(table)
    return tuple(tables)


def path_contributions(model: Model, frame: pl.DataFrame) -> np.ndarray:
    """Like `contributions`, by the faster path attribution (Saabas): each split on a row's path
    credits its column with the change in expected output. Sums to the same raw score as tree
    SHAP (less a constant) and costs far less (docs/models.md has the figures), but credits a
    column for where it sits in the trees as well as for what it does: prefer `contributions`
    when rows are few."""
    x = matrix(model.columns, frame)
    out = np.zeros((len(x), len(model.columns)))
    if not len(x):
        return out
    leaves = np.asarray(
        _booster(model.booster).predict(x, pred_leaf=True, num_threads=_threads(len(x))),
        dtype=np.int64,
    )
    tables = _path_tables(model.booster)
    # By blocks of rows, so that each tree's gathered rows stay in the CPU's cache.
    for start in range(0, len(x), 8192):
        block, rows = out[start : start + 8192], leaves[start : start + 8192]
        for t, table in enumerate(tables):
            block += table[rows[:, t]]
    return out


def top_contributions(
    model: Model,
    frame: pl.DataFrame,
    *,
    top: int = 3,
    sign: int = -1,
    method: Literal["shap", "path"] = "shap",
) -> tuple[np.ndarray, np.ndarray]:
    """`reasons` as two arrays (rows x top): column indices (-1 where fewer columns push that
    way) and their contributions (0 there). For scoring many rows without Python lists;
    `method="path"` ranks by the cheaper `path_contributions`."""
    if sign not in (-1, 1):
        raise ModelError(f"sign must be -1 or +1, not {sign}")
    if top < 1:
        raise ModelError(f"top must be at least 1, not {top}")
    found = contributions if method == "shap" else path_contributions
    pushed = found(model, frame) * sign
    k = min(top, pushed.shape[1])
    index = np.argsort(-pushed, axis=1, kind="stable")[:, :k]
    values = np.take_along_axis(pushed, index, axis=1)
    keep = values > 0
    return np.where(keep, index, -1), np.where(keep, values * sign, 0.0)


def reasons(
    model: Model,
    frame: pl.DataFrame,
    *,
    top: int = 3,
    sign: int = -1,
    method: Literal["shap", "path"] = "shap",
) -> list[list[tuple[str, float]]]:
    """Per row, up to `top` (column, contribution) pairs pushing the score most in direction
    `sign` (-1: lowering P(target), "why this person is unlikely to pay" when the target is paying),
    strongest first; a column that pushes the other way is never a reason."""
    index, values = top_contributions(model, frame, top=top, sign=sign, method=method)
    names = [c.name for c in model.columns]
    return [
        [(names[j], float(v)) for j, v in zip(row_index, row_values, strict=True) if j >= 0]
        for row_index, row_values in zip(index.tolist(), values.tolist(), strict=True)
    ]


# -- storage --------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON's own types (NumPy scalars and tuples made plain)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def dumps(model: Model) -> str:
    """The model as JSON text (LightGBM's model text inside); `loads` reads it back."""
    payload = {
        "format": FORMAT,
        "target": model.target,
        "columns": [
            {"name": c.name, "kind": c.kind, "categories": list(c.categories)}
            for c in model.columns
        ],
        "calibration": {"x": list(model.calibration.x), "y": list(model.calibration.y)},
        "metrics": _plain(model.metrics),
        "reference": {
            name: {
                "edges": list(b.edges),
                "shares": list(b.shares),
                "categories": list(b.categories),
            }
            for name, b in model.reference.items()
        },
        "monotone": dict(model.monotone),
        "params": _plain(model.params),
        "booster": model.booster,
    }
    return json.dumps(payload, ensure_ascii=False, allow_nan=False)


def _field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise ModelError(f"model file: {where} lacks {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise ModelError(f"model file: {where}.{key} has the wrong type ({type(value).__name__})")
    return value


def _numbers(values: Any, where: str) -> tuple[float, ...]:
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise ModelError(f"model file: {where} must be a list of finite numbers")
    return tuple(float(v) for v in values)


def _strings(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ModelError(f"model file: {where} must be a list of text")
    return tuple(values)


def loads(text: str) -> Model:
    """A model from `dumps`'s JSON, checked field by field; `ModelError` says what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"model file: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"model file: not a Recoup tabular model (expected format {FORMAT!r})")
    target = _field(data, "target", str, "the model")
    columns = []
    for i, raw in enumerate(_field(data, "columns", list, "the model")):
        where = f"columns[{i}]"
        if not isinstance(raw, dict):
            raise ModelError(f"model file: {where} must be an object")
        kind = _field(raw, "kind", str, where)
        if kind not in ("numeric", "categorical"):
            raise ModelError(f"model file: {where}.kind must be numeric or categorical")
        columns.append(
            Column(
                _field(raw, "name", str, where),
                cast(Kind, kind),
                _strings(raw.get("categories", []), f"{where}.categories"),
            )
        )
    names = [c.name for c in columns]
    if not columns or len(set(names)) != len(names):
        raise ModelError("model file: the columns must be present and distinct")
    cal = _field(data, "calibration", dict, "the model")
    calibration = Calibration(
        _numbers(cal.get("x"), "calibration.x"), _numbers(cal.get("y"), "calibration.y")
    )
    if not calibration.x or len(calibration.x) != len(calibration.y):
        raise ModelError("model file: calibration.x and calibration.y must be equally long")
    if any(b < a for a, b in zip(calibration.x, calibration.x[1:], strict=False)) or not all(
        0.0 <= v <= 1.0 for v in calibration.y
    ):
        raise ModelError("model file: calibration.x must ascend and calibration.y lie in [0, 1]")
    reference = {}
    for name, raw in _field(data, "reference", dict, "the model").items():
        where = f"reference.{name}"
        if not isinstance(raw, dict):
            raise ModelError(f"model file: {where} must be an object")
        bins = Bins(
            _numbers(raw.get("edges", []), f"{where}.edges"),
            _numbers(raw.get("shares"), f"{where}.shares"),
            _strings(raw.get("categories", []), f"{where}.categories"),
        )
        expected = len(bins.categories) + 1 if bins.categories else len(bins.edges) + 2
        if len(bins.shares) != expected and not is_categorical(bins):
            raise ModelError(f"model file: {where} has {len(bins.shares)} shares for its bins")
        reference[name] = bins
    lacking = [n for n in [*names, "score"] if n not in reference]
    if lacking:
        raise ModelError(f"model file: no reference distribution for {', '.join(lacking)}")
    monotone = _field(data, "monotone", dict, "the model")
    if any(k not in names or v not in (-1, 0, 1) for k, v in monotone.items()):
        raise ModelError("model file: monotone must map model columns to -1, 0 or +1")
    booster = _field(data, "booster", str, "the model")
    engine = _scoring_engine()
    try:
        loaded = _booster(booster)
    except engine.basic.LightGBMError as exc:
        raise ModelError(f"model file: the booster does not load ({exc})") from None
    if loaded.num_feature() != len(columns):
        raise ModelError(
            f"model file: the booster reads {loaded.num_feature()} columns, the file names "
            f"{len(columns)}"
        )
    return Model(
        target=target,
        columns=tuple(columns),
        booster=booster,
        calibration=calibration,
        metrics=_field(data, "metrics", dict, "the model"),
        reference=reference,
        monotone={str(k): int(v) for k, v in monotone.items()},
        params=_field(data, "params", dict, "the model"),
    )

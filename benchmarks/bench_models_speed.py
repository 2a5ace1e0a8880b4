"""Training and scoring speed of the tabular engine on a million synthetic rows.

    .venv/bin/python benchmarks/bench_models_speed.py [--rows 1000000] [--shap-rows 10000]

30 columns in a wallet history's shape: 20 numeric (counts, ratios, amounts, days; a few percent
missing) and 10 categorical (3 to 40 categories). Who pays depends on eight of them, with an
interaction and a threshold, so the booster has something to find. Measures:

- training with `folds=0` (90 % fitted with early stopping on a tenth of them, 10 % calibrating;
  the engine's defaults). Target: <= 2 minutes.
- scoring the same number of fresh rows: `predict` (booster and calibration), then
  `top_contributions` (the three reasons per row) by path attribution on every row and by tree
  SHAP on `--shap-rows` rows (SHAP costs hundreds of predictions per row).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import polars as pl

from recoup.risk import tabular


def history(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(20):
        kind = i % 4
        if kind == 0:
            values = rng.poisson(1 + i % 3, size=n).astype(np.float64)  # counts
        elif kind == 1:
            values = rng.beta(2, 5, size=n)  # ratios
        elif kind == 2:
            values = rng.lognormal(8, 1, size=n).round(2)  # amounts
        else:
            values = rng.integers(0, 365, size=n).astype(np.float64)  # days
        values[rng.random(n) < 0.03] = np.nan
        columns[f"n{i:02d}"] = values
    for i in range(10):
        k = (3, 5, 8, 12, 20, 40, 4, 6, 10, 25)[i]
        columns[f"c{i}"] = np.array([f"v{j}" for j in range(k)])[rng.integers(0, k, size=n)]
    frame = pl.DataFrame(columns)
    logit = (
        -0.8 * np.nan_to_num(columns["n00"])
        + 2.5 * np.nan_to_num(columns["n01"])
        - 0.004 * np.nan_to_num(columns["n03"], nan=180)
        + 0.6 * (np.nan_to_num(columns["n02"]) > 5000)
        + 0.5 * np.nan_to_num(columns["n04"]) * np.nan_to_num(columns["n05"])
        + np.where(columns["c0"] == "v1", 0.8, 0.0)
        + np.where(columns["c3"] == "v2", -0.7, 0.0)
        + 0.3
    )
    paid = rng.random(n) < 1 / (1 + np.exp(-logit))
    return frame.with_columns(paid=pl.Series(paid.astype(np.int8)))


def cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--shap-rows", type=int, default=10_000, help="rows for tree SHAP reasons")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores ({cpu()}); load average {os.getloadavg()[0]:.1f}")
    # Wall time on a shared machine depends on the neighbours; CPU time (all threads) does not,
    # and divided by the cores it estimates the wall time on an idle machine.
    start = time.perf_counter()
    train_frame, fresh = history(args.rows, 1), history(args.rows, 2).drop("paid")
    print(f"data: {args.rows:,} rows x 30 columns twice, {time.perf_counter() - start:.1f} s")

    start, cpu_start = time.perf_counter(), time.process_time()
    model = tabular.train(train_frame, "paid", folds=0, seed=0)
    trained, cpu_used = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        f"train (folds=0): {trained:.1f} s ({cpu_used:.1f} s of CPU, all threads); "
        f"{model.params['rounds']} rounds; held-out AUC {model.metrics['holdout_auc']:.4f}"
    )
    text = tabular.dumps(model)
    model = tabular.loads(text)
    print(f"model JSON: {len(text) / 1e6:.1f} MB")

    start, cpu_start = time.perf_counter(), time.process_time()
    scores = tabular.predict(model, fresh)
    scored, cpu_used = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        f"predict {args.rows:,} rows: {scored:.2f} s ({cpu_used:.1f} s of CPU; "
        f"mean score {scores.mean():.3f})"
    )

    for method, rows in (("path", args.rows), ("shap", args.shap_rows)):
        part = fresh.head(rows)
        start, cpu_start = time.perf_counter(), time.process_time()
        index, _ = tabular.top_contributions(model, part, top=3, sign=-1, method=method)
        explained, cpu_used = time.perf_counter() - start, time.process_time() - cpu_start
        top = np.bincount(index[:, 0][index[:, 0] >= 0], minlength=len(model.columns))
        names = [model.columns[j].name for j in np.argsort(-top)[:3]]
        print(
            f"reasons by {method} (top 3 per row) {rows:,} rows: {explained:.2f} s "
            f"({cpu_used:.1f} s of CPU); "
            f"commonest first reasons {', '.join(names)}"
        )


if __name__ == "__main__":
    main()

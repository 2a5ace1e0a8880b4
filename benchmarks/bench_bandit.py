"""The learner's choice alone (`strategy/bandit.py`): one arm per account by Thompson sampling over
context cells, with the exploration floor, the holdout and a call arm under capacity.

    .venv/bin/python benchmarks/bench_bandit.py --accounts 1000000

Four arms per account (none, push, sms, call; a tenth of the rows not allowed, as the guard or the
budget would say), 9 context cells with rewards already counted, calls limited to 5,000 a day.
Target: a couple of seconds for 1,000,000 accounts on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl

from recoup.strategy import bandit

ARMS = ("none", "push", "sms", "call")


def candidates(n: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    accounts = np.repeat(np.arange(1, n + 1), len(ARMS))
    cells = np.repeat(rng.integers(0, 9, size=n), len(ARMS))
    return pl.DataFrame(
        {
            "account_id": accounts,
            "stage": "early",
            "cell": np.char.add("c", cells.astype(str)),
            "arm": np.tile(np.array(ARMS), n),
            "allowed": rng.random(n * len(ARMS)) > 0.1,
        }
    )


def stats(seed: int = 4) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for cell in range(9):
        for arm in ARMS:
            n = int(rng.integers(100, 5_000))
            mean = float(rng.normal(5_000, 2_000))
            rows.append(("early", f"c{cell}", arm, n, n * mean, n * (mean**2 + 20_000.0**2)))
    return pl.DataFrame(rows, schema=bandit.STATS_SCHEMA, orient="row")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    frame, earned = candidates(args.accounts), stats()
    params = [
        bandit.StageParams(
            stage="early",
            arms=ARMS,
            exploration=0.05,
            holdout=0.05,
            prior_mean=0.0,
            prior_sd=20_000.0,
            strength=10.0,
            call_arms=("call",),
            call_minutes=6.0,
            calls_per_day=5_000,
        )
    ]
    for run in range(args.runs):
        start = time.perf_counter()
        out = bandit.choose(
            frame, earned, params, day=dt.date(2026, 6, 20) + dt.timedelta(days=run)
        )
        took = time.perf_counter() - start
        print(
            f"run {run + 1}: {args.accounts:,} accounts ({frame.height:,} candidate rows) in "
            f"{took:.2f} s, {args.accounts / took / 1e6:.2f} million accounts/s; "
            f"modes {dict(out['mode'].value_counts().iter_rows())}, "
            f"calls {out.filter(pl.col('arm') == 'call').height:,}"
        )


if __name__ == "__main__":
    main()

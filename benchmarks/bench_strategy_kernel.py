"""The strategy kernel alone: account facts in, decisions out, for the shipped China policy.

    .venv/bin/python benchmarks/bench_strategy_kernel.py --accounts 1000000

Facts are drawn with NumPy in a delinquent portfolio's shape (a third current, the rest spread over
the stages). Target: 1,000,000 accounts per second or more on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from recoup.strategy.kernel import decide
from recoup.strategy.policy import load_policy

POLICY = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "recoup"
    / "strategy"
    / "policies"
    / "cn-wallet.yaml"
)


def facts(n: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    dpd = np.where(rng.random(n) < 0.33, 0, rng.integers(1, 200, size=n))
    overdue = np.where(dpd > 0, rng.lognormal(10, 1.2, size=n).astype(np.int64), 0)
    return pl.DataFrame(
        {
            "account_id": np.arange(1, n + 1),
            "dpd": dpd,
            "days_to_due": np.where(dpd == 0, rng.integers(0, 10, size=n), -dpd),
            "overdue_minor": overdue,
            "outstanding_minor": overdue + rng.integers(0, 500_000, size=n),
            "product": np.array(["bnpl", "credit_line", "micro_loan"])[rng.integers(0, 3, size=n)],
            "reachable_push": rng.random(n) < 0.8,
            "reachable_call": rng.random(n) < 0.9,
            "dispute_open": rng.random(n) < 0.01,
            "plan_active": rng.random(n) < 0.03,
            "broken_promises": rng.poisson(0.3, size=n),
            "days_since_last_payment": rng.integers(0, 200, size=n),
            "days_since_last_contact": rng.integers(0, 8, size=n),
            "contacts_in_stage": rng.integers(0, 6, size=n),
            "p_pay": rng.random(n),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=1_000_000)
    args = parser.parse_args()
    policy = load_policy(POLICY)
    frame = facts(args.accounts)
    for label in ("first run", "second run", "third run"):
        start = time.perf_counter()
        out = decide(policy, frame)
        elapsed = time.perf_counter() - start
        counts = dict(out["decision"].value_counts().iter_rows())
        print(f"{label}: {elapsed:.2f} s, {args.accounts / elapsed:,.0f} accounts/s; {counts}")


if __name__ == "__main__":
    main()

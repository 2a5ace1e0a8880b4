"""The daily delinquency pass over a large portfolio.

    .venv/bin/python benchmarks/bench_delinquency.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench --accounts 1000000

Builds a fresh database with N accounts and 3 bills each, then times `run_daily` twice: the first pass
(every account gets its first state) and the next day's pass (the steady state: only delinquent
accounts change). Target: under 20 s for 1,000,000 accounts / 3,000,000 bills on PostgreSQL, 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from benchmarks.common import fresh_database, load_portfolio, timed
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker, session_scope


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench"
    )
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--bills-per-account", type=int, default=3)
    args = parser.parse_args()
    as_of = dt.date(2026, 6, 1)
    times: dict[str, float] = {}
    print(
        f"delinquency pass: {args.accounts:,} accounts x {args.bills_per_account} bills on {args.database_url.split('@')[-1]}"
    )
    engine = fresh_database(args.database_url)
    with timed("load portfolio (not part of the pass)", times):
        counts = load_portfolio(
            engine, accounts=args.accounts, bills_per_account=args.bills_per_account, as_of=as_of
        )
    print(f"  loaded {counts}")
    factory = make_sessionmaker(engine)
    for label, day in (
        ("first pass (all states new)", as_of),
        ("next day (steady state)", as_of + dt.timedelta(days=1)),
    ):
        clock = SettableClock(dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC))
        steps: list[tuple[str, float]] = []
        start = time.perf_counter()

        def step(
            message: str, steps: list[tuple[str, float]] = steps, start: float = start
        ) -> None:
            steps.append((message, time.perf_counter() - start))

        with timed(label, times), session_scope(factory) as session:
            summary = delinquency_service.run_daily(session, day, clock=clock, progress=step)
        marks = [name for name, _ in steps]
        edges = [t for _, t in steps] + [times[label]]
        print(
            "    "
            + ", ".join(
                f"{m} {b - a:.2f}s" for m, a, b in zip(marks, edges, edges[1:], strict=False)
            )
        )
        print(
            f"    {summary.accounts:,} accounts, {summary.changed:,} changed, {summary.bucket_changes:,} bucket changes, {summary.by_bucket}"
        )


if __name__ == "__main__":
    main()

"""The whole daily run end to end: delinquency, then the active policy (read, decide, check with
the compliance guard, write decisions, contact plans and agent tasks).

    .venv/bin/python -m benchmarks.bench_daily_run \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench --accounts 1000000

Builds a fresh database with the delinquency benchmark's synthetic portfolio, then times the
delinquency pass and the strategy run with the shipped China policy. Target (strategy issue):
under 30 s for 1,000,000 accounts on PostgreSQL, 2 cores.

`--engine spark` decides on Spark (`recoup.strategy.spark`, at RECOUP_SPARK_MASTER, default
local[2]); the session's start is timed apart (once per process), and the strategy run is then
split into its parts: reading the day's frames, deciding (locally or on Spark), writing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from benchmarks.common import fresh_database, load_portfolio, timed
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker, session_scope
from recoup.strategy import service as strategy_service

POLICY = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "recoup"
    / "strategy"
    / "policies"
    / "cn-wallet.yaml"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench"
    )
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=strategy_service.ENGINES, default="local")
    args = parser.parse_args()
    as_of = dt.date(2026, 6, 1)
    times: dict[str, float] = {}
    engine = fresh_database(args.database_url)
    with timed("load portfolio (not part of the run)", times):
        counts = load_portfolio(engine, accounts=args.accounts, bills_per_account=3, as_of=as_of)
    print(f"  loaded {counts}")
    factory = make_sessionmaker(engine)
    clock = SettableClock(dt.datetime.combine(as_of, dt.time(1), tzinfo=dt.UTC))
    with session_scope(factory) as session:
        version = strategy_service.save_policy(
            session,
            POLICY.read_text(encoding="utf-8"),
            author="bench",
            clock=clock,
            source=str(POLICY),
        )
        strategy_service.activate(session, version.id, actor="bench", clock=clock)
    if args.engine == "spark":
        from recoup.strategy import spark

        with timed("spark session start (once per process, not part of the run)", times):
            spark.session()
    start = time.perf_counter()
    with timed("delinquency pass", times), session_scope(factory) as session:
        delinquency_service.run_daily(session, as_of, clock=clock)
    with (
        timed("strategy run (read, decide, check, write)", times),
        session_scope(factory) as session,
    ):
        report = strategy_service.run(session, as_of, clock=clock, engine=args.engine)
    total = time.perf_counter() - start
    with session_scope(factory) as session:  # the parts, again, for where the time goes
        _, policy = strategy_service.active_policy(session)
        with timed("  of which: read the day's frames", times):
            frames = strategy_service.read_day(session, as_of, policy, now=clock.now())
        assert frames is not None
        with timed(f"  of which: decide and check ({args.engine})", times):
            if args.engine == "spark":
                spark.decide_day(frames, as_of, clock.now(), policy)
            else:
                strategy_service.decide_day(frames, as_of, clock.now(), policy)
    print(
        f"  {report.accounts:,} accounts decided; contacts {report.contacts_planned:,} planned, "
        f"{report.contacts_deferred:,} deferred, {report.contacts_blocked:,} blocked; "
        f"{report.agent_tasks:,} agent tasks"
    )
    print(f"daily run end to end: {total:.1f} s")


if __name__ == "__main__":
    main()

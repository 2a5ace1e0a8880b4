"""What scoring adds to the daily run: the whole run of the next day, timed step by step, with the
model active and its read begun ahead (`risk.service.read_ahead`, what `recoup run daily` does),
with the model active and the read in the scoring step (`read_ahead=False`), and with no model
active, each on a fresh copy of the same database, alternated.

    .venv/bin/python -m benchmarks.bench_scoring \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_scoring
    .venv/bin/python -m benchmarks.bench_scoring_in_run \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_scoring --rounds 3

The first command builds the database (the synthetic portfolio, its delinquency pass of
1 June 2026, `p_pay` trained and active); this one copies it (`CREATE DATABASE ... TEMPLATE`,
untimed, then a checkpoint and `--settle` seconds; the months' partitions made once in it first)
for every run and runs 2 June there with `daily.flows.run_day`: the arrangements review,
the delinquency pass, the scoring, the strategy (no policy in this database: it stops at once),
the upkeep. What scoring adds is the run's time with the model against the run's without; the
target (issue 20) is at most 3 s for 1,000,000 accounts. The scores of the two runs with the model
are compared, score for score.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import polars as pl
from sqlalchemy import create_engine, make_url, select, text

from recoup.daily import flows as daily_flows
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.models import AccountScore

DAY = dt.date(2026, 6, 2)
VARIANTS = ("ahead", "plain", "none")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_scoring",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after each copy")
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)  # a run's process
    parser.add_argument("--scores-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one run in a process of its own, as `recoup run daily` is every day
        crypto.install_keyring(crypto.Keyring.generate(development=True))
        seconds, scored = run(args.database_url, args.one)
        if scored is not None:
            scored.write_parquet(args.scores_out)
        print(json.dumps(seconds))
        return
    variants = args.variants.split(",")
    url = make_url(args.database_url)
    template = url.database
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    # The months' partitions made once in the template, as the daily upkeep has them two months
    # ahead on a live database: a run then writes the day's scores into their month's partition,
    # not into the default one that the run's upkeep would have to empty.
    crypto.install_keyring(crypto.Keyring.generate(development=True))
    template_engine = make_engine(args.database_url)
    with session_scope(make_sessionmaker(template_engine)) as session:
        daily_flows.maintain_partitions(session, DAY)
    template_engine.dispose()
    totals: dict[str, list[float]] = defaultdict(list)
    for round_ in range(1, args.rounds + 1):
        scores: dict[str, pl.DataFrame] = {}
        for variant in variants:
            copy = f"{template}_run_{os.getpid()}"
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}"'))
                conn.execute(
                    text(f'CREATE DATABASE "{copy}" TEMPLATE "{template}" STRATEGY FILE_COPY')
                )
                conn.execute(text("CHECKPOINT"))
            os.sync()
            time.sleep(args.settle)  # the copy's writes out of the way of the run
            out = Path(tempfile.gettempdir()) / f"{copy}_{variant}.parquet"
            try:
                done = subprocess.run(
                    [
                        sys.executable, "-m", "benchmarks.bench_scoring_in_run", "--one", variant,
                        "--database-url", url.set(database=copy).render_as_string(False),
                        "--scores-out", str(out),
                    ],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                seconds = json.loads(done.stdout.strip().splitlines()[-1])
                if out.exists():
                    scores[variant] = pl.read_parquet(out)
                    out.unlink()
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
            totals[variant].append(seconds["run"])
            load = os.getloadavg()[0]
            steps = ", ".join(f"{k} {v:.2f}" for k, v in seconds.items() if k != "run")
            print(
                f"round {round_} {variant:5}: run {seconds['run']:6.2f} s ({steps}) load {load:.1f}",
                flush=True,
            )
        if "ahead" in scores and "plain" in scores:
            same = scores["ahead"].equals(scores["plain"])
            print(f"  the same {scores['ahead'].height:,} scores ahead and plain: {same}")
    for variant, values in totals.items():
        print(f"{variant:5}: median {statistics.median(values):.2f} s of {values}")
    if "none" in totals:
        base = statistics.median(totals["none"])
        for variant in ("ahead", "plain"):
            if variant in totals:
                added = statistics.median(totals[variant]) - base
                print(f"scoring adds ({variant}): {added:.2f} s (medians)")


def run(url: str, variant: str) -> tuple[dict[str, float], pl.DataFrame | None]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    if variant == "none":
        with engine.begin() as conn:
            conn.execute(text("UPDATE risk_models SET status = 'retired' WHERE status = 'active'"))
    clock = SettableClock(dt.datetime.combine(DAY, dt.time(1), tzinfo=dt.UTC))
    seconds: dict[str, float] = {}

    class Timer:
        def __init__(self, name: str) -> None:
            self.name = name

        def __enter__(self) -> None:
            self.started = time.perf_counter()

        def __exit__(self, *exc: object) -> None:
            seconds[self.name] = time.perf_counter() - self.started

    try:
        started = time.perf_counter()
        with session_scope(factory) as session:
            result = daily_flows.run_day(
                session,
                DAY,
                clock=clock,
                zone="Asia/Shanghai",
                actor="bench",
                timer=Timer,
                read_ahead=variant == "ahead",
            )
        seconds = {"run": time.perf_counter() - started, **seconds}
        if result.scoring is not None:
            for phase, value in result.scoring.seconds.items():
                seconds[f"  {phase}"] = value
        scored = None
        if variant != "none":
            with factory() as session:
                s = AccountScore
                rows = session.execute(
                    select(s.account_id, s.kind, s.score).where(s.as_of_date == DAY)
                ).all()
            scored = pl.DataFrame(
                rows,
                schema={"account_id": pl.Int64, "kind": pl.String, "score": pl.Float64},
                orient="row",
            ).sort("kind", "account_id")
        return seconds, scored
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()

"""One COPY FROM STDIN written two ways, alternated: CSV written by Polars (`kit.frames.
_copy_in_csv`, what `insert_frame` used) and PostgreSQL's binary format encoded with NumPy
(`kit.frames._copy_in`); wall time, this process's CPU and the CPU of the backend that took the
rows.

    PYTHONPATH=src .venv/bin/python -m benchmarks.micro_copy_in \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_daily_test --rounds 3

The rows are 1,000,000 delinquency states shaped as the daily pass writes them (`--rows`), into a
temporary copy of `account_delinquency` with its primary key (`--logged`: a plain table, whose
rows also go to the WAL); any migrated database will do; each round's table is emptied first, and
nothing is committed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.kit.db import make_engine


def states(rows: int) -> pl.DataFrame:
    i = pl.col("i")
    return (
        pl.DataFrame({"i": pl.int_range(1, rows + 1, eager=True)})
        .select(
            account_id=i,
            as_of_date=pl.lit(dt.date(2026, 6, 1)),
            dpd=(i % 120).cast(pl.Int32),
            bucket=pl.lit(pl.Series(["M0", "M1", "M2", "M3", "M4+"])).get(i % 5),
            oldest_unpaid_due_date=pl.when(i % 3 == 0)
            .then(None)
            .otherwise(pl.lit(dt.date(2026, 1, 1)) + pl.duration(days=i % 150))
            .cast(pl.Date),
            overdue_minor=(i * 37) % 500_000,
            outstanding_minor=(i * 91) % 2_000_000,
            credit_minor=pl.lit(0, pl.Int64),
        )
        .with_columns(
            updated_at=frames.utc_now_column(dt.datetime(2026, 6, 1, 1, tzinfo=dt.UTC), rows)
        )
    )


def backend_cpu(session: Session) -> float:
    pid = session.connection().connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--logged",
        action="store_true",
        help="a plain table (WAL-logged, as the daily run's tables are), dropped by the rollback",
    )
    args = parser.parse_args()
    frame = states(args.rows)
    writers = {"csv": frames._copy_in_csv, "binary": frames._copy_in}
    with Session(make_engine(args.database_url)) as session:
        kind = "TABLE" if args.logged else "TEMP TABLE"
        session.execute(
            text(f"CREATE {kind} bench_states (LIKE account_delinquency INCLUDING ALL)")
        )
        for _ in range(args.rounds):
            for name, write in writers.items():
                session.execute(text("TRUNCATE bench_states"))
                load = os.getloadavg()[0]
                pg = backend_cpu(session)
                wall, cpu = time.perf_counter(), time.process_time()
                write(session, "bench_states", frame)
                print(
                    f"{name:<7} {frame.height:>9,} rows  wall {time.perf_counter() - wall:5.2f} s"
                    f"  CPU python {time.process_time() - cpu:5.2f} s"
                    f"  postgres {backend_cpu(session) - pg:5.2f} s  (load {load:.1f})",
                    flush=True,
                )
        session.rollback()


if __name__ == "__main__":
    main()

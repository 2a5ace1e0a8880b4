"""The strategy's base facts read two ways on a database a daily run has left (`bench_daily_run`'s
`<name>`, after a run): the server's three-way join (accounts ⋈ states ⋈ customers, what the
strategy run read before the daily flow handed it the pass's states) against two plain scans
joined in this process with the states handed over (`base_facts_and_next_due(..., states=)`),
alternated, with this process's and the backend's CPU seconds.

    PYTHONPATH=src .venv/bin/python -m benchmarks.micro_day_states --rounds 3 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/h2_daily_1m
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import polars as pl
from sqlalchemy import text

from recoup.kit import crypto
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.strategy import repository as strategy_repo


def _backend_cpu(session: object) -> float:
    pid = session.connection().connection.driver_connection.info.backend_pid  # type: ignore[attr-defined]
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    crypto.install_keyring(crypto.Keyring.generate(development=True))
    factory = make_sessionmaker(make_engine(args.database_url))
    as_of = dt.date(2026, 6, 1)
    with session_scope(factory) as session:
        rows = session.execute(
            text(
                "SELECT account_id, as_of_date, dpd, bucket, overdue_minor, outstanding_minor "
                "FROM account_delinquency"
            )
        ).all()
    states = pl.DataFrame(
        rows,
        schema=["account_id", "state_date", "dpd", "bucket", "overdue_minor", "outstanding_minor"],
        orient="row",
    )
    for _ in range(args.rounds):
        results = {}
        for name, kwargs in (("three-way join", {}), ("states handed", {"states": states})):
            with session_scope(factory) as session:
                pg, py, wall = _backend_cpu(session), time.process_time(), time.perf_counter()
                base, _ = strategy_repo.base_facts_and_next_due(session, as_of, **kwargs)  # type: ignore[arg-type]
                wall, py = time.perf_counter() - wall, time.process_time() - py
                pg = _backend_cpu(session) - pg
            results[name] = base.sort("account_id")
            load = os.getloadavg()[0]
            print(
                f"{name:15} wall {wall:5.2f} s, CPU python {py:5.2f} s, postgres {pg:5.2f} s "
                f"(load {load:.1f}), {base.height:,} rows",
                flush=True,
            )
        assert results["three-way join"].equals(results["states handed"])


if __name__ == "__main__":
    main()

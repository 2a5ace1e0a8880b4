"""The daily run's two largest reads (every open account's base facts, every account's next due
date over all bills), one after the other on one connection as the strategy run reads them, then
at once on two connections sharing one snapshot (`pg_export_snapshot`), alternated, with the
wall time, this process's CPU and the CPU of the PostgreSQL backends that served them.

    PYTHONPATH=src .venv/bin/python -m benchmarks.profile_daily_reads \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/daily_1m --rounds 3

Run it on a database a `bench_daily_run` left (its states written). A second connection sees
only what is committed: the daily flow runs the delinquency pass and the strategy in one
transaction, so there the states the strategy reads are not yet visible to another connection.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from recoup.kit.db import make_engine
from recoup.strategy import repository as repo

AS_OF = dt.date(2026, 6, 1)


def _cpu(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _pid(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def sequential(engine: Engine) -> tuple[float, float, float, int]:
    with Session(engine) as session:
        pids = [_pid(session)]
        start, py, pg = time.perf_counter(), time.process_time(), _cpu(pids)
        rows = repo.base_facts(session).height + repo.next_due(session, AS_OF).height
        out = (time.perf_counter() - start, time.process_time() - py, _cpu(pids) - pg, rows)
        session.rollback()
    return out


def parallel(engine: Engine) -> tuple[float, float, float, int]:
    with Session(engine) as first, Session(engine) as second:
        second.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        start = time.perf_counter()
        snapshot = first.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        second.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        pids = [_pid(first), _pid(second)]
        py, pg = time.process_time(), _cpu(pids)
        with ThreadPoolExecutor(2) as pool:
            due: Any = pool.submit(repo.next_due, second, AS_OF)
            rows = repo.base_facts(first).height + due.result().height
        out = (time.perf_counter() - start, time.process_time() - py, _cpu(pids) - pg, rows)
        first.rollback()
        second.rollback()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    for _ in range(args.rounds):
        for name, read in (("one connection", sequential), ("two connections", parallel)):
            load = os.getloadavg()[0]
            wall, py, pg, rows = read(engine)
            print(
                f"{name:<16} {rows:>9,} rows  wall {wall:5.2f} s  CPU python {py:5.2f} s, "
                f"postgres {pg:5.2f} s  (load {load:.1f})",
                flush=True,
            )


if __name__ == "__main__":
    main()

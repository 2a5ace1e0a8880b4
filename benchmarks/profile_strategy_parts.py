"""The strategy run's timeline, step by step and thread by thread: when the day's read, each part's
deciding (the kernel, the guard) and each write (`kit.frames.insert_frame`, on the writer's thread
or the run's) start and end, and how long the run waits for the writer at the end
(`Behind.close`). Starts from the template `bench_daily_run` keeps, runs the delinquency pass
untimed, then the strategy run timed.

    PYTHONPATH=src .venv/bin/python -m benchmarks.profile_strategy_parts \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/daily_1m [--part-accounts N]

`--part-accounts` larger than the portfolio decides the day whole (one part, written inline).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks.bench_daily_run import POLICY, day_states, from_template
from recoup.delinquency import service as delinquency_service
from recoup.kit import background, frames
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker, session_scope
from recoup.strategy import service as strategy_service
from recoup.strategy.service import daily_run, planning

START = [0.0]
EVENTS: list[tuple[str, str, float, float]] = []


def _traced(owner: Any, name: str, label: str | None = None) -> None:
    fn: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        out = fn(*args, **kwargs)
        EVENTS.append(
            (
                threading.current_thread().name,
                label or name,
                began - START[0],
                time.perf_counter() - START[0],
            )
        )
        return out

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--part-accounts", type=int, default=daily_run.PART_ACCOUNTS)
    args = parser.parse_args()
    daily_run.PART_ACCOUNTS = args.part_accounts
    for owner, name, label in (
        (daily_run, "read_day", None),
        (daily_run, "decide_day", None),
        (planning, "decide", "kernel"),
        (planning, "_check", "guard"),
        (frames, "insert_frame", None),
        (background.Behind, "close", "wait for the writer"),
    ):
        _traced(owner, name, label)
    as_of = dt.date(2026, 6, 1)
    engine = from_template(args.database_url)
    factory = make_sessionmaker(engine)
    clock = SettableClock(dt.datetime.combine(as_of, dt.time(1), tzinfo=dt.UTC))
    with session_scope(factory) as session:
        version = strategy_service.save_policy(
            session, POLICY.read_text(encoding="utf-8"), author="b", clock=clock, source=str(POLICY)
        )
        strategy_service.activate(session, version.id, actor="b", clock=clock)
    with session_scope(factory) as session:
        summary = delinquency_service.run_daily(session, as_of, clock=clock)
    START[0], cpu = time.perf_counter(), time.process_time()
    EVENTS.clear()
    with session_scope(factory) as session:
        strategy_service.run(session, as_of, clock=clock, **day_states(summary))
    wall = time.perf_counter() - START[0]
    print(
        f"strategy run ({args.part_accounts:,} accounts a part): {wall:.2f} s, "
        f"CPU python {time.process_time() - cpu:.2f} s (load {os.getloadavg()[0]:.1f})"
    )
    for thread, name, began, ended in sorted(EVENTS, key=lambda e: e[2]):
        print(f"  {thread:<14} {name:<20} {began:6.2f} -> {ended:6.2f} s ({ended - began:5.2f} s)")


if __name__ == "__main__":
    main()

"""Where the daily run's time goes, step by step, without a sampling profiler's overhead: every
set-based read and write (`kit.frames`), the kernel and the guard are timed as they run, with the
wall time, this process's CPU and the CPU of the PostgreSQL backend that served the step.

    PYTHONPATH=src .venv/bin/python -m benchmarks.profile_daily_steps \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/daily_1m [--second-day]

Starts from the template `bench_daily_run` keeps (`<name>_loaded`), as `--reuse` does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from benchmarks.bench_daily_run import POLICY, day_states, from_template
from recoup.delinquency import service as delinquency_service
from recoup.kit import frames
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker, session_scope
from recoup.strategy import service as strategy_service
from recoup.strategy.service import planning

TOTALS: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])


def _backend_cpu(session: Any) -> float:
    pid = session.connection().connection.driver_connection.info.backend_pid
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(name: str, fn: Callable[..., Any], *, has_session: bool) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_code.co_name
        session = args[0] if has_session else None
        pg = _backend_cpu(session) if session is not None else 0.0
        wall, py = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        row = TOTALS[f"{name} ({caller})"]
        row[0] += time.perf_counter() - wall
        row[1] += time.process_time() - py
        row[2] += (_backend_cpu(session) - pg) if session is not None else 0.0
        row[3] += 1
        return out

    return wrapper


def instrument() -> None:
    for name in ("read_frame", "read_frames", "insert_frame", "update_frame", "upsert_frame"):
        if hasattr(frames, name):  # an older commit's src/ (for "before") lacks `read_frames`
            setattr(frames, name, _timed(name, getattr(frames, name), has_session=True))
    planning.decide = _timed("kernel", planning.decide, has_session=False)  # type: ignore[attr-defined]
    planning._check = _timed("guard", planning._check, has_session=False)


def report(title: str, total: float) -> None:
    print(f"\n{title}: {total:.2f} s (load {os.getloadavg()[0]:.1f})")
    print(f"{'step (caller)':<52} {'calls':>5} {'wall':>7} {'python':>7} {'postgres':>8}")
    for name, (wall, py, pg, calls) in sorted(TOTALS.items(), key=lambda kv: -kv[1][0]):
        print(f"{name:<52} {int(calls):>5} {wall:7.2f} {py:7.2f} {pg:8.2f}")
    TOTALS.clear()


def run_day(factory: Any, day: dt.date, clock: SettableClock) -> None:
    clock.set(dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC))
    start = time.perf_counter()
    with session_scope(factory) as session:
        summary = delinquency_service.run_daily(session, day, clock=clock)
    report(f"day {day}: delinquency pass", time.perf_counter() - start)
    start = time.perf_counter()
    with session_scope(factory) as session:
        strategy_service.run(session, day, clock=clock, **day_states(summary))
    report(f"day {day}: strategy run", time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--second-day", action="store_true")
    args = parser.parse_args()
    as_of = dt.date(2026, 6, 1)
    engine = from_template(args.database_url)
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
    instrument()
    run_day(factory, as_of, clock)
    if args.second_day:
        run_day(factory, as_of + dt.timedelta(days=1), clock)


if __name__ == "__main__":
    main()

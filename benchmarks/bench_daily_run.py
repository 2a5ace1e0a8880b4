"""The whole daily run end to end: delinquency, then the active policy (read, decide, check with
the compliance guard, write decisions, contact plans and agent tasks).

    .venv/bin/python -m benchmarks.bench_daily_run \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench --accounts 1000000

Builds a fresh database with the delinquency benchmark's synthetic portfolio, then times the
delinquency pass and the strategy run with the shipped China policy. Target (scale issue):
under 12 s for 1,000,000 accounts on PostgreSQL, 2 cores.

Loading a million accounts takes minutes, so on PostgreSQL the loaded portfolio is also kept as a
template database (`<name>_loaded`); `--reuse` recreates the database from that template (a file
copy, untimed) instead of loading again, so every run starts from the same state.

`--engine spark` decides on Spark (`recoup.strategy.spark`, at RECOUP_SPARK_MASTER, default
local[2]); the session's start is timed apart (once per process), and the strategy run is then
split into its parts: reading the day's frames, deciding (locally or on Spark), writing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.common import fresh_database, load_portfolio, timed
from recoup.bootstrap import migrate
from recoup.daily import flows as daily_flows
from recoup.delinquency import service as delinquency_service
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.strategy import service as strategy_service

POLICY = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "recoup"
    / "strategy"
    / "policies"
    / "cn-wallet.yaml"
)


# The rows' content without their ids and creation times (the same decisions from two runs).
DIGESTED = {
    "strategy_decisions": "account_id, as_of_date, stage, segment, experiment, arm, decision, "
    "pause_reason, treatment, queue, queue_priority, offers::text, compliance::text, "
    "learning::text",
    "contact_plans": "account_id, customer_id, as_of_date, stage, treatment, channel, template, "
    "tone, status, scheduled_at, overdue_minor, outstanding_minor, reasons::text",
    "agent_tasks": "account_id, as_of_date, queue, priority, status",
    "account_delinquency": "account_id, as_of_date, dpd, bucket, oldest_unpaid_due_date, "
    "overdue_minor, outstanding_minor, credit_minor",
}


def _admin(url: str) -> tuple[Engine, str]:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    return admin, str(parsed.database)


def keep_as_template(url: str) -> None:
    """Copy the freshly loaded database to `<name>_loaded` for later `--reuse` runs."""
    admin, name = _admin(url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_loaded" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}_loaded" TEMPLATE "{name}" STRATEGY FILE_COPY'))
    admin.dispose()


def from_template(url: str) -> Engine:
    """The database as it was right after loading, copied from `<name>_loaded`."""
    admin, name = _admin(url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{name}_loaded" STRATEGY FILE_COPY'))
    admin.dispose()
    crypto.install_keyring(crypto.Keyring.generate(development=True))
    engine = make_engine(url)
    migrate(engine)  # a template loaded by older code gets this code's schema
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # a copied database starts without statistics' hints
    return engine


def _backend_cpu(engine: Engine) -> float:
    """CPU seconds (user + system) so far of the PostgreSQL backends serving this database (the
    server runs on this machine: read from /proc); 0 where /proc is not readable."""
    with engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def cpu(label: str, engine: Engine | None) -> Iterator[None]:
    """Beside a wall time: the CPU seconds of this Python process and of the database's backends
    (PostgreSQL), so that a figure taken while other work loads the machine can be compared."""
    py, pg = time.process_time(), _backend_cpu(engine) if engine is not None else 0.0
    yield
    py = time.process_time() - py
    pg = _backend_cpu(engine) - pg if engine is not None else 0.0
    load = os.getloadavg()[0]
    print(f"    {label}: CPU python {py:.2f} s, postgres {pg:.2f} s (load {load:.1f})", flush=True)


def day_states(summary: object) -> dict[str, Any]:
    """The pass's states handed to the strategy run, as the daily flow hands them (nothing from an
    older commit's `src/`, whose summary has none: its strategy run reads them back)."""
    states = getattr(summary, "states", None)
    return {} if states is None else {"states": states}


def _parts(
    factory: sessionmaker[Session],
    as_of: dt.date,
    clock: SettableClock,
    engine: str,
    times: dict[str, float],
) -> None:
    """The strategy run's read and decision again, each timed: where the time goes."""
    with session_scope(factory) as session:
        _, policy = strategy_service.active_policy(session)
        with timed("  of which: read the day's frames", times):
            frames = strategy_service.read_day(session, as_of, policy, now=clock.now())
        assert frames is not None
        with timed(f"  of which: decide and check ({engine})", times):
            if engine == "spark":
                from recoup.strategy import spark

                spark.decide_day(frames, as_of, clock.now(), policy)
            else:
                strategy_service.decide_day(frames, as_of, clock.now(), policy)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench"
    )
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="start from the portfolio an earlier run loaded (PostgreSQL); --accounts unused",
    )
    parser.add_argument("--engine", choices=strategy_service.ENGINES, default="local")
    parser.add_argument(
        "--no-template",
        action="store_true",
        help="do not keep the loaded portfolio as a template (saves its copy's disk and minutes)",
    )
    parser.add_argument(
        "--no-parts",
        action="store_true",
        help="do not read and decide the day a second time to time its parts",
    )
    parser.add_argument(
        "--no-digests", action="store_true", help="do not digest the rows the run wrote"
    )
    parser.add_argument(
        "--partition",
        action="store_true",
        help="make the day's monthly partitions first (untimed; otherwise its decisions and "
        "contact plans go to the default partitions, the day being older than the months a fresh "
        "database makes)",
    )
    parser.add_argument(
        "--second-day",
        action="store_true",
        help="after the digests, run the next day too (delinquency updates the changed states, "
        "strategy decides again) and time it",
    )
    args = parser.parse_args()
    as_of = dt.date(2026, 6, 1)
    times: dict[str, float] = {}
    postgres = make_url(args.database_url).get_backend_name() == "postgresql"
    if args.reuse:
        with timed("copy the loaded portfolio (not part of the run)", times):
            engine = from_template(args.database_url)
    else:
        engine = fresh_database(args.database_url)
        with timed("load portfolio (not part of the run)", times):
            counts = load_portfolio(
                engine, accounts=args.accounts, bills_per_account=3, as_of=as_of
            )
        print(f"  loaded {counts}")
        if postgres and not args.no_template:
            engine.dispose()
            with timed("keep it as a template (not part of the run)", times):
                keep_as_template(args.database_url)
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
    if args.partition:
        with timed("make the day's partitions (not part of the run)", times):
            with session_scope(factory) as session:
                daily_flows.maintain_partitions(session, as_of)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
    pg_engine = engine if postgres else None
    start = time.perf_counter()
    with (
        timed("delinquency pass", times),
        cpu("delinquency pass", pg_engine),
        session_scope(factory) as session,
    ):
        summary = delinquency_service.run_daily(session, as_of, clock=clock)
    with (
        timed("strategy run (read, decide, check, write)", times),
        cpu("strategy run", pg_engine),
        session_scope(factory) as session,
    ):
        report = strategy_service.run(
            session, as_of, clock=clock, engine=args.engine, **day_states(summary)
        )
    total = time.perf_counter() - start
    if not args.no_parts:
        _parts(factory, as_of, clock, args.engine, times)
    print(
        f"  {report.accounts:,} accounts decided; contacts {report.contacts_planned:,} planned, "
        f"{report.contacts_deferred:,} deferred, {report.contacts_blocked:,} blocked; "
        f"{report.agent_tasks:,} agent tasks"
    )
    print(f"daily run end to end: {total:.1f} s")
    if not args.no_digests:
        _digests(engine)
    if args.second_day:
        _second_day(factory, as_of + dt.timedelta(days=1), clock, args.engine, pg_engine)
        if not args.no_digests:
            _digests(engine)


def _second_day(
    factory: sessionmaker[Session],
    day: dt.date,
    clock: SettableClock,
    engine: str,
    pg_engine: Engine | None,
) -> None:
    """The next day's run: the delinquency pass updates the states that changed (the first day
    inserts every state), the strategy run decides again with a day of contact history."""
    clock.set(dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC))
    times: dict[str, float] = {}
    start = time.perf_counter()
    with (
        timed("second day: delinquency pass", times),
        cpu("second day: delinquency pass", pg_engine),
        session_scope(factory) as session,
    ):
        summary = delinquency_service.run_daily(session, day, clock=clock)
    with (
        timed("second day: strategy run", times),
        cpu("second day: strategy run", pg_engine),
        session_scope(factory) as session,
    ):
        report = strategy_service.run(
            session, day, clock=clock, engine=engine, **day_states(summary)
        )
    total = time.perf_counter() - start
    print(
        f"  second day: {summary.changed:,} states changed; {report.accounts:,} accounts decided, "
        f"{report.contacts_planned:,} contacts planned, {report.agent_tasks:,} agent tasks"
    )
    print(f"second day end to end: {total:.1f} s")


def _digests(engine: Engine) -> None:
    """What was decided, to compare runs of different code."""
    with engine.connect() as conn:
        for table, columns in DIGESTED.items():
            digest = conn.execute(
                text(
                    f"SELECT count(*), md5(string_agg(({columns})::text, '|' "
                    f"ORDER BY account_id, {columns})) FROM {table}"
                )
            ).one()
            print(f"  {table}: {digest[0]:,} rows, digest {digest[1]}")


if __name__ == "__main__":
    main()

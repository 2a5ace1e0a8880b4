"""The outbox end to end: one worker process claims, re-checks (account, opt-outs, consents,
frequency counters, the compliance guard with the rendered text), renders, sends to local sinks
and records, on PostgreSQL.

    .venv/bin/python -m benchmarks.bench_dispatch \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench --accounts 60000

Builds a fresh database with the delinquency benchmark's synthetic portfolio, runs the daily pass
and the China policy for the day, then moves the clock past the day's last window and drains the
outbox with one `Dispatcher` sending to the spool (one file per message, fsync'd, linked into
place). Target (delivery issue): at least 2,000 messages a second with one worker on 2 cores.
`--sink none` accepts every message without writing it: the dispatcher's own work alone.
`--reuse` (PostgreSQL) keeps the planned day as a template database and starts later runs from a
copy of it. Besides the wall clock, the run prints the process's CPU time (messages per CPU
second) and the machine's yardstick before and after (`benchmarks.yardstick`).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.bench_daily_run import POLICY
from benchmarks.common import fresh_database, load_portfolio, timed
from benchmarks.yardstick import yardstick
from recoup.channels import Accepted, Outgoing
from recoup.channels.spool import SpoolAdapter
from recoup.contact import dispatch
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.strategy import service as strategy_service
from recoup.worker.dispatcher import Dispatcher


class NoSink:
    """Accepts every message and keeps nothing."""

    def __init__(self, channel: str, *, concurrency: int) -> None:
        self.name = "none"
        self.channel = channel
        self.concurrency = concurrency
        self.rate_per_second: float | None = None

    def send(self, message: Outgoing) -> Accepted:
        return Accepted(self.name, message.idempotency_key)

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench"
    )
    parser.add_argument("--accounts", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument(
        "--profile-cpu",
        action="store_true",
        help="with --profile: count the claiming thread's CPU time (time.thread_time), not the "
        "wall clock, so waits on the database and on the other threads are left out",
    )
    parser.add_argument(
        "--sink", choices=("spool", "none"), default="spool", help="where messages go"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: start from a copy of the day planned by an earlier run with --reuse "
        "(kept as <database>_planned_<accounts>, its keyring in the temporary directory)",
    )
    args = parser.parse_args()
    as_of = dt.date(2026, 6, 1)
    times: dict[str, float] = {}
    clock = SettableClock(dt.datetime.combine(as_of, dt.time(1), tzinfo=dt.UTC))
    if args.reuse:
        factory = planned_day(args.database_url, args.accounts, as_of, clock, times)
    else:
        _, factory = plan_day(args.database_url, args.accounts, as_of, clock, times)
    run_dispatch(args, factory, as_of, clock)


def keyring_path(url: str, accounts: int) -> tuple[str, Path]:
    """The planned day's template database and its keyring's file."""
    planned = f"{make_url(url).database}_planned_{accounts}"
    return planned, Path(tempfile.gettempdir()) / f"{planned}.keyring.json"


def install_saved_keyring(path: Path) -> None:
    saved = json.loads(path.read_text())
    crypto.install_keyring(
        crypto.Keyring(
            saved["active"],
            {k: bytes.fromhex(v) for k, v in saved["keys"].items()},
            development=True,
            index_key=bytes.fromhex(saved["index_key"]) if saved["index_key"] else None,
        )
    )


def planned_day(
    url: str, accounts: int, as_of: dt.date, clock: SettableClock, times: dict[str, float]
) -> sessionmaker[Session]:
    """The database at `url` holding the planned day: a copy of the template an earlier run left
    (`<database>_planned_<accounts>`, with its keyring), else planned now and kept as one."""
    planned, keyring_file = keyring_path(url, accounts)
    name = make_url(url).database or ""
    if keyring_file.exists():
        copy_database(url, planned, name)
        install_saved_keyring(keyring_file)
        print(f"  the planned day copied from {planned}")
        return make_sessionmaker(make_engine(url))
    engine, _ = plan_day(url, accounts, as_of, clock, times)
    engine.dispose()
    copy_database(url, name, planned)
    ring = crypto.installed_keyring()
    keyring_file.write_text(
        json.dumps(
            {
                "active": ring.active,
                "keys": {k: v.hex() for k, v in ring.keys.items()},
                "index_key": ring.index_key.hex() if ring.index_key else None,
            }
        )
    )
    return make_sessionmaker(make_engine(url))


def copy_database(url: str, source: str, target: str) -> None:
    admin = make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False)
    )
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    admin.dispose()


def plan_day(
    url: str, accounts: int, as_of: dt.date, clock: SettableClock, times: dict[str, float]
) -> tuple[Engine, sessionmaker[Session]]:
    engine = fresh_database(url)
    with timed("load portfolio and plan the day (not measured)", times):
        load_portfolio(engine, accounts=accounts, bills_per_account=3, as_of=as_of, phones=True)
        factory = make_sessionmaker(engine)
        with session_scope(factory) as session:
            version = strategy_service.save_policy(
                session,
                POLICY.read_text(encoding="utf-8"),
                author="bench",
                clock=clock,
                source="cn",
            )
            strategy_service.activate(session, version.id, actor="bench", clock=clock)
            delinquency_service.run_daily(session, as_of, clock=clock)
            report = strategy_service.run(session, as_of, clock=clock)
    print(f"  {report.contacts_planned:,} contacts planned for the day")
    return engine, factory


def run_dispatch(
    args: argparse.Namespace,
    factory: sessionmaker[Session],
    as_of: dt.date,
    clock: SettableClock,
) -> None:
    clock.set(dt.datetime.combine(as_of, dt.time(11), tzinfo=dt.UTC))  # 19:00 in Shanghai
    with tempfile.TemporaryDirectory() as spool:
        adapters: dict[str, SpoolAdapter | NoSink] = {
            c: SpoolAdapter(Path(spool), c, concurrency=16)
            if args.sink == "spool"
            else NoSink(c, concurrency=16)
            for c in ("sms", "push")
        }
        dispatcher = Dispatcher(
            factory, adapters, clock=clock, config=DispatchConfig(worker="bench", batch=args.batch)
        )
        claims = time_claims(dispatcher)
        print(f"  before: {yardstick()}", flush=True)
        profiler = (
            None
            if not args.profile
            else cProfile.Profile(time.thread_time)
            if args.profile_cpu
            else cProfile.Profile()
        )
        start = time.perf_counter()
        cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        outcomes: Counter[str] = dispatcher.run(stop=threading.Event(), until_idle=True)
        end = time.perf_counter()
        elapsed = end - start
        cpu = time.process_time() - cpu
        database_cpu = backends_cpu(factory)
        if profiler is not None:
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
            stats.print_stats(40)
        dispatcher.close()
    print(f"  after: {yardstick()}")
    handled = sum(outcomes.values())
    sent = outcomes["sent"] + outcomes["delivered"]
    print(f"  outcomes: {dict(outcomes)}")
    print(
        f"dispatch: {sent:,} messages sent ({handled:,} contacts handled) in {elapsed:.1f} s = "
        f"{sent / elapsed:,.0f} messages a second; this process's CPU {cpu:.1f} s = "
        f"{sent / cpu:,.0f} messages a CPU second (the database's work not included)"
    )
    if claims["n"]:
        print(
            f"  the claiming thread: {claims['n']} claims, {claims['wall']:.2f} s "
            f"({claims['wall'] / claims['n'] * 1e3:.0f} ms a claim), of it "
            f"{claims['cpu']:.2f} s its own CPU; the rest waited (the database, the other "
            f"threads' turn at the interpreter, the machine's other processes)"
        )
    if claims["n"] > 1 and claims["later"]:
        steady = end - claims["after_first"]
        print(
            f"  after the first claim: {claims['later']:,.0f} contacts handled in "
            f"{steady:.2f} s = {claims['later'] / steady:,.0f} a second"
        )
    if sent and database_cpu is not None:
        print(
            f"  CPU a message: this process {cpu / sent * 1e6:,.0f} µs, its PostgreSQL backends "
            f"{database_cpu / sent * 1e6:,.0f} µs ({database_cpu:.1f} s)"
        )


def time_claims(dispatcher: Dispatcher) -> dict[str, float]:
    """Wall and CPU time of the claims (claim and re-check, on the dispatcher's own thread: the
    step the batches wait for in turn), summed over the run; and when the first claim ended and
    how many contacts the later ones took (`after_first`, `later`): the first claim of a process
    also fills its caches (SQLAlchemy's compiled statements, the content lexicons, the guard's
    remembered plans), a cost a long-running worker pays once."""
    totals = {"n": 0, "wall": 0.0, "cpu": 0.0, "after_first": 0.0, "later": 0}
    claim = dispatcher._claim

    def timed_claim() -> dispatch.Claimed:
        wall, cpu = time.perf_counter(), time.thread_time()
        claimed = None
        try:
            claimed = claim()
            return claimed
        finally:
            totals["n"] += 1
            totals["wall"] += time.perf_counter() - wall
            totals["cpu"] += time.thread_time() - cpu
            if totals["n"] == 1:
                totals["after_first"] = time.perf_counter()
            elif claimed is not None:
                totals["later"] += len(claimed.ready) + sum(claimed.outcomes.values())

    dispatcher._claim = timed_claim  # type: ignore[method-assign]
    return totals


def backends_cpu(factory: sessionmaker[Session]) -> float | None:
    """CPU seconds (user and system) of this database's client backends, read from /proc when
    PostgreSQL runs on this machine. The run's pool opened them after the database was copied,
    so it is the run's work on the database's side (with the connections' start-up)."""
    with factory() as session:
        pids = list(
            session.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend'"
                )
            ).scalars()
        )
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None  # not on this machine, or gone
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


if __name__ == "__main__":
    main()

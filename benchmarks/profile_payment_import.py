"""Where a payments file's import spends its time, step by step: wall, this process's CPU and the
PostgreSQL backend's CPU of each step (docs/benchmarks.md, "Import throughput").

    python -m benchmarks.profile_payment_import --database-url URL --customers 100000 [--setup]
        [--runs 3] [--profile]

`--setup` builds the database the payments file needs (`bench_import`'s customers, accounts and
bills, imported as `recoup import` imports them) once, as a template (PostgreSQL: the database
`URL`'s name + `_base`; SQLite: the file + `.base`). Each run then imports `bench_import`'s payments
file into a fresh copy of it, in one transaction, as the CLI does. `--profile` adds cProfile's
cumulative list for the last run. The steps are timed by wrapping the functions the importer calls
(the wrapping itself costs a few microseconds a call, and none is called per row).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text

from benchmarks.bench_import import _cpu_of, server_pid, write_files
from benchmarks.common import fresh_database
from recoup.ingest.columns import Kind
from recoup.ingest.importer import Importer
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker, session_scope

CLOCK = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
# (module, attribute, label): the steps, outermost first; a nested step's time is also its parent's.
STEPS = [
    ("recoup.ingest.importer", "read_table", "read the file"),
    ("recoup.ingest.payments", "validate", "validate"),
    ("recoup.ingest.payments", "_parse_instants", "  received_at parsed"),
    ("recoup.ingest.payments", "accounts_for", "  accounts looked up"),
    ("recoup.ledger.service", "paid_totals", "  paid totals read"),
    ("recoup.ledger.service", "payments_by_external_id", "  known external ids read"),
    ("recoup.ledger.service", "import_payments", "payments written"),
    ("recoup.ledger.flows", "settle", "settle"),
    ("recoup.ledger.service.reallocation", "reallocate_many", "  reallocate"),
    ("recoup.ledger.repository", "LedgerFrames.bills", "    bills read"),
    ("recoup.ledger.repository", "LedgerFrames.live_payments", "    payments read"),
    ("recoup.ledger.service.reallocation", "allocate_frames", "    waterfall"),
    (
        "recoup.ledger.repository",
        "LedgerFrames.accounts_with_allocations",
        "    allocated accounts",
    ),
    ("recoup.ledger.repository", "LedgerFrames.replace_allocations", "    allocations written"),
    ("recoup.ledger.service.reallocation", "summarise_frames", "    bills' caches computed"),
    ("recoup.ledger.repository", "LedgerFrames.credits", "    credits read"),
    ("recoup.ledger.repository", "LedgerFrames.store_caches", "    caches written"),
    ("recoup.delinquency.service", "recompute_many", "  delinquency"),
    ("recoup.strategy.service.redecisions", "redecide_many", "  re-decisions"),
    ("recoup.arrangements.review", "review", "  arrangements reviewed"),
]


class Meter:
    def __init__(self) -> None:
        self.backend: int | None = None
        self.totals: dict[str, list[float]] = {}

    def now(self) -> tuple[float, float, float]:
        server = _cpu_of(self.backend, children=False) if self.backend else 0.0
        return time.perf_counter(), time.process_time(), server

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        start = self.now()
        try:
            yield
        finally:
            end = self.now()
            row = self.totals.setdefault(label, [0.0, 0.0, 0.0])
            for i in range(3):
                row[i] += end[i] - start[i]


def wrap(meter: Meter) -> None:
    import importlib

    for module_name, attribute, label in STEPS:
        module = importlib.import_module(module_name)
        owner: Any = module
        name = attribute
        if "." in attribute:
            cls, name = attribute.split(".")
            owner = getattr(module, cls)
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, _f: Callable[..., Any] = original, _l: str = label, **kw: Any) -> Any:
            with meter.step(_l):
                return _f(*args, **kw)

        setattr(owner, name, timed)
        # Modules that imported the function by name hold their own reference.
        if owner is module:
            for other in list(_importers(module_name, name, original)):
                setattr(other, name, timed)


def _importers(module_name: str, name: str, original: Any) -> Iterator[Any]:
    import sys

    for mod in list(sys.modules.values()):
        if mod is None or getattr(mod, "__name__", "").split(".")[0] != "recoup":
            continue
        if mod.__name__ != module_name and getattr(mod, name, None) is original:
            yield mod


def copy_database(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(
                text(f'CREATE DATABASE "{parsed.database}" TEMPLATE "{parsed.database}_base"')
            )
        admin.dispose()
    else:
        assert parsed.database
        shutil.copyfile(f"{parsed.database}.base", parsed.database)
    return url


def setup(url: str, customers: int, folder: Path) -> None:
    parsed = make_url(url)
    base = (
        parsed.set(database=f"{parsed.database}_base")
        if parsed.get_backend_name() == "postgresql"
        else parsed.set(database=f"{parsed.database}.base")
    ).render_as_string(hide_password=False)
    engine = fresh_database(base)
    factory = make_sessionmaker(engine)
    files = write_files(folder, customers)
    for kind in (Kind.customers, Kind.accounts, Kind.bills):
        with session_scope(factory) as session:
            result = Importer(session, clock=SettableClock(CLOCK)).import_file(
                files[kind], kind=kind
            )
            assert not result.errors, result.errors[:3]
        print(f"  set up: {kind} {result.imported:,} rows", flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-steps", action="store_true", help="time the whole import only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.setup:
            setup(args.database_url, args.customers, Path(tmp))
        files = write_files(Path(tmp), args.customers)
        meter = Meter()
        if not args.no_steps:
            wrap(meter)
        crypto.install_keyring(crypto.Keyring.generate(development=True))
        for run in range(args.runs):
            engine = make_engine(copy_database(args.database_url))
            factory = make_sessionmaker(engine)
            meter.totals = {}
            profile = cProfile.Profile() if args.profile and run == args.runs - 1 else None
            load = os.getloadavg()[0]
            with session_scope(factory) as session:
                meter.backend = server_pid(session)
                start = meter.now()
                if profile:
                    profile.enable()
                result = Importer(session, clock=SettableClock(CLOCK)).import_file(
                    files[Kind.payments], kind=Kind.payments
                )
                before_commit = meter.now()
            end = meter.now()
            if profile:
                profile.disable()
            assert not result.errors, result.errors[:3]
            rows = result.imported
            whole = [e - s for e, s in zip(end, start, strict=True)]
            commit = [e - s for e, s in zip(end, before_commit, strict=True)]
            print(
                f"run {run + 1}: {rows:,} payments at {dt.datetime.now(dt.UTC):%H:%M:%S} UTC, "
                f"load {load:.1f} -> {os.getloadavg()[0]:.1f}: {whole[0]:.2f} s wall, "
                f"{rows / whole[0]:,.0f} rows/s; CPU a row: this process "
                f"{whole[1] / rows * 1e6:.1f} µs, server {whole[2] / rows * 1e6:.1f} µs"
            )
            print(f"  {'step':<32} {'wall':>7} {'process':>8} {'server':>7}")
            for label, (wall, cpu, server) in [*meter.totals.items(), ("commit", commit)]:
                print(f"  {label:<32} {wall:7.2f} {cpu:8.2f} {server:7.2f}")
            print(f"  {'whole':<32} {whole[0]:7.2f} {whole[1]:8.2f} {whole[2]:7.2f}", flush=True)
            engine.dispose()
            if profile:
                pstats.Stats(profile).sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()

"""Import throughput: CSV files of customers, accounts, bills and payments through `recoup import`'s
code path (validation, reference checks, bulk writes, waterfall allocation).

    .venv/bin/python -m benchmarks.bench_import \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_import --customers 100000

Target: at least 50,000 rows/s. Beside the wall time, CPU seconds: this process's, its
descendants' (the customer check's worker processes, read from /proc as the children their
forkserver reaped) and, on PostgreSQL, the server backend's that ran the import (read from
/proc: the server must run on this machine); on a loaded machine they say what the code costs.
Files are written first (not timed); each file is imported in its own transaction, as the CLI does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import fresh_database
from recoup.ingest.columns import Kind
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker, session_scope


def write_files(folder: Path, customers: int, seed: int = 3) -> dict[Kind, Path]:
    rng = np.random.default_rng(seed)
    n = customers
    refs = [f"ic{i}" for i in range(n)]
    phones = [f"+86138{i:08d}" for i in range(n)]
    pl.DataFrame(
        {
            "external_ref": refs,
            "name": ["王" + "伟芳娜敏静"[i % 5] for i in range(n)],
            "national_id": [
                f"4403051990{i % 12 + 1:02d}{i % 28 + 1:02d}{i % 10000:04d}" for i in range(n)
            ],
            "phones": phones,
            "emails": [f"{r}@example.cn" for r in refs],
            "country": ["CN"] * n,
            "region": ["GD"] * n,
            "city": ["深圳"] * n,
            "postal_code": ["518000"] * n,
            "jurisdiction": ["CN"] * n,
        }
    ).write_csv(folder / "customers.csv")
    accounts = [f"ia{i}" for i in range(n)]
    pl.DataFrame(
        {
            "external_ref": accounts,
            "customer_ref": refs,
            "product": rng.choice(["bnpl", "credit_line", "micro_loan"], size=n).tolist(),
            "currency": ["CNY"] * n,
            "opened_date": ["2026-01-05"] * n,
        }
    ).write_csv(folder / "accounts.csv")
    per = 3
    account_of_bill = np.repeat(np.arange(n), per)
    k = np.tile(np.arange(per), n)
    due = [dt.date(2026, 2, 5) + dt.timedelta(days=30 * int(i)) for i in range(per)]
    principal = rng.integers(100_00, 2_000_00, size=n * per)
    pl.DataFrame(
        {
            "account_ref": [accounts[i] for i in account_of_bill],
            "external_ref": [f"b{i}" for i in k],
            "due_date": [due[i].isoformat() for i in k],
            "principal_minor": principal,
            "interest_minor": principal // 50,
        }
    ).write_csv(folder / "bills.csv")
    paid = rng.random(n * per) < 0.85
    pl.DataFrame(
        {
            "external_id": [f"ip{i}" for i in np.flatnonzero(paid)],
            "account_ref": [accounts[i] for i in account_of_bill[paid]],
            "amount_minor": (principal + principal // 50)[paid],
            "currency": ["CNY"] * int(paid.sum()),
            "received_at": [f"{due[i].isoformat()}T10:30:00+08:00" for i in k[paid]],
        }
    ).write_csv(folder / "payments.csv")
    return {kind: folder / f"{kind}.csv" for kind in Kind}


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int, *, children: bool = True) -> float:
    """CPU seconds of a process (and of its children it has reaped), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0.0
    # After the command's name: state is fields[0], utime fields[11] ... cstime fields[14].
    ticks = [int(v) for v in fields[11:15]]
    return sum(ticks if children else ticks[:2]) / _TICK


def descendants_cpu() -> float:
    """CPU seconds of this process's children (alive: with what they reaped; gone: as reaped)."""
    me = os.getpid()
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if ppid == me:
            total += _cpu_of(int(entry))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return total + usage.ru_utime + usage.ru_stime


def server_pid(session: Session) -> int | None:
    """The PostgreSQL backend serving this session (None on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_import"
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes checking customer rows (default: one per core; 1: in this process)",
    )
    parser.add_argument(
        "--kinds",
        default=",".join(Kind),
        help="the files to import, in order (default: all four; each needs the ones before it)",
    )
    args = parser.parse_args()
    kinds = [Kind(k) for k in args.kinds.split(",")]
    # Code older than `workers` (a checkout of 9d139b6 on PYTHONPATH, for a before-and-after)
    # runs too, checking its customer rows in process as it always did.
    takes_workers = "workers" in inspect.signature(Importer.__init__).parameters
    options = {"workers": args.workers} if takes_workers else {}
    engine = fresh_database(args.database_url)
    factory = make_sessionmaker(engine)
    clock = SettableClock(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    print(
        f"import: {args.customers:,} customers on {args.database_url.split('@')[-1]}, "
        f"workers {args.workers or 'one per core'}, load average {os.getloadavg()[0]:.1f}"
    )
    total_rows, total_time = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(Path(tmp), args.customers)
        for kind in kinds:
            start, cpu = time.perf_counter(), time.process_time()
            workers_cpu = descendants_cpu()
            with session_scope(factory) as session:
                backend = server_pid(session)
                server_cpu = _cpu_of(backend, children=False) if backend else 0.0
                result = Importer(session, clock=clock, **options).import_file(
                    files[kind], kind=kind
                )
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            workers_cpu = descendants_cpu() - workers_cpu
            server_cpu = _cpu_of(backend, children=False) - server_cpu if backend else 0.0
            assert not result.errors, result.errors[:3]
            total_rows += result.imported
            total_time += elapsed
            print(
                f"  {kind:<10} {result.imported:>10,} rows {elapsed:7.2f} s "
                f"{result.imported / elapsed:>10,.0f} rows/s  "
                f"(this process's CPU {cpu:6.2f} s, {result.imported / cpu:>9,.0f} rows/CPU-s; "
                f"workers' {workers_cpu:5.2f} s, server's {server_cpu:5.2f} s; "
                f"load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    print(f"  load average at the end {os.getloadavg()[0]:.1f}")
    print(
        f"  {'all':<10} {total_rows:>10,} rows {total_time:7.2f} s {total_rows / total_time:>10,.0f} rows/s"
    )


if __name__ == "__main__":
    main()

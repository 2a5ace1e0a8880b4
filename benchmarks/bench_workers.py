"""Several dispatcher workers draining one PostgreSQL outbox together: for each count of workers,
the due messages sent, duplicated and lost, and the throughput (messages recorded a second, from
the first claim to the last record, process start-up left out).

    .venv/bin/python -m benchmarks.bench_workers \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_workers

`--sink spool` (the default): `recoup worker` processes into the spool. The day is prepared once
(generated portfolio, China policy, the next day planned: about 1,800 messages due at once for
16,000 customers) and copied for each count of workers (`CREATE DATABASE ... TEMPLATE`), so every
count drains the same outbox into an empty spool.

    .venv/bin/python -m benchmarks.bench_workers --sink none --accounts 60000 --workers 1 2 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_workers

`--sink none`: worker processes each running a `Dispatcher` (batch 500, pipelined) into a sink
that accepts every message at once (`bench_dispatch`'s `NoSink`), on the day `bench_dispatch`
plans (10,640 contacts for 60,000 accounts; its template database is made once and copied for
each count). The workers start together once all have imported and connected; seconds run from
the first worker's start to the last one's end.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import make_url, text
from tests.contact.chaos import prepare, race, tally

from benchmarks.bench_dispatch import (
    NoSink,
    copy_database,
    install_saved_keyring,
    keyring_path,
    planned_day,
)
from benchmarks.yardstick import yardstick
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.worker.dispatcher import Dispatcher

AS_OF = dt.date(2026, 6, 1)  # bench_dispatch's day


def admin_run(url: str, *statements: str) -> None:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


def child(args: argparse.Namespace) -> None:
    """One worker of `--sink none`: ready, wait for the go, drain, write what it did."""
    install_saved_keyring(Path(args.keyring))
    factory = make_sessionmaker(make_engine(args.database_url))
    clock = SettableClock(dt.datetime.combine(AS_OF, dt.time(11), tzinfo=dt.UTC))
    dispatcher = Dispatcher(
        factory,
        {c: NoSink(c, concurrency=16) for c in ("sms", "push")},
        clock=clock,
        config=DispatchConfig(worker=Path(args.result).stem, batch=args.batch),
    )
    with factory() as session:  # connected before the start
        session.execute(text("SELECT 1"))
    Path(args.result + ".ready").touch()
    go = Path(args.go)
    while not go.exists():
        time.sleep(0.01)
    began = time.time()
    outcomes = dispatcher.run(stop=threading.Event(), until_idle=True)
    ended = time.time()
    dispatcher.close()
    Path(args.result).write_text(
        json.dumps({"began": began, "ended": ended, "outcomes": dict(outcomes)})
    )


def no_sink(args: argparse.Namespace) -> None:
    times: dict[str, float] = {}
    clock = SettableClock(dt.datetime.combine(AS_OF, dt.time(1), tzinfo=dt.UTC))
    planned_day(args.database_url, args.accounts, AS_OF, clock, times).kw["bind"].dispose()
    template, keyring = keyring_path(args.database_url, args.accounts)
    print("workers | sent | handled | seconds | messages a second | sent by each worker")
    for count in args.workers:
        copy_database(args.database_url, template, make_url(args.database_url).database or "")
        with tempfile.TemporaryDirectory(prefix="recoup-workers-") as tmp:
            go = Path(tmp) / "go"
            results = [Path(tmp) / f"w{i}.json" for i in range(count)]
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.bench_workers",
                        "--child",
                        "--database-url",
                        args.database_url,
                        "--keyring",
                        str(keyring),
                        "--go",
                        str(go),
                        "--result",
                        str(r),
                        "--batch",
                        str(args.batch),
                    ]
                )
                for r in results
            ]
            while not all(Path(f"{r}.ready").exists() for r in results):
                assert all(p.poll() is None for p in procs), "a worker failed to start"
                time.sleep(0.05)
            print(f"  before: {yardstick()}", flush=True)
            go.touch()
            for p in procs:
                assert p.wait(timeout=1800) == 0
            done = [json.loads(r.read_text()) for r in results]
        print(f"  after: {yardstick()}", flush=True)
        sent = [d["outcomes"].get("sent", 0) + d["outcomes"].get("delivered", 0) for d in done]
        handled = sum(sum(d["outcomes"].values()) for d in done)
        seconds = max(d["ended"] for d in done) - min(d["began"] for d in done)
        print(
            f"{count} | {sum(sent):,} | {handled:,} | {seconds:.2f} | {sum(sent) / seconds:,.0f} | "
            + ", ".join(f"{n:,}" for n in sent),
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sink", choices=("spool", "none"), default="spool")
    parser.add_argument("--customers", type=int, default=16000, help="--sink spool")
    parser.add_argument("--accounts", type=int, default=60_000, help="--sink none")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 3, 4])
    parser.add_argument("--batch", type=int, default=None, help="200 (spool), 500 (none)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keyring", help=argparse.SUPPRESS)
    parser.add_argument("--go", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.sink == "none":
        args.batch = args.batch or 500
        no_sink(args)
        return
    args.batch = args.batch or 200
    template = make_url(args.database_url)
    name = template.database
    admin_run(
        args.database_url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
    )
    with tempfile.TemporaryDirectory(prefix="recoup-workers-") as tmp:
        base = prepare(args.database_url, Path(tmp), customers=args.customers)
        print(f"{len(base.due):,} messages due")
        print("workers | sent | duplicates | lost | seconds | messages a second | per worker")
        for count in args.workers:
            copy = f"{name}_{count}"
            admin_run(
                args.database_url,
                f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)',
                f'CREATE DATABASE "{copy}" TEMPLATE "{name}"',
            )
            workdir = Path(tmp) / f"w{count}"
            workdir.mkdir()
            for key in ("keys.json", "audit.pem"):
                (workdir / key).write_bytes((Path(tmp) / key).read_bytes())
            url = template.set(database=copy).render_as_string(hide_password=False)
            world = dataclasses.replace(
                base,
                database=url,
                workdir=workdir,
                env={
                    **base.env,
                    "RECOUP_DATABASE_URL": url,
                    "RECOUP_ENCRYPTION_KEY_FILE": str(workdir / "keys.json"),
                    "RECOUP_AUDIT_SIGNING_KEY_FILE": str(workdir / "audit.pem"),
                    "RECOUP_SPOOL_DIR": str(workdir / "spool"),
                },
            )
            seconds = race(world, count, batch=args.batch)
            f = tally(world)
            rate = f.sent / seconds
            shares = ", ".join(str(n) for _, n in sorted(f.senders.items()))
            print(
                f"{count} | {f.sent:,} | {f.duplicates} | {f.lost} | {seconds:.2f} | "
                f"{rate:,.0f} | {shares}"
            )
            admin_run(args.database_url, f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    admin_run(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

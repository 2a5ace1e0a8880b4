"""Several `recoup worker` processes draining one PostgreSQL outbox together: for 1 to 4 workers,
the due messages sent, duplicated and lost, and the throughput (messages recorded a second, from
the first claim to the last record, process start-up left out).

    .venv/bin/python -m benchmarks.bench_workers \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_workers

The day is prepared once (generated portfolio, China policy, the next day planned: about 1,800
messages due at once for 16,000 customers) and copied for each count of workers
(`CREATE DATABASE ... TEMPLATE`), so every count drains the same outbox into an empty spool.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

from sqlalchemy import make_url, text
from tests.contact.chaos import prepare, race, tally

from recoup.kit.db import make_engine


def admin_run(url: str, *statements: str) -> None:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--customers", type=int, default=16000)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 3, 4])
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
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

"""The send-time check alone (`dispatch._Context.check`), CPU a message, on real claimed contacts:
every due contact of the day `bench_dispatch --reuse` planned (10,640 for 60,000 accounts), read
from its template database (read only: the transaction is rolled back) in batches of 500 in the
order a worker claims them, all checked `--rounds` times (each batch's contacts not counted in
one another's caps, as the claim's `counted` would). No database work and no other thread is timed, so it
resolves changes of a few µs a message that whole runs on a shared machine do not
(docs/benchmarks.md, "The outbox dispatcher", sixth round). Run it with an older commit's `src/`
on PYTHONPATH for that commit's figure.

    .venv/bin/python -m benchmarks.micro_dispatch_check \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

from sqlalchemy import make_url, text

from benchmarks.bench_dispatch import install_saved_keyring, keyring_path
from recoup.compliance import load_guard
from recoup.contact import dispatch
from recoup.contact import repository as repo
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.db import make_engine, make_sessionmaker


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench",
        help="the database bench_dispatch --reuse ran on (its planned day's template is read)",
    )
    parser.add_argument("--accounts", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    planned, keyring = keyring_path(args.database_url, args.accounts)
    install_saved_keyring(keyring)
    engine = make_engine(
        make_url(args.database_url).set(database=planned).render_as_string(hide_password=False)
    )
    now = dt.datetime(2026, 6, 1, 11, tzinfo=dt.UTC)  # bench_dispatch's moment: 19:00 in Shanghai
    guard = load_guard()
    config = DispatchConfig(worker="micro")
    batches: list[tuple[list[Any], dispatch._Context]] = []
    with make_sessionmaker(engine)() as session:
        due = text(
            "SELECT id FROM contact_plans WHERE status IN ('planned', 'queued') "
            "ORDER BY scheduled_at, id"
        )
        ids = [int(i) for (i,) in session.execute(due)]
        repo.plan_by_keys(session)
        for start in range(0, len(ids), 500):
            rows = repo.contacts(session, ids[start : start + 500])
            ctx = dispatch._context(session, rows, now=now, config=config, guard=guard)
            batches.append((rows, ctx))
        session.rollback()
    engine.dispose()
    channels = ["sms", "push"]

    def check_all() -> None:
        for rows, ctx in batches:
            for r in rows:
                ctx.check(r, channels)

    check_all()  # the guard's remembered plans and moments, as a worker has them after a batch
    figures = []
    for _ in range(args.rounds):
        cpu = time.thread_time()
        check_all()
        figures.append((time.thread_time() - cpu) / len(ids) * 1e6)
    print(
        f"the check of {len(ids):,} claimed contacts, CPU a message: "
        + ", ".join(f"{f:.1f}" for f in figures)
        + f" µs (least {min(figures):.1f})"
    )


if __name__ == "__main__":
    main()

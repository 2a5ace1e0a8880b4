"""Crash chaos, counted: `recoup worker` killed with SIGKILL N times at chosen points (cycling
after the claim, after the hand-over, after a sink's accept, and 600 messages into a batch of
2,000), each kill proven to have landed (tests/contact/chaos.py), then drained; the due messages
planned, sent, duplicated and lost.

    .venv/bin/python -m benchmarks.bench_chaos --kills 4
    .venv/bin/python -m benchmarks.bench_chaos --kills 12 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_chaos
    .venv/bin/python -m benchmarks.bench_chaos --kills 2 --batch 1000 --database-url ...

SQLite by default (a file in a temporary directory); a PostgreSQL URL names a database this
creates afresh (dropping one of that name).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import make_url, text
from tests.contact.chaos import drain, kill_at, prepare, tally

from recoup.kit.db import make_engine

POINTS = ("claimed@1", "handed@1", "accepted@1", "accepted@600")
BATCH = 2000


def empty_database(url: str, workdir: Path) -> str:
    if not url:
        return f"sqlite:///{workdir / 'chaos.db'}"
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--customers", type=int, default=16000)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--batch", type=int, default=BATCH, help="the workers' RECOUP_DISPATCH_BATCH"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recoup-chaos-") as tmp:
        workdir = Path(tmp)
        began = time.monotonic()
        world = prepare(
            empty_database(args.database_url, workdir), workdir, customers=args.customers
        )
        kills = [
            kill_at(world, POINTS[i % len(POINTS)], name=f"chaos-{i}", batch=args.batch)
            for i in range(args.kills)
        ]
        drain(world, name="chaos-drain", batch=args.batch)
        figures = tally(world)
        landed = [k.detail["point"] + f"@{k.detail['count']}" for k in kills if k.reached]
        row = {
            "database": make_url(world.database).get_backend_name(),
            "batch": args.batch,
            "kills": len(landed),
            "missed": len(kills) - len(landed),
            **figures.as_row(),
            "seconds": round(time.monotonic() - began),
        }
        print(json.dumps({"kills_landed": landed, "stuck": figures.stuck}))
        print(" | ".join(f"{k} {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()

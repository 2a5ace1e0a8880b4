"""One COPY TO STDOUT read two ways, alternated: psycopg's `Copy` iterator (a generator and wait
round a row, what `kit.frames.read_frame` used) and `kit.frames._copy_out` (libpq drained in a
tight loop); wall time and this process's CPU.

    PYTHONPATH=src .venv/bin/python -m benchmarks.micro_copy_out \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/daily_1m --rounds 3

Reads `accounts` (id, product, credit: 1,000,000 rows in a `bench_daily_run` database).
"""

from __future__ import annotations

import argparse
import io
import os
import time

from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.kit.db import make_engine

STATEMENT = "COPY (SELECT id, product_code, credit_minor FROM accounts) TO STDOUT WITH (FORMAT csv)"


def iterator(session: Session) -> int:
    buffer = io.BytesIO()
    with frames._raw_cursor(session) as cursor, cursor.copy(STATEMENT) as copy:
        for block in copy:
            buffer.write(block)
    return buffer.tell()


def drained(session: Session) -> int:
    return frames._copy_out(session, STATEMENT).tell()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Session(make_engine(args.database_url)) as session:
        for _ in range(args.rounds):
            for read in (iterator, drained):
                load = os.getloadavg()[0]
                wall, cpu = time.perf_counter(), time.process_time()
                size = read(session)
                print(
                    f"{read.__name__:<9} {size:>11,} bytes  wall {time.perf_counter() - wall:5.2f} s"
                    f"  CPU python {time.process_time() - cpu:5.2f} s  (load {load:.1f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()

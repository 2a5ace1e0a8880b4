"""What a batch's id list costs to send, measured alone: psycopg dumping a Python list of 500
ints (how `kit.db.among` passed it before) against the same list's text made with `str.join`
(how it passes it now), and one query run each way on the benchmark's database.

    .venv/bin/python -m benchmarks.micro_among \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench
"""

from __future__ import annotations

import argparse
import time

import psycopg
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import make_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench"
    )
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    url = make_url(args.database_url)
    conn = psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database
    )
    ids = list(range(1_000_000, 1_000_500))
    transformer = Transformer(conn)
    for fmt in (PyFormat.AUTO, PyFormat.BINARY):
        start = time.thread_time()
        for _ in range(args.rounds):
            transformer.get_dumper(ids, fmt).dump(ids)
        print(f"psycopg dumps 500 ids ({fmt.name}): {cpu_us(start, args.rounds)} µs of CPU")
    start = time.thread_time()
    for _ in range(args.rounds):
        "{" + ",".join(map(str, ids)) + "}"
    print(f"str.join of 500 ids: {cpu_us(start, args.rounds)} µs of CPU")
    with conn.cursor() as cur:
        for label, query, param in (
            ("a list", "SELECT count(*) FROM contact_plans WHERE id = ANY(%s)", lambda: ids),
            (
                "its text",
                "SELECT count(*) FROM contact_plans WHERE id = ANY(%s::bigint[])",
                lambda: "{" + ",".join(map(str, ids)) + "}",
            ),
        ):
            start, wall = time.thread_time(), time.perf_counter()
            for _ in range(args.rounds):
                cur.execute(query, (param(),))
                cur.fetchall()
            print(
                f"a query by 500 ids passed as {label}: {cpu_us(start, args.rounds)} µs of CPU, "
                f"{(time.perf_counter() - wall) / args.rounds * 1e6:.0f} µs of wall"
            )
    conn.close()


def cpu_us(start: float, rounds: int) -> str:
    return f"{(time.thread_time() - start) / rounds * 1e6:,.0f}"


if __name__ == "__main__":
    main()

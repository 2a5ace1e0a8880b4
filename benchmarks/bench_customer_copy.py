"""Where PostgreSQL's time goes when a customers file is written: the COPY of `customers` and of
`customer_phones` as the import sends them, with their indexes and foreign key, and again with
the secondary indexes (and the phones' foreign key) dropped, each in a transaction rolled back.
Reads the rows of a database `bench_import` has filled (customers imported), so run that first:

    .venv/bin/python -m benchmarks.bench_customer_copy \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_import

Prints the wall time and the server backend's CPU seconds (read from /proc: the server must run
on this machine) of each COPY.
"""

from __future__ import annotations

import argparse
import os
import time

import psycopg

from benchmarks.bench_import import _cpu_of

CUSTOMERS = (
    "external_ref, name, national_id, national_id_index, preferred_language, jurisdiction, "
    "timezones, birth_year, sex, created_at"
)
PHONES = "customer_id, position, number, number_index, type, source"
CASES = {
    "customers": [
        ("as is", []),
        (
            "without its 2 secondary indexes",
            ["DROP INDEX ix_customers_national_id_index", "DROP INDEX ix_customers_jurisdiction"],
        ),
    ],
    "customer_phones": [
        ("as is", []),
        (
            "without its foreign key",
            [
                "ALTER TABLE customer_phones DROP CONSTRAINT "
                "fk_customer_phones_customer_id_customers"
            ],
        ),
        (
            "without the foreign key and its 2 indexes",
            [
                "ALTER TABLE customer_phones DROP CONSTRAINT "
                "fk_customer_phones_customer_id_customers",
                "DROP INDEX ix_customer_phones_number_index",
                "DROP INDEX ix_customer_phones_customer_id",
            ],
        ),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_import"
    )
    url = parser.parse_args().database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        backend = conn.info.backend_pid
        # The rows as stored, new references for the customers (their own are taken).
        data = {}
        with conn.cursor() as cur:
            buffer = bytearray()
            query = f"COPY (SELECT 'x' || external_ref, {CUSTOMERS.split(', ', 1)[1]} FROM customers) TO STDOUT"
            with cur.copy(query) as copy:
                for block in copy:
                    buffer += block
            data["customers"] = (CUSTOMERS, bytes(buffer))
            buffer = bytearray()
            with cur.copy(f"COPY (SELECT {PHONES} FROM customer_phones) TO STDOUT") as copy:
                for block in copy:
                    buffer += block
            data["customer_phones"] = (PHONES, bytes(buffer))
        conn.rollback()
        print(f"load average {os.getloadavg()[0]:.1f}")
        for table, cases in CASES.items():
            columns, rows = data[table]
            for label, statements in cases:
                with conn.cursor() as cur:
                    for statement in statements:
                        cur.execute(statement)  # type: ignore[arg-type]
                    cpu, start = _cpu_of(backend, children=False), time.perf_counter()
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[arg-type]
                        copy.write(rows)
                    elapsed = time.perf_counter() - start
                    cpu = _cpu_of(backend, children=False) - cpu
                conn.rollback()
                print(f"  {table:<16} {label:<42} {elapsed:6.2f} s wall, server's CPU {cpu:5.2f} s")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

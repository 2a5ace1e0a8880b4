"""Customers found by a file's references on a large database: the temporary table's join
(`frames.read_frame_matching`, what `ledger.repository.customer_ids_by_ref` does beyond
`LedgerFrames.SCOPE_LIMIT` references) against the whole table read and filtered in Polars (what it
did before), on an existing database (a loaded portfolio, e.g. `bench_daily_run`'s):

    PYTHONPATH=src .venv/bin/python -m benchmarks.bench_refs_lookup --refs 100000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_daily_1m

Half the references exist (drawn from the table), half do not; both ways must find the same rows.
Then the bills of as many accounts (what a payments file's reallocation reads,
`LedgerFrames.bills`): every bill read and filtered in Polars (before) against the ids inline
(`kit.db.ids_in`).
"""

from __future__ import annotations

import argparse
import os
import random
import time

import polars as pl
from sqlalchemy import func, select

from recoup.kit import frames
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.ledger import repository
from recoup.models import Account, Customer

SCHEMA: frames.Schema = {"external_ref": pl.String, "id": pl.Int64}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--refs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    factory = make_sessionmaker(make_engine(args.database_url))
    with factory() as session:
        total = session.scalar(select(func.count()).select_from(Customer)) or 0
        top = session.scalar(select(func.max(Customer.id))) or 0
        picked = random.Random(7).sample(range(1, top + 1), min(args.refs // 2, top))
        known = frames.read_frame(
            session,
            select(Customer.external_ref, Customer.id).where(Customer.id.in_(picked)),
            SCHEMA,
        )["external_ref"].to_list()
    refs = known + [f"absent-{i}" for i in range(args.refs - len(known))]
    load = os.getloadavg()[0]
    print(f"{total:,} customers; {len(refs):,} references ({len(known):,} known); load {load:.1f}")
    stmt = select(Customer.external_ref, Customer.id)
    for _ in range(args.rounds):
        for label in ("the whole table, filtered", "joined to a temporary table"):
            with factory() as session:
                wall, cpu = time.perf_counter(), time.process_time()
                if label.startswith("the whole"):
                    found = frames.read_frame(session, stmt, SCHEMA).filter(
                        pl.col("external_ref").is_in(refs)
                    )
                else:
                    found = repository.customer_ids_by_ref(session, refs)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                assert found.height == len(known), (label, found.height, len(known))
            print(f"  {label:<28} {wall:7.2f} s wall, {cpu:6.2f} s of this process's CPU")
    with factory() as session:
        top = session.scalar(select(func.max(Account.id))) or 0
    accounts = sorted(random.Random(11).sample(range(1, top + 1), min(args.refs, top)))
    for _ in range(args.rounds):
        for label in ("every bill, filtered", "the accounts' ids inline"):
            with factory() as session:
                store = repository.LedgerFrames(session)
                wall, cpu = time.perf_counter(), time.process_time()
                if label.startswith("every"):
                    bills = store.bills(None).filter(pl.col("account_id").is_in(accounts))
                else:
                    bills = store.bills(accounts)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"  {label:<28} {wall:7.2f} s wall, {cpu:6.2f} s of this process's CPU "
                f"({bills.height:,} bills)"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

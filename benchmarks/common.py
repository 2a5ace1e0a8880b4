"""Shared set-up for the benchmarks: a fresh database, a keyring, a synthetic portfolio at scale.

The portfolio is built with NumPy and Polars (not Faker) so that a million accounts load in seconds;
its shape follows the generator's (three products, most bills paid on time, a delinquent tail).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import polars as pl
from sqlalchemy import Engine, make_url, text

from recoup.bootstrap import init_database
from recoup.kit import crypto, frames
from recoup.kit.clock import SettableClock
from recoup.kit.crypto import EncryptedString
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.kit.indexes import phone_index
from recoup.ledger import service as ledger_service
from recoup.models import Account, Bill, Customer, CustomerPhone, Payment

UTC = dt.UTC


@contextmanager
def timed(label: str, sink: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    sink[label] = time.perf_counter() - start
    print(f"  {label:<40} {sink[label]:8.2f} s", flush=True)


def fresh_database(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    elif parsed.database:
        import pathlib

        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
    crypto.install_keyring(crypto.Keyring.generate(development=True))
    engine = make_engine(url)
    init_database(engine, clock=SettableClock(dt.datetime(2026, 1, 1, tzinfo=UTC)))
    return engine


def load_portfolio(
    engine: Engine,
    *,
    accounts: int,
    bills_per_account: int,
    as_of: dt.date,
    seed: int = 1,
    phones: bool = False,
) -> dict[str, int]:
    """Customers, accounts, bills and payments written in bulk; with `phones`, every customer
    also has a mobile number (sealed, with its blind index), so SMS and calls can reach them."""
    rng = np.random.default_rng(seed)
    now = dt.datetime.combine(as_of, dt.time(0), tzinfo=UTC)
    n, per = accounts, bills_per_account
    name = EncryptedString("customers.name").seal("基准客户")
    customers = pl.DataFrame(
        {
            "external_ref": [f"bc{i}" for i in range(n)],
            "name": [name] * n,
            "preferred_language": ["zh-CN"] * n,
            "jurisdiction": ["CN"] * n,
            "timezones": ['["Asia/Shanghai"]'] * n,
            "created_at": [now] * n,
        }
    )
    products = rng.choice(["bnpl", "credit_line", "micro_loan"], size=n, p=[0.55, 0.25, 0.20])
    opened = as_of - dt.timedelta(days=200)
    account_frame = pl.DataFrame(
        {
            "external_ref": [f"ba{i}" for i in range(n)],
            "customer_id": np.arange(1, n + 1),
            "product_code": products,
            "currency": ["CNY"] * n,
            "opened_date": [opened] * n,
            "status": ["open"] * n,
            "collector": ["creditor"] * n,
            "created_at": [now] * n,
        }
    )
    account_ids = np.repeat(np.arange(1, n + 1), per)
    seq = np.tile(np.arange(per), n)
    first_due = rng.integers(-150, -30, size=n)
    due_offsets = np.repeat(first_due, per) + seq * 30
    principal = rng.integers(100_00, 3_000_00, size=n * per)
    bills = pl.DataFrame(
        {
            "account_id": account_ids,
            "external_ref": [f"b{k}" for k in seq],
            "due_date": pl.Series([as_of] * (n * per))
            + pl.Series(due_offsets, dtype=pl.Int64).cast(pl.Duration("ms")) * 86_400_000,
            "principal_minor": principal,
            "interest_minor": principal // 60,
            "fees_minor": np.zeros(n * per, dtype=np.int64),
            "created_at": [now] * (n * per),
        }
    ).with_columns(pl.col("due_date").cast(pl.Date))
    # who pays: most on time, some late, some never (by account)
    kind = np.repeat(rng.choice([0, 1, 2], size=n, p=[0.82, 0.12, 0.06]), per)
    delay = np.where(
        kind == 0, rng.integers(-3, 1, size=n * per), rng.integers(1, 60, size=n * per)
    )
    pays = (kind != 2) & (due_offsets + delay < 0)
    bill_ids = np.arange(1, n * per + 1)
    payment_frame = (
        pl.DataFrame(
            {
                "account_id": account_ids[pays],
                "external_id": [f"bp{i}" for i in bill_ids[pays]],
                "amount_minor": (principal + principal // 60)[pays],
                "currency": ["CNY"] * int(pays.sum()),
                "value_offset": (due_offsets + delay)[pays],
            }
        )
        .with_columns(
            value_date=(pl.lit(as_of) + pl.duration(days=pl.col("value_offset"))).cast(pl.Date),
        )
        .with_columns(
            received_at=pl.col("value_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
            + pl.duration(hours=2),
            source=pl.lit("wallet"),
            created_at=pl.lit(now),
        )
        .drop("value_offset")
    )
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        frames.insert_frame(session, Customer.__table__, customers)  # type: ignore[arg-type]
        frames.insert_frame(session, Account.__table__, account_frame)  # type: ignore[arg-type]
        if phones:
            numbers = [f"+86138{i:08d}" for i in range(n)]
            sealer = EncryptedString("customer_phones.number")
            phone_frame = pl.DataFrame(
                {
                    "customer_id": np.arange(1, n + 1),
                    "position": [0] * n,
                    "number": [sealer.seal(x) for x in numbers],
                    "number_index": [phone_index(x) for x in numbers],
                    "type": ["mobile"] * n,
                    "source": ["customer"] * n,
                }
            )
            frames.insert_frame(session, CustomerPhone.__table__, phone_frame)  # type: ignore[arg-type]
        frames.insert_frame(session, Bill.__table__, bills)  # type: ignore[arg-type]
        frames.insert_frame(session, Payment.__table__, payment_frame)  # type: ignore[arg-type]
    with session_scope(factory) as session:
        ledger_service.reallocate_many(session, None)
        allocations = session.execute(text("SELECT count(*) FROM allocations")).scalar_one()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return {
        "accounts": n,
        "bills": n * per,
        "payments": int(pays.sum()),
        "allocations": allocations,
    }

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
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.crypto import EncryptedString
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.ledger import repository as ledger_repository
from recoup.ledger import service as ledger_service
from recoup.ledger.allocation import Waterfall, allocate_frames, summarise_frames

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


# A million accounts a chunk: the frames of one chunk (and the waterfall over them) fit in a few GB,
# whatever the portfolio's size.
CHUNK = 1_000_000


def portfolio_chunk(
    *, first: int, accounts: int, per: int, as_of: dt.date, seed: int, sealed_name: bytes
) -> dict[str, pl.DataFrame]:
    """Accounts `first` .. `first + accounts - 1` (0-based) of the synthetic portfolio, with the
    ids the database will give them (one customer per account; `per` bills an account, bill ids in
    account order; payments in bill order). The chunk starting at 0 draws exactly what the single
    frame of earlier rounds drew, so a portfolio of one chunk is the one earlier figures used."""
    rng = np.random.default_rng(seed if first == 0 else [seed, first])
    now = dt.datetime.combine(as_of, dt.time(0), tzinfo=UTC)
    n = accounts
    ids = pl.int_range(first + 1, first + n + 1, dtype=pl.Int64, eager=True)
    refs = pl.int_range(first, first + n, dtype=pl.Int64, eager=True).cast(pl.String)
    customers = pl.DataFrame(
        {
            "external_ref": "bc" + refs,
            "name": pl.repeat(sealed_name, n, eager=True, dtype=pl.Binary),
            "preferred_language": pl.repeat("zh-CN", n, eager=True),
            "jurisdiction": pl.repeat("CN", n, eager=True),
            "timezones": pl.repeat('["Asia/Shanghai"]', n, eager=True),
            "created_at": pl.repeat(now, n, eager=True),
        }
    )
    products = rng.choice(["bnpl", "credit_line", "micro_loan"], size=n, p=[0.55, 0.25, 0.20])
    opened = as_of - dt.timedelta(days=200)
    account_frame = pl.DataFrame(
        {
            "id": ids,
            "external_ref": "ba" + refs,
            "customer_id": ids,
            "product_code": products,
            "currency": pl.repeat("CNY", n, eager=True),
            "opened_date": pl.repeat(opened, n, eager=True),
            "status": pl.repeat("open", n, eager=True),
            "collector": pl.repeat("creditor", n, eager=True),
            "created_at": pl.repeat(now, n, eager=True),
        }
    )
    account_ids = np.repeat(np.arange(first + 1, first + n + 1), per)
    seq = np.tile(np.arange(per), n)
    first_due = rng.integers(-150, -30, size=n)
    due_offsets = np.repeat(first_due, per) + seq * 30
    principal = rng.integers(100_00, 3_000_00, size=n * per)
    bill_ids = np.arange(first * per + 1, (first + n) * per + 1)
    bills = pl.DataFrame(
        {
            "id": bill_ids,
            "account_id": account_ids,
            "external_ref": "b" + pl.Series(seq).cast(pl.String),
            "due_offset": due_offsets,
            "principal_minor": principal,
            "interest_minor": principal // 60,
            "fees_minor": np.zeros(n * per, dtype=np.int64),
            "created_at": pl.repeat(now, n * per, eager=True),
        }
    ).select(
        "id",
        "account_id",
        "external_ref",
        (pl.lit(as_of) + pl.duration(days=pl.col("due_offset"))).cast(pl.Date).alias("due_date"),
        "principal_minor",
        "interest_minor",
        "fees_minor",
        "created_at",
    )
    # who pays: most on time, some late, some never (by account)
    kind = np.repeat(rng.choice([0, 1, 2], size=n, p=[0.82, 0.12, 0.06]), per)
    delay = np.where(
        kind == 0, rng.integers(-3, 1, size=n * per), rng.integers(1, 60, size=n * per)
    )
    pays = (kind != 2) & (due_offsets + delay < 0)
    payments = (
        pl.DataFrame(
            {
                "account_id": account_ids[pays],
                "external_id": "bp" + pl.Series(bill_ids[pays]).cast(pl.String),
                "amount_minor": (principal + principal // 60)[pays],
                "value_offset": (due_offsets + delay)[pays],
            }
        )
        .with_columns(
            currency=pl.lit("CNY"),
            value_date=(pl.lit(as_of) + pl.duration(days=pl.col("value_offset"))).cast(pl.Date),
        )
        .with_columns(
            received_at=pl.col("value_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
            + pl.duration(hours=2),
            source=pl.lit("wallet"),
            created_at=pl.lit(now),
        )
        .select(
            "account_id",
            "external_id",
            "amount_minor",
            "currency",
            "value_date",
            "received_at",
            "source",
            "created_at",
        )
    )
    return {
        "customers": customers,
        "accounts": account_frame,
        "bills": bills,
        "payments": payments,
    }


def with_allocations(
    chunk: dict[str, pl.DataFrame], waterfalls: dict[str, Waterfall], first_payment_id: int
) -> dict[str, pl.DataFrame]:
    """The chunk as the ledger's reallocation leaves it: allocations computed with the ledger's
    own set-based waterfall (`allocate_frames`, which `reallocate_many` runs), the bills' paid caches
    and the accounts' credits set before they are written, so nothing is updated afterwards."""
    accounts, bills = chunk["accounts"], chunk["bills"]
    payments = chunk["payments"].with_columns(
        id=pl.int_range(first_payment_id, first_payment_id + chunk["payments"].height)
    )
    lines, credits = allocate_frames(
        bills.join(
            accounts.select(account_id="id", product_code="product_code"), on="account_id"
        ).select(
            "account_id",
            "product_code",
            bill_id="id",
            due_date="due_date",
            fees="fees_minor",
            interest="interest_minor",
            principal="principal_minor",
        ),
        payments.select(
            "account_id",
            "value_date",
            "received_at",
            payment_id="id",
            amount="amount_minor",
        ),
        waterfalls,
    )
    caches = summarise_frames(
        lines,
        bills.select(
            bill_id="id",
            amount_due=pl.col("fees_minor") + pl.col("interest_minor") + pl.col("principal_minor"),
        ),
    )
    return {
        **chunk,
        "accounts": accounts.join(
            credits.select(id="account_id", credit_minor="credit"), on="id", how="left"
        ).with_columns(pl.col("credit_minor").fill_null(0)),
        "bills": bills.join(
            caches.select(id="bill_id", paid_minor="paid", paid_off_date="paid_off_date"),
            on="id",
            how="left",
        ).with_columns(pl.col("paid_minor").fill_null(0)),
        "allocations": lines,
    }


def load_portfolio(
    engine: Engine,
    *,
    accounts: int,
    bills_per_account: int,
    as_of: dt.date,
    seed: int = 1,
    phones: bool = False,
    through_ledger: bool = False,
    chunk: int = CHUNK,
) -> dict[str, int]:
    """Customers, accounts, bills, payments and their allocations written in bulk (COPY on
    PostgreSQL), a chunk of accounts per transaction; with `phones`, every customer also has a
    mobile number (sealed, with its blind index), so SMS and calls can reach them.

    The allocations, the bills' paid caches and the accounts' credits are computed in Polars with
    the ledger's waterfall and written with the rows. `through_ledger` instead writes the rows bare
    and runs the ledger's own reallocation over them (`ledger_service.reallocate_many`, as an
    import does): the same tables (`tests/benchmarks/test_portfolio_loader.py`), many times slower.
    """
    factory = make_sessionmaker(engine)
    name = EncryptedString("customers.name").seal("基准客户")
    with session_scope(factory) as session:
        waterfalls = {
            p.code: Waterfall.from_config(p.allocation)
            for p in ledger_repository.ProductRepository(session).all()
        }
        start_ids = ledger_repository.next_ids(session)
    assert all(v == 1 for v in start_ids.values()), f"load into an empty ledger: {start_ids}"
    with session_scope(factory) as session:  # built once at the end: a sort, not a row at a time
        dropped = ledger_repository.drop_load_indexes(session)
    counts = dict.fromkeys(("accounts", "bills", "payments", "allocations"), 0)
    for first in range(0, accounts, chunk):
        frames_ = portfolio_chunk(
            first=first,
            accounts=min(chunk, accounts - first),
            per=bills_per_account,
            as_of=as_of,
            seed=seed,
            sealed_name=name,
        )
        if not through_ledger:
            frames_ = with_allocations(frames_, waterfalls, counts["payments"] + 1)
        with session_scope(factory) as session:
            ledger_repository.insert_sealed_customers(session, frames_["customers"])
            ledger_repository.insert_accounts(session, frames_["accounts"].drop("id"))
            if phones:
                ids = frames_["accounts"]["id"]
                ledger_repository.insert_customer_phones(
                    session,
                    pl.DataFrame(
                        {
                            "customer_id": ids,
                            "position": pl.repeat(0, len(ids), eager=True, dtype=pl.Int64),
                            "number": "+86138" + (ids - 1).cast(pl.String).str.zfill(8),
                            "type": pl.repeat("mobile", len(ids), eager=True),
                            "source": pl.repeat("customer", len(ids), eager=True),
                        }
                    ),
                )
            ledger_repository.insert_bills(session, frames_["bills"].drop("id"))
            ledger_repository.insert_payments(session, frames_["payments"])
            if not through_ledger:
                ledger_repository.LedgerFrames(session).append_allocations(frames_["allocations"])
                counts["allocations"] += frames_["allocations"].height
            # The ids the database gave are the ones the allocations point at.
            expected = {
                "accounts": counts["accounts"] + frames_["accounts"].height + 1,
                "bills": counts["bills"] + frames_["bills"].height + 1,
                "payments": counts["payments"] + frames_["payments"].height + 1,
            }
            given = ledger_repository.next_ids(session)
            assert {k: given[k] for k in expected} == expected, (given, expected)
        counts["accounts"] += frames_["accounts"].height
        counts["bills"] += frames_["bills"].height
        counts["payments"] += frames_["payments"].height
        print(f"    {counts['accounts']:,} accounts written", flush=True)
    with session_scope(factory) as session:
        ledger_repository.build_load_indexes(session, dropped)
    if through_ledger:
        with session_scope(factory) as session:
            ledger_service.reallocate_many(session, None)
            counts["allocations"] = ledger_repository.next_ids(session)["allocations"] - 1
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return counts

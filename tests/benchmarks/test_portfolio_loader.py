"""The benchmarks' fast portfolio loader writes the state the ledger's own reallocation writes."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.common import fresh_database, load_portfolio
from sqlalchemy import Engine, func, inspect, make_url, select, text

from recoup.kit.db import make_engine
from recoup.models import Account, Allocation, Bill, Customer, CustomerPhone, Payment

AS_OF = dt.date(2026, 6, 1)
# Every column but the sealed name (sealed again, with a new nonce, by each load).
TABLES = {
    "customers": [c for c in Customer.__table__.c if c.name != "name"],
    "customer_phones": [c for c in CustomerPhone.__table__.c if c.name != "number"],
    "accounts": list(Account.__table__.c),
    "bills": list(Bill.__table__.c),
    "payments": list(Payment.__table__.c),
    "allocations": list(Allocation.__table__.c),
}


def _urls(tmp_path: Path) -> Iterator[tuple[str, str]]:
    base = os.environ.get("RECOUP_TEST_DATABASE_URL")
    if not base:
        yield (f"sqlite:///{tmp_path / 'fast.db'}", f"sqlite:///{tmp_path / 'ledger.db'}")
        return
    names = (f"loader_fast_{os.getpid()}", f"loader_ledger_{os.getpid()}")
    yield tuple(  # type: ignore[misc]
        make_url(base).set(database=n).render_as_string(hide_password=False) for n in names
    )
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def two_databases(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    urls = _urls(tmp_path)
    fast_url, ledger_url = next(urls)
    fast, ledger = fresh_database(fast_url), fresh_database(ledger_url)
    yield fast, ledger
    fast.dispose()
    ledger.dispose()
    next(urls, None)


def _indexes(engine: Engine, table: str) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes(table)}


def _rows(engine: Engine, table: str) -> list[tuple[object, ...]]:
    columns = TABLES[table]
    with engine.connect() as conn:
        key = [c for c in columns if c.primary_key]
        return [tuple(r) for r in conn.execute(select(*columns).order_by(*key))]


class TestFastLoader:
    def test_same_tables_as_the_ledgers_reallocation(
        self, two_databases: tuple[Engine, Engine]
    ) -> None:
        # Fails when the loader's caches or allocations differ from what `reallocate_many`
        # writes: seen once with the bills' `paid_off_date` left out of the fast path (bills
        # differ), and once with the second chunk's payment ids starting at 1 (allocations differ).
        fast, ledger = two_databases
        # Three chunks of 700 (the last one short), so ids carry over from chunk to chunk.
        counts = load_portfolio(
            fast, accounts=1_800, bills_per_account=3, as_of=AS_OF, phones=True, chunk=700
        )
        through_ledger = load_portfolio(
            ledger,
            accounts=1_800,
            bills_per_account=3,
            as_of=AS_OF,
            phones=True,
            chunk=700,
            through_ledger=True,
        )
        assert counts == through_ledger
        assert counts["payments"] > 3_000
        assert counts["allocations"] > counts["payments"]
        for table in TABLES:
            fast_rows = _rows(fast, table)
            assert len(fast_rows) > 0
            assert fast_rows == _rows(ledger, table), table
        # The indexes dropped for the load are back (on PostgreSQL: it fails without
        # `build_load_indexes`, seen once).
        for model in (Customer, CustomerPhone, Account, Bill, Payment, Allocation):
            table = model.__table__
            assert {str(i.name) for i in table.indexes} <= _indexes(fast, table.name), table.name
        # The portfolio has what the daily run needs: bills paid off and bills still owed.
        with fast.connect() as conn:
            paid_off = conn.execute(
                select(func.count()).where(Bill.__table__.c.paid_off_date.is_not(None))
            ).scalar_one()
        assert 0 < paid_off < counts["bills"]

"""Engine, sessions and the one-transaction-per-unit-of-work boundary.

Services receive a `Session` and never commit; `session_scope` (CLI, jobs) and the API dependency own the
transaction. SQLite gets WAL, foreign keys and a busy timeout so one writer and many readers coexist.

On SQLite every transaction begins IMMEDIATE: it takes the write lock at its start, so a transaction
that reads and then writes waits its turn (busy timeout) instead of failing with "database is locked"
because another writer committed after its read snapshot. Connections opened with the execution
option `read_only=True` begin plainly (the keyring loader, which may run while a writer holds the
lock in the same process).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Engine,
    MetaData,
    any_,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker
from sqlalchemy.types import UserDefinedType

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 5, max_overflow: int = 10
) -> Engine:
    """An engine for `url`. On PostgreSQL a pool of `pool_size` connections, and up to
    `max_overflow` more under a burst (`RECOUP_DATABASE_POOL_SIZE`, `RECOUP_DATABASE_MAX_OVERFLOW`);
    SQLite keeps SQLAlchemy's own pool (one file, one writer)."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = max_overflow
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself
    # (the documented recipe), so nested transactions and rollbacks behave as on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A page cache of 64 MiB instead of 2 (the daily run reads a whole portfolio), sorts and
    # groupings in memory. Durability is unchanged.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def checkpoint_every(engine: Engine, pages: int) -> None:
    """SQLite: every connection `engine` opens from now on moves the WAL into the database file
    (a checkpoint) once `pages` pages have been written to it, instead of SQLite's 1,000.

    Under WAL with synchronous=NORMAL a commit does not sync; the disk is synced only around a
    checkpoint (the WAL before it, the database file after it, the WAL's header when it is
    reused), so a checkpoint costs three syncs and the copy of the pages written since the last
    one. Fewer checkpoints: fewer syncs, and a page written many times copied once. What
    changes: the commits an operating-system crash or a power cut may roll back are those since
    the last sync, up to `pages` pages of WAL instead of 1,000 (a crash of the process alone
    loses no commit either way, and the database stays consistent: SQLite's WAL guarantees).
    For a database that can be made again (the simulator's); the engines `make_engine` makes
    keep SQLite's default."""
    if engine.dialect.name != "sqlite":
        raise ValueError("checkpoint_every is for a SQLite engine")
    if pages < 1:
        raise ValueError("pages must be at least 1")

    def _checkpoint(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
        cursor.close()

    event.listen(engine, "connect", _checkpoint)


def _sqlite_begin(connection: Any) -> None:
    read_only = connection.get_execution_options().get("read_only", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class _IdArray(UserDefinedType[list[int]]):
    """A `bigint[]` parameter sent as its text, `'{1,2,...}'` made with `str.join` (psycopg sends
    a `str` untyped, so the statement's `::BIGINT[]` makes it the array when the statement is
    parsed: the same parameter, the same plans). psycopg dumps a Python list of 500 ints element
    by element, about 0.8 ms of CPU against 0.1 ms (`python -m benchmarks.micro_among`), and a
    dispatcher's claim passes a dozen such lists a batch. The values are `int`s (`among`), so
    the text cannot carry anything else."""

    cache_ok = True
    render_bind_cast = True

    def get_col_spec(self, **kw: Any) -> str:
        return "BIGINT[]"

    def bind_processor(self, dialect: Any) -> Any:
        return lambda values: "{" + ",".join(map(str, values)) + "}"


def among(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], ids: Iterable[int]
) -> ColumnElement[bool]:
    """`column IN (ids)` for a batch of ids. PostgreSQL gets one array parameter (`= ANY`): a few
    hundred separate parameters cost more to render, send and plan than the query itself. The
    array is sent as its text (`_IdArray`)."""
    values = [int(i) for i in ids]
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=_IdArray()))
    return column.in_(values)


# An id list longer than this is rendered inline as one literal (see `IdsIn`); a shorter one keeps
# SQLAlchemy's bound IN list and the statement cache (an event's handful of accounts).
INLINE_IDS_FROM = 1000


class IdsIn(ColumnElement[bool]):
    """`column IN (ids)` for a long list of integer ids, rendered as one literal made with
    `str.join`: PostgreSQL gets `column = ANY('{1,2,...}'::bigint[])` (one array constant to
    parse), SQLite `column IN (1,2,...)`. SQLAlchemy renders a bound IN list with literal values
    (what `frames.read_frame` compiles) one value at a time: 1.6 s for 200,000 ids, against a few
    milliseconds here. The ids are `int`s, so the literal cannot carry anything else."""

    inherit_cache = False  # the ids are the statement: a cache entry would never be reused
    type = Boolean()

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any], ids: Iterable[int]):
        self.column = column
        self.listed = ",".join(map(str, map(int, ids)))

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        """Itself, as a comparison (`column.in_(...)`) is. A boolean expression in a WHERE is
        otherwise compared with 1 on a dialect without a boolean type (`... IN (...) = 1`), and
        SQLite's planner cannot use an index on `column` for that term: it scanned the whole
        table (the daily run's reads of its 3,600 detailed accounts, 20,000 in the demo)."""
        return self


@compiles(IdsIn)
def _ids_in(element: IdsIn, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    if not element.listed:
        return "1 != 1"
    return f"{column} IN ({element.listed})"


@compiles(IdsIn, "postgresql")
def _ids_in_postgresql(element: IdsIn, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY('{{{element.listed}}}'::bigint[])"


def ids_in(
    column: ColumnElement[Any] | QueryableAttribute[Any], ids: Collection[int]
) -> ColumnElement[bool]:
    """`column IN (ids)`: a bound IN list for a few ids, an inline literal for many (`IdsIn`)."""
    if len(ids) < INLINE_IDS_FROM:
        return column.in_(sorted(ids))
    return IdsIn(column, sorted(ids))

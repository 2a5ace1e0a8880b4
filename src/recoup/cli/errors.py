"""What the CLI says when the database is missing, unreachable or not initialised: one line,
instead of SQLAlchemy's traceback (every command runs inside `recoup.cli.group.Group.invoke`)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from recoup.config import Settings

# What the drivers say (SQLite's messages; PostgreSQL's SQLSTATE classes through psycopg).
NOT_INITIALISED = ("no such table", "undefinedtable", "42p01")
OUT_OF_DATE = ("no such column", "undefinedcolumn", "42703")


def _postgres_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:  # PostgreSQL's driver is the `postgres` extra: the default install lacks it
        return ()
    return (psycopg.OperationalError, psycopg.ProgrammingError)


# SQLAlchemy's wrappers, and the drivers' own errors where a frame is read through the driver.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    ProgrammingError,
    sqlite3.OperationalError,
    *_postgres_errors(),
)


def database_problem(exc: BaseException) -> str | None:
    """One line saying what is wrong with the configured database, or None when `exc` is not about
    the database being missing, unreachable or behind (a lock timeout, say: left to propagate)."""
    orig = exc.orig if isinstance(exc, OperationalError | ProgrammingError) else exc
    said = str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else ""
    kind = f"{type(orig).__name__} {getattr(orig, 'sqlstate', '') or ''} {said}".lower()
    where = _url()
    if any(k in kind for k in NOT_INITIALISED):
        return (
            f"the database at {where} is not initialised ({said}): run `recoup init` to create it"
        )
    if any(k in kind for k in OUT_OF_DATE):
        return f"the database at {where} is older than this version ({said}): run `recoup init`"
    if _connect(kind):
        return f"cannot open the database at {where} ({said}): check RECOUP_DATABASE_URL"
    return None


def _connect(kind: str) -> bool:
    return any(
        k in kind
        for k in (
            "unable to open database",
            "does not exist",
            "connection refused",
            "could not connect",
            "connection failed",
            "could not translate host",
            "password authentication failed",
            "no password supplied",
            "is not a database",
        )
    )


def _url() -> str:
    try:
        return make_url(Settings().database_url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "RECOUP_DATABASE_URL"

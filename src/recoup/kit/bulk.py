"""Many rows in one statement, from plain Python values: for batches of a few hundred rows, where
building a frame and a temporary table costs more than the write itself (the dispatcher).

PostgreSQL gets one array parameter per column, sent in binary (text arrays are escaped element by
element in Python, ten to twenty times slower), and `unnest`: a batch is one round trip and one
plan whatever its size. SQLite, in process, gets `executemany`. Both run in the caller's
transaction. Values go to the driver as they are, bypassing column types, as in `kit.frames`:
encrypted columns must arrive sealed, JSON columns as JSON text (the caller chooses the encoding).

`pipelined` sends a run of these writes without waiting for each one's answer (psycopg's pipeline
mode): PostgreSQL runs one while the caller builds the next one's arrays, and the block's end waits
for them all, in order, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session


def update_rows(session: Session, table: Table, key: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Set, on each row of `table` whose `key` matches, the columns its mapping names. Mappings may
    name different columns: a column a mapping leaves out keeps its value on that row."""
    if not rows:
        return 0
    columns = sorted({c for r in rows for c in r} - {key})
    if _postgresql(session):
        params: list[list[Any]] = [[r[key] for r in rows]]
        arrays = [_array(table, key)]
        names = ["k"]
        sets = []
        for i, c in enumerate(columns):
            params.append(_values([r.get(c) for r in rows]))
            arrays.append(_array(table, c))
            names.append(f"v{i}")
            if all(c in r for r in rows):
                sets.append(f'"{c}" = s.v{i}')
            else:  # set only where the row names the column
                params.append([c in r for r in rows])
                arrays.append("CAST(%b AS BOOLEAN[])")
                names.append(f"m{i}")
                sets.append(f'"{c}" = CASE WHEN s.m{i} THEN s.v{i} ELSE t."{c}" END')
        # Table and column names come from our own metadata, never from input.
        statement = (
            f'UPDATE "{table.name}" AS t SET {", ".join(sets)} '  # noqa: S608
            f"FROM unnest({', '.join(arrays)}) AS s({', '.join(names)}) "
            f'WHERE t."{key}" = s.k'
        )
        _execute(session, statement, params)
        return len(rows)
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(c for c in columns if c in r), []).append(r)
    for named, group in groups.items():
        sets_sql = ", ".join(f'"{c}" = ?' for c in named)
        statement = f'UPDATE "{table.name}" SET {sets_sql} WHERE "{key}" = ?'  # noqa: S608
        values = [(*(_sqlite_value(r[c]) for c in named), r[key]) for r in group]
        session.connection().exec_driver_sql(statement, values)
    return len(rows)


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Append the rows (all naming the same columns)."""
    return _insert(session, table, rows, "")


def upsert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str,
    replace: Sequence[str],
) -> int:
    """Insert the rows (all naming the same columns); where a row with the same unique `key`
    exists already, set the `replace` columns on it instead."""
    sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in replace)
    return _insert(session, table, rows, f' ON CONFLICT ("{key}") DO UPDATE SET {sets}')


def _insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], tail: str) -> int:
    if not rows:
        return 0
    columns = list(rows[0])
    listed = ", ".join(f'"{c}"' for c in columns)
    if _postgresql(session):
        arrays = ", ".join(_array(table, c) for c in columns)
        statement = f'INSERT INTO "{table.name}" ({listed}) SELECT * FROM unnest({arrays}){tail}'  # noqa: S608
        _execute(session, statement, [_values([r[c] for r in rows]) for c in columns])
        return len(rows)
    marks = ", ".join("?" for _ in columns)
    statement = f'INSERT INTO "{table.name}" ({listed}) VALUES ({marks}){tail}'  # noqa: S608
    values = [tuple(_sqlite_value(r[c]) for c in columns) for r in rows]
    session.connection().exec_driver_sql(statement, values)
    return len(rows)


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """The writes of this module made in the block are sent to PostgreSQL one after another without
    waiting for each answer; the block's end waits for all of them (an error in any is raised
    there, and the transaction is then failed as it would be at that statement). Only this
    module's writes may run in the block: a statement through SQLAlchemy reads its result at once,
    which pipeline mode does not have yet. The same statements, in the same order, in the same
    transaction; on SQLite (in process, nothing to wait for) the block runs as it is."""
    if not _postgresql(session):
        yield
        return
    raw = session.connection().connection.driver_connection
    with raw.pipeline():  # type: ignore[union-attr]
        yield


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _execute(session: Session, statement: str, params: list[list[Any]]) -> None:
    """On the psycopg connection under the session (in its transaction), parameters in binary."""
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(statement, params)


def _array(table: Table, column: str) -> str:
    kind = table.c[column].type.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    return f"CAST(%b AS {kind}[])"


def _value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _values(column: list[Any]) -> list[Any]:
    """`_value` of each, without a call an element (a batch's columns are read whole)."""
    return [v.value if isinstance(v, enum.Enum) else v for v in column]


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite types store: naive UTC instants as text, dates in ISO form."""
    value = _value(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value

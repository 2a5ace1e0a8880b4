"""Set-based reads and writes between the database and Polars frames.

PostgreSQL moves rows with COPY: read as CSV, drained from libpq (`_copy_out`) and parsed by
Polars' native reader (`read_frames` sends the next statement while the previous rows are
parsed); written in PostgreSQL's binary format encoded with NumPy (`_binary_chunks`), or as CSV
for a column type without an encoder. SQLite uses plain cursors. Both paths run inside the
caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import selectors
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    MetaData,
    Select,
    String,
    Table,
    TextClause,
    bindparam,
    delete,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

Schema = dict[str, pl.DataType | type[pl.DataType]]


@contextmanager
def small_reads(session: Session) -> Iterator[None]:
    """Within it, `read_frame` expects a handful of rows (one account's facts for an event): the
    statement goes through SQLAlchemy's compiled-statement cache instead of being compiled with
    its values inlined, which costs more than the rows for tiny results."""
    before = session.info.get(SMALL, False)
    session.info[SMALL] = True
    try:
        yield
    finally:
        session.info[SMALL] = before


SMALL = "frames.small_reads"


def read_frame(
    session: Session, stmt: Select[*tuple[Any, ...]] | TextClause, schema: Schema
) -> pl.DataFrame:
    """Run `stmt` and return its rows as a frame with exactly `schema` (names in select order)."""
    dialect = session.get_bind().dialect.name
    if session.info.get(SMALL):
        rows = session.execute(stmt).all()
        frame = pl.DataFrame([tuple(r) for r in rows], schema=list(schema), orient="row")
        return frame.with_columns(_casts(frame, schema))
    if dialect == "postgresql":
        session.execute(text("SET LOCAL TimeZone = 'UTC'"))
        return _parse_csv(_copy_out(session, _copy_statement(stmt)), schema)
    if dialect == "sqlite":
        return _read_sqlite(session, stmt, schema)
    rows = session.execute(stmt).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=list(schema), orient="row")
    return frame.with_columns(_casts(frame, schema))


# The temporary table `read_frame_matching` joins a long list of texts through (one per connection).
_MATCHING = Table("tmp_matching_keys", MetaData(), Column("key", String), prefixes=["TEMPORARY"])


def read_frame_matching(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    column: Any,
    values: Sequence[str],
    schema: Schema,
) -> pl.DataFrame:
    """`read_frame` of `stmt` kept to the rows whose `column` is one of `values` (texts), for a
    list longer than an IN list should carry (an import's references): the values go to a
    temporary table (COPY on PostgreSQL) and the read is joined to it, so its cost follows the
    list and the column's index, not the size of the table (a full read filtered here would read
    ten million customers to find a file's hundred thousand)."""
    keys = pl.DataFrame({"key": pl.Series(values, dtype=pl.String)}).unique()
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(
            text("CREATE TEMP TABLE IF NOT EXISTS tmp_matching_keys (key text) ON COMMIT DROP")
        )
        session.execute(text("TRUNCATE tmp_matching_keys"))
        _copy_in(session, _MATCHING.name, keys)
        session.execute(text("ANALYZE tmp_matching_keys"))  # the planner sees the list's size
    else:
        session.execute(text("CREATE TEMP TABLE IF NOT EXISTS tmp_matching_keys (key TEXT)"))
        session.execute(delete(_MATCHING))
        session.connection().exec_driver_sql(
            "INSERT INTO tmp_matching_keys (key) VALUES (?)", [(k,) for k in keys["key"]]
        )
    try:
        return read_frame(session, stmt.where(column.in_(select(_MATCHING.c.key))), schema)
    finally:
        if not postgres:
            session.execute(delete(_MATCHING))


# The temporary table `kept_ids` holds a read's keys in (one per connection).
_KEPT = Table("tmp_kept_ids", MetaData(), Column("id", BigInteger), prefixes=["TEMPORARY"])


def kept_ids(session: Session, stmt: Select[Any]) -> Select[Any]:
    """The distinct ids `stmt` selects (one integer column), computed once by the server into a
    temporary table, and a `select` of them to filter later reads by (`column.in_(...)`).

    For several reads filtered by the same subquery: inlined in each, the server computes it
    again for every read (a scan of a big table each time); kept, it is computed once and each
    read joins a small, analysed table. The table lives until the transaction ends (PostgreSQL)
    or is emptied by the next call (SQLite); a second call in the same transaction replaces the
    ids, so the select is valid only until then. No key on PostgreSQL: the reads hash-join the
    ids, and building a primary key's index cost about a quarter of the table's time."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(
            text("CREATE TEMP TABLE IF NOT EXISTS tmp_kept_ids (id bigint) ON COMMIT DROP")
        )
        session.execute(text("TRUNCATE tmp_kept_ids"))
    else:
        session.execute(
            text("CREATE TEMP TABLE IF NOT EXISTS tmp_kept_ids (id INTEGER PRIMARY KEY)")
        )
        session.execute(delete(_KEPT))
    session.execute(insert(_KEPT).from_select(["id"], stmt.distinct()))
    if postgres:
        session.execute(text("ANALYZE tmp_kept_ids"))  # the planner sees how few they are
    return select(_KEPT.c.id)


def read_frames(
    session: Session, reads: Sequence[tuple[Select[*tuple[Any, ...]] | TextClause, Schema]]
) -> list[pl.DataFrame]:
    """`read_frame` of each (statement, schema), in order. On PostgreSQL the next statement is
    sent as soon as the previous one's rows are in, so the server computes it while Polars
    parses those rows (two cores at work instead of one waiting on the other)."""
    if session.info.get(SMALL) or session.get_bind().dialect.name != "postgresql" or not reads:
        return [read_frame(session, stmt, schema) for stmt, schema in reads]
    session.execute(text("SET LOCAL TimeZone = 'UTC'"))
    statements = [_copy_statement(stmt) for stmt, _ in reads]
    conn = session.connection().connection.driver_connection
    pgconn = conn.pgconn  # type: ignore[union-attr]
    encoding = conn.info.encoding  # type: ignore[union-attr]
    out: list[pl.DataFrame] = []
    with conn.lock:  # type: ignore[union-attr]
        pgconn.send_query(statements[0].encode(encoding))
        for i, (_, schema) in enumerate(reads):
            buffer = _drain(pgconn, encoding, statements[i])
            if i + 1 < len(reads):
                pgconn.send_query(statements[i + 1].encode(encoding))
            out.append(_parse_csv(buffer, schema))
    return out


def _copy_statement(stmt: Any) -> str:
    sql = str(
        stmt.compile(
            dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
            compile_kwargs={"literal_binds": True},
        )
    )
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"


def _parse_csv(buffer: io.BytesIO, schema: Schema) -> pl.DataFrame:
    """COPY's CSV rows as a frame of `schema` (instants arrive as text in UTC, `+00`)."""
    if buffer.tell() == 0:
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    instants = [n for n, t in schema.items() if isinstance(t, pl.Datetime) or t == pl.Datetime]
    read_schema = {n: (pl.String if n in instants else t) for n, t in schema.items()}
    frame = pl.read_csv(buffer, has_header=False, schema=read_schema, try_parse_dates=False)
    return frame.with_columns(
        [
            pl.col(n)
            .str.replace(r"\+00$", "")
            .str.to_datetime(time_unit="us")
            .dt.replace_time_zone("UTC")
            for n in instants
        ]
    )


def _read_sqlite(session: Session, stmt: Any, schema: Schema) -> pl.DataFrame:
    """Raw driver rows, then dates and instants parsed by Polars in bulk (SQLite stores them as
    text: `YYYY-MM-DD` and naive-UTC `YYYY-MM-DD HH:MM:SS.ffffff`)."""
    compiled = stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    raw = session.connection().connection.driver_connection
    rows = raw.execute(str(compiled)).fetchall()  # type: ignore[union-attr]
    text_types = {
        n: pl.String
        for n, t in schema.items()
        if t == pl.Date or isinstance(t, pl.Datetime) or t == pl.Datetime
    }
    # Column by column: Polars builds a typed column from a list of Python values in a fraction
    # of the time its row constructor takes for the same rows (`pl.DataFrame(rows, orient="row")`),
    # with the same values (the same lenient casts: `strict=False`). The columns are gathered
    # with a comprehension each, not `zip(*rows)`, whose iterator per row wakes the cyclic
    # collector over the whole heap.
    if rows and len(rows[0]) != len(schema):
        raise ValueError(f"{len(rows[0])} columns read for a schema of {len(schema)}")
    frame = pl.DataFrame(
        [
            pl.Series(
                name, [row[i] for row in rows], dtype=text_types.get(name, dtype), strict=False
            )
            for i, (name, dtype) in enumerate(schema.items())
        ]
    )
    return frame.with_columns(
        [
            pl.col(n).str.to_date("%Y-%m-%d")
            if schema[n] == pl.Date
            else pl.col(n)
            .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
            .dt.replace_time_zone("UTC")
            for n in text_types
        ]
    )


def _copy_out(session: Session, statement: str) -> io.BytesIO:
    """The rows a `COPY ... TO STDOUT` sends, read from libpq in a tight loop.

    PostgreSQL sends a COPY's rows one message each; psycopg's `Copy` iterator runs its generator
    and wait machinery once a row (0.55 s of Python CPU for 1,000,000 rows of three columns),
    where this loop takes every row libpq has already buffered and waits on the socket only when
    none is left (0.16 s for the same rows: `benchmarks/micro_copy_out.py`). Errors are
    psycopg's, as from a cursor; the connection is left as after any statement."""
    conn = session.connection().connection.driver_connection
    pgconn = conn.pgconn  # type: ignore[union-attr]
    encoding = conn.info.encoding  # type: ignore[union-attr]
    with conn.lock:  # type: ignore[union-attr]
        pgconn.send_query(statement.encode(encoding))
        return _drain(pgconn, encoding, statement)


def _drain(pgconn: Any, encoding: str, statement: str) -> io.BytesIO:
    """The rows of the COPY TO STDOUT just sent on `pgconn`, and its results read."""
    from psycopg import errors as pg_errors  # the `postgres` extra: imported when PostgreSQL runs
    from psycopg import pq

    buffer = io.BytesIO()
    started = pgconn.get_result()
    if started is None or started.status != pq.ExecStatus.COPY_OUT:
        _finish(pgconn, encoding, started)
        raise pg_errors.ProgrammingError(f"not a COPY TO STDOUT: {statement[:80]}")
    get, write = pgconn.get_copy_data, buffer.write
    # A selector, not select.select: a busy server's socket may be numbered past FD_SETSIZE.
    with selectors.DefaultSelector() as waiting:
        waiting.register(pgconn.socket, selectors.EVENT_READ)
        while True:
            size, data = get(1)
            if size > 0:
                write(data)
            elif size == 0:  # nothing buffered: wait for the server's next bytes
                waiting.select()
                pgconn.consume_input()
            else:  # -1: the copy is done; -2: it failed (the result says why)
                break
    _finish(pgconn, encoding, None)
    return buffer


def _finish(pgconn: Any, encoding: str, first: Any) -> None:
    """Read the statement's remaining results (libpq needs them read before the next
    statement), raising the first error among them."""
    from psycopg import errors as pg_errors
    from psycopg import pq

    results = [] if first is None else [first]
    while (result := pgconn.get_result()) is not None:
        if result.status == pq.ExecStatus.COPY_OUT:  # rows left unread: libpq would loop here
            raise pg_errors.ProgrammingError("COPY TO STDOUT left with rows unread")
        results.append(result)
    for result in results:
        if result.status in (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.BAD_RESPONSE):
            raise pg_errors.error_from_result(result, encoding=encoding)


def _raw_cursor(session: Session) -> Any:
    """The psycopg cursor under the session's connection (COPY is not part of the DB-API)."""
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def _casts(frame: pl.DataFrame, schema: Schema) -> list[pl.Expr]:
    exprs = []
    for name, dtype in schema.items():
        if dtype == pl.Date and frame.schema[name] == pl.String:
            exprs.append(pl.col(name).str.to_date())
        else:
            exprs.append(pl.col(name).cast(dtype))
    return exprs


def insert_frame(session: Session, table: Table, frame: pl.DataFrame) -> int:
    """Append the frame's rows to `table` (columns named as the frame's). Returns the row count.

    Values go to the driver as they are, bypassing column types: encrypted columns must arrive sealed
    (`EncryptedString.seal`), list columns are written as JSON.
    """
    if frame.height == 0:
        return 0
    frame = _json_lists(frame)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        _copy_in(session, table.name, frame)
        return frame.height
    frame = _driver_values(frame)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    # Table and column names come from our own metadata, never from input.
    statement = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'  # noqa: S608
    session.connection().exec_driver_sql(statement, list(frame.iter_rows()))
    return frame.height


def update_frame(session: Session, table: Table, frame: pl.DataFrame, key: str) -> int:
    """Set the frame's other columns on the rows of `table` whose `key` matches."""
    if frame.height == 0:
        return 0
    columns = [c for c in frame.columns if c != key]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        temp = f"tmp_update_{table.name}_{hashlib.sha256('.'.join(frame.columns).encode()).hexdigest()[:8]}"
        selected = ", ".join(f'"{c}"' for c in frame.columns)
        session.execute(
            text(
                f'CREATE TEMP TABLE IF NOT EXISTS "{temp}" ON COMMIT DROP AS '  # noqa: S608
                f'SELECT {selected} FROM "{table.name}" WITH NO DATA'
            )
        )
        session.execute(text(f'TRUNCATE "{temp}"'))
        _copy_in(session, temp, _json_lists(frame))
        sets = ", ".join(f'"{c}" = s."{c}"' for c in columns)
        session.execute(
            text(f'UPDATE "{table.name}" t SET {sets} FROM "{temp}" s WHERE t."{key}" = s."{key}"')  # noqa: S608
        )
        return frame.height
    plain = _driver_values(_json_lists(frame.select(*columns, key)))
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    statement = f'UPDATE "{table.name}" SET {sets} WHERE "{key}" = ?'  # noqa: S608
    session.connection().exec_driver_sql(statement, list(plain.iter_rows()))
    return frame.height


def drop_indexes(session: Session, tables: Sequence[Table]) -> list[Index]:
    """Drop the tables' plain indexes (not their keys or unique constraints) before a bulk load
    into them, to build each once afterwards (`create_indexes`: a sort, where a load into an
    indexed table inserts into every index row by row). PostgreSQL only; returns what it dropped."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    dropped = [
        index for table in tables for index in sorted(table.indexes, key=lambda i: str(i.name))
    ]
    for index in dropped:
        index.drop(session.connection(), checkfirst=True)
    return dropped


def create_indexes(session: Session, indexes: Sequence[Index]) -> None:
    """Build indexes `drop_indexes` dropped, with the sort memory of a maintenance job."""
    if not indexes:
        return
    session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for index in indexes:
        index.create(session.connection())


def _driver_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates and instants as the text SQLAlchemy's SQLite types store."""
    return frame.with_columns(
        [
            pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            if isinstance(dtype, pl.Datetime)
            else pl.col(name).cast(pl.String)
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime) or dtype == pl.Date
        ]
    )


def _json_lists(frame: pl.DataFrame) -> pl.DataFrame:
    """List and struct columns as JSON text. Lists of strings (tags, codes) hold few distinct
    values in a big frame: each distinct one is encoded once and joined back."""
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List | pl.Struct)]
    if not lists:
        return frame
    out = frame.with_row_index("__row")
    for n in lists:
        dtype = frame.schema[n]
        if isinstance(dtype, pl.List) and dtype.inner == pl.String:
            key = pl.col(n).list.join("\x1f")
            distinct = out.select(n, key.alias("__key")).unique("__key")
            encoded = distinct.select(
                "__key",
                pl.Series(
                    "__json",
                    [None if v is None else json.dumps(v) for v in distinct[n].to_list()],
                    dtype=pl.String,
                ),
            )
            out = (
                out.with_columns(key.alias("__key"))
                .join(encoded, on="__key", how="left", nulls_equal=True)
                .with_columns(
                    pl.when(pl.col(n).is_null()).then(None).otherwise(pl.col("__json")).alias(n)
                )
                .drop("__key", "__json")
            )
        else:
            out = out.with_columns(
                pl.Series(
                    n,
                    [None if v is None else json.dumps(v) for v in out[n].to_list()],
                    dtype=pl.String,
                )
            )
    return out.sort("__row").drop("__row")


def _instant_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    """An instant column as COPY's text. A column of one instant (a run's `created_at`) is
    formatted once, not once a row."""
    column = frame[name]
    if frame.height > 1 and column.null_count() == 0 and column.min() == column.max():
        one = column.head(1).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00")
        return pl.lit(one[0], pl.String).alias(name)
    return pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00")


def _copy_in(session: Session, table_name: str, frame: pl.DataFrame) -> None:
    """COPY the frame in: in PostgreSQL's binary format when every column's type has an encoder
    here (`_binary_chunks`), else as CSV."""
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    types = _column_types(session, table_name)
    driver = session.connection().connection.driver_connection
    utf8 = driver.info.encoding == "utf-8"  # type: ignore[union-attr]
    if utf8 and all(_binary_encodable(frame.schema[c], types.get(c)) for c in frame.columns):
        statement = f'COPY "{table_name}" ({columns}) FROM STDIN WITH (FORMAT binary)'
        with _raw_cursor(session) as cursor, cursor.copy(statement) as copy:
            copy.write(_BINARY_HEADER)
            # Chunks small enough that NumPy's buffers are reused from the heap: a 200,000-row
            # chunk's fresh pages cost as much system time again as the encoding (page faults).
            for chunk in _binary_chunks(frame, [types[c] for c in frame.columns], 25_000):
                copy.write(chunk)
            copy.write(_BINARY_TRAILER)
        return
    _copy_in_csv(session, table_name, frame)


def _column_types(session: Session, table_name: str) -> dict[str, str]:
    """The table's columns and their types as `format_type` names them (a temporary table is found
    through the session's search path, as COPY finds it)."""
    rows = session.execute(
        text(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = CAST(:name AS regclass) AND attnum > 0 AND NOT attisdropped"
        ),
        {"name": f'"{table_name}"'},
    ).all()
    return {str(row[0]): str(row[1]) for row in rows}


# PostgreSQL's binary COPY: a signature, flags and header extension (both 0), then each row as a
# 16-bit field count and its fields (32-bit length, -1 for NULL, then the value in network order),
# then -1 as the count. Values: integers and floats big-endian, dates as days and instants as
# microseconds since 2000-01-01, text as its UTF-8 bytes, jsonb as version 1 then its text.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_BINARY_TRAILER = b"\xff\xff"
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 - 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400 * 1_000_000
_FIXED = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8", "double precision": ">f8"}
_TEXT = {"text", "character varying", "json", "jsonb"}


def _binary_encodable(dtype: pl.DataType, pg_type: str | None) -> bool:
    if pg_type in _FIXED:
        return dtype.is_integer() or (pg_type == "double precision" and dtype.is_float())
    if pg_type == "boolean":
        return dtype == pl.Boolean
    if pg_type == "date":
        return dtype == pl.Date
    if pg_type in ("timestamp with time zone", "timestamp without time zone"):
        aware = pg_type == "timestamp with time zone"
        return isinstance(dtype, pl.Datetime) and (dtype.time_zone is not None) == aware
    return pg_type in _TEXT and dtype == pl.String


def _binary_chunks(frame: pl.DataFrame, pg_types: Sequence[str], rows: int) -> Iterator[bytes]:
    """The frame's rows in the binary COPY format (no header or trailer), `rows` at a time, built
    with NumPy, never a row at a time: every field gets a slot as wide as the chunk's widest value
    of its column in a padded matrix (its 32-bit length, then its bytes), and the bytes past each
    field's length (a NULL's value, a shorter text's tail) are masked out when the matrix is read
    row after row. Polars' work (NULLs, values, texts' bytes) is done once for the frame."""
    columns = [
        _BinaryColumn(series, pg_type)
        for series, pg_type in zip(frame.get_columns(), pg_types, strict=True)
    ]
    count = len(pg_types).to_bytes(2, "big")
    for start in range(0, frame.height, rows):
        end = min(start + rows, frame.height)
        n = end - start
        slots = [np.frombuffer(count * n, dtype=np.uint8).reshape(n, 2)]
        valid: list[tuple[int, np.ndarray]] = []  # (slot, bytes of the slot each row keeps)
        for column in columns:
            matrix, size = column.slot(start, end)
            if column.nulls is not None:
                size = np.where(column.nulls[start:end], -1, size)
            matrix[:, :4] = _be(size, ">i4")
            if column.nulls is not None or column.text:
                valid.append((len(slots), 4 + np.maximum(size, 0)))
            slots.append(matrix)
        padded = np.concatenate(slots, axis=1)
        if not valid:
            yield padded.tobytes()  # every row the same width: the matrix is the rows
            continue
        keep = np.ones(padded.shape, dtype=bool)
        offsets = np.cumsum([0] + [s.shape[1] for s in slots])
        for slot, kept in valid:
            width = slots[slot].shape[1]
            keep[:, offsets[slot] : offsets[slot] + width] = np.arange(width) < kept[:, None]
        yield padded[keep].tobytes()


class _BinaryColumn:
    """One column's values ready for `_binary_chunks`: fixed-width numbers in network order, or
    texts' bytes end to end with each one's start and length."""

    def __init__(self, series: pl.Series, pg_type: str) -> None:
        self.nulls = series.is_null().to_numpy() if series.null_count() else None
        self.text = pg_type in _TEXT
        self.jsonb = pg_type == "jsonb"
        if self.text:
            texts = series.fill_null("")
            self.size = texts.str.len_bytes().to_numpy().astype(np.int64)
            self.starts = np.zeros(len(self.size), dtype=np.int64)
            np.cumsum(self.size[:-1], out=self.starts[1:])
            widest = int(self.size.max()) if len(self.size) else 0
            data = np.frombuffer(texts.str.join("").item().encode(), dtype=np.uint8)
            self.data = np.concatenate([data, np.zeros(widest, dtype=np.uint8)])
        else:
            value = _fixed_values(series, pg_type)
            self.value = _be(value, ">" + value.dtype.str[1:])

    def slot(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows `start:end` of the column's slot (room left for the lengths) and each field's
        length in bytes."""
        n = end - start
        if not self.text:
            width = self.value.shape[1]
            matrix = np.empty((n, 4 + width), dtype=np.uint8)
            matrix[:, 4:] = self.value[start:end]
            return matrix, np.full(n, width, dtype=np.int64)
        size = self.size[start:end]
        width = int(size.max())
        matrix = np.zeros((n, 4 + self.jsonb + width), dtype=np.uint8)
        if self.jsonb:
            matrix[:, 4] = 1
        if width:
            # Each value's window of `width` bytes from its start, copied a row at a time (past
            # a value's end: the next values' bytes, masked out by the caller).
            windows = np.lib.stride_tricks.sliding_window_view(self.data, width)
            matrix[:, 4 + self.jsonb :] = windows[self.starts[start:end]]
        return matrix, size + self.jsonb


def _be(values: np.ndarray, code: str) -> np.ndarray:
    """Each value's bytes in the order `code` says, as an (n, width) matrix."""
    typed = values.astype(code)
    return typed.view(np.uint8).reshape(len(typed), typed.dtype.itemsize)


def _fixed_values(series: pl.Series, pg_type: str) -> np.ndarray:
    """A fixed-width column's values as the NumPy numbers PostgreSQL's binary format holds (NULLs
    as zeros, which the caller masks out)."""
    if pg_type in _FIXED:
        code = _FIXED[pg_type]
        values = series.fill_null(0).to_numpy()
        if code[1] == "i" and len(values):
            bounds = np.iinfo(code)
            if values.min() < bounds.min or values.max() > bounds.max:
                raise ValueError(f"{series.name}: a value out of range for {pg_type}")
        return values.astype(code[1:])
    if pg_type == "boolean":
        return series.fill_null(False).to_numpy().astype(np.uint8)
    if pg_type == "date":
        days = series.cast(pl.Int32).fill_null(0).to_numpy()
        return (days - _PG_EPOCH_DAYS).astype(np.int32)
    micros = series.dt.cast_time_unit("us").cast(pl.Int64).fill_null(0).to_numpy()
    return (micros - _PG_EPOCH_US).astype(np.int64)


def _copy_in_csv(session: Session, table_name: str, frame: pl.DataFrame) -> None:
    """COPY the frame in as CSV written by Polars (bytea as hex, instants in UTC ISO 8601)."""
    encoded = frame.with_columns(
        [
            (pl.lit("\\x") + pl.col(name).bin.encode("hex")).alias(name)
            for name, dtype in frame.schema.items()
            if dtype == pl.Binary
        ]
        + [
            _instant_text(frame, name)
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
        ]
    )
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    statement = f'COPY "{table_name}" ({columns}) FROM STDIN WITH (FORMAT csv)'
    with _raw_cursor(session) as cursor, cursor.copy(statement) as copy:
        for start in range(0, encoded.height, 200_000):
            chunk = encoded.slice(start, 200_000)
            copy.write(
                chunk.write_csv(
                    include_header=False, null_value="", quote_style="non_numeric"
                ).encode()
            )


def _inlined(words: Sequence[str]) -> list[Any]:
    """Constant words written into the statement (an executemany takes no expanding parameter)."""
    if not all(w.isidentifier() for w in words):
        raise ValueError(f"only plain words can be inlined, not {words!r}")
    return [literal_column(f"'{w}'") for w in words]


def upsert_frame(
    session: Session,
    table: Table,
    frame: pl.DataFrame,
    key: Sequence[str],
    *,
    only_if: tuple[str, Sequence[str]] | None = None,
) -> int:
    """Insert rows, or update the non-key columns of rows whose `key` already exists (only those
    whose column `only_if[0]` holds one of the values `only_if[1]`, when given)."""
    if frame.height == 0:
        return 0
    update_cols = [c for c in frame.columns if c not in key]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        temp = f"tmp_{table.name}"
        session.execute(
            text(
                f'CREATE TEMP TABLE IF NOT EXISTS "{temp}" '
                f'(LIKE "{table.name}" INCLUDING DEFAULTS INCLUDING IDENTITY) ON COMMIT DROP'
            )
        )
        session.execute(text(f'TRUNCATE "{temp}"'))
        _copy_in(session, temp, _json_lists(frame))
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in update_cols)
        keys = ", ".join(f'"{k}"' for k in key)
        where, params = "", {}
        if only_if is not None:
            where = f' WHERE "{table.name}"."{only_if[0]}" IN :only_if'
            params = {"only_if": tuple(only_if[1])}
        statement = text(
            f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{temp}" '  # noqa: S608
            f"ON CONFLICT ({keys}) DO UPDATE SET {sets}{where}"
        )
        if only_if is not None:
            statement = statement.bindparams(bindparam("only_if", expanding=True))
        session.execute(statement, params)
    else:
        stmt = sqlite.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key),
            set_={c: stmt.excluded[c] for c in update_cols},
            where=table.c[only_if[0]].in_(_inlined(only_if[1])) if only_if is not None else None,
        )
        session.execute(stmt, frame.to_dicts())
    return frame.height


def utc_now_column(now: dt.datetime, height: int) -> pl.Series:
    """`now` repeated `height` times, built by Polars (a Python list of a million datetimes took
    3 s to convert)."""
    return pl.Series([now], dtype=pl.Datetime("us", "UTC")).new_from_index(0, height)

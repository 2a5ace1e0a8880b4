"""What the daily run's speed rests on, holding its results: `kit.db.ids_in` (a long id list
rendered inline, `IdsIn`, selects exactly the rows a bound IN list selects, on SQLite and on
PostgreSQL, through `frames.read_frame` and through a plain `session.execute`), the constant
instant column, COPY's text of a column of one instant, and `frames.kept_ids`."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import polars as pl
import pytest
from sqlalchemy import CTE, Integer, literal, select, text, update
from sqlalchemy.orm import Session

from recoup.kit import db, frames
from recoup.kit.clock import SettableClock
from recoup.models import Account, Customer
from tests.factories import create_account

N = 3000


def numbers() -> CTE:
    """1..N as a portable recursive CTE (no table needed)."""
    seed = select(literal(1, Integer).label("x")).cte("n", recursive=True)
    step = select((seed.c.x + 1).label("x")).where(seed.c.x < N)
    return seed.union_all(step)


class TestIdsIn:
    def test_a_long_list_selects_the_rows_a_bound_in_list_selects(self, session: Session) -> None:
        """Catches an inline literal that loses, adds or mangles ids (a truncated join, a wrong
        separator or cast): the rows read must be the bound IN list's."""
        n = numbers()
        ids = [1, 2, 17, *range(5, N + 50, 3), 2999, 3000, 4000]  # ids past N select nothing
        inline = db.ids_in(n.c.x, ids)
        assert isinstance(inline, db.IdsIn)
        schema = {"x": pl.Int64}
        got = frames.read_frame(session, select(n.c.x).where(inline), schema)
        bound = {int(r[0]) for r in session.execute(select(n.c.x).where(n.c.x.in_(ids)))}
        assert sorted(got["x"].to_list()) == sorted(bound)
        assert len(bound) > db.INLINE_IDS_FROM
        executed = {int(r[0]) for r in session.execute(select(n.c.x).where(inline))}
        assert executed == bound

    def test_a_few_ids_keep_the_bound_list_and_none_selects_nothing(self, session: Session) -> None:
        n = numbers()
        few = db.ids_in(n.c.x, [3, 1])
        assert not isinstance(few, db.IdsIn)
        rows = session.execute(select(n.c.x).where(few)).scalars().all()
        assert sorted(rows) == [1, 3]
        empty = db.IdsIn(n.c.x, [])
        assert session.execute(select(n.c.x).where(empty)).all() == []

    def test_a_long_list_is_a_search_of_the_columns_index_on_sqlite(self, session: Session) -> None:
        """Catches the inline list compared with 1 (`... IN (...) = 1`: SQLAlchemy's rendering of
        a boolean expression where the dialect has no boolean type, which `IdsIn.self_group`
        keeps out): SQLite cannot use the column's index for that term and scans the table."""
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's query planner")
        stmt = select(Account.id).where(db.ids_in(Account.customer_id, range(1, 1500)))
        sql = stmt.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        plan = " | ".join(str(r[3]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert plan.startswith("SEARCH accounts"), plan
        assert "ix_accounts_customer_id" in plan


class TestSqliteRows:
    """`frames.read_frame` on SQLite builds each column from the driver's rows (not Polars'
    row constructor): the schema's types, the values the row constructor gave."""

    ROWS = (
        "SELECT 1 AS flag, 7 AS n, 2 AS x, '2026-01-02' AS day, "
        "'2026-01-02 03:04:05.000006' AS at, 'a' AS word "
        "UNION ALL SELECT 0, NULL, 2.5, NULL, NULL, NULL"
    )
    SCHEMA: ClassVar[frames.Schema] = {
        "flag": pl.Boolean,
        "n": pl.Int32,
        "x": pl.Float64,
        "day": pl.Date,
        "at": pl.Datetime("us", "UTC"),
        "word": pl.String,
    }

    def test_each_column_has_the_schemas_type_and_the_values(self, session: Session) -> None:
        """Catches a column built with another type or value: SQLite's 0 and 1 as booleans, a
        whole number in a float column, text dates and instants parsed, NULLs kept."""
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's rows")
        got = frames.read_frame(session, text(self.ROWS), self.SCHEMA)
        expected = pl.DataFrame(
            {
                "flag": [True, False],
                "n": [7, None],
                "x": [2.0, 2.5],
                "day": [dt.date(2026, 1, 2), None],
                "at": [dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC), None],
                "word": ["a", None],
            },
            schema=self.SCHEMA,
        )
        assert got.schema == expected.schema
        assert got.equals(expected, null_equal=True)
        empty = frames.read_frame(
            session, text(f"SELECT * FROM ({self.ROWS}) WHERE 0"), self.SCHEMA
        )
        assert empty.schema == expected.schema
        assert empty.height == 0
        with pytest.raises(ValueError, match="6 columns read for a schema of 2"):
            frames.read_frame(session, text(self.ROWS), {"flag": pl.Boolean, "n": pl.Int32})


def test_utc_now_column_repeats_the_instant() -> None:
    """Catches a constant column built with another type or length than the row list gave."""
    now = dt.datetime(2026, 6, 1, 1, 2, 3, 456789, tzinfo=dt.UTC)
    built = frames.utc_now_column(now, 5)
    assert built.equals(pl.Series([now] * 5, dtype=pl.Datetime("us", "UTC")))
    assert frames.utc_now_column(now, 0).len() == 0


def test_a_column_of_one_instant_is_written_as_each_row_would_be() -> None:
    """Catches the once-formatted constant differing from the per-row text, or taken for a
    column that is not constant (nulls, or a second instant)."""
    now = dt.datetime(2026, 6, 1, 1, 2, 3, 4567, tzinfo=dt.UTC)
    later = now + dt.timedelta(seconds=1)
    frame = pl.DataFrame(
        {
            "same": frames.utc_now_column(now, 4),
            "two": pl.Series([now, later, now, now], dtype=pl.Datetime("us", "UTC")),
            "gap": pl.Series([now, None, now, now], dtype=pl.Datetime("us", "UTC")),
        }
    )
    per_row = frame.select(
        pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00")
        for c in frame.columns
    )
    once = frame.with_columns(frames._instant_text(frame, c) for c in frame.columns)
    assert once.equals(per_row)
    assert once["same"][0] == "2026-06-01 01:02:03.004567+00"


class TestCopyOut:
    """`read_frame` on PostgreSQL drains COPY's rows from libpq itself (`frames._copy_out`)."""

    def test_many_rows_arrive_whole_and_in_order(self, session: Session) -> None:
        """Catches a drain loop that stops when libpq has nothing buffered instead of waiting
        for the server (it loses every row after the first socket read: 200,000 rows of text,
        dates, instants and nulls are megabytes, many reads), or that mangles a row's bytes."""
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's; SQLite reads through its cursor")
        stmt = text(
            "SELECT i, 'name ' || i || ', \"q\"', DATE '2026-01-01' + mod(i, 400), "
            "TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL '1 second', "
            "CASE WHEN mod(i, 7) = 0 THEN NULL ELSE i * 3 END FROM generate_series(1, 200000) i "
            "ORDER BY i"
        )
        schema = {
            "i": pl.Int64,
            "name": pl.String,
            "day": pl.Date,
            "at": pl.Datetime("us", "UTC"),
            "maybe": pl.Int64,
        }
        got = frames.read_frame(session, stmt, schema)
        expected = pl.DataFrame(
            [tuple(r) for r in session.execute(stmt).all()], schema=schema, orient="row"
        )
        assert got.height == 200_000
        assert got.equals(expected)

    def test_an_error_is_psycopgs_and_the_session_goes_on(self, session: Session) -> None:
        """Catches a failed COPY whose error is lost (an empty frame instead) or whose results
        are left unread (the next statement on the connection fails)."""
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        import psycopg

        savepoint = session.begin_nested()
        with pytest.raises(psycopg.errors.DivisionByZero):
            frames._copy_out(
                session, "COPY (SELECT 1 / (i - 3) FROM generate_series(1, 5) i) TO STDOUT"
            )
        savepoint.rollback()
        assert session.execute(text("SELECT 41 + 1")).scalar_one() == 42
        buffer = frames._copy_out(session, "COPY (SELECT 7) TO STDOUT")
        assert buffer.getvalue() == b"7\n"


class TestReadFrames:
    """`frames.read_frames` sends each statement as soon as the previous one's rows are in (on
    PostgreSQL) and returns what `read_frame` of each returns."""

    def test_each_frame_is_what_read_frame_gives(self, session: Session) -> None:
        """Catches rows handed to the wrong statement's frame or cut short when the next
        statement is sent before the previous one's results are all read (200,000 rows, then a
        second statement, then an empty result)."""
        big = text(
            "SELECT i, 'row ' || i, TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL '1 second'"
            " FROM generate_series(1, 200000) i ORDER BY i"
            if session.get_bind().dialect.name == "postgresql"
            else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
            "SELECT i, 'row ' || i, '2026-01-01 00:00:00.000000' FROM n ORDER BY i"
        )
        n = numbers()
        small = select(n.c.x, (n.c.x * 2).label("y")).order_by(n.c.x)
        empty = select(n.c.x).where(n.c.x < 0)
        reads = [
            (big, {"i": pl.Int64, "name": pl.String, "at": pl.Datetime("us", "UTC")}),
            (small, {"x": pl.Int64, "y": pl.Int64}),
            (empty, {"x": pl.Int64}),
        ]
        got = frames.read_frames(session, reads)
        expected = [frames.read_frame(session, stmt, schema) for stmt, schema in reads]
        assert [f.height for f in got] == [f.height for f in expected]
        assert got[0].height in (200_000, 2000)
        assert (got[1].height, got[2].height) == (N, 0)
        assert all(g.equals(e) for g, e in zip(got, expected, strict=True))

    def test_an_error_in_a_later_statement_is_psycopgs_and_the_session_goes_on(
        self, session: Session
    ) -> None:
        """Catches a failing second statement whose error is lost, or whose results are left
        unread so that the connection's next statement fails."""
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the pipelined COPY is PostgreSQL's")
        import psycopg

        savepoint = session.begin_nested()
        with pytest.raises(psycopg.errors.DivisionByZero):
            frames.read_frames(
                session,
                [
                    (text("SELECT 1"), {"one": pl.Int64}),
                    (text("SELECT 1 / (i - 3) FROM generate_series(1, 5) i"), {"x": pl.Int64}),
                ],
            )
        savepoint.rollback()
        assert session.execute(text("SELECT 41 + 1")).scalar_one() == 42


COPY_TYPES = {
    "i2": "smallint",
    "i4": "integer",
    "i8": "bigint",
    "f8": "double precision",
    "flag": "boolean",
    "day": "date",
    "at": "timestamptz",
    "naive": "timestamp",
    "name": "text",
    "label": "varchar(40)",
    "doc": "jsonb",
    "raw": "json",
}


def copy_frame(rows: int) -> pl.DataFrame:
    """Every type the binary COPY encodes, with NULLs in each column, text with quotes, commas,
    newlines, backslashes, empty strings and multibyte characters, instants before 2000."""
    texts = ['a "q", b', "", "é中\\n", "line\nbreak", "x" * 30, "\\x00ff"]
    i = pl.col("i")
    frame = pl.DataFrame({"i": pl.int_range(0, rows, eager=True)}).select(
        i2=(i % 30_000 - 15_000).cast(pl.Int16),
        i4=(i * 7 - 1_000_000).cast(pl.Int32),
        i8=i * 1_000_003 - 2**40,
        f8=i.cast(pl.Float64) / 7 - 3.5,
        flag=(i % 3) == 0,
        day=pl.lit(dt.date(1990, 1, 1)) + pl.duration(days=i % 15_000),
        at=pl.lit(dt.datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC))
        + pl.duration(seconds=i * 37, microseconds=i),
        naive=pl.lit(dt.datetime(2026, 6, 1)) - pl.duration(minutes=i),
        name=pl.lit(pl.Series(texts)).get(i % len(texts)),
        label=pl.lit("L") + (i % 97).cast(pl.String),
        doc=pl.format('{{"k": {}, "s": "é"}}', i),
        raw=pl.format("[{}, null]", i),
    )
    frame = frame.with_columns(
        pl.col("day").cast(pl.Date),
        pl.col("at").dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
        pl.col("naive").dt.cast_time_unit("us"),
    )
    nth = pl.int_range(0, pl.len()) % 9 == 4  # a NULL in every column every ninth row
    return frame.with_columns(
        pl.when(nth).then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns
    )


class TestBinaryCopyIn:
    """`frames._copy_in` writes PostgreSQL's binary COPY format (encoded with NumPy) where every
    column's type has an encoder, else CSV; both give the same rows."""

    def _tables(self, session: Session) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in COPY_TYPES.items())
        for table in ("copy_binary", "copy_csv"):
            session.execute(text(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP"))

    def _rows(self, session: Session, table: str) -> list[tuple[object, ...]]:
        columns = ", ".join(f"{c}::text" for c in COPY_TYPES)
        return [tuple(r) for r in session.execute(text(f"SELECT {columns} FROM {table}")).all()]

    def test_binary_rows_equal_csv_rows(
        self, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Catches any field the binary encoder gets wrong (a byte order, the 2000 epoch, a
        NULL's length, jsonb's version byte, a text's offset after a NULL or in a later chunk of
        25,000 rows): 250,001 rows written both ways must read back equal, in order. It failed
        with the dates' epoch off by a day, with the jsonb version byte left out, and with the
        texts' starts shifted by one byte after the first chunk."""
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's; SQLite inserts through its cursor")
        self._tables(session)
        frame = copy_frame(250_001)
        frames._copy_in_csv(session, "copy_csv", frame)
        csv_calls: list[str] = []
        monkeypatch.setattr(frames, "_copy_in_csv", lambda _s, name, _f: csv_calls.append(name))
        frames._copy_in(session, "copy_binary", frame)
        assert csv_calls == []  # every type here is encoded in binary
        got, expected = self._rows(session, "copy_binary"), self._rows(session, "copy_csv")
        assert len(got) == 250_001
        assert got == expected
        assert got[4] == (None,) * len(COPY_TYPES)

    def test_a_type_without_an_encoder_goes_as_csv(self, session: Session) -> None:
        """Catches a frame sent in binary with a column the encoder does not know (numeric here;
        a wrong binary field is an error or, worse, a wrong value)."""
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        session.execute(text("CREATE TEMP TABLE copy_numeric (n numeric, i bigint) ON COMMIT DROP"))
        frame = pl.DataFrame({"n": ["1.25", None], "i": [1, None]})
        frames._copy_in(session, "copy_numeric", frame)
        rows = session.execute(text("SELECT n::text, i FROM copy_numeric ORDER BY i")).all()
        assert [tuple(r) for r in rows] == [("1.25", 1), (None, None)]

    def test_a_value_out_of_its_columns_range_is_refused(self, session: Session) -> None:
        """Catches an Int64 value written into an integer column with its high bytes cut off
        (CSV refuses it; binary must too, not store another number)."""
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        session.execute(text("CREATE TEMP TABLE copy_small (i integer) ON COMMIT DROP"))
        with pytest.raises(ValueError, match="out of range"):
            frames._copy_in(session, "copy_small", pl.DataFrame({"i": [1, 2**31]}))


class TestKeptIds:
    """`frames.kept_ids`: a read's keys computed once (the daily score's accounts in a
    population), then used by every frame's read."""

    def test_the_ids_are_computed_once_distinct_and_a_second_call_replaces_them(
        self, session: Session, clock: SettableClock
    ) -> None:
        # Kept, not inlined: a row changed after the call leaves the kept ids as they were.
        # `kept_ids` returning the statement itself (each read computing it again, the cost this
        # saves) fails the second assertion.
        first = create_account(session, clock)
        customer = session.get(Customer, first.customer_id)
        create_account(session, clock, customer=customer)  # the same customer again
        other = create_account(session, clock)
        kept = frames.kept_ids(
            session, select(Account.customer_id).where(Account.currency == "CNY")
        )
        want = {first.customer_id, other.customer_id}
        assert sorted(session.scalars(kept)) == sorted(want)  # distinct: the customer once
        session.execute(update(Account).where(Account.id == other.id).values(currency="USD"))
        assert set(session.scalars(kept)) == want  # computed when kept, not at each read
        again = frames.kept_ids(session, select(Account.id).where(Account.id == other.id))
        assert list(session.scalars(again)) == [other.id]

"""What the daily run's speed rests on, holding its results: `kit.db.ids_in` (a long id list
rendered inline, `IdsIn`, selects exactly the rows a bound IN list selects, on SQLite and on
PostgreSQL, through `frames.read_frame` and through a plain `session.execute`), the constant
instant column, and COPY's text of a column of one instant."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import CTE, Integer, literal, select, text
from sqlalchemy.orm import Session

from recoup.kit import db, frames

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

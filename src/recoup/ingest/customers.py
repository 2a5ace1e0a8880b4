"""Customer rows: each validated by the API's own schema (`CustomerCreate`), so a file stores what
the API stores for the same person; the ledger writes them, contacts included."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

import polars as pl
from sqlalchemy.orm import Session

from recoup.ingest.checks import Checked, Checker
from recoup.ingest.columns import REQUIRED, Kind
from recoup.ingest.customer_rows import (  # noqa: F401 (re-exported for tests)
    RowsChecked,
    SealedRows,
    _customer_payload,
    _Person,
    check_and_seal,
    check_chunk,
    install_sealing,
)
from recoup.kit import crypto
from recoup.kit.clock import Clock
from recoup.ledger import service as ledger_service
from recoup.privacy import service as privacy_service


def validate(
    session: Session, frame: pl.DataFrame, *, now: dt.datetime, workers: int | None = None
) -> Checked:
    check = Checker(frame)
    check.required(REQUIRED[Kind.customers])
    check.unique(["external_ref"], "external_ref")
    known = ledger_service.customer_ids_by_ref(
        session, frame["external_ref"].drop_nulls().to_list()
    )
    is_known = pl.col("external_ref").is_in(known["external_ref"].to_list())
    existing = frame.filter(is_known).height
    fresh = frame.filter(~is_known)
    checked = check_and_seal_rows(fresh, now=now, workers=workers)
    check.extend(pl.DataFrame(checked.problems, schema=["_line", "field", "problem"], orient="row"))
    consents = dict(checked.consenting)
    valid = checked.rows.with_columns(
        pl.Series("person", [consents.get(line) for line in checked.rows["_line"]], dtype=pl.Object)
    )
    return valid, check.errors(), existing


# A very large file is checked and sealed in chunks by a pool of processes, one per core. The pool's
# start (a server that imports `customer_rows`, then one worker per core) costs a second or more of
# CPU and a worker imports privacy's rules (seconds) for a file with consents. The bar was set when
# a row's check cost about 75 µs; a plain row is now checked in about 11 µs and checked and sealed
# in about 25 (docs/benchmarks.md, "Third round"), which the pool takes off this process. The bar
# has not been measured again. Chunks of 5,000 rows: the set-wise phone classification costs a few
# milliseconds a call.
PARALLEL_FROM = 100_000
CHUNK_ROWS = 5_000


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_rows(
    rows: pl.DataFrame,
    *,
    now: dt.datetime,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    chunk_rows: int = CHUNK_ROWS,
) -> RowsChecked:
    """Every row checked as the API checks a customer, in file order; with more than one worker
    and at least `parallel_from` rows, chunks are checked in parallel processes by the same
    function, so the outcome is the same row for row."""
    parts = _in_chunks(
        check_chunk,
        rows,
        now=now,
        workers=workers,
        parallel_from=parallel_from,
        chunk_rows=chunk_rows,
    )
    out = RowsChecked([], [], [])
    for part in parts:
        out.problems.extend(part.problems)
        out.lines.extend(part.lines)
        out.people.extend(part.people)
    return out


def check_and_seal_rows(
    rows: pl.DataFrame,
    *,
    now: dt.datetime,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    chunk_rows: int = CHUNK_ROWS,
) -> SealedRows:
    """`check_rows`, and the valid rows sealed where they were checked (`check_and_seal`): in
    the pool, each worker seals its chunks under the keyring's active key and index key, so the
    seals and blind indexes are computed on every core and this process only writes them."""
    parts = _in_chunks(
        check_and_seal,
        rows,
        now=now,
        workers=workers,
        parallel_from=parallel_from,
        chunk_rows=chunk_rows,
        sealing=True,
    )
    if not parts:
        return check_and_seal(rows.columns, [], now)
    return SealedRows(
        [p for part in parts for p in part.problems],
        pl.concat([part.rows for part in parts], rechunk=True),
        [c for part in parts for c in part.consenting],
    )


_Part = TypeVar("_Part")


def _in_chunks(
    task: Callable[[list[str], list[tuple[Any, ...]], dt.datetime, list[bool]], _Part],
    rows: pl.DataFrame,
    *,
    now: dt.datetime,
    workers: int | None,
    parallel_from: int,
    chunk_rows: int,
    sealing: bool = False,
) -> list[_Part]:
    """`task` over the rows in chunks of `chunk_rows`, in file order: here, or in a pool of
    `workers` processes for `parallel_from` rows or more (with the keyring's sealing parts when
    the task seals)."""
    columns = rows.columns
    values = rows.rows()
    plain = plain_rows(rows).to_list()
    starts = range(0, len(values), chunk_rows)
    chunks = [(values[i : i + chunk_rows], plain[i : i + chunk_rows]) for i in starts]
    workers = min(workers or default_workers(), len(chunks))
    if workers <= 1 or len(values) < parallel_from:
        return [task(columns, chunk, now, marks) for chunk, marks in chunks]
    setup: dict[str, Any] = {}
    if sealing:
        setup = {
            "initializer": install_sealing,
            "initargs": (crypto.installed_keyring().sealing_parts(),),
        }
    with ProcessPoolExecutor(workers, mp_context=_pool_context(), **setup) as pool:
        with _main_left_out():
            futures = [pool.submit(task, columns, chunk, now, marks) for chunk, marks in chunks]
        return [future.result() for future in futures]


# White space (Python's and Unicode's) and control characters: a plain text neither starts nor
# ends with one, so the model's stripping leaves it as it is.
_EDGE = r"^[\s\x00-\x1f\x7f-\x9f]|[\s\x00-\x1f\x7f-\x9f]$"
_LANGUAGES = ("zh-CN", "zh-TW", "en")


def plain_rows(rows: pl.DataFrame) -> pl.Series:
    """Which rows are plain, column by column (`customer_rows._plain_person` builds those without
    the model): every value a string without NUL; an ASCII reference of 1 to 128 characters; a
    name and the address's texts without white space or control characters at their ends and
    within the model's lengths; a valid jurisdiction; at most one phone, in E.164 without a
    type; a two-letter country; a known language or none; a year, a date and a sex in their
    plain spellings; no consents. Anything else is checked by the model."""
    present = set(rows.columns)
    if rows.height == 0 or any(rows[c].dtype != pl.String for c in present - {"_line"}):
        return pl.Series([False] * rows.height, dtype=pl.Boolean)

    def col(name: str) -> pl.Expr:
        return pl.col(name) if name in present else pl.lit(None, dtype=pl.String)

    def text(name: str, most: int, *, required: bool = False) -> pl.Expr:
        fits = ~col(name).str.contains(_EDGE) & (col(name).str.len_chars() <= most)
        if required:
            return fits & (col(name).str.len_chars() >= 1)
        return col(name).is_null() | fits

    def spelled(name: str, pattern: str) -> pl.Expr:
        return col(name).is_null() | col(name).str.contains(pattern)

    conditions = [
        ~col(c).str.contains("\x00", literal=True).fill_null(False) for c in present - {"_line"}
    ] + [
        col("external_ref").str.contains(r"^[A-Za-z0-9_.:/@-]{1,128}$"),
        text("name", 256, required=True),
        col("jurisdiction").str.contains(r"^[A-Z]{2}(-[A-Z0-9]{1,3}){0,2}$"),
        text("national_id", 64),
        spelled("phones", r"^\+[1-9][0-9]{2,16}$"),
        spelled("country", r"^[A-Za-z]{2}$"),
        text("region", 16),
        text("city", 128),
        text("postal_code", 32),
        text("address_line", 512),
        col("preferred_language").is_null() | col("preferred_language").is_in(_LANGUAGES),
        spelled("birth_year", r"^[1-9][0-9]{3}$"),
        spelled("birth_date", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
        spelled("sex", r"^[FMXfmx]$"),
        col("consents").is_null(),
    ]
    return rows.select(pl.all_horizontal(conditions).fill_null(False).alias("plain"))["plain"]


@contextmanager
def _main_left_out() -> Iterator[None]:
    """While the workers start, `__main__` is a bare module: a new process re-runs the parent's
    main script (for `recoup`, an import of the whole application: seconds per worker), and the
    workers need nothing from it. The server the workers fork from has imported their module
    already (`_pool_context`)."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _pool_context() -> BaseContext:
    """Workers forked from a server that imported this module once (not from this process,
    whose Polars and database threads a fork would copy mid-flight)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([check_chunk.__module__])
    return context


def write(session: Session, valid: pl.DataFrame, *, clock: Clock) -> int:
    """The valid rows as `check_and_seal_rows` gave them (sealed), and their consents."""
    if valid.height == 0:
        return 0
    refs = valid.select("_line", customer_ref="external_ref")

    def contacts(name: str) -> pl.DataFrame:
        listed = valid.select("_line", name).explode(name).drop_nulls(name)
        return listed.join(refs, on="_line", maintain_order="left").select(
            "customer_ref", pl.col(name).struct.unnest()
        )

    count = ledger_service.import_customers(
        session,
        valid.drop("_line", "person", "phones", "emails", "addresses"),
        phones=contacts("phones"),
        emails=contacts("emails"),
        addresses=contacts("addresses"),
        clock=clock,
        sealed=True,
    )
    _record_consents(session, [p for p in valid["person"].to_list() if p is not None], clock=clock)
    return count


def _record_consents(session: Session, people: list[_Person], *, clock: Clock) -> None:
    """The imported customers' consents, through privacy (which owns them), source `import`."""
    holders = [p for p in people if p.consents]
    if not holders:
        return
    ids = ledger_service.customer_ids_by_ref(session, [p.external_ref for p in holders])
    by_ref = dict(zip(ids["external_ref"].to_list(), ids["id"].to_list(), strict=True))
    for person in holders:
        for c in person.consents:
            privacy_service.record_consent(
                session,
                by_ref[person.external_ref],
                purpose=c.kind,
                channel=c.channel,
                scope=dict(c.scope),
                evidence=person.consent_evidence,
                expires_at=c.expires_at,
                source="import",
                actor="import",
                clock=clock,
            )

"""Customer rows: each validated by the API's own schema (`CustomerCreate`), so a file stores what
the API stores for the same person; the ledger writes them, contacts included."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.context import BaseContext

import polars as pl
from sqlalchemy.orm import Session

from recoup.ingest.checks import Checked, Checker
from recoup.ingest.columns import REQUIRED, Kind
from recoup.ingest.customer_rows import (  # noqa: F401 (re-exported for tests)
    RowsChecked,
    _customer_payload,
    _Person,
    check_chunk,
)
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
    checked = check_rows(fresh, now=now, workers=workers)
    check.extend(pl.DataFrame(checked.problems, schema=["_line", "field", "problem"], orient="row"))
    valid = pl.DataFrame(
        {"_line": checked.lines, "person": checked.people},
        schema={"_line": pl.Int64, "person": pl.Object},
    )
    return valid, check.errors(), existing


# A customer row's check costs about 75 µs of CPU (the Pydantic model, the phone), so a very large
# file is checked in chunks by a pool of processes, one per core. The pool's start (a server that
# imports `customer_rows`, then one worker per core) costs a second or more of CPU and a worker
# imports privacy's rules (seconds) for a file with consents: on two cores the pool can only pay
# beyond some 50,000 rows, and on a busy machine not at all (docs/benchmarks.md), hence the bar.
PARALLEL_FROM = 100_000
CHUNK_ROWS = 2_000


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
    columns = rows.columns
    values = rows.rows()
    plain = plain_rows(rows).to_list()
    starts = range(0, len(values), chunk_rows)
    chunks = [(values[i : i + chunk_rows], plain[i : i + chunk_rows]) for i in starts]
    workers = min(workers or default_workers(), len(chunks))
    if workers <= 1 or len(values) < parallel_from:
        parts = [check_chunk(columns, chunk, now, marks) for chunk, marks in chunks]
    else:
        with ProcessPoolExecutor(workers, mp_context=_pool_context()) as pool:
            with _main_left_out():
                futures = [
                    pool.submit(check_chunk, columns, chunk, now, marks) for chunk, marks in chunks
                ]
            parts = [future.result() for future in futures]
    out = RowsChecked([], [], [])
    for part in parts:
        out.problems.extend(part.problems)
        out.lines.extend(part.lines)
        out.people.extend(part.people)
    return out


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
    if valid.height == 0:
        return 0
    people: list[_Person] = valid["person"].to_list()
    count = _write_people(session, people, clock=clock)
    _record_consents(session, people, clock=clock)
    return count


def _write_people(session: Session, people: list[_Person], *, clock: Clock) -> int:
    customers = pl.DataFrame(
        {
            "external_ref": [p.external_ref for p in people],
            "name": [p.name for p in people],
            "national_id": [p.national_id for p in people],
            "preferred_language": [p.preferred_language for p in people],
            "jurisdiction": [p.jurisdiction for p in people],
            "timezones": _lists_of_text([p.timezones for p in people]),
            "birth_year": [p.birth_year for p in people],
            "sex": [p.sex for p in people],
        },
        schema={
            "external_ref": pl.String,
            "name": pl.String,
            "national_id": pl.String,
            "preferred_language": pl.String,
            "jurisdiction": pl.String,
            "timezones": pl.List(pl.String),
            "birth_year": pl.Int32,
            "sex": pl.String,
        },
    )
    phones: list[tuple[str, int, str, str, str]] = []
    emails: list[tuple[str, int, str, str]] = []
    addresses: list[tuple[str, int, str, str | None, str | None, str | None, str | None]] = []
    for p in people:
        ref = p.external_ref
        phones += [(ref, i, *phone) for i, phone in enumerate(p.phones)]
        emails += [(ref, i, *email) for i, email in enumerate(p.emails)]
        addresses += [(ref, i, *address) for i, address in enumerate(p.addresses)]
    return ledger_service.import_customers(
        session,
        customers,
        phones=pl.DataFrame(
            phones,
            schema={
                "customer_ref": pl.String,
                "position": pl.Int32,
                "number": pl.String,
                "type": pl.String,
                "source": pl.String,
            },
            orient="row",
        ),
        emails=pl.DataFrame(
            emails,
            schema={
                "customer_ref": pl.String,
                "position": pl.Int32,
                "address": pl.String,
                "source": pl.String,
            },
            orient="row",
        ),
        addresses=pl.DataFrame(
            addresses,
            schema={
                "customer_ref": pl.String,
                "position": pl.Int32,
                "country": pl.String,
                "region": pl.String,
                "city": pl.String,
                "postal_code": pl.String,
                "line": pl.String,
            },
            orient="row",
        ),
        clock=clock,
    )


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


def _lists_of_text(values: list[tuple[str, ...]]) -> pl.Series:
    """A list column from rows that repeat a few lists (customers' time zones): each distinct list
    is converted once and gathered, not 20,000 little lists one by one."""
    distinct: dict[tuple[str, ...], int] = {}
    codes = [distinct.setdefault(v, len(distinct)) for v in values]
    return pl.Series([list(v) for v in distinct], dtype=pl.List(pl.String)).gather(codes)

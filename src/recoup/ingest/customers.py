"""Customer rows: each validated by the API's own schema (`CustomerCreate`), so a file stores what
the API stores for the same person; the ledger writes them, contacts included."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from multiprocessing.context import BaseContext
from typing import Any, NamedTuple

import polars as pl
from pydantic import ValidationError
from sqlalchemy.orm import Session

from recoup.ingest.checks import Checked, Checker
from recoup.ingest.columns import REQUIRED, Kind
from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.kit.masking import mask_email, mask_id, mask_name, mask_phone
from recoup.ledger import schemas
from recoup.ledger import service as ledger_service
from recoup.models import PhoneType
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


class RowsChecked(NamedTuple):
    """The rows' problems (line, field, what), and the valid rows' lines and values."""

    problems: list[tuple[int, str, str]]
    lines: list[int]
    people: list[_Person]


# Checking a customer row costs about 250 µs (the phone numbering plan in pure Python and the
# Pydantic model), so a large file is checked in chunks by a pool of processes, one per core.
# Below PARALLEL_FROM rows the pool's start costs more than it saves.
PARALLEL_FROM = 5_000
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
) -> RowsChecked:
    """Every row checked as the API checks a customer, in file order; with more than one worker
    and at least `parallel_from` rows, chunks are checked in parallel processes by the same
    function, so the outcome is the same row for row."""
    columns = rows.columns
    values = rows.rows()
    chunks = [values[i : i + CHUNK_ROWS] for i in range(0, len(values), CHUNK_ROWS)]
    workers = min(workers or default_workers(), len(chunks))
    if workers <= 1 or len(values) < parallel_from:
        parts = [_check_chunk(columns, chunk, now) for chunk in chunks]
    else:
        with ProcessPoolExecutor(workers, mp_context=_pool_context()) as pool:
            parts = list(pool.map(_check_chunk, repeat(columns), chunks, repeat(now)))
    out = RowsChecked([], [], [])
    for part in parts:
        out.problems.extend(part.problems)
        out.lines.extend(part.lines)
        out.people.extend(part.people)
    return out


def _pool_context() -> BaseContext:
    """Workers forked from a server that imported this module once (not from this process,
    whose Polars and database threads a fork would copy mid-flight)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _check_chunk(
    columns: list[str], values: list[tuple[Any, ...]], now: dt.datetime
) -> RowsChecked:
    out = RowsChecked([], [], [])
    for value in values:
        row = dict(zip(columns, value, strict=True))
        person = _check_row(row, now, out.problems)
        if person is not None:
            # Only the values to write are kept: thousands of live models (each with its nested
            # ones) would make every garbage collection of the import walk them all.
            out.lines.append(row["_line"])
            out.people.append(person)
    return out


def _check_row(
    row: dict[str, Any], now: dt.datetime, problems: list[tuple[int, str, str]]
) -> _Person | None:
    try:
        model = schemas.CustomerCreate.model_validate(_customer_payload(row))
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            field = _field_of(loc)
            problems.append((row["_line"], field, _problem_of(err["msg"], field)))
        return None
    except ValueError as exc:
        problems.append((row["_line"], "phones", _problem_of(str(exc), "phones")))
        return None
    future = schemas.born_by(model.birth_year, now.date())
    if future:
        field = "birth_date" if row.get("birth_date") else "birth_year"
        problems.append((row["_line"], field, future))
        return None
    try:
        consents = _consents_of(row, now)
    except ValidationFailed as exc:
        field = "consent_evidence" if exc.message.startswith("evidence") else "consents"
        problems.append((row["_line"], field, exc.message))
        return None
    return _Person.of(model, consents, (row.get("consent_evidence") or "").strip())


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


class _Consent(NamedTuple):
    kind: str
    channel: str | None
    scope: tuple[tuple[str, str], ...]
    expires_at: dt.datetime | None


_WINDOW = re.compile(r"^(\d\d:\d\d)-(\d\d:\d\d)$")
MAX_CONSENTS = 10


def _consents_of(row: dict[str, Any], now: dt.datetime) -> tuple[_Consent, ...]:
    """A row's `consents` column, each item validated as the API validates a consent."""
    items = _split(row.get("consents"))
    if not items:
        return ()
    if len(items) > MAX_CONSENTS:
        raise ValidationFailed(f"consents: at most {MAX_CONSENTS} per customer")
    evidence = row.get("consent_evidence") or ""
    out = []
    for item in items:
        body, _, until = item.partition("@")
        kind, _, rest = body.partition(":")
        kind, rest = kind.strip(), rest.strip()
        channel: str | None = None
        scope: dict[str, str] = {}
        window = _WINDOW.match(rest)
        if window:
            scope = {"from": window.group(1), "to": window.group(2)}
        elif rest:
            channel = rest
        expires_at = None
        if until.strip():
            try:
                day = dt.date.fromisoformat(until.strip())
            except ValueError:
                raise ValidationFailed(
                    f"consents: {until.strip()!r} is not a date YYYY-MM-DD"
                ) from None
            expires_at = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        try:
            _, canonical = privacy_service.validate(
                kind=kind,
                evidence=evidence,
                source="import",
                channel=channel,
                scope=scope,
                expires_at=expires_at,
                now=now,
            )
        except ValidationFailed as exc:
            if exc.message.startswith("evidence"):
                raise
            raise ValidationFailed(f"consents: {item!r}: {exc.message}") from None
        out.append(_Consent(kind, channel, tuple(sorted(canonical.items())), expires_at))
    return tuple(out)


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


class _Person(NamedTuple):
    """A validated customer row: what `write` stores, in plain values."""

    external_ref: str
    name: str
    national_id: str | None
    preferred_language: str
    jurisdiction: str
    timezones: tuple[str, ...]
    phones: tuple[tuple[str, str, str], ...]  # number (E.164), type, source
    emails: tuple[tuple[str, str], ...]  # address, source
    # country, region, city, postal code, line
    addresses: tuple[tuple[str, str | None, str | None, str | None, str | None], ...]
    consents: tuple[_Consent, ...] = ()
    consent_evidence: str = ""
    birth_year: int | None = None
    sex: str | None = None

    @classmethod
    def of(
        cls, model: schemas.CustomerCreate, consents: tuple[_Consent, ...] = (), evidence: str = ""
    ) -> _Person:
        return cls(
            model.external_ref,
            model.name,
            model.national_id,
            model.preferred_language,
            model.jurisdiction,
            tuple(model.timezones),
            tuple((p.number, str(p.type), str(p.source)) for p in model.phones),
            tuple((e.address, str(e.source)) for e in model.emails),
            tuple((a.country, a.region, a.city, a.postal_code, a.line) for a in model.addresses),
            consents,
            evidence,
            model.birth_year,
            model.sex,
        )


def _lists_of_text(values: list[tuple[str, ...]]) -> pl.Series:
    """A list column from rows that repeat a few lists (customers' time zones): each distinct list
    is converted once and gathered, not 20,000 little lists one by one."""
    distinct: dict[tuple[str, ...], int] = {}
    codes = [distinct.setdefault(v, len(distinct)) for v in values]
    return pl.Series([list(v) for v in distinct], dtype=pl.List(pl.String)).gather(codes)


_PHONE_TYPES = frozenset(PhoneType)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def _customer_payload(row: dict[str, Any]) -> dict[str, Any]:
    phones = []
    for item in _split(row.get("phones")):
        kind, sep, number = item.partition(":")
        if sep and kind in _PHONE_TYPES:
            phones.append({"number": number, "type": kind})
        else:
            phones.append({"number": item})
    address = {k: row.get(k) for k in ("country", "region", "city", "postal_code")}
    address["line"] = row.get("address_line")
    payload: dict[str, Any] = {
        "external_ref": (row.get("external_ref") or "").strip(),
        "name": row.get("name") or "",
        "national_id": row.get("national_id"),
        "phones": phones,
        "emails": [{"address": e} for e in _split(row.get("emails"))],
        "addresses": [address] if address.get("country") else [],
        "jurisdiction": (row.get("jurisdiction") or "").strip(),
        "timezones": _split(row.get("timezones")),
    }
    if row.get("preferred_language"):
        payload["preferred_language"] = row["preferred_language"].strip()
    # A CSV column is text (JSON may give a number); empty means unknown. Pydantic parses and
    # bounds them, and a birth date is cut to its year by the schema before anything is kept.
    for key in ("birth_year", "birth_date", "sex"):
        value = row.get(key)
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None:
            payload[key] = value
    return payload


def _field_of(loc: list[str]) -> str:
    if not loc:
        return ""
    head = loc[0]
    mapping = {"addresses": None, "phones": "phones", "emails": "emails"}
    if head == "addresses" and len(loc) >= 3:
        return "address_line" if loc[2] == "line" else loc[2]
    return mapping.get(head) or head


# A problem quoting the value it refused (`'+86 1381' is not a phone number`) quotes it masked when
# the field is personal: the report and the console repeat no rejected number, address or ID.
_MASKS: dict[str, Callable[[str], str]] = {
    "phones": mask_phone,
    "emails": mask_email,
    "national_id": mask_id,
    "name": mask_name,
    "address_line": mask_id,
    "postal_code": mask_id,
    "city": mask_name,
}
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")


def _problem_of(message: str, field: str) -> str:
    message = message.removeprefix("Value error, ")
    mask = _MASKS.get(field)
    if mask is None:
        return message
    return _QUOTED.sub(lambda m: repr(mask(m.group(1) or m.group(2) or "")), message)

"""Checking customer rows, one at a time, as the API checks a customer (`CustomerCreate`): pure
functions, with only the imports they need, so the processes of a parallel check start quickly
(`customers.check_rows`)."""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import polars as pl
from pydantic import ValidationError

from recoup.kit import crypto
from recoup.kit.errors import ValidationFailed
from recoup.kit.masking import mask_email, mask_id, mask_name, mask_phone
from recoup.ledger import contacts, schemas, sealing
from recoup.models import ContactSource, PhoneType


class RowsChecked(NamedTuple):
    """The rows' problems (line, field, what), and the valid rows' lines and values."""

    problems: list[tuple[int, str, str]]
    lines: list[int]
    people: list[_Person]


def check_chunk(
    columns: list[str],
    values: list[tuple[Any, ...]],
    now: dt.datetime,
    plain: list[bool] | None = None,
) -> RowsChecked:
    """Each row checked as the API checks a customer. A row `plain` marks (`customers.plain_rows`:
    every value in a form the model keeps as it is) is built by `_plain_person` without the model,
    through the same checks of phone, e-mail, zone and year; anything that fails there, and every
    other row, goes through the model, which reports it."""
    out = RowsChecked([], [], [])
    with _no_collection():
        phones = _plain_phones(columns, values, plain)
        _check_each(columns, values, now, plain, phones, out)
    return out


def _check_each(
    columns: list[str],
    values: list[tuple[Any, ...]],
    now: dt.datetime,
    plain: list[bool] | None,
    phones: dict[int, tuple[str, list[str]]],
    out: RowsChecked,
) -> None:
    for i, value in enumerate(values):
        row = dict(zip(columns, value, strict=True))
        person = _plain_person(row, now, phones.get(i)) if plain is not None and plain[i] else None
        if person is None:
            person = _check_row(row, now, out.problems)
        if person is not None:
            # Only the values to write are kept: thousands of live models (each with its nested
            # ones) would make every garbage collection of the import walk them all.
            out.lines.append(row["_line"])
            out.people.append(person)


@contextmanager
def _no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a chunk is checked and sealed: the chunk makes
    tens of thousands of small objects without cycles (rows, values, tuples), and each
    collection their count sets off walks every live object of the import, the file's rows
    included. It runs again after the chunk, and collects whatever cycles the chunk made."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class SealedRows(NamedTuple):
    """The rows' problems (line, field, what), and the valid rows ready to write: one row each in
    `rows` (`_line`, the customers' columns with name and national ID sealed and the ID's blind
    index, and `phones`, `emails`, `addresses`: lists of their rows, sealed and indexed), and
    the few with consents as checked (privacy records those; `customers.write`)."""

    problems: list[tuple[int, str, str]]
    rows: pl.DataFrame
    consenting: list[tuple[int, _Person]]


def check_and_seal(
    columns: list[str],
    values: list[tuple[Any, ...]],
    now: dt.datetime,
    plain: list[bool] | None = None,
) -> SealedRows:
    """`check_chunk`, then the valid rows sealed (`ledger.sealing`) under the installed keyring
    (in a worker: the one `install_sealing` installed), so the importing process writes them
    as they come."""
    with _no_collection():
        checked = check_chunk(columns, values, now, plain)
        consenting = [
            (line, p) for line, p in zip(checked.lines, checked.people, strict=True) if p.consents
        ]
        rows = sealed_rows(checked.lines, checked.people)
    return SealedRows(checked.problems, rows, consenting)


def install_sealing(parts: crypto.SealingParts) -> None:
    """A worker's keyring: the importing process's active key and index key."""
    crypto.install_keyring(crypto.Keyring.for_sealing(parts))


PHONE = pl.Struct(
    {
        "position": pl.Int32,
        "number": pl.Binary,
        "number_index": pl.String,
        "type": pl.String,
        "source": pl.String,
    }
)
EMAIL = pl.Struct(
    {"position": pl.Int32, "address": pl.Binary, "address_index": pl.String, "source": pl.String}
)
ADDRESS = pl.Struct(
    {
        "position": pl.Int32,
        "country": pl.String,
        "region": pl.String,
        "city": pl.Binary,
        "postal_code": pl.Binary,
        "line": pl.Binary,
    }
)
CUSTOMER: dict[str, pl.DataType] = {
    "_line": pl.Int64(),
    "external_ref": pl.String(),
    "name": pl.String(),
    "national_id": pl.String(),
    "preferred_language": pl.String(),
    "jurisdiction": pl.String(),
    "timezones": pl.List(pl.String),
    "birth_year": pl.Int32(),
    "sex": pl.String(),
}


def sealed_rows(lines: list[int], people: list[_Person]) -> pl.DataFrame:
    """The people as `SealedRows.rows`: the customers' columns, their contacts nested."""
    customers = sealing.customers(
        pl.DataFrame(
            {
                "_line": lines,
                "external_ref": [p.external_ref for p in people],
                "name": [p.name for p in people],
                "national_id": [p.national_id for p in people],
                "preferred_language": [p.preferred_language for p in people],
                "jurisdiction": [p.jurisdiction for p in people],
                "timezones": _lists_of_text([p.timezones for p in people]),
                "birth_year": [p.birth_year for p in people],
                "sex": [p.sex for p in people],
            },
            schema=CUSTOMER,
        )
    )
    phones: list[tuple[int, int, str, str, str]] = []
    emails: list[tuple[int, int, str, str]] = []
    addresses: list[tuple[int, int, str, str | None, str | None, str | None, str | None]] = []
    for line, p in zip(lines, people, strict=True):
        phones += [(line, i, *phone) for i, phone in enumerate(p.phones)]
        emails += [(line, i, *email) for i, email in enumerate(p.emails)]
        addresses += [(line, i, *address) for i, address in enumerate(p.addresses)]
    nested = [
        _nested(
            "phones",
            sealing.phones(
                pl.DataFrame(
                    phones,
                    schema=_contact_schema("number", "type", "source"),
                    orient="row",
                )
            ),
            PHONE,
        ),
        _nested(
            "emails",
            sealing.emails(
                pl.DataFrame(
                    emails,
                    schema=_contact_schema("address", "source"),
                    orient="row",
                )
            ),
            EMAIL,
        ),
        _nested(
            "addresses",
            sealing.addresses(
                pl.DataFrame(
                    addresses,
                    schema=_contact_schema("country", "region", "city", "postal_code", "line"),
                    orient="row",
                )
            ),
            ADDRESS,
        ),
    ]
    for name, frame, struct in nested:
        customers = customers.join(frame, on="_line", how="left", maintain_order="left")
        customers = customers.with_columns(pl.col(name).fill_null(pl.lit([], pl.List(struct))))
    return customers


def _contact_schema(*texts: str) -> dict[str, pl.DataType]:
    return {"_line": pl.Int64(), "position": pl.Int32()} | {t: pl.String() for t in texts}


def _nested(
    name: str, rows: pl.DataFrame, struct: pl.Struct
) -> tuple[str, pl.DataFrame, pl.Struct]:
    """Contact rows as one list per `_line` (in their order) of structs `struct`."""
    fields = [f.name for f in struct.fields]
    nested = rows.group_by("_line", maintain_order=True).agg(
        pl.struct(*fields).cast(struct).alias(name)
    )
    return name, nested, struct


def _lists_of_text(values: list[tuple[str, ...]]) -> pl.Series:
    """A list column from rows that repeat a few lists (customers' time zones): each distinct list
    is converted once and gathered, not 20,000 little lists one by one."""
    distinct: dict[tuple[str, ...], int] = {}
    codes = [distinct.setdefault(v, len(distinct)) for v in values]
    return pl.Series([list(v) for v in distinct], dtype=pl.List(pl.String)).gather(codes)


def _plain_phones(
    columns: list[str], values: list[tuple[Any, ...]], plain: list[bool] | None
) -> dict[int, tuple[str, list[str]]]:
    """The plain rows' phones (one each at most, in E.164) parsed set-wise
    (`contacts.parse_phones`), by row; a number it leaves is parsed by `_plain_person`."""
    if plain is None or "phones" not in columns:
        return {}
    at = columns.index("phones")
    rows = [i for i, value in enumerate(values) if plain[i] and value[at]]
    parsed = contacts.parse_phones([values[i][at] for i in rows])
    return {i: p for i, p in zip(rows, parsed, strict=True) if p is not None}


_MOBILE = str(PhoneType.mobile)
_CUSTOMER = str(ContactSource.customer)


def _plain_person(
    row: dict[str, Any], now: dt.datetime, phone: tuple[str, list[str]] | None = None
) -> _Person | None:
    """What `CustomerCreate` makes of a plain row (`customers.plain_rows` says which are: an ASCII
    reference, a name and texts without white space at their ends or NUL and within their
    lengths, a valid jurisdiction, one E.164 phone without a type, a known language, no consents),
    by the validators' own functions in the model's order; None where one of them refuses, so the
    model reports it. tests/ingest/test_plain_rows.py holds the two equal on hostile rows.
    `phone`: the row's one phone as `contacts.parse_phones` parsed it, when it did."""
    jurisdiction: str = row["jurisdiction"]
    try:
        phones: list[tuple[str, str, str]] = []
        zones: list[str] = []
        for item in _split(row.get("phones")):
            number, found = phone or contacts.parse_phone(item, jurisdiction[:2])
            phones.append((number, _MOBILE, _CUSTOMER))
            zones += [z for z in found if z not in zones]
        emails = tuple((contacts.normalise_email(e), _CUSTOMER) for e in _split(row.get("emails")))
        timezones = [contacts.check_zone(z) for z in _split(row.get("timezones"))]
        birth_year = int(row["birth_year"]) if row.get("birth_year") else None
        if birth_year is not None:
            schemas.check_birth_year(birth_year)
        if row.get("birth_date"):
            born = dt.date.fromisoformat(row["birth_date"])
            schemas.check_birth_year(born.year)
            if birth_year is not None and birth_year != born.year:
                return None
            birth_year = born.year
    except ValueError:  # a ContactError too
        return None
    if len(phones) > 20 or len(emails) > 20 or schemas.born_by(birth_year, now.date()):
        return None
    country = row.get("country")
    addresses = (
        (
            (
                country.upper(),
                row.get("region"),
                row.get("city"),
                row.get("postal_code"),
                row.get("address_line"),
            ),
        )
        if country
        else ()
    )
    if not timezones:
        timezones = zones or contacts.zones_for_country(
            addresses[0][0] if addresses else jurisdiction[:2]
        )
    sex = row.get("sex")
    return _Person(
        row["external_ref"],
        row["name"],
        row.get("national_id"),
        row.get("preferred_language") or "zh-CN",
        jurisdiction,
        tuple(timezones),
        tuple(phones),
        emails,
        addresses,
        (),
        (row.get("consent_evidence") or "").strip(),
        birth_year,
        sex.upper() if sex else None,
    )


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
            _, canonical = _consent_rules().validate(
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


def _consent_rules() -> Any:
    """Privacy's consent rules, imported when a row has consents: its service package imports
    the risk models (scikit-learn, LightGBM), seconds of start-up that a worker of the parallel
    check spends only for a file with consents."""
    from recoup.privacy.service import consents

    return consents

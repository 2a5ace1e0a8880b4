"""Bulk import of customers, accounts, bills and payments from CSV or JSON Lines.

Rules a person can rely on:
- Every row is validated; each problem names the file, the line, the field and what is wrong.
- By default a file with any invalid row imports nothing. With `skip_invalid` the valid rows are imported
  and the rest reported. Problems with the file itself (encoding, missing or unknown columns) always
  stop that file.
- Re-importing a file imports nothing twice: rows whose key is already recorded are counted as
  `existing` (and reported as errors if their values differ).
- Writes are set-based; payments and bills are allocated by the same waterfall as the API, in bulk.
  Accounts already tracked by the daily pass have their delinquency recomputed from the earliest date
  the import touched; new accounts get theirs from the next `recoup run daily`.

Columns (CSV header or JSON keys; amounts are integers in minor units; dates YYYY-MM-DD; times ISO 8601
with an offset; lists in CSV are separated by `;`, a phone may be written `type:number`):
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.kit import frames
from recoup.kit.clock import Clock
from recoup.kit.crypto import EncryptedString
from recoup.kit.indexes import email_index, national_id_index, phone_index
from recoup.kit.logging import get_logger
from recoup.kit.money import known_currencies
from recoup.ledger import flows as ledger_flows
from recoup.ledger import schemas
from recoup.models import (
    Account,
    AccountStatus,
    Bill,
    Collector,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    Payment,
    PaymentSource,
    PhoneType,
    Product,
)

Progress = Callable[[str, int], None]
log = get_logger(__name__)


class Kind(StrEnum):
    customers = "customers"
    accounts = "accounts"
    bills = "bills"
    payments = "payments"


REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.customers: ("external_ref", "name", "jurisdiction"),
    Kind.accounts: ("external_ref", "customer_ref", "product", "currency", "opened_date"),
    Kind.bills: ("account_ref", "external_ref", "due_date", "principal_minor"),
    Kind.payments: ("external_id", "account_ref", "amount_minor", "currency", "received_at"),
}
OPTIONAL: dict[Kind, tuple[str, ...]] = {
    Kind.customers: (
        "national_id",
        "phones",
        "emails",
        "country",
        "region",
        "city",
        "postal_code",
        "address_line",
        "preferred_language",
        "timezones",
    ),
    Kind.accounts: ("credit_limit_minor", "closed_date", "status", "collector", "agency_ref"),
    Kind.bills: ("interest_minor", "fees_minor"),
    Kind.payments: ("source",),
}
ORDER = (Kind.customers, Kind.accounts, Kind.bills, Kind.payments)
__doc__ = (__doc__ or "") + "\n".join(
    f"    {k}: {', '.join(REQUIRED[k])} [optional: {', '.join(OPTIONAL[k])}]" for k in ORDER
)


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f" [{self.field}]" if self.field else "")
        return f"{where}: {self.problem}"


@dataclass
class ImportResult:
    file: str
    kind: Kind
    rows: int = 0
    imported: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejected_file: bool = False

    @property
    def invalid_rows(self) -> int:
        return len({e.line for e in self.errors})


def kind_of(path: Path) -> Kind | None:
    stem = path.name.split(".")[0].lower()
    for kind in Kind:
        if stem == kind or stem.endswith(kind) or stem.startswith(kind):
            return kind
    return None


# Reading


def read_table(path: Path) -> tuple[pl.DataFrame, list[RowError]]:
    """All values as strings plus `_line`, the file line each row starts on."""
    name = path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return pl.DataFrame(), [
            RowError(name, line, "", f"not UTF-8 (byte {exc.start}); save the file as UTF-8")
        ]
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return _read_jsonl(name, text)
    return _read_csv(name, text)


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_jsonl(name: str, text: str) -> tuple[pl.DataFrame, list[RowError]]:
    rows: list[dict[str, str | None]] = []
    errors: list[RowError] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(name, number, "", f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            errors.append(RowError(name, number, "", "each line must be a JSON object"))
            continue
        row: dict[str, str | None] = {k: _cell(v) for k, v in record.items()}
        row["_line"] = str(number)
        columns.update(dict.fromkeys(row))
        rows.append(row)
    frame = pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String)
    )
    if "_line" in frame.columns:
        frame = frame.with_columns(pl.col("_line").cast(pl.Int64))
    return frame, errors


def _read_csv(name: str, text: str) -> tuple[pl.DataFrame, list[RowError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return pl.DataFrame(), [RowError(name, 1, "", "the file is empty")]
    except csv.Error as exc:
        return pl.DataFrame(), [RowError(name, 1, "", f"unreadable header ({exc})")]
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    errors: list[RowError] = []
    previous_end = reader.line_num
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not record:
                continue
            if len(record) != width:
                errors.append(
                    RowError(name, start, "", f"has {len(record)} fields, the header has {width}")
                )
                continue
            lines.append(start)
            for i, value in enumerate(record):
                columns[i].append(value if value != "" else None)
    except csv.Error as exc:
        errors.append(RowError(name, reader.line_num, "", f"unreadable CSV ({exc})"))
    frame = pl.DataFrame(
        {h: columns[i] for i, h in enumerate(header)}, schema=dict.fromkeys(header, pl.String)
    ).with_columns(_line=pl.Series(lines, dtype=pl.Int64))
    return frame, errors


# Validation helpers: each returns a frame of errors (_line, field, problem).


def _errors(
    frame: pl.DataFrame, mask: pl.Expr, column: str, problem: str | pl.Expr
) -> pl.DataFrame:
    problem_expr = pl.lit(problem) if isinstance(problem, str) else problem
    return frame.filter(mask).select(
        "_line", field=pl.lit(column), problem=problem_expr.cast(pl.String)
    )


def _upper(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """A code given in any case ("cny") as its standard form ("CNY"), as the API takes it."""
    if column not in frame.columns:
        return frame
    return frame.with_columns(pl.col(column).str.to_uppercase())


def _present(column: str) -> pl.Expr:
    return pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != "")


class _Checker:
    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.found: list[pl.DataFrame] = []

    def add(self, mask: pl.Expr, column: str, problem: str | pl.Expr) -> None:
        found = _errors(self.frame, mask, column, problem)
        if found.height:
            self.found.append(found)

    def required(self, columns: Sequence[str]) -> None:
        for column in columns:
            self.add(~_present(column), column, "is required")

    def integer(self, column: str, *, positive: bool = False, optional: bool = False) -> None:
        value = pl.col(column).str.strip_chars()
        not_int = _present(column) & ~value.str.contains(r"^-?[0-9]{1,18}$")
        self.add(not_int, column, pl.lit("is not an integer number of minor units: ") + value)
        parsed = value.str.to_integer(strict=False)
        if positive:
            self.add(
                ~not_int & _present(column) & (parsed <= 0), column, "must be greater than zero"
            )
        else:
            self.add(~not_int & _present(column) & (parsed < 0), column, "must not be negative")
        if not optional:
            return

    def date(self, column: str) -> None:
        value = pl.col(column).str.strip_chars()
        parsed = value.str.to_date("%Y-%m-%d", strict=False)
        self.add(
            _present(column) & parsed.is_null(),
            column,
            pl.lit("is not a date (YYYY-MM-DD): ") + value,
        )

    def one_of(self, column: str, allowed: Sequence[str]) -> None:
        value = pl.col(column).str.strip_chars()
        self.add(
            _present(column) & ~value.is_in(list(allowed)),
            column,
            pl.lit(f"must be one of {', '.join(allowed)}; got ") + value,
        )

    def currency(self, column: str) -> None:
        """An ISO 4217 code (the caller upper-cased the column, as the API does)."""
        value = pl.col(column).str.strip_chars()
        self.add(
            _present(column) & ~value.is_in(sorted(known_currencies())),
            column,
            pl.lit("is not an ISO 4217 currency code; got ") + value,
        )

    def unique(self, columns: Sequence[str], what: str) -> None:
        dup = ~pl.struct(columns).is_first_distinct() & pl.all_horizontal(
            _present(c) for c in columns
        )
        self.add(dup, columns[-1], f"duplicate {what} in this file (first occurrence kept)")

    def extend(self, errors: pl.DataFrame) -> None:
        if errors.height:
            self.found.append(errors.select("_line", "field", pl.col("problem").cast(pl.String)))

    def errors(self) -> pl.DataFrame:
        if not self.found:
            return pl.DataFrame(
                schema={"_line": pl.Int64, "field": pl.String, "problem": pl.String}
            )
        # one problem per field and line: the first found is the most basic ("is required")
        return (
            pl.concat(self.found)
            .unique(subset=["_line", "field"], keep="first", maintain_order=True)
            .sort("_line", "field")
        )


def _int(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_integer(strict=False).fill_null(0)


def _instant(at: dt.datetime) -> pl.Expr:
    """`at` on every row, as a UTC instant column (one value broadcast, not a Python list)."""
    naive = at.astimezone(dt.UTC).replace(tzinfo=None)
    return pl.lit(naive, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")


def _lists_of_text(values: list[tuple[str, ...]]) -> pl.Series:
    """A list column from rows that repeat a few lists (customers' time zones): each distinct list
    is converted once and gathered, not 20,000 little lists one by one."""
    distinct: dict[tuple[str, ...], int] = {}
    codes = [distinct.setdefault(v, len(distinct)) for v in values]
    return pl.Series([list(v) for v in distinct], dtype=pl.List(pl.String)).gather(codes)


def _lookup(session: Session, stmt: Any, schema: frames.Schema) -> pl.DataFrame:
    return frames.read_frame(session, stmt, schema)


# The importer


class Importer:
    def __init__(
        self,
        session: Session,
        *,
        clock: Clock,
        progress: Progress | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.progress = progress or (lambda _msg, _n: None)

    def import_file(
        self, path: Path, *, kind: Kind | None = None, skip_invalid: bool = False
    ) -> ImportResult:
        kind = kind or kind_of(path)
        if kind is None:
            raise ValueError(
                f"{path.name}: cannot tell what the file holds; name it customers/accounts/bills/"
                "payments or pass --kind"
            )
        frame, file_errors = read_table(path)
        return self.import_rows(path.name, kind, frame, file_errors, skip_invalid=skip_invalid)

    def import_rows(
        self,
        name: str,
        kind: Kind,
        frame: pl.DataFrame,
        file_errors: list[RowError] | None = None,
        *,
        skip_invalid: bool = False,
    ) -> ImportResult:
        """Validate and write rows already read: string columns plus `_line`."""
        file_errors = file_errors or []
        result = ImportResult(file=name, kind=kind)
        result.rows = frame.height + len([e for e in file_errors if e.line > 1])
        structural = self._check_columns(name, kind, frame)
        if structural or (file_errors and not frame.height):
            result.errors = file_errors + structural
            result.rejected_file = True
            return result
        for column in OPTIONAL[kind]:
            if column not in frame.columns:
                frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
        self.progress(f"validating {name}", frame.height)
        valid, errors, existing = getattr(self, f"_validate_{kind}")(frame)
        result.existing = existing
        result.errors = file_errors + [
            RowError(name, line, fld, problem) for line, fld, problem in errors.iter_rows()
        ]
        if result.errors and not skip_invalid:
            return result
        bad_lines = {e.line for e in result.errors}
        valid = valid.filter(~pl.col("_line").is_in(list(bad_lines)))
        self.progress(f"writing {name}", valid.height)
        result.imported = getattr(self, f"_write_{kind}")(valid)
        log.info(
            "ingest.file_imported",
            kind=str(kind),
            rows=result.rows,
            imported=result.imported,
            existing=result.existing,
            invalid=result.invalid_rows,
        )
        return result

    def _check_columns(self, name: str, kind: Kind, frame: pl.DataFrame) -> list[RowError]:
        columns = set(frame.columns) - {"_line"}
        problems = []
        missing = [c for c in REQUIRED[kind] if c not in columns]
        if missing and frame.height:
            problems.append(
                RowError(name, 1, ",".join(missing), f"missing column(s): {', '.join(missing)}")
            )
        unknown = sorted(columns - set(REQUIRED[kind]) - set(OPTIONAL[kind]))
        if unknown:
            problems.append(
                RowError(
                    name,
                    1,
                    ",".join(unknown),
                    f"unknown column(s) {', '.join(unknown)}; a {kind} file takes "
                    f"{', '.join(REQUIRED[kind] + OPTIONAL[kind])}",
                )
            )
        return problems

    # customers

    def _validate_customers(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        check = _Checker(frame)
        check.required(REQUIRED[Kind.customers])
        check.unique(["external_ref"], "external_ref")
        known = (
            _lookup(
                self.session,
                select(Customer.external_ref).where(
                    Customer.external_ref.in_(frame["external_ref"].drop_nulls().to_list())
                ),
                {"external_ref": pl.String},
            )
            if frame.height <= 20_000
            else _lookup(self.session, select(Customer.external_ref), {"external_ref": pl.String})
        )
        is_known = pl.col("external_ref").is_in(known["external_ref"].to_list())
        existing = frame.filter(is_known).height
        fresh = frame.filter(~is_known)
        lines: list[int] = []
        people: list[_Person] = []
        problems: list[tuple[int, str, str]] = []
        for row in fresh.iter_rows(named=True):
            try:
                model = schemas.CustomerCreate.model_validate(_customer_payload(row))
            except ValidationError as exc:
                for err in exc.errors():
                    loc = [str(p) for p in err["loc"]]
                    problems.append((row["_line"], _field_of(loc), _problem_of(err["msg"])))
                continue
            except ValueError as exc:
                problems.append((row["_line"], "phones", str(exc)))
                continue
            # Only the values to write are kept: thousands of live models (each with its nested
            # ones) would make every garbage collection of the import walk them all.
            lines.append(row["_line"])
            people.append(_Person.of(model))
        check.extend(pl.DataFrame(problems, schema=["_line", "field", "problem"], orient="row"))
        valid = pl.DataFrame(
            {"_line": lines, "person": people},
            schema={"_line": pl.Int64, "person": pl.Object},
        )
        return valid, check.errors(), existing

    def _write_customers(self, valid: pl.DataFrame) -> int:
        if valid.height == 0:
            return 0
        now = self.clock.now()
        people: list[_Person] = valid["person"].to_list()
        national_ids = [p.national_id or None for p in people]
        frames.insert_frame(
            self.session,
            Customer.__table__,  # type: ignore[arg-type]
            pl.DataFrame(
                {
                    "external_ref": [p.external_ref for p in people],
                    "name": EncryptedString("customers.name").seal_many([p.name for p in people]),
                    "national_id": EncryptedString("customers.national_id").seal_many(national_ids),
                    "national_id_index": [
                        national_id_index(n) if n else None for n in national_ids
                    ],
                    "preferred_language": [p.preferred_language for p in people],
                    "jurisdiction": [p.jurisdiction for p in people],
                    "timezones": _lists_of_text([p.timezones for p in people]),
                },
                schema={
                    "external_ref": pl.String,
                    "name": pl.Binary,
                    "national_id": pl.Binary,
                    "national_id_index": pl.String,
                    "preferred_language": pl.String,
                    "jurisdiction": pl.String,
                    "timezones": pl.List(pl.String),
                },
            ).with_columns(created_at=_instant(now)),
        )
        ids = (
            dict(
                self.session.execute(
                    select(Customer.external_ref, Customer.id).where(
                        Customer.external_ref.in_([p.external_ref for p in people])
                    )
                ).all()
            )
            if len(people) <= 20_000
            else dict(self.session.execute(select(Customer.external_ref, Customer.id)).all())
        )
        phones: list[tuple[int, int, str, str, str]] = []
        emails: list[tuple[int, int, str, str]] = []
        addresses: list[tuple[int, int, str, str | None, str | None, str | None, str | None]] = []
        for p in people:
            cid = ids[p.external_ref]
            phones += [(cid, i, *phone) for i, phone in enumerate(p.phones)]
            emails += [(cid, i, *email) for i, email in enumerate(p.emails)]
            addresses += [(cid, i, *address) for i, address in enumerate(p.addresses)]
        numbers = [p[2] for p in phones]
        frames.insert_frame(
            self.session,
            CustomerPhone.__table__,  # type: ignore[arg-type]
            pl.DataFrame(
                {
                    "customer_id": [p[0] for p in phones],
                    "position": [p[1] for p in phones],
                    "number": EncryptedString("customer_phones.number").seal_many(numbers),
                    "number_index": [phone_index(n) for n in numbers],
                    "type": [p[3] for p in phones],
                    "source": [p[4] for p in phones],
                },
                schema={
                    "customer_id": pl.Int64,
                    "position": pl.Int32,
                    "number": pl.Binary,
                    "number_index": pl.String,
                    "type": pl.String,
                    "source": pl.String,
                },
            ),
        )
        mailboxes = [e[2] for e in emails]
        frames.insert_frame(
            self.session,
            CustomerEmail.__table__,  # type: ignore[arg-type]
            pl.DataFrame(
                {
                    "customer_id": [e[0] for e in emails],
                    "position": [e[1] for e in emails],
                    "address": EncryptedString("customer_emails.address").seal_many(mailboxes),
                    "address_index": [email_index(m) for m in mailboxes],
                    "source": [e[3] for e in emails],
                },
                schema={
                    "customer_id": pl.Int64,
                    "position": pl.Int32,
                    "address": pl.Binary,
                    "address_index": pl.String,
                    "source": pl.String,
                },
            ),
        )
        frames.insert_frame(
            self.session,
            CustomerAddress.__table__,  # type: ignore[arg-type]
            pl.DataFrame(
                {
                    "customer_id": [a[0] for a in addresses],
                    "position": [a[1] for a in addresses],
                    "country": [a[2] for a in addresses],
                    "region": [a[3] for a in addresses],
                    "city": EncryptedString("customer_addresses.city").seal_many(
                        [a[4] or None for a in addresses]
                    ),
                    "postal_code": EncryptedString("customer_addresses.postal_code").seal_many(
                        [a[5] or None for a in addresses]
                    ),
                    "line": EncryptedString("customer_addresses.line").seal_many(
                        [a[6] or None for a in addresses]
                    ),
                },
                schema={
                    "customer_id": pl.Int64,
                    "position": pl.Int32,
                    "country": pl.String,
                    "region": pl.String,
                    "city": pl.Binary,
                    "postal_code": pl.Binary,
                    "line": pl.Binary,
                },
            ),
        )
        return len(people)

    # accounts

    def _validate_accounts(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        frame = _upper(frame, "currency")
        check = _Checker(frame)
        check.required(REQUIRED[Kind.accounts])
        check.unique(["external_ref"], "external_ref")
        check.date("opened_date")
        check.date("closed_date")
        check.integer("credit_limit_minor")
        check.currency("currency")
        check.one_of("status", list(AccountStatus))
        check.one_of("collector", list(Collector))
        products = [code for (code,) in self.session.execute(select(Product.code)).all()]
        check.one_of("product", products)
        customers = self._ids(Customer, frame["customer_ref"])
        check.add(
            _present("customer_ref")
            & ~pl.col("customer_ref").is_in(customers["external_ref"].to_list()),
            "customer_ref",
            pl.lit("unknown customer ") + pl.col("customer_ref"),
        )
        typed = frame.with_columns(
            opened_date=pl.col("opened_date")
            .str.strip_chars()
            .str.to_date("%Y-%m-%d", strict=False),
            closed_date=pl.col("closed_date")
            .str.strip_chars()
            .str.to_date("%Y-%m-%d", strict=False),
        )
        check.extend(
            _errors(
                typed,
                pl.col("closed_date") < pl.col("opened_date"),
                "closed_date",
                "is before opened_date",
            )
        )
        known = self._ids(Account, frame["external_ref"])
        is_known = pl.col("external_ref").is_in(known["external_ref"].to_list())
        existing = frame.filter(is_known).height
        valid = (
            typed.filter(~is_known)
            .join(
                customers.rename({"external_ref": "customer_ref", "id": "customer_id"}),
                on="customer_ref",
                how="left",
            )
            .with_columns(currency=pl.col("currency").str.strip_chars().str.to_uppercase())
        )
        return valid, check.errors(), existing

    def _ids(self, model: Any, refs: pl.Series) -> pl.DataFrame:
        values = refs.drop_nulls().unique().to_list()
        stmt = select(model.external_ref, model.id)
        if len(values) <= 20_000:
            stmt = stmt.where(model.external_ref.in_(values))
        return _lookup(self.session, stmt, {"external_ref": pl.String, "id": pl.Int64})

    def _write_accounts(self, valid: pl.DataFrame) -> int:
        now = self.clock.now()
        out = valid.select(
            external_ref=pl.col("external_ref").str.strip_chars(),
            customer_id="customer_id",
            product_code=pl.col("product").str.strip_chars(),
            currency="currency",
            credit_limit_minor=pl.col("credit_limit_minor")
            .str.strip_chars()
            .str.to_integer(strict=False),
            opened_date="opened_date",
            closed_date="closed_date",
            status=pl.col("status").fill_null(str(AccountStatus.open)),
            collector=pl.col("collector").fill_null(str(Collector.creditor)),
            agency_ref="agency_ref",
            created_at=_instant(now),
        )
        return frames.insert_frame(self.session, Account.__table__, out)  # type: ignore[arg-type]

    # bills

    def _accounts_for(self, refs: pl.Series) -> pl.DataFrame:
        values = refs.drop_nulls().unique().to_list()
        stmt = select(Account.external_ref, Account.id, Account.currency, Account.product_code)
        if len(values) <= 20_000:
            stmt = stmt.where(Account.external_ref.in_(values))
        return _lookup(
            self.session,
            stmt,
            {
                "account_ref": pl.String,
                "account_id": pl.Int64,
                "account_currency": pl.String,
                "product_code": pl.String,
            },
        )

    def _validate_bills(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        check = _Checker(frame)
        check.required(REQUIRED[Kind.bills])
        check.unique(["account_ref", "external_ref"], "bill external_ref for this account")
        check.date("due_date")
        for column in ("principal_minor", "interest_minor", "fees_minor"):
            check.integer(column)
        accounts = self._accounts_for(frame["account_ref"])
        check.add(
            _present("account_ref")
            & ~pl.col("account_ref").is_in(accounts["account_ref"].to_list()),
            "account_ref",
            pl.lit("unknown account ") + pl.col("account_ref"),
        )
        typed = frame.join(accounts, on="account_ref", how="left").with_columns(
            due_date=pl.col("due_date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
            principal_minor=_int("principal_minor"),
            interest_minor=_int("interest_minor"),
            fees_minor=_int("fees_minor"),
            external_ref=pl.col("external_ref").str.strip_chars(),
        )
        check.extend(
            _errors(
                typed,
                (pl.col("principal_minor") + pl.col("interest_minor") + pl.col("fees_minor")) == 0,
                "principal_minor",
                "a bill must have something due",
            )
        )
        recorded = _lookup(
            self.session,
            select(
                Bill.account_id,
                Bill.external_ref,
                Bill.due_date,
                Bill.principal_minor + Bill.interest_minor + Bill.fees_minor,
            ).where(Bill.account_id.in_(accounts["account_id"].to_list()))
            if accounts.height <= 20_000
            else select(
                Bill.account_id,
                Bill.external_ref,
                Bill.due_date,
                Bill.principal_minor + Bill.interest_minor + Bill.fees_minor,
            ),
            {
                "account_id": pl.Int64,
                "external_ref": pl.String,
                "known_due": pl.Date,
                "known_total": pl.Int64,
            },
        )
        typed = typed.join(recorded, on=["account_id", "external_ref"], how="left")
        known = pl.col("known_due").is_not_null()
        differs = known & (
            (pl.col("known_due") != pl.col("due_date"))
            | (
                pl.col("known_total")
                != pl.col("principal_minor") + pl.col("interest_minor") + pl.col("fees_minor")
            )
        )
        check.extend(
            _errors(
                typed,
                differs,
                "external_ref",
                "already imported with a different due date or amount",
            )
        )
        existing = typed.filter(known & ~differs).height
        return typed.filter(~known), check.errors(), existing

    def _write_bills(self, valid: pl.DataFrame) -> int:
        now = self.clock.now()
        out = valid.select(
            "account_id",
            "external_ref",
            "due_date",
            "principal_minor",
            "interest_minor",
            "fees_minor",
            created_at=_instant(now),
        )
        count = frames.insert_frame(self.session, Bill.__table__, out)  # type: ignore[arg-type]
        self._settle(valid.group_by("account_id").agg(since=pl.col("due_date").min()))
        return count

    # payments

    def _validate_payments(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        frame = _upper(frame, "currency")
        check = _Checker(frame)
        check.required(REQUIRED[Kind.payments])
        check.unique(["external_id"], "external_id")
        check.integer("amount_minor", positive=True)
        check.currency("currency")
        check.one_of("source", list(PaymentSource))
        received, bad_times = _parse_instants(frame, self.clock.now())
        check.extend(bad_times)
        accounts = self._accounts_for(frame["account_ref"])
        check.add(
            _present("account_ref")
            & ~pl.col("account_ref").is_in(accounts["account_ref"].to_list()),
            "account_ref",
            pl.lit("unknown account ") + pl.col("account_ref"),
        )
        typed = (
            frame.with_columns(
                received_at=received,
                currency=pl.col("currency").str.strip_chars().str.to_uppercase(),
            )
            .join(accounts, on="account_ref", how="left")
            .with_columns(
                amount_minor=_int("amount_minor"),
                external_id=pl.col("external_id").str.strip_chars(),
            )
        )
        check.extend(
            _errors(
                typed,
                pl.col("account_currency").is_not_null()
                & (pl.col("currency") != pl.col("account_currency")),
                "currency",
                pl.lit("does not match the account's currency ") + pl.col("account_currency"),
            )
        )
        ids = typed["external_id"].drop_nulls().to_list()
        recorded = _lookup(
            self.session,
            select(Payment.external_id, Payment.account_id, Payment.amount_minor).where(
                Payment.external_id.in_(ids)
            )
            if len(ids) <= 20_000
            else select(Payment.external_id, Payment.account_id, Payment.amount_minor),
            {"external_id": pl.String, "known_account": pl.Int64, "known_amount": pl.Int64},
        )
        typed = typed.join(recorded, on="external_id", how="left")
        known = pl.col("known_amount").is_not_null()
        differs = known & (
            (pl.col("known_amount") != pl.col("amount_minor"))
            | (pl.col("known_account") != pl.col("account_id"))
        )
        check.extend(
            _errors(
                typed, differs, "external_id", "already recorded with a different account or amount"
            )
        )
        existing = typed.filter(known & ~differs).height
        return typed.filter(~known), check.errors(), existing

    def _write_payments(self, valid: pl.DataFrame) -> int:
        now = self.clock.now()
        zones = dict(self.session.execute(select(Product.code, Product.timezone)).all())
        with_dates = (
            pl.concat(
                [
                    part.with_columns(
                        value_date=pl.col("received_at").dt.convert_time_zone(zones[code]).dt.date()
                    )
                    for (code,), part in valid.group_by(["product_code"])
                ]
            )
            if valid.height
            else valid.with_columns(value_date=pl.lit(None, dtype=pl.Date))
        )
        out = with_dates.select(
            "account_id",
            "external_id",
            "amount_minor",
            "currency",
            "received_at",
            "value_date",
            source=pl.col("source").fill_null(str(PaymentSource.wallet)),
            created_at=_instant(now),
        )
        count = frames.insert_frame(self.session, Payment.__table__, out)  # type: ignore[arg-type]
        self._settle(with_dates.group_by("account_id").agg(since=pl.col("value_date").min()))
        return count

    # allocation and delinquency for the accounts an import touched

    def _settle(self, touched: pl.DataFrame) -> None:
        """The settle flow for the accounts the file touched (account, earliest date), set-based,
        in the import's transaction: allocation, delinquency of the accounts the daily pass
        tracks, arrangements kept or broken, and one re-decision each (a reminder for a debt the
        file paid is cancelled before the import commits)."""
        if touched.height == 0:
            return
        self.progress("settling the accounts touched", touched.height)
        ledger_flows.settle(
            self.session,
            dict(touched.select("account_id", "since").iter_rows()),
            clock=self.clock,
            cause="import",
            tracked_only=True,
        )


def _parse_instants(frame: pl.DataFrame, now: dt.datetime) -> tuple[pl.Series, pl.DataFrame]:
    latest = now + dt.timedelta(minutes=5)
    values: list[dt.datetime | None] = []  # naive UTC: Polars reads those far faster than aware
    problems: list[tuple[int, str, str]] = []
    for line, raw in zip(frame["_line"].to_list(), frame["received_at"].to_list(), strict=True):
        if raw is None or not raw.strip():
            values.append(None)
            continue
        try:
            parsed = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            problems.append((line, "received_at", f"is not an ISO 8601 time: {raw}"))
            values.append(None)
            continue
        if parsed.tzinfo is None:
            problems.append(
                (line, "received_at", f"has no time zone offset: {raw} (add +08:00 or Z)")
            )
            values.append(None)
            continue
        parsed = parsed.astimezone(dt.UTC)
        if parsed > latest:
            problems.append((line, "received_at", f"is in the future: {raw}"))
        values.append(parsed.replace(tzinfo=None))
    series = pl.Series("received_at", values, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")
    return series, pl.DataFrame(problems, schema=["_line", "field", "problem"], orient="row")


class _Person(NamedTuple):
    """A validated customer row: what `_write_customers` stores, in plain values."""

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

    @classmethod
    def of(cls, model: schemas.CustomerCreate) -> _Person:
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
    return payload


def _field_of(loc: list[str]) -> str:
    if not loc:
        return ""
    head = loc[0]
    mapping = {"addresses": None, "phones": "phones", "emails": "emails"}
    if head == "addresses" and len(loc) >= 3:
        return "address_line" if loc[2] == "line" else loc[2]
    return mapping.get(head) or head


def _problem_of(message: str) -> str:
    return message.removeprefix("Value error, ")


def write_report(path: Path, results: Sequence[ImportResult]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "field", "problem"])
        for result in results:
            for error in result.errors:
                writer.writerow([error.file, error.line, error.field, error.problem])

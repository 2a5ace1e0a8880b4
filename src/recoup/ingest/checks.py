"""Row validation shared by every kind of file: the error a person reads, the checks on columns, and
the frame of problems (`_line`, `field`, `problem`) they add up to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from sqlalchemy.orm import Session

from recoup.ingest.columns import OPTIONAL, REQUIRED, Kind
from recoup.kit.money import MAX_MINOR, known_currencies
from recoup.ledger import service as ledger_service


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f" [{self.field}]" if self.field else "")
        return f"{where}: {self.problem}"


def column_problems(name: str, kind: Kind, frame: pl.DataFrame) -> list[RowError]:
    """Missing or unknown columns: problems with the file itself, which stop it whole."""
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


# Each helper returns a frame of errors (_line, field, problem).


def errors_where(
    frame: pl.DataFrame, mask: pl.Expr, column: str, problem: str | pl.Expr
) -> pl.DataFrame:
    problem_expr = pl.lit(problem) if isinstance(problem, str) else problem
    return frame.filter(mask).select(
        "_line", field=pl.lit(column), problem=problem_expr.cast(pl.String)
    )


def upper(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """A code given in any case ("cny") as its standard form ("CNY"), as the API takes it."""
    if column not in frame.columns:
        return frame
    return frame.with_columns(pl.col(column).str.to_uppercase())


def present(column: str) -> pl.Expr:
    return pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != "")


class Checker:
    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.found: list[pl.DataFrame] = []

    def add(self, mask: pl.Expr, column: str, problem: str | pl.Expr) -> None:
        found = errors_where(self.frame, mask, column, problem)
        if found.height:
            self.found.append(found)

    def required(self, columns: Sequence[str]) -> None:
        for column in columns:
            self.add(~present(column), column, "is required")

    def integer(self, column: str, *, positive: bool = False, optional: bool = False) -> None:
        value = pl.col(column).str.strip_chars()
        not_int = present(column) & ~value.str.contains(r"^-?[0-9]{1,18}$")
        self.add(not_int, column, pl.lit("is not an integer number of minor units: ") + value)
        parsed = value.str.to_integer(strict=False)
        self.add(
            ~not_int & present(column) & (parsed > MAX_MINOR),
            column,
            f"is more than {MAX_MINOR:,} minor units, the most an amount may be",
        )
        if positive:
            self.add(
                ~not_int & present(column) & (parsed <= 0), column, "must be greater than zero"
            )
        else:
            self.add(~not_int & present(column) & (parsed < 0), column, "must not be negative")
        if not optional:
            return

    def date(self, column: str) -> None:
        value = pl.col(column).str.strip_chars()
        parsed = value.str.to_date("%Y-%m-%d", strict=False)
        self.add(
            present(column) & parsed.is_null(),
            column,
            pl.lit("is not a date (YYYY-MM-DD): ") + value,
        )

    def one_of(self, column: str, allowed: Sequence[str]) -> None:
        value = pl.col(column).str.strip_chars()
        self.add(
            present(column) & ~value.is_in(list(allowed)),
            column,
            pl.lit(f"must be one of {', '.join(allowed)}; got ") + value,
        )

    def currency(self, column: str) -> None:
        """An ISO 4217 code (the caller upper-cased the column, as the API does)."""
        value = pl.col(column).str.strip_chars()
        self.add(
            present(column) & ~value.is_in(sorted(known_currencies())),
            column,
            pl.lit("is not an ISO 4217 currency code; got ") + value,
        )

    def unique(self, columns: Sequence[str], what: str) -> None:
        dup = ~pl.struct(columns).is_first_distinct() & pl.all_horizontal(
            present(c) for c in columns
        )
        self.add(dup, columns[-1], f"duplicate {what} in this file (first occurrence kept)")

    def account_total(self, typed: pl.DataFrame, amount: pl.Expr, recorded: pl.DataFrame) -> None:
        """An account's total over this file and what is `recorded` (`account_id`, `recorded_minor`)
        stays within `MAX_MINOR`: valid rows must not add up past what the ledger can sum. Every
        row of such an account is reported on `account_ref`."""
        totals = (
            typed.filter(pl.col("account_id").is_not_null())
            .group_by("account_id")
            .agg(file_minor=amount.cast(pl.Int128).sum())
            .join(recorded, on="account_id", how="left")
            .with_columns(
                total=pl.col("file_minor") + pl.col("recorded_minor").fill_null(0).cast(pl.Int128)
            )
            .filter(pl.col("total") > MAX_MINOR)
        )
        if totals.height:
            self.extend(
                errors_where(
                    typed,
                    pl.col("account_id").is_in(totals["account_id"].to_list()),
                    "account_ref",
                    f"the account's total would pass {MAX_MINOR:,} minor units, the most an "
                    "account may hold",
                )
            )

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


Checked = tuple[pl.DataFrame, pl.DataFrame, int]
"""What a kind's validation returns: the rows to write, the errors found, the rows already stored."""


def minor_units(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_integer(strict=False).fill_null(0)


def accounts_for(session: Session, refs: pl.Series) -> pl.DataFrame:
    """The accounts these rows name: `account_ref`, `account_id`, `account_currency`,
    `product_code` (bills and payments both check against them)."""
    found = ledger_service.accounts_by_ref(session, refs.drop_nulls().unique().to_list())
    return found.rename(
        {"external_ref": "account_ref", "id": "account_id", "currency": "account_currency"}
    )

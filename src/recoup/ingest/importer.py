"""Bulk import of customers, accounts, bills and payments from CSV or JSON Lines.

Rules a person can rely on:
- Every row is validated; each problem names the file, the line, the field and what is wrong.
- By default a file with any invalid row imports nothing. With `skip_invalid` the valid rows are imported
  and the rest reported. Problems with the file itself (encoding, missing or unknown columns) always
  stop that file.
- Re-importing a file imports nothing twice: rows whose key is already recorded are counted as
  `existing` (and reported as errors if their values differ).
- Writes are set-based, by the ledger; payments and bills are allocated by the same waterfall as the
  API, in bulk. Accounts already tracked by the daily pass have their delinquency recomputed from the
  earliest date the import touched; new accounts get theirs from the next `recoup run daily`.

The columns of each kind are in `columns.py`; reading files in `reading.py`; the checks shared by every
kind in `checks.py`; each kind's own checks and its hand-over to the ledger in `customers.py`,
`accounts.py`, `bills.py` and `payments.py`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from recoup.ingest import accounts, bills, customers, payments
from recoup.ingest.checks import Checked, RowError, column_problems
from recoup.ingest.columns import OPTIONAL, Kind, kind_of
from recoup.ingest.reading import read_table
from recoup.kit.clock import Clock
from recoup.kit.logging import get_logger
from recoup.ledger import flows as ledger_flows

Progress = Callable[[str, int], None]
log = get_logger(__name__)


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


class Importer:
    def __init__(
        self,
        session: Session,
        *,
        clock: Clock,
        progress: Progress | None = None,
        workers: int | None = None,
    ) -> None:
        """`workers`: processes checking customer rows (None: one per core)."""
        self.session = session
        self.workers = workers
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
        structural = column_problems(name, kind, frame)
        if structural or (file_errors and not frame.height):
            result.errors = file_errors + structural
            result.rejected_file = True
            return result
        for column in OPTIONAL[kind]:
            if column not in frame.columns:
                frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
        self.progress(f"validating {name}", frame.height)
        valid, errors, existing = self._validate(kind, frame)
        result.existing = existing
        result.errors = file_errors + [
            RowError(name, line, fld, problem) for line, fld, problem in errors.iter_rows()
        ]
        if result.errors and not skip_invalid:
            return result
        bad_lines = {e.line for e in result.errors}
        valid = valid.filter(~pl.col("_line").is_in(list(bad_lines)))
        self.progress(f"writing {name}", valid.height)
        result.imported = self._write(kind, valid)
        log.info(
            "ingest.file_imported",
            kind=str(kind),
            rows=result.rows,
            imported=result.imported,
            existing=result.existing,
            invalid=result.invalid_rows,
        )
        return result

    def _validate(self, kind: Kind, frame: pl.DataFrame) -> Checked:
        match kind:
            case Kind.customers:
                return customers.validate(
                    self.session, frame, now=self.clock.now(), workers=self.workers
                )
            case Kind.accounts:
                return accounts.validate(self.session, frame)
            case Kind.bills:
                return bills.validate(self.session, frame)
            case Kind.payments:
                return payments.validate(self.session, frame, now=self.clock.now())

    def _write(self, kind: Kind, valid: pl.DataFrame) -> int:
        """Hand the valid rows to the ledger; bills and payments then settle the accounts they
        touched."""
        match kind:
            case Kind.customers:
                return customers.write(self.session, valid, clock=self.clock)
            case Kind.accounts:
                return accounts.write(self.session, valid, clock=self.clock)
            case Kind.bills:
                count, touched = bills.write(self.session, valid, clock=self.clock)
            case Kind.payments:
                count, touched = payments.write(self.session, valid, clock=self.clock)
        self._settle(touched)
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


def write_report(path: Path, results: Sequence[ImportResult]) -> None:
    """The errors as CSV, readable by its owner only (created 0600; an older report's mode is
    reset): problems name lines and fields, and quote personal values only masked."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with open(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "field", "problem"])
        for result in results:
            for error in result.errors:
                writer.writerow([error.file, error.line, error.field, error.problem])

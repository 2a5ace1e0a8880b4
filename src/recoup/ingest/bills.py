"""Bill rows: each on a known account, with something due; a bill already stored with the same due
date and amount is `existing`, with different ones an error. The ledger writes them."""

from __future__ import annotations

import polars as pl
from sqlalchemy.orm import Session

from recoup.ingest.checks import (
    Checked,
    Checker,
    accounts_for,
    errors_where,
    minor_units,
    present,
)
from recoup.ingest.columns import REQUIRED, Kind
from recoup.kit.clock import Clock
from recoup.ledger import service as ledger_service


def validate(session: Session, frame: pl.DataFrame) -> Checked:
    check = Checker(frame)
    check.required(REQUIRED[Kind.bills])
    check.unique(["account_ref", "external_ref"], "bill external_ref for this account")
    check.date("due_date")
    for column in ("principal_minor", "interest_minor", "fees_minor"):
        check.integer(column)
    accounts = accounts_for(session, frame["account_ref"])
    check.add(
        present("account_ref") & ~pl.col("account_ref").is_in(accounts["account_ref"].to_list()),
        "account_ref",
        pl.lit("unknown account ") + pl.col("account_ref"),
    )
    typed = frame.join(accounts, on="account_ref", how="left").with_columns(
        due_date=pl.col("due_date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
        principal_minor=minor_units("principal_minor"),
        interest_minor=minor_units("interest_minor"),
        fees_minor=minor_units("fees_minor"),
        external_ref=pl.col("external_ref").str.strip_chars(),
    )
    check.extend(
        errors_where(
            typed,
            (pl.col("principal_minor") + pl.col("interest_minor") + pl.col("fees_minor")) == 0,
            "principal_minor",
            "a bill must have something due",
        )
    )
    recorded = ledger_service.bill_totals(session, accounts["account_id"].to_list()).rename(
        {"due_date": "known_due", "total_minor": "known_total"}
    )
    check.account_total(
        typed,
        pl.col("principal_minor") + pl.col("interest_minor") + pl.col("fees_minor"),
        recorded.group_by("account_id").agg(recorded_minor=pl.col("known_total").sum()),
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
        errors_where(
            typed, differs, "external_ref", "already imported with a different due date or amount"
        )
    )
    existing = typed.filter(known & ~differs).height
    return typed.filter(~known), check.errors(), existing


def write(session: Session, valid: pl.DataFrame, *, clock: Clock) -> tuple[int, pl.DataFrame]:
    """The rows stored, and the accounts they touched with the earliest due date (to settle)."""
    bills = valid.select(
        "account_id", "external_ref", "due_date", "principal_minor", "interest_minor", "fees_minor"
    )
    count = ledger_service.import_bills(session, bills, clock=clock)
    return count, valid.group_by("account_id").agg(since=pl.col("due_date").min())

"""Account rows: each names a known customer and product; the ledger writes them."""

from __future__ import annotations

import polars as pl
from sqlalchemy.orm import Session

from recoup.ingest.checks import Checked, Checker, errors_where, present, upper
from recoup.ingest.columns import REQUIRED, Kind
from recoup.kit.clock import Clock
from recoup.ledger import service as ledger_service
from recoup.models import AccountStatus, Collector


def validate(session: Session, frame: pl.DataFrame) -> Checked:
    frame = upper(frame, "currency")
    check = Checker(frame)
    check.required(REQUIRED[Kind.accounts])
    check.unique(["external_ref"], "external_ref")
    check.date("opened_date")
    check.date("closed_date")
    check.integer("credit_limit_minor")
    check.currency("currency")
    check.one_of("status", list(AccountStatus))
    check.one_of("collector", list(Collector))
    check.one_of("product", ledger_service.product_codes(session))
    customers = ledger_service.customer_ids_by_ref(
        session, frame["customer_ref"].drop_nulls().unique().to_list()
    )
    check.add(
        present("customer_ref")
        & ~pl.col("customer_ref").is_in(customers["external_ref"].to_list()),
        "customer_ref",
        pl.lit("unknown customer ") + pl.col("customer_ref"),
    )
    typed = frame.with_columns(
        opened_date=pl.col("opened_date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
        closed_date=pl.col("closed_date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
    )
    check.extend(
        errors_where(
            typed,
            pl.col("closed_date") < pl.col("opened_date"),
            "closed_date",
            "is before opened_date",
        )
    )
    known = ledger_service.account_ids_by_ref(
        session, frame["external_ref"].drop_nulls().unique().to_list()
    )
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


def write(session: Session, valid: pl.DataFrame, *, clock: Clock) -> int:
    accounts = valid.select(
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
    )
    return ledger_service.import_accounts(session, accounts, clock=clock)

"""Payment rows: each on a known account, in its currency, received with an offset and not in the
future; a payment already stored with the same account and amount is `existing`, with different
ones an error. The ledger writes them with their value dates."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

from recoup.ingest.checks import (
    Checked,
    Checker,
    accounts_for,
    errors_where,
    minor_units,
    present,
    upper,
)
from recoup.ingest.columns import REQUIRED, Kind
from recoup.kit.clock import Clock
from recoup.ledger import service as ledger_service
from recoup.models import PaymentSource


def validate(session: Session, frame: pl.DataFrame, *, now: dt.datetime) -> Checked:
    frame = upper(frame, "currency")
    check = Checker(frame)
    check.required(REQUIRED[Kind.payments])
    check.unique(["external_id"], "external_id")
    check.integer("amount_minor", positive=True)
    check.currency("currency")
    check.one_of("source", list(PaymentSource))
    received, bad_times = _parse_instants(frame, now)
    check.extend(bad_times)
    accounts = accounts_for(session, frame["account_ref"])
    check.add(
        present("account_ref") & ~pl.col("account_ref").is_in(accounts["account_ref"].to_list()),
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
            amount_minor=minor_units("amount_minor"),
            external_id=pl.col("external_id").str.strip_chars(),
        )
    )
    check.extend(
        errors_where(
            typed,
            pl.col("account_currency").is_not_null()
            & (pl.col("currency") != pl.col("account_currency")),
            "currency",
            pl.lit("does not match the account's currency ") + pl.col("account_currency"),
        )
    )
    check.account_total(
        typed,
        pl.col("amount_minor"),
        ledger_service.paid_totals(session, typed["account_id"].drop_nulls().unique().to_list()),
    )
    recorded = ledger_service.payments_by_external_id(
        session, typed["external_id"].drop_nulls().to_list()
    ).rename({"account_id": "known_account", "amount_minor": "known_amount"})
    typed = typed.join(recorded, on="external_id", how="left")
    known = pl.col("known_amount").is_not_null()
    differs = known & (
        (pl.col("known_amount") != pl.col("amount_minor"))
        | (pl.col("known_account") != pl.col("account_id"))
    )
    check.extend(
        errors_where(
            typed, differs, "external_id", "already recorded with a different account or amount"
        )
    )
    existing = typed.filter(known & ~differs).height
    return typed.filter(~known), check.errors(), existing


def write(session: Session, valid: pl.DataFrame, *, clock: Clock) -> tuple[int, pl.DataFrame]:
    """The rows stored, and the accounts they touched with the earliest value date (to settle)."""
    payments = valid.select(
        "account_id",
        "product_code",
        "external_id",
        "amount_minor",
        "currency",
        "received_at",
        source=pl.col("source").fill_null(str(PaymentSource.wallet)),
    )
    stored = ledger_service.import_payments(session, payments, clock=clock)
    return stored.height, stored.group_by("account_id").agg(since=pl.col("value_date").min())


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

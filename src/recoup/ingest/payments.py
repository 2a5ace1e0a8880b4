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


# A time as wallets write it, which Polars parses exactly as `datetime.fromisoformat` does: a date
# and time with `T`, seconds, up to six digits of fraction, and `Z` or an offset of hours and
# minutes. Anything else (other separators, offsets with seconds, years outside 1900-2199, a 60th
# second, an offset of 24 hours) is parsed one by one (`_parse_one_by_one`), which reports it.
_PLAIN_INSTANT = (
    r"^(?:19|20|21)\d\d-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)


def _parse_instants(frame: pl.DataFrame, now: dt.datetime) -> tuple[pl.Series, pl.DataFrame]:
    """`received_at` as UTC instants, and the problems (`_line`, `received_at`, what): the plain
    values set-wise, the rest by `_parse_one_by_one`; a test holds the two equal."""
    latest = (now + dt.timedelta(minutes=5)).astimezone(dt.UTC).replace(tzinfo=None)
    text = pl.col("received_at")
    offset = text.str.extract_groups(r"([+-])(\d\d):(\d\d)$")
    offset_minutes = (
        pl.when(offset.struct.field("1") == "-").then(-1).otherwise(1)
        * (offset.struct.field("2").cast(pl.Int64) * 60 + offset.struct.field("3").cast(pl.Int64))
    ).fill_null(0)  # `Z`
    micros = text.str.extract(r"\.(\d{1,6})", 1).str.pad_end(6, "0").cast(pl.Int64).fill_null(0)
    local = text.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False)
    parsed = frame.select(
        "_line",
        raw=text,
        plain=text.str.contains(_PLAIN_INSTANT).fill_null(False) & local.is_not_null(),
        utc=local + pl.duration(microseconds=micros) - pl.duration(minutes=offset_minutes),
    ).with_columns(utc=pl.when("plain").then("utc"))
    future = parsed.filter(pl.col("utc") > latest).select(
        "_line", field=pl.lit("received_at"), problem=pl.lit("is in the future: ") + pl.col("raw")
    )
    values = parsed["utc"]
    others = parsed.with_row_index("_at").filter(~pl.col("plain"))
    problems = [future]
    if others.height:
        rest = frame[others["_at"]]
        slow, slow_problems = _parse_one_by_one(rest, now)
        values = values.scatter(others["_at"], slow.dt.replace_time_zone(None))
        problems.append(slow_problems)
    series = values.alias("received_at").dt.replace_time_zone("UTC")
    found = pl.concat(
        [p.select("_line", "field", "problem").cast({"_line": pl.Int64}) for p in problems]
    ).sort("_line", maintain_order=True)
    return series, found


def _parse_one_by_one(frame: pl.DataFrame, now: dt.datetime) -> tuple[pl.Series, pl.DataFrame]:
    """Each `received_at` through `datetime.fromisoformat`, with its problem if it has one."""
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
        try:
            parsed = parsed.astimezone(dt.UTC)
        except OverflowError:  # a year 9999 with an offset west of UTC
            problems.append((line, "received_at", f"is out of range: {raw}"))
            values.append(None)
            continue
        if parsed > latest:
            problems.append((line, "received_at", f"is in the future: {raw}"))
        values.append(parsed.replace(tzinfo=None))
    series = pl.Series("received_at", values, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")
    return series, pl.DataFrame(
        problems,
        schema={"_line": pl.Int64, "field": pl.String, "problem": pl.String},
        orient="row",
    )

"""Bulk imports: the set-based counterparts of create_customer, create_account, add_bill and
record_payment for rows a caller has already validated (the file importer). Lookups take and
return frames; allocation and delinquency are the caller's next step (`reallocate_many`)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

from recoup.kit.clock import Clock
from recoup.ledger import repository
from recoup.ledger.repository import PaymentRepository, ProductRepository


def customer_ids_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id` of the customers with these references."""
    return repository.customer_ids_by_ref(session, refs)


def account_ids_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id` of the accounts with these references."""
    return repository.account_ids_by_ref(session, refs)


def accounts_by_ref(session: Session, refs: list[str]) -> pl.DataFrame:
    """`external_ref`, `id`, `currency`, `product_code` of the accounts with these references."""
    return repository.accounts_by_ref(session, refs)


def bill_totals(session: Session, account_ids: list[int]) -> pl.DataFrame:
    """`account_id`, `external_ref`, `due_date`, `total_minor` of these accounts' bills."""
    return repository.bill_totals(session, account_ids)


def paid_totals(session: Session, account_ids: list[int]) -> pl.DataFrame:
    """`account_id`, `recorded_minor`: everything already paid into these accounts."""
    paid = PaymentRepository(session).paid(account_ids)
    return pl.DataFrame(
        {"account_id": list(paid), "recorded_minor": list(paid.values())},
        schema={"account_id": pl.Int64, "recorded_minor": pl.Int64},
    )


def payments_by_external_id(session: Session, external_ids: list[str]) -> pl.DataFrame:
    """`external_id`, `account_id`, `amount_minor` of the payments with these external ids."""
    return repository.payments_by_external_id(session, external_ids)


def import_customers(
    session: Session,
    customers: pl.DataFrame,
    *,
    phones: pl.DataFrame,
    emails: pl.DataFrame,
    addresses: pl.DataFrame,
    clock: Clock,
    sealed: bool = False,
) -> int:
    """Store new customers and their contacts, values in plain text (sealed on the way in), or
    already sealed and indexed by `ledger.sealing` when `sealed` (a file import's workers).

    `customers`: `external_ref`, `name`, `national_id`, `preferred_language`, `jurisdiction`,
    `timezones`, optionally `birth_year` and `sex`. The contacts name their customer by `customer_ref` (its external_ref):
    `phones` (`position`, `number` in E.164, `type`, `source`), `emails` (`position`, `address`,
    `source`), `addresses` (`position`, `country`, `region`, `city`, `postal_code`, `line`)."""
    if customers.height == 0:
        return 0
    repository.insert_customers(
        session, customers.with_columns(created_at=_instant(clock.now())), sealed=sealed
    )
    ids = repository.customer_ids_by_ref(session, customers["external_ref"].to_list())

    def owned(contacts: pl.DataFrame) -> pl.DataFrame:
        customer_id = pl.col("customer_ref").replace_strict(
            ids["external_ref"], ids["id"], return_dtype=pl.Int64
        )
        return contacts.select(customer_id.alias("customer_id"), pl.exclude("customer_ref"))

    repository.insert_customer_phones(session, owned(phones), sealed=sealed)
    repository.insert_customer_emails(session, owned(emails), sealed=sealed)
    repository.insert_customer_addresses(session, owned(addresses), sealed=sealed)
    return customers.height


def import_accounts(session: Session, accounts: pl.DataFrame, *, clock: Clock) -> int:
    """Store new accounts: the `accounts` columns but `id` and `created_at`."""
    return repository.insert_accounts(
        session, accounts.with_columns(created_at=_instant(clock.now()))
    )


def import_bills(session: Session, bills: pl.DataFrame, *, clock: Clock) -> int:
    """Store new bills: `account_id`, `external_ref`, `due_date` and the three components."""
    return repository.insert_bills(session, bills.with_columns(created_at=_instant(clock.now())))


def import_payments(session: Session, payments: pl.DataFrame, *, clock: Clock) -> pl.DataFrame:
    """Store new payments: `account_id`, `product_code`, `external_id`, `amount_minor`,
    `currency`, `received_at`, `source`. Each gets its value date in its product's time zone, as
    `record_payment` gives it. Returns the rows stored, `value_date` included."""
    now = clock.now()
    zones = ProductRepository(session).timezones()
    with_dates = (
        pl.concat(
            [
                part.with_columns(
                    value_date=pl.col("received_at").dt.convert_time_zone(zones[code]).dt.date()
                )
                for (code,), part in payments.group_by(["product_code"])
            ]
        )
        if payments.height
        else payments.with_columns(value_date=pl.lit(None, dtype=pl.Date))
    )
    out = with_dates.select(
        "account_id",
        "external_id",
        "amount_minor",
        "currency",
        "received_at",
        "value_date",
        "source",
        created_at=_instant(now),
    )
    repository.insert_payments(session, out)
    return out


def _instant(at: dt.datetime) -> pl.Expr:
    """`at` on every row, as a UTC instant column (one value broadcast, not a Python list)."""
    naive = at.astimezone(dt.UTC).replace(tzinfo=None)
    return pl.lit(naive, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")

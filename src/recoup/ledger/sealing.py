"""Sealing a customer's personal values for the bulk writes: the AES-GCM seals (each bound to its
column, as `EncryptedString` seals them) and the blind indexes, frame in, frame out.

Pure functions of the installed keyring, with no database: the repository seals through them
on the way in (`insert_customers` and its three contact tables), and the file import runs them
in the worker processes that check its rows, which are given the keyring's active key and index
key for that (`Keyring.for_sealing`), so sealed values come back ready to write and the
importing process seals nothing. tests/ingest/test_sealed_rows.py opens what the workers seal.
"""

from __future__ import annotations

import polars as pl

from recoup.kit.crypto import EncryptedString
from recoup.kit.indexes import email_index, national_id_index, phone_index

CUSTOMER_COLUMNS = ("name", "national_id")
ADDRESS_COLUMNS = ("city", "postal_code", "line")


def _sealed(context: str, values: list[str | None]) -> pl.Series:
    return pl.Series(EncryptedString(context).seal_many(values), dtype=pl.Binary)


def customers(frame: pl.DataFrame) -> pl.DataFrame:
    """`name` and `national_id` sealed (an empty ID is none), `national_id_index` added."""
    national_ids = [n or None for n in frame["national_id"].to_list()]
    return frame.with_columns(
        name=_sealed("customers.name", frame["name"].to_list()),
        national_id=_sealed("customers.national_id", national_ids),
        national_id_index=pl.Series(
            [national_id_index(n) if n else None for n in national_ids], dtype=pl.String
        ),
    )


def phones(frame: pl.DataFrame) -> pl.DataFrame:
    """`number` (E.164) sealed, `number_index` added."""
    numbers = frame["number"].to_list()
    return frame.with_columns(
        number=_sealed("customer_phones.number", numbers),
        number_index=pl.Series([phone_index(n) for n in numbers], dtype=pl.String),
    )


def emails(frame: pl.DataFrame) -> pl.DataFrame:
    """`address` sealed, `address_index` added."""
    mailboxes = frame["address"].to_list()
    return frame.with_columns(
        address=_sealed("customer_emails.address", mailboxes),
        address_index=pl.Series([email_index(m) for m in mailboxes], dtype=pl.String),
    )


def addresses(frame: pl.DataFrame) -> pl.DataFrame:
    """`city`, `postal_code` and `line` sealed (an empty text is none)."""
    return frame.with_columns(
        _sealed(f"customer_addresses.{column}", [v or None for v in frame[column].to_list()]).alias(
            column
        )
        for column in ADDRESS_COLUMNS
    )

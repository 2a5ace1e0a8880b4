"""CPU per customer row: reading the CSV file, checking the rows in this process (and checking
and sealing them, as the import does), and parsing the phone numbers alone (set-wise with
`contacts.parse_phones`, one by one with the E.164 shortcut and with `phonenumbers.parse` only).

    .venv/bin/python -m benchmarks.bench_customer_rows --customers 10000

CPU seconds (`time.process_time`), so the figures hold on a machine busy with other work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import phonenumbers
import polars as pl

from benchmarks.bench_import import write_files
from recoup.ingest import customers
from recoup.ingest.columns import OPTIONAL, Kind
from recoup.ingest.reading import read_table
from recoup.kit import crypto
from recoup.ledger import contacts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=10_000)
    n = parser.parse_args().customers
    with tempfile.TemporaryDirectory() as tmp:
        path = write_files(Path(tmp), n)[Kind.customers]
        cpu = time.process_time()
        frame, _ = read_table(path)
        print(f"  read the file   {(time.process_time() - cpu) / n * 1e6:6.1f} µs CPU a row")
    for column in OPTIONAL[Kind.customers]:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    cpu = time.process_time()
    customers.check_rows(frame, now=now, workers=1)
    print(f"  check the rows  {(time.process_time() - cpu) / n * 1e6:6.1f} µs CPU a row")
    crypto.install_keyring(crypto.Keyring.generate(development=True))
    cpu = time.process_time()
    customers.check_and_seal_rows(frame, now=now, workers=1)
    print(f"  check and seal  {(time.process_time() - cpu) / n * 1e6:6.1f} µs CPU a row")
    numbers = frame["phones"].to_list()
    cpu = time.process_time()
    contacts.parse_phones(numbers)
    print(
        f"  parse_phones, set-wise        {(time.process_time() - cpu) / n * 1e6:6.1f} µs CPU a number"
    )
    shortcut = contacts._parse
    for label, parse in (("E.164 shortcut", shortcut), ("library parse", phonenumbers.parse)):
        contacts._parse = parse
        try:
            cpu = time.process_time()
            for number in numbers:
                contacts.parse_phone(number, "CN")
            print(
                f"  parse_phone, {label:<14} "
                f"{(time.process_time() - cpu) / n * 1e6:6.1f} µs CPU a number"
            )
        finally:
            contacts._parse = shortcut


if __name__ == "__main__":
    main()

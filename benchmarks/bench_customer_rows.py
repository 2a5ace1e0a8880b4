"""CPU per customer row: reading the CSV file, checking the rows in this process (and checking
and sealing them, as the import does), and parsing the phone numbers alone (set-wise with
`contacts.parse_phones`, one by one with the E.164 shortcut and with `phonenumbers.parse` only).

    .venv/bin/python -m benchmarks.bench_customer_rows --customers 10000

CPU seconds (`time.process_time`), so the figures hold on a machine busy with other work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
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
    crypto.install_keyring(crypto.Keyring.generate(development=True))
    numbers = frame["phones"].to_list()
    steps = {
        "check the rows": lambda: customers.check_rows(frame, now=now, workers=1),
        "check and seal": lambda: customers.check_and_seal_rows(frame, now=now, workers=1),
        "parse_phones, set-wise": lambda: contacts.parse_phones(numbers),
    }
    for label, step in steps.items():
        # The best of three, each after a full collection: the first call of a process pays for
        # the numbering plan's and the zones' lazy loading, and one step's garbage is not
        # collected in the next one's time.
        spent = []
        for _ in range(3):
            gc.collect()
            cpu = time.process_time()
            step()
            spent.append(time.process_time() - cpu)
        print(
            f"  {label:<28} {min(spent) / n * 1e6:6.1f} µs CPU a row (first {spent[0] / n * 1e6:.1f})"
        )
    shortcut = contacts._parse
    for label, parse in (("E.164 shortcut", shortcut), ("library parse", phonenumbers.parse)):
        contacts._parse = parse
        try:
            gc.collect()
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

"""Files to frames: CSV or JSON Lines, every value a string, plus `_line`, the file line each row
starts on (so every error can name it). A line that cannot be read at all becomes a `RowError`.

Every value is read in its canonical form, once, here: surrounding white space removed and an empty
value missing. What the checks compare and count is then what the ledger stores (a reference given
as ` a-1 ` and `a-1` is one reference, found a duplicate by the checks, not by the database)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import polars as pl

from recoup.ingest.checks import RowError


def read_table(path: Path) -> tuple[pl.DataFrame, list[RowError]]:
    """All values as strings plus `_line`, the file line each row starts on."""
    name = path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return pl.DataFrame(), [
            RowError(name, line, "", f"not UTF-8 (byte {exc.start}); save the file as UTF-8")
        ]
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return _read_jsonl(name, text)
    return _read_csv(name, text)


def _canonical(text: str) -> str | None:
    text = text.strip()
    return text or None


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return _canonical(";".join(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return _canonical(str(value))


def _read_jsonl(name: str, text: str) -> tuple[pl.DataFrame, list[RowError]]:
    rows: list[dict[str, str | None]] = []
    errors: list[RowError] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(name, number, "", f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            errors.append(RowError(name, number, "", "each line must be a JSON object"))
            continue
        row: dict[str, str | None] = {k: _cell(v) for k, v in record.items()}
        row["_line"] = str(number)
        columns.update(dict.fromkeys(row))
        rows.append(row)
    frame = pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String)
    )
    if "_line" in frame.columns:
        frame = frame.with_columns(pl.col("_line").cast(pl.Int64))
    return frame, errors


# What `str.strip()` removes (every character whose `isspace()` is true), for Polars to strip the
# same; tests/ingest/test_reading.py checks the list against Python's own.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _read_csv(name: str, text: str) -> tuple[pl.DataFrame, list[RowError]]:
    if not any(c in text for c in '"\r\x00'):
        plain = _read_plain_csv(name, text)
        if plain is not None:
            return plain
    return _read_any_csv(name, text)


def _read_any_csv(name: str, text: str) -> tuple[pl.DataFrame, list[RowError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return pl.DataFrame(), [RowError(name, 1, "", "the file is empty")]
    except csv.Error as exc:
        return pl.DataFrame(), [RowError(name, 1, "", f"unreadable header ({exc})")]
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    errors: list[RowError] = []
    previous_end = reader.line_num
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not record:
                continue
            if len(record) != width:
                errors.append(
                    RowError(name, start, "", f"has {len(record)} fields, the header has {width}")
                )
                continue
            lines.append(start)
            for i, value in enumerate(record):
                columns[i].append(_canonical(value))
    except csv.Error as exc:
        errors.append(RowError(name, reader.line_num, "", f"unreadable CSV ({exc})"))
    frame = pl.DataFrame(
        {h: columns[i] for i, h in enumerate(header)}, schema=dict.fromkeys(header, pl.String)
    ).with_columns(_line=pl.Series(lines, dtype=pl.Int64))
    return frame, errors


def _read_plain_csv(name: str, text: str) -> tuple[pl.DataFrame, list[RowError]] | None:
    """`_read_any_csv` for a file without quotes, carriage returns or NUL (most machine-written
    files), where each line is one record and a comma always separates fields: split by Polars,
    with the same lines, values and errors as the `csv` module's reader gives. None: a file this
    reading is not sure of (an empty header, a repeated column, a field longer than the `csv`
    module's limit), left to the `csv` module."""
    lines = text.split("\n")
    header = [h.strip() for h in lines[0].split(",")]
    width = len(header)
    if not lines[0] or len(set(header)) != width or "_line" in header:
        return None
    texts = pl.Series("text", lines[1:], dtype=pl.String)
    longest: int = texts.str.len_chars().max() or 0  # type: ignore[assignment]
    if longest > csv.field_size_limit():
        return None
    records = (
        texts.to_frame()
        .with_columns(_line=pl.int_range(2, len(lines) + 1, dtype=pl.Int64))
        .filter(pl.col("text") != "")  # an empty line is no record
        .with_columns(fields=pl.col("text").str.split(","))
        .with_columns(count=pl.col("fields").list.len())
    )
    errors = [
        RowError(name, line, "", f"has {count} fields, the header has {width}")
        for line, count in records.filter(pl.col("count") != width)
        .select("_line", "count")
        .iter_rows()
    ]
    records = records.filter(pl.col("count") == width)
    frame = records.select(
        *[
            pl.col("fields").list.get(i).str.strip_chars(WHITESPACE).replace("", None).alias(h)
            for i, h in enumerate(header)
        ],
        "_line",
    )
    return frame, errors

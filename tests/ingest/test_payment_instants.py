"""A payments file's `received_at`: the set-wise parse gives the instants and problems that
`datetime.fromisoformat`, one value at a time, gives."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from recoup.ingest.payments import _parse_instants, _parse_one_by_one

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

YEARS = ["1899", "1900", "2026", "2199", "2200", "9999", "0000", "0001", "20x6"]
MONTHS = ["00", "01", "02", "06", "12", "13", "1"]
DAYS = ["00", "01", "28", "29", "30", "31", "32"]
HOURS = ["00", "09", "12", "23", "24"]
MINUTES = ["00", "05", "59", "60"]
SECONDS = ["00", "01", "59", "60", "61"]
FRACTIONS = ["", ".1", ".12", ".123", ".123456", ".1234567", ".", ",123", ".12a"]
ZONES = ["Z", "z", "+08:00", "-05:30", "+23:59", "+24:00", "+08:60", "+0800", "", "+08:00:30"]
ZONES += ["-00:00", "+00:00", "+8:00", "-12:00", "+14:00", " Z"]
SEPARATORS = ["T", " ", "t", "_"]
EDGES = [
    None,
    "",
    "   ",
    " 2026-02-05T10:30:00+08:00",
    "2026-02-05T10:30:00+08:00 ",
    "\u30002026-02-05T10:30:00+08:00",
    "2026-02-05T10:30:00+08:00\n",
    "2026-02-05",
    "2026-02-05T10:30",
    "2026-02-05T10:30Z",
    "2026-02-05T10Z",
    "20260205T103000Z",
    "2026-W06-4T10:30:00Z",
    "2026-06-01T12:05:00Z",  # NOW + 5 minutes: not in the future
    "2026-06-01T12:05:00.000001Z",  # a microsecond past it: in the future
    "2026-06-01T20:05:00+08:00",
    "2026-06-01T20:05:00.000001+08:00",
    "2026-06-01T07:05:00-05:00",
    "2026-06-01T07:05:00.000001-05:00",
    "2024-02-29T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2000-02-29T23:59:59.999999-23:59",
    "1900-01-01T00:00:00+23:59",
    "9999-12-31T23:00:00-05:00",  # past the last instant Python holds
    "nonsense",
    "２０２６-02-05T10:30:00Z",  # full-width digits
]


def inputs(count: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    values: list[str | None] = list(EDGES)
    for _ in range(count):
        values.append(
            f"{rng.choice(YEARS)}-{rng.choice(MONTHS)}-{rng.choice(DAYS)}{rng.choice(SEPARATORS)}"
            f"{rng.choice(HOURS)}:{rng.choice(MINUTES)}:{rng.choice(SECONDS)}"
            f"{rng.choice(FRACTIONS)}{rng.choice(ZONES)}"
        )
    # Mostly plain values, as files hold them, with a few of the others among them.
    for _ in range(count):
        instant = NOW + dt.timedelta(seconds=rng.randint(-(10**9), 10**6))
        zone = dt.timezone(dt.timedelta(minutes=rng.choice([0, 480, -300, 330, -720, 840])))
        text = instant.astimezone(zone).isoformat(timespec=rng.choice(["seconds", "microseconds"]))
        values.append(text.replace("+00:00", "Z") if rng.random() < 0.3 else text)
    return values


class TestReceivedAtParsedSetWise:
    def test_instants_and_problems_equal_parsing_each_value(self) -> None:
        """Fails when the fraction is not padded to microseconds, when the years' bound is
        dropped (year 0000 and 9999 taken set-wise) or when the offset's bounds are (an offset
        of 24 hours or 60 minutes taken set-wise): each removed once and seen failing."""
        values = inputs(6_000, seed=23)
        frame = pl.DataFrame(
            {"_line": range(2, len(values) + 2), "received_at": values},
            schema={"_line": pl.Int64, "received_at": pl.String},
        )
        got, got_problems = _parse_instants(frame, NOW)
        expected, expected_problems = _parse_one_by_one(frame, NOW)
        assert got.dtype == expected.dtype
        assert got.to_list() == expected.to_list()
        assert got_problems.to_dicts() == expected_problems.to_dicts()
        # The inputs reach both roads: the set-wise one and the one by one.
        assert got.drop_nulls().len() > 3_000
        assert got_problems.height > 2_000
        assert "is in the future" in " ".join(got_problems["problem"])

    def test_a_file_of_plain_times_never_goes_one_by_one(self) -> None:
        """The fast road is taken: a file of plain times is not parsed value by value."""
        import recoup.ingest.payments as payments

        frame = pl.DataFrame(
            {
                "_line": [2, 3, 4],
                "received_at": [
                    "2026-02-05T10:30:00+08:00",
                    "2026-02-05T10:30:00.5Z",
                    "2026-05-31T23:59:59.123456-05:30",
                ],
            }
        )
        original = payments._parse_one_by_one
        payments._parse_one_by_one = None  # type: ignore[assignment]
        try:
            got, problems = _parse_instants(frame, NOW)
        finally:
            payments._parse_one_by_one = original
        assert problems.height == 0
        assert got.to_list() == [
            dt.datetime(2026, 2, 5, 2, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 2, 5, 10, 30, 0, 500_000, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 1, 5, 29, 59, 123_456, tzinfo=dt.UTC),
        ]

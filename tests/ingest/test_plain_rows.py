"""Plain customer rows built without the model (`customers.plain_rows`, `_plain_person`) come out
as the model makes them: on hostile rows the same problems (line, field, what) and the same values
for the valid rows as checking every row through `CustomerCreate`."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from recoup.ingest import customers
from recoup.ingest.columns import OPTIONAL, REQUIRED, Kind
from recoup.ingest.customer_rows import RowsChecked, check_chunk

NOW = dt.datetime(2026, 4, 1, 3, 4, 5, tzinfo=dt.UTC)
COLUMNS = REQUIRED[Kind.customers] + OPTIONAL[Kind.customers]

# Values at the edges of what `plain_rows` vouches for, good and bad. Each column draws from its
# list, the first values (the common ones) most often.
VALUES: dict[str, list[str | None]] = {
    "external_ref": [
        "c{i}",
        "c{i}",
        "u-{i}:x/y@z.w",
        "c {i}",
        "",
        " c{i}",
        "c{i}!",
        "身份{i}",
        "r" * 128 + "{i}",
        "c{i}\x00",
        "c{i}\n",
    ],
    "name": [
        "王伟",
        "李娜",
        "Ann Lee",
        " 李娜 ",
        "\u3000王伟",
        "王伟\x1c",
        "",
        "n" * 256,
        "n" * 257,
        "a\x00b",
        "\u00a0x",
        "x\u200b",
        "\u0085y",
    ],
    "national_id": [None, "440305199001011234", "1" * 64, "1" * 65, " 44", "4\t", ""],
    "phones": [
        "+8613812345678",
        "+8613812345678",
        None,
        "+16175550199",
        "+86 755 8888 6666",
        "12",
        "+999",
        "+8601234",
        "mobile:+8613912345678",
        "+8613912345678;+862088886666",
        "+86138123456789",
        "+0861381234567",
        "+4420794600000",
        "+8613812345678\n",
        "",
    ],
    "emails": [
        None,
        "a@b.cn",
        "A@EXAMPLE.COM;b@c.io",
        "no-email",
        " a@b.cn ",
        "a@b",
        "x" * 250 + "@b.cn",
        "a@B.CN;;",
        ";".join(f"m{k}@b.cn" for k in range(21)),
    ],
    "country": [None, "CN", "cn", "US", "CHN", "C", " CN", "c1"],
    "region": [None, "GD", "r" * 16, "r" * 17, " GD", "GD "],
    "city": [None, "深圳", "c" * 128, "c" * 129, "深圳\u3000"],
    "postal_code": [None, "518000", "p" * 32, "p" * 33],
    "address_line": [None, "深南大道1号", "l" * 512, "l" * 513, "\t深南"],
    "jurisdiction": ["CN", "CN", "US-MA", "cn", "C", "CN\n", " CN", "GB-ENG-XYZ", "CN-1234", ""],
    "preferred_language": [None, "zh-CN", "en", "zh-TW", " en", "EN", "fr", ""],
    "timezones": [
        None,
        None,
        "Asia/Shanghai",
        "Mars/Base",
        "Asia/Shanghai;America/New_York",
        " Asia/Shanghai",
        "UTC;;",
    ],
    "birth_year": [None, None, "1990", "0994", "1899", "2026", "2027", "19x0", " 1990", "+1990"],
    "birth_date": [
        None,
        None,
        "1990-03-01",
        "2999-01-01",
        "1990-13-01",
        "1990-02-30",
        "1991-01-01",
        "1990-3-1",
        "0000-01-01",
    ],
    "sex": [None, None, "f", "M", "x", "Q", " F", "FM"],
    "consents": [None, None, None, "electronic:sms", "bogus"],
    "consent_evidence": [None, None, "call ref 12", " call "],
}


def _rows(n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)

    def draw(options: list[str | None], i: int, odd: float) -> str | None:
        k = rng.randrange(len(options)) if rng.random() < odd else 0
        value = options[k]
        return None if value is None else value.replace("{i}", str(i))

    rows = []
    for i in range(n):
        odd = rng.choice([0.02, 0.1, 0.4])  # how hostile this row is
        rows.append({c: draw(VALUES[c], i, odd) for c in COLUMNS})
    return pl.DataFrame(
        {c: [r[c] for r in rows] for c in COLUMNS}, schema=dict.fromkeys(COLUMNS, pl.String)
    ).with_columns(_line=pl.int_range(2, n + 2, dtype=pl.Int64))


def _model_only(frame: pl.DataFrame) -> RowsChecked:
    """Every row through the model: the check as it was before plain rows."""
    return check_chunk(frame.columns, frame.rows(), NOW)


class TestPlainRows:
    def test_plain_rows_give_what_the_model_gives(self) -> None:
        """Catches a plain row built differently from the model's (a country left in lower case,
        white space kept that the model strips, a zone inferred from the wrong country, a year
        or a default language missed) and a row vouched for that the model refuses (a length,
        a pattern or NUL let through): both make the two checks differ."""
        for seed in range(4):
            frame = _rows(1_500, seed)
            plain = customers.plain_rows(frame)
            new = customers.check_rows(frame, now=NOW, workers=1)
            old = _model_only(frame)
            assert new.problems == old.problems
            assert new.lines == old.lines
            assert new.people == old.people
            # The fast path was taken for a good share of rows, and the model refused some rows.
            assert plain.sum() > 200
            assert len(old.problems) > 300

    def test_the_common_row_is_plain(self) -> None:
        """A wallet's usual row (the benchmark's) is vouched for, so its import skips the model."""
        frame = pl.DataFrame(
            {
                "external_ref": ["ic1"],
                "name": ["王伟"],
                "national_id": ["440305199001011234"],
                "phones": ["+8613800000001"],
                "emails": ["ic1@example.cn"],
                "country": ["CN"],
                "region": ["GD"],
                "city": ["深圳"],
                "postal_code": ["518000"],
                "jurisdiction": ["CN"],
                "_line": [2],
            }
        )
        assert customers.plain_rows(frame).to_list() == [True]
        checked = customers.check_rows(frame, now=NOW, workers=1)
        assert checked == _model_only(frame)
        assert checked.people[0].timezones == ("Asia/Shanghai",)

    def test_columns_not_all_text_are_left_to_the_model(self) -> None:
        frame = pl.DataFrame(
            {
                "external_ref": ["a"],
                "name": ["b"],
                "jurisdiction": ["CN"],
                "birth_year": [1990],
                "_line": [2],
            }
        )
        assert customers.plain_rows(frame).to_list() == [False]

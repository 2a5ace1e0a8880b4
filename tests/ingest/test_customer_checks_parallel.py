"""Customer rows checked by a pool of processes come out as the serial check gives them: the same
problems (line, field, what) in file order, the same values for the valid rows."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from recoup.ingest import customers
from recoup.ingest.columns import OPTIONAL, REQUIRED, Kind

NOW = dt.datetime(2026, 4, 1, 3, 4, 5, tzinfo=dt.UTC)
COLUMNS = REQUIRED[Kind.customers] + OPTIONAL[Kind.customers]


def _rows(n: int) -> pl.DataFrame:
    """Good rows and hostile ones: bad phones, NUL, long names, bad e-mails, dates, zones."""
    rng = random.Random(23)
    phones = ["+8613812345678", "+86 755 8888 6666", "+1 617 555 0199", "12", "+999", "+86\x00"]
    phones += ["mobile:+8613912345678;home:+862088886666", "+8601234", "x" * 300, ""]

    def pick(good: str | None, *bad: str | None) -> str | None:
        return good if rng.random() < 0.9 else rng.choice(bad)

    rows = []
    for i in range(n):
        rows.append(
            {
                "external_ref": pick(f"c{i}", f"c {i}", "", f"c{i}!"),
                "name": pick(rng.choice(["王伟", " 李娜 "]), "", "n" * 300, "a\x00b"),
                "national_id": pick(rng.choice([None, "440305199001011234"]), "1" * 80),
                "phones": pick(rng.choice(phones[:3] + phones[6:7]), *phones[3:]),
                "emails": pick(rng.choice([None, "a@b.cn", "A@EXAMPLE.COM;b@c.io"]), "no-email"),
                "country": pick(rng.choice([None, "CN", "cn"]), "CHN"),
                "jurisdiction": pick(rng.choice(["CN", "US-MA"]), "cn", "C"),
                "birth_date": pick(rng.choice([None, "1990-03-01"]), "2999-01-01", "1990-13-01"),
                "sex": pick(rng.choice([None, "f"]), "Q"),
                # No consents: their rules' import would cost each worker seconds, and the
                # row checks themselves are the serial ones (tests/ingest/test_customer_rows.py).
                "timezones": pick(rng.choice([None, "Asia/Shanghai"]), "Mars/Base"),
            }
        )
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in COLUMNS}, schema=dict.fromkeys(COLUMNS, pl.String)
    ).with_columns(_line=pl.int_range(2, n + 2, dtype=pl.Int64))


class TestParallelCheck:
    def test_pool_gives_what_the_serial_check_gives(self) -> None:
        """Catches a pool that loses, reorders or alters rows or problems (chunks joined out of
        order, a chunk dropped, problems attributed to the wrong line)."""
        frame = _rows(400)
        serial = customers.check_rows(frame, now=NOW, workers=1)
        pooled = customers.check_rows(frame, now=NOW, workers=2, parallel_from=0, chunk_rows=50)
        assert pooled == serial
        assert len(serial.people) > 40
        assert len(serial.problems) > 100
        assert serial.lines == sorted(serial.lines)

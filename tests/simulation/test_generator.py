from __future__ import annotations

import datetime as dt

import phonenumbers
import polars as pl
from sqlalchemy.orm import Session

from recoup.delinquency import service as delinquency_service
from recoup.ingest.columns import ORDER
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.simulation.generator import Generator

AS_OF = dt.date(2026, 6, 1)


class TestGenerator:
    def test_same_seed_same_portfolio_and_another_seed_differs(self) -> None:
        first = Generator(seed=11, as_of=AS_OF).portfolio(50)
        again = Generator(seed=11, as_of=AS_OF).portfolio(50)
        other = Generator(seed=12, as_of=AS_OF).portfolio(50)
        for kind in ORDER:
            assert first.frame(kind).equals(again.frame(kind))
        assert not first.frame("payments").equals(other.frame("payments"))

    def test_a_number_of_accounts_is_met_exactly(self) -> None:
        by_customers = Generator(seed=4, as_of=AS_OF).portfolio(120)
        assert len(by_customers.accounts) > 120  # some customers hold two
        for accounts in (1, 97, 250):
            portfolio = Generator(seed=4, as_of=AS_OF).portfolio(accounts=accounts)
            assert len(portfolio.accounts) == accounts
            owners = {a["customer_ref"] for a in portfolio.accounts}
            assert owners == {c["external_ref"] for c in portfolio.customers}

    def test_rows_hold_text_as_a_file_does(self) -> None:
        portfolio = Generator(seed=6, as_of=AS_OF, foreign_share=0.3).portfolio(200)
        for kind in ORDER:
            rows = getattr(portfolio, kind)
            assert rows, kind
            assert all(v is None or isinstance(v, str) for r in rows for v in r.values()), kind
            frame = portfolio.frame(kind)
            assert frame.height == len(rows)
            assert frame.drop("_line").to_dicts() == rows

    def test_people_are_plausible(self) -> None:
        portfolio = Generator(seed=3, as_of=AS_OF, foreign_share=0.3).portfolio(300)
        customers = portfolio.frame("customers")
        jurisdictions = set(customers["jurisdiction"].to_list())
        assert "CN" in jurisdictions
        assert jurisdictions & {"US", "US-MA", "US-WA", "GB"}
        for number in customers["phones"].to_list():
            parsed = phonenumbers.parse(number.split(":", 1)[1])
            assert phonenumbers.is_valid_number(parsed), number
        payments = portfolio.frame("payments")
        # Nothing after `as_of` begins in China: `recoup generate` for today writes no payment
        # later than now, whatever the hour.
        assert payments["received_at"].str.to_datetime(time_zone="UTC").max() < dt.datetime.combine(
            AS_OF, dt.time(0), tzinfo=dt.timezone(dt.timedelta(hours=8))
        )

    def test_imports_cleanly_and_leaves_a_realistic_delinquent_share(
        self, session: Session
    ) -> None:
        clock = SettableClock(
            dt.datetime.combine(AS_OF, dt.time(1), tzinfo=dt.UTC) + dt.timedelta(hours=23)
        )
        portfolio = Generator(seed=5, as_of=AS_OF).portfolio(800)
        importer = Importer(session, clock=clock)
        for kind in ORDER:
            result = importer.import_rows(f"generated {kind}", kind, portfolio.frame(kind))
            assert result.errors == [], result.errors[:3]
            assert result.imported == len(getattr(portfolio, kind))
        summary = delinquency_service.run_daily(session, AS_OF, clock=clock)
        delinquent = summary.accounts - summary.by_bucket.get("M0", 0)
        share = delinquent / summary.accounts
        # calibration.md: 5-15 % of accounts enter 1-30 DPD a cycle; most cure, a tail rolls on
        assert 0.02 <= share <= 0.15, summary.by_bucket
        assert summary.by_bucket.get("M1", 0) > 0
        assert pl.Series(list(summary.by_bucket)).is_in(["M0", "M1", "M2", "M3", "M3+"]).all()


class TestAgeAndSex:
    def test_cn_ids_encode_the_birth_year_and_sex_and_the_age_mix_is_young(self) -> None:
        portfolio = Generator(seed=8, as_of=AS_OF, foreign_share=0.2).portfolio(2_000)
        ages = []
        for row in portfolio.customers:
            if row["country"] == "CN":
                national_id = str(row["national_id"])
                # GB 11643-1999: digits 7-10 the year of birth, the 17th odd for a man
                assert national_id[6:10] == row["birth_year"], row
                assert (int(national_id[16]) % 2 == 1) == (row["sex"] == "M"), row
            if row["birth_year"] is not None:
                ages.append(AS_OF.year - int(row["birth_year"]))
        assert min(ages) >= 18
        assert max(ages) < 70
        young = sum(18 <= a < 35 for a in ages) / len(ages)
        old = sum(a >= 55 for a in ages) / len(ages)
        assert 0.5 < young < 0.65  # AGE_MIX: 58 % under 35
        assert 0.03 < old < 0.09  # and 6 % over 55
        unknown = [r for r in portfolio.customers if r["birth_year"] is None]
        assert unknown
        assert all(r["country"] != "CN" for r in unknown)

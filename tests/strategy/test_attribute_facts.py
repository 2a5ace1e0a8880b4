"""The debtor's attributes as strategy facts: `age_band` from the year of birth as of the day, and
`region` from the address; null when unknown, for the daily run and for an event alike."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy.orm import Session

from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.ledger import schemas
from recoup.ledger import service as ledger_service
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import FACTS
from recoup.strategy.service.facts import age_band
from tests.factories import add_bill, create_account, shanghai

DAY = dt.date(2026, 6, 20)


def customer(
    session: Session,
    clock: SettableClock,
    ref: str,
    *,
    birth_year: int | None,
    regions: list[str | None],
) -> int:
    made = ledger_service.create_customer(
        session,
        schemas.CustomerCreate(
            external_ref=ref,
            name="李娜",
            jurisdiction="CN",
            birth_year=birth_year,
            addresses=[schemas.AddressIn(country="CN", region=r) for r in regions],
        ),
        clock=clock,
    )
    account = create_account(session, clock, customer=made)
    add_bill(session, clock, account, DAY - dt.timedelta(days=5), 30_000)
    return account.id


class TestAttributeFacts:
    def test_age_band_and_region_as_the_daily_run_and_an_event_read_them(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(DAY, 6))
        ids = {
            # born 2002: 24 in 2026, still 18-24 whatever the birthday (only the year is known)
            "young": customer(session, clock, "f-young", birth_year=2002, regions=["GD"]),
            "edge": customer(session, clock, "f-edge", birth_year=2001, regions=[None, "SH"]),
            "mid": customer(session, clock, "f-mid", birth_year=1982, regions=[]),
            "old": customer(session, clock, "f-old", birth_year=1971, regions=["ZJ"]),
            "unknown": customer(session, clock, "f-unknown", birth_year=None, regions=[None]),
        }
        delinquency_service.run_daily(session, DAY, clock=clock)
        everyone = strategy_service.facts(session, DAY)
        one = strategy_service.facts(session, DAY, [ids["edge"], ids["unknown"]])
        expected = {
            "young": ("18-24", "GD"),
            "edge": ("25-34", "SH"),  # 25 in 2026; the first address naming a region
            "mid": ("35-44", None),
            "old": ("55+", "ZJ"),
            "unknown": (None, None),
        }
        for facts in (everyone, one):
            got = {
                name: tuple(row)
                for name, account_id in ids.items()
                for row in facts.filter(pl.col("account_id") == account_id)
                .select("age_band", "region")
                .iter_rows()
            }
            assert got == {k: v for k, v in expected.items() if k in got}
        assert len(one) == 2
        assert FACTS["age_band"] == FACTS["region"] == "str"

    @pytest.mark.pure
    @pytest.mark.parametrize(
        ("born", "band"),
        [(2008, "18-24"), (2002, "18-24"), (2001, "25-34"), (1992, "25-34"), (1991, "35-44"),
         (1982, "35-44"), (1981, "45-54"), (1972, "45-54"), (1971, "55+"), (1930, "55+"),
         (None, None)],
    )  # fmt: skip
    def test_bands_by_the_age_reached_in_the_year(self, born: int | None, band: str | None) -> None:
        frame = pl.DataFrame({"birth_year": [born]}, schema={"birth_year": pl.Int64})
        assert frame.select(band=age_band(pl.col("birth_year"), DAY))["band"][0] == band

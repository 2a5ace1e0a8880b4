"""A customer's year of birth and sex: accepted by the import and the API (a birth date only as
its year), refused with the row and field when wrong, exported to the person, cleared on erasure."""

from __future__ import annotations

import datetime as dt

import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.ingest.columns import OPTIONAL, REQUIRED, Kind
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.ledger import service as ledger_service
from recoup.models import Customer
from recoup.privacy import service as privacy_service
from tests.factories import add_bill, create_account, create_customer, pay, shanghai

NOW = dt.datetime(2026, 4, 1, 3, 0, tzinfo=dt.UTC)
COLUMNS = REQUIRED[Kind.customers] + OPTIONAL[Kind.customers]


def frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in COLUMNS}, schema=dict.fromkeys(COLUMNS, pl.String)
    ).with_columns(_line=pl.int_range(2, len(rows) + 2, dtype=pl.Int64))


def person(ref: str, **traits: str | None) -> dict[str, str | None]:
    return {"external_ref": ref, "name": "李娜", "jurisdiction": "CN", **traits}


def traits_of(session: Session, ref: str) -> tuple[int | None, str | None]:
    row = session.execute(
        select(Customer.birth_year, Customer.sex).where(Customer.external_ref == ref)
    ).one()
    return row[0], row[1]


class TestImport:
    def test_good_rows_are_kept_and_bad_ones_named_by_row_and_field(self, session: Session) -> None:
        rows = [
            person("ok-year", birth_year="1994", sex="F"),  # line 2
            person("ok-date", birth_date="1988-07-30", sex=" m "),  # line 3
            person("ok-none"),  # line 4
            person("bad-year", birth_year="nineteen"),  # line 5
            person("too-old", birth_year="1850"),  # line 6
            person("bad-date", birth_date="1990-13-01"),  # line 7
            person("bad-sex", sex="Q"),  # line 8
            person("disagree", birth_year="1990", birth_date="1991-01-01"),  # line 9
            person("unborn", birth_year="2027"),  # line 10: after the import's today (2026)
        ]
        result = Importer(session, clock=SettableClock(NOW)).import_rows(
            "customers.csv", Kind.customers, frame(rows), skip_invalid=True
        )
        assert result.imported == 3
        assert sorted((e.line, e.field) for e in result.errors) == [
            (5, "birth_year"),
            (6, "birth_year"),
            (7, "birth_date"),
            (8, "sex"),
            (9, "birth_date"),
            (10, "birth_year"),
        ]
        assert "1850" in next(e.problem for e in result.errors if e.line == 6)
        assert traits_of(session, "ok-year") == (1994, "F")
        # Only the year of a birth date is stored (data minimisation).
        assert traits_of(session, "ok-date") == (1988, "M")
        assert traits_of(session, "ok-none") == (None, None)
        stored = session.execute(select(Customer.external_ref)).scalars().all()
        assert not {"bad-year", "too-old", "bad-date", "bad-sex", "disagree", "unborn"} & set(
            stored
        )


class TestApi:
    def test_created_with_a_birth_date_read_back_as_its_year(self, client: TestClient) -> None:
        body = {
            "external_ref": "u-traits",
            "name": "李娜",
            "jurisdiction": "CN",
            "birth_date": "1979-02-03",
            "sex": "f",
        }
        created = client.post("/v1/customers", json=body)
        assert created.status_code == 201, created.text
        assert (created.json()["birth_year"], created.json()["sex"]) == (1979, "F")
        assert "birth_date" not in created.json()
        again = client.get(f"/v1/customers/{created.json()['id']}")
        assert (again.json()["birth_year"], again.json()["sex"]) == (1979, "F")

    def test_a_bad_sex_is_a_422_naming_the_field(self, client: TestClient) -> None:
        response = client.post(
            "/v1/customers",
            json={"external_ref": "u-bad", "name": "李娜", "jurisdiction": "CN", "sex": "female"},
        )
        assert response.status_code == 422
        assert "sex" in response.text


class TestPrivacy:
    def test_exported_to_the_person_and_cleared_by_erasure(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock, birth_year=1990, sex="F")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, dt.date(2026, 3, 1), 50_000)
        pay(session, clock, account, 50_000, shanghai(dt.date(2026, 3, 2)))
        account.closed_date = dt.date(2026, 3, 2)
        session.flush()
        doc = privacy_service.export(
            session, customer.id, actor="staff:dpo", reason="r", clock=clock
        )
        assert (doc["person"]["birth_year"], doc["person"]["sex"]) == (1990, "F")
        clock.set(dt.datetime(2032, 1, 1, tzinfo=dt.UTC))
        privacy_service.request_erasure(
            session, customer.id, actor="portal", reason="delete me", clock=clock
        )
        session.expire_all()
        erased = ledger_service.get_customer(session, customer.id)
        assert (erased.birth_year, erased.sex) == (None, None)


class TestApiFuture:
    def test_a_year_still_to_come_is_a_422(self, client: TestClient) -> None:
        response = client.post(
            "/v1/customers",
            json={
                "external_ref": "u-unborn",
                "name": "李娜",
                "jurisdiction": "CN",
                "birth_year": 2090,
            },
        )
        assert response.status_code == 422
        assert "birth_year" in response.text

"""Customer rows: the import stores what the API stores for the same person, and reads phone numbers
exactly as the numbering plan library does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as phone_timezone
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.ingest.columns import OPTIONAL, REQUIRED, Kind
from recoup.ingest.customers import _customer_payload
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.ledger import contacts, schemas
from recoup.ledger import service as ledger_service
from recoup.models import Customer, Payment

NOW = dt.datetime(2026, 4, 1, 3, 4, 5, 678901, tzinfo=dt.UTC)
COLUMNS = REQUIRED[Kind.customers] + OPTIONAL[Kind.customers]
ROWS: list[dict[str, str | None]] = [
    {
        "external_ref": "r1",
        "name": " 李娜 ",
        "national_id": "4403 0519-9001011234",
        "phones": "mobile:+86 139 1234 5678;work:+86 755 8888 6666",
        "emails": "Li.Na@EXAMPLE.com; ln@example.cn ",
        "country": "cn",
        "region": "GD",
        "city": "深圳",
        "postal_code": "518000",
        "address_line": "南山区科技园1号",
        "jurisdiction": "CN",
    },
    {
        "external_ref": "r2",
        "name": "Emily Chen",
        "phones": "(212) 555-0125;home:+1 617 555 0199",
        "country": "US",
        "region": "MA",
        "jurisdiction": "US-MA",
        "preferred_language": "en",
        "timezones": "America/New_York;Europe/London",
    },
    {
        "external_ref": "r3",
        "name": "Tom",
        "phones": "+44 7911 123456",  # a mobile: its zones are the country's
        "jurisdiction": "GB",
        "preferred_language": "en",
    },
    {"external_ref": "r4", "name": "王强", "jurisdiction": "CN"},  # nothing to reach him by
    {"external_ref": "r5", "name": "陈刚", "jurisdiction": "CN-GD", "country": "CN"},
]


def frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in COLUMNS}, schema=dict.fromkeys(COLUMNS, pl.String)
    ).with_columns(_line=pl.int_range(2, len(rows) + 2, dtype=pl.Int64))


def stored(session: Session, ref: str) -> dict[str, Any]:
    customer_id = session.execute(
        select(Customer.id).where(Customer.external_ref == ref)
    ).scalar_one()
    c = ledger_service.get_customer(session, customer_id)
    return {
        "name": c.name,
        "national_id": (c.national_id, c.national_id_index),
        "preferred_language": c.preferred_language,
        "jurisdiction": c.jurisdiction,
        "timezones": list(c.timezones),
        "created_at": c.created_at,
        "phones": [(p.position, p.number, p.number_index, p.type, p.source) for p in c.phones],
        "emails": [(e.position, e.address, e.address_index, e.source) for e in c.emails],
        "addresses": [
            (a.position, a.country, a.region, a.city, a.postal_code, a.line) for a in c.addresses
        ],
    }


class TestImportedCustomers:
    def test_rows_are_stored_as_the_api_stores_the_same_person(self, session: Session) -> None:
        clock = SettableClock(NOW)
        result = Importer(session, clock=clock).import_rows("c.csv", Kind.customers, frame(ROWS))
        assert (result.imported, result.errors) == (len(ROWS), [])
        for row in ROWS:
            payload = _customer_payload({**row, "external_ref": f"api-{row['external_ref']}"})
            ledger_service.create_customer(
                session, schemas.CustomerCreate.model_validate(payload), clock=clock
            )
        session.flush()
        for row in ROWS:
            ref = str(row["external_ref"])
            assert stored(session, ref) == stored(session, f"api-{ref}"), ref


class TestImportedPayments:
    def test_times_are_stored_as_utc_instants(self, session: Session) -> None:
        importer = Importer(session, clock=SettableClock(NOW))
        importer.import_rows("c.csv", Kind.customers, frame(ROWS[:1]))
        importer.import_rows(
            "a.csv",
            Kind.accounts,
            pl.DataFrame(
                {
                    "external_ref": ["ra1"],
                    "customer_ref": ["r1"],
                    "product": ["bnpl"],
                    "currency": ["CNY"],
                    "opened_date": ["2026-01-10"],
                    "_line": [2],
                }
            ),
        )
        times = [
            "2026-02-09T20:00:00+08:00",
            " 2026-02-10T01:02:03.5Z ",
            "2026-02-11T23:59:59.999999-07:00",
            "2026-03-31T23:59:00-03:00",
        ]
        payments = pl.DataFrame(
            {
                "external_id": [f"t{i}" for i in range(len(times))],
                "account_ref": ["ra1"] * len(times),
                "amount_minor": ["100"] * len(times),
                "currency": ["CNY"] * len(times),
                "received_at": times,
                "_line": list(range(2, len(times) + 2)),
            }
        )
        result = importer.import_rows("p.csv", Kind.payments, payments)
        assert (result.imported, result.errors) == (len(times), [])
        found = dict(
            session.execute(
                select(Payment.external_id, Payment.received_at).where(
                    Payment.external_id.in_(payments["external_id"].to_list())
                )
            ).all()
        )
        expected = {
            f"t{i}": dt.datetime.fromisoformat(t.strip()).astimezone(dt.UTC)
            for i, t in enumerate(times)
        }
        assert {k: v.replace(tzinfo=dt.UTC) for k, v in found.items()} == expected
        created = session.execute(
            select(Payment.created_at).where(Payment.external_id == "t0")
        ).scalar_one()
        assert created.replace(tzinfo=dt.UTC) == NOW


def library_reading(raw: str, region: str) -> tuple[str, list[str]]:
    """What the numbering plan library says, asked the plain way: valid? zones? E.164?"""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise contacts.ContactError(f"{raw!r} is not a phone number ({exc})") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise contacts.ContactError(f"{raw!r} is not a valid phone number for its country")
    zones = [
        z for z in phone_timezone.time_zones_for_number(parsed) if z in contacts._known_zones()
    ]
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), zones


def reading(fn: Any, raw: str, region: str) -> tuple[str, list[str]] | str:
    try:
        result: tuple[str, list[str]] = fn(raw, region)
    except contacts.ContactError as exc:
        return str(exc)
    return result


REGIONS = ["CN", "US", "GB", "HK", "DE", "IN", "MX", "BR", "AR", "ID", "ZZ"]
CALLING_CODES = ["", "+86", "+1", "+44", "+852", "+49", "+91", "+52", "+55", "+54", "+62", "+800"]


class TestPhoneReading:
    @pytest.mark.parametrize(
        ("raw", "region"),
        [
            ("13812345678", "CN"),  # mobile, zones by prefix
            ("+86 755 8888 6666", "CN"),  # fixed line
            ("400 810 8888", "CN"),
            ("+44 7911 123456", "GB"),  # mobile: zones of the country
            ("+44 800 123 4567", "GB"),  # toll free
            ("+44 20 7946 0958", "GB"),
            ("+1 800 555 0199", "US"),
            ("+1 900 555 0100", "US"),
            ("+800 1234 5678", "ZZ"),  # no country at all
            ("+52 1 55 1234 5678", "MX"),
            ("1795112345678", "CN"),
            ("12345", "CN"),
            ("+999 1234", "CN"),
            ("", "CN"),
        ],
    )
    def test_known_numbers_read_as_the_library_reads_them(self, raw: str, region: str) -> None:
        assert reading(contacts.parse_phone, raw, region) == reading(library_reading, raw, region)

    @settings(max_examples=400, deadline=None)
    @given(
        st.sampled_from(CALLING_CODES),
        st.text(alphabet="0123456789", min_size=1, max_size=13),
        st.sampled_from(REGIONS),
    )
    def test_any_number_reads_as_the_library_reads_it(
        self, code: str, digits: str, region: str
    ) -> None:
        raw = code + digits
        assert reading(contacts.parse_phone, raw, region) == reading(library_reading, raw, region)

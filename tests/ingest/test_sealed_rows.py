"""Customer rows sealed where they are checked (the pool's worker processes, or this process):
what they seal opens, under the importing process's keyring, to the values the check gives, and
their blind indexes are the ones the ledger looks customers up by."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from recoup.ingest import customers
from recoup.ingest.columns import Kind
from recoup.ingest.importer import Importer
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.indexes import email_index, national_id_index, phone_index
from recoup.ledger.repository import CustomerRepository
from tests.ingest.test_customer_checks_parallel import NOW, _rows


def _open(blob: bytes | None, context: str) -> str | None:
    return None if blob is None else crypto.open_value(blob, context.encode()).decode()


class TestSealedRows:
    @pytest.mark.usefixtures("engine")  # the tests' database keyring installed
    def test_workers_seal_what_the_check_gives(self) -> None:
        """Catches workers sealing under another key than this process's (a worker keyring of
        its own: the seals do not open here, the indexes differ; tried once by making
        `install_sealing` install `Keyring.generate`), a pool without the keyring (the workers
        fail), and sealed rows that lose, reorder or mix up rows or contacts."""
        frame = _rows(400)
        plain = customers.check_rows(frame, now=NOW, workers=1)
        for sealed in (
            customers.check_and_seal_rows(frame, now=NOW, workers=1),
            customers.check_and_seal_rows(
                frame, now=NOW, workers=2, parallel_from=0, chunk_rows=50
            ),
        ):
            assert sealed.problems == plain.problems
            assert sealed.rows["_line"].to_list() == plain.lines
            assert len(plain.people) > 40
            for row, person in zip(sealed.rows.iter_rows(named=True), plain.people, strict=True):
                assert row["external_ref"] == person.external_ref
                assert _open(row["name"], "customers.name") == person.name
                assert _open(row["national_id"], "customers.national_id") == person.national_id
                assert row["national_id_index"] == (
                    national_id_index(person.national_id) if person.national_id else None
                )
                assert tuple(row["timezones"]) == person.timezones
                assert (row["jurisdiction"], row["birth_year"], row["sex"]) == (
                    person.jurisdiction,
                    person.birth_year,
                    person.sex,
                )
                phones = [
                    (
                        p["position"],
                        _open(p["number"], "customer_phones.number"),
                        p["type"],
                        p["source"],
                    )
                    for p in row["phones"]
                ]
                assert phones == [(i, *phone) for i, phone in enumerate(person.phones)]
                assert [p["number_index"] for p in row["phones"]] == [
                    phone_index(number) for number, _, _ in person.phones
                ]
                emails = [
                    (e["position"], _open(e["address"], "customer_emails.address"), e["source"])
                    for e in row["emails"]
                ]
                assert emails == [(i, *email) for i, email in enumerate(person.emails)]
                assert [e["address_index"] for e in row["emails"]] == [
                    email_index(address) for address, _ in person.emails
                ]
                addresses = [
                    (
                        a["position"],
                        a["country"],
                        a["region"],
                        *(
                            _open(a[c], f"customer_addresses.{c}")
                            for c in ("city", "postal_code", "line")
                        ),
                    )
                    for a in row["addresses"]
                ]
                assert addresses == [(i, *a) for i, a in enumerate(person.addresses)]

    def test_a_file_imported_through_the_pool_reads_back(
        self, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A file checked and sealed by two workers (in chunks of two rows) is stored as the API
        would store it: the values open, the lookups by phone and e-mail find the customer."""
        monkeypatch.setattr(
            customers,
            "check_and_seal_rows",
            partial(customers.check_and_seal_rows, parallel_from=0, chunk_rows=2),
        )
        path = tmp_path / "customers.csv"
        path.write_text(
            "external_ref,name,national_id,phones,emails,country,city,address_line,jurisdiction\n"
            "w1,李娜,440305199001011234,+8613812345678,li@Example.COM,CN,深圳,南山路 1 号,CN\n"
            "w2,王强,,mobile:+86 139 1234 5678;+8613912345679,,CN,,,CN\n"
            "w3,Emily Chen,,+12125550123,emily@example.com,US,New York,,US-NY\n"
            "w4,Bad Phone,,12,,CN,,,CN\n"
            "w5,赵六,,+8613812340000,,,,,CN\n",
            encoding="utf-8",
        )
        clock = SettableClock(dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
        result = Importer(session, clock=clock, workers=2).import_file(
            path, kind=Kind.customers, skip_invalid=True
        )
        assert [(e.line, e.field) for e in result.errors] == [(5, "phones")]
        assert result.imported == 4
        repo = CustomerRepository(session)
        li = repo.by_ref("w1")
        assert li is not None
        assert (li.name, li.national_id) == ("李娜", "440305199001011234")
        assert li.national_id_index == national_id_index("440305199001011234")
        assert [p.number for p in li.phones] == ["+8613812345678"]
        assert [e.address for e in li.emails] == ["li@example.com"]
        assert [(a.country, a.city, a.line) for a in li.addresses] == [
            ("CN", "深圳", "南山路 1 号")
        ]
        assert repo.ids_with_phone(phone_index("+8613812345678")) == [li.id]
        assert repo.ids_with_email(email_index("li@example.com")) == [li.id]
        wang = repo.by_ref("w2")
        assert wang is not None
        assert [(p.position, p.number, p.type) for p in wang.phones] == [
            (0, "+8613912345678", "mobile"),
            (1, "+8613912345679", "mobile"),
        ]
        assert wang.emails == []
        assert [(a.country, a.city, a.postal_code, a.line) for a in wang.addresses] == [
            ("CN", None, None, None)
        ]
        emily = repo.by_ref("w3")
        assert emily is not None
        assert emily.timezones == ["America/New_York"]
        assert repo.by_ref("w4") is None
        zhao = repo.by_ref("w5")
        assert zhao is not None
        assert zhao.addresses == []
        assert zhao.national_id is None

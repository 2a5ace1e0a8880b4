"""`recoup import`: every row validated, errors that say where, nothing half-imported, no duplicates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.ingest.checks import RowError
from recoup.ingest.columns import Kind
from recoup.ingest.importer import Importer, write_report
from recoup.kit.clock import SettableClock
from recoup.ledger import service as ledger_service
from recoup.models import Account, Allocation, Bill, Customer, Payment

CUSTOMERS = """external_ref,name,phones,emails,country,jurisdiction
c1,李娜,13812345678,li@example.com,CN,CN
c2,王强,mobile:+86 139 1234 5678;work:+86 755 8888 6666,,CN,CN
c3,Emily Chen,+12125550123,emily@example.com,US,US
"""
ACCOUNTS = """external_ref,customer_ref,product,currency,opened_date
a1,c1,bnpl,CNY,2026-01-10
a2,c2,micro_loan,CNY,2026-02-01
a3,c3,credit_line,USD,2026-02-01
"""
BILLS = """account_ref,external_ref,due_date,principal_minor,interest_minor,fees_minor
a1,i1,2026-02-10,30000,0,0
a1,i2,2026-03-10,30000,0,0
a2,b1,2026-03-01,200000,4000,0
a3,s1,2026-03-01,50000,750,0
"""
PAYMENTS = """external_id,account_ref,amount_minor,currency,received_at
p1,a1,30000,CNY,2026-02-09T20:00:00+08:00
p2,a1,10000,CNY,2026-03-12T10:00:00+08:00
p3,a3,50750,USD,2026-02-28T09:00:00-08:00
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def importer(session: Session) -> Importer:
    return Importer(session, clock=SettableClock(dt.datetime(2026, 4, 1, tzinfo=dt.UTC)))


def load_all(importer: Importer, tmp_path: Path) -> None:
    for name, text in (
        ("customers.csv", CUSTOMERS),
        ("accounts.csv", ACCOUNTS),
        ("bills.csv", BILLS),
        ("payments.csv", PAYMENTS),
    ):
        result = importer.import_file(write(tmp_path, name, text))
        assert result.errors == [], result.errors


def problems(errors: list[RowError]) -> list[tuple[int, str]]:
    return [(e.line, e.field) for e in errors]


class TestGoodFiles:
    def test_csv_files_import_and_payments_are_allocated_like_the_api(
        self, importer: Importer, session: Session, tmp_path: Path
    ) -> None:
        load_all(importer, tmp_path)
        assert (
            count(session, Customer),
            count(session, Account),
            count(session, Bill),
            count(session, Payment),
        ) == (3, 3, 4, 3)
        wang = ledger_service.get_customer(
            session,
            session.execute(select(Customer.id).where(Customer.external_ref == "c2")).scalar_one(),
        )
        assert [p.number for p in wang.phones] == ["+8613912345678", "+8675588886666"]
        assert [p.type for p in wang.phones] == ["mobile", "work"]
        account = ledger_service.account_by_ref(session, "a1")
        bulk = {
            (a.payment_id, a.bill_id, a.component, a.amount_minor)
            for a in session.execute(
                select(Allocation).where(Allocation.account_id == account.id)
            ).scalars()
        }
        ledger_service.reallocate(session, account)
        exact = {
            (a.payment_id, a.bill_id, a.component, a.amount_minor)
            for a in session.execute(
                select(Allocation).where(Allocation.account_id == account.id)
            ).scalars()
        }
        assert bulk == exact
        assert sorted(b.paid_minor for b in ledger_service.bills(session, account.id)) == [
            10000,
            30000,
        ]

    def test_json_lines_with_lists(
        self, importer: Importer, session: Session, tmp_path: Path
    ) -> None:
        lines = [
            {
                "external_ref": "j1",
                "name": "陈刚",
                "phones": ["+8613700001111", "+8613700002222"],
                "jurisdiction": "CN",
                "country": "CN",
            },
            {
                "external_ref": "j2",
                "name": "Zhou Min",
                "emails": ["zm@example.com"],
                "jurisdiction": "CN",
            },
        ]
        path = write(
            tmp_path, "customers.jsonl", "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
        )
        result = importer.import_file(path)
        assert (result.imported, result.errors) == (2, [])

    def test_a_second_run_imports_nothing_twice(
        self, importer: Importer, session: Session, tmp_path: Path
    ) -> None:
        load_all(importer, tmp_path)
        before = (
            count(session, Customer),
            count(session, Bill),
            count(session, Payment),
            count(session, Allocation),
        )
        again = importer.import_file(write(tmp_path, "payments.csv", PAYMENTS))
        assert (again.imported, again.existing, again.errors) == (0, 3, [])
        for name, text in (("customers.csv", CUSTOMERS), ("bills.csv", BILLS)):
            assert importer.import_file(write(tmp_path, name, text)).imported == 0
        assert (
            count(session, Customer),
            count(session, Bill),
            count(session, Payment),
            count(session, Allocation),
        ) == before

    def test_a_known_payment_with_another_amount_is_an_error(
        self, importer: Importer, tmp_path: Path
    ) -> None:
        load_all(importer, tmp_path)
        changed = PAYMENTS.replace("p2,a1,10000", "p2,a1,10001")
        result = importer.import_file(write(tmp_path, "payments.csv", changed))
        assert problems(result.errors) == [(3, "external_id")]


class TestBadRows:
    def test_each_problem_names_line_field_and_what(
        self, importer: Importer, session: Session, tmp_path: Path
    ) -> None:
        load_all(importer, tmp_path)
        bad = """external_id,account_ref,amount_minor,currency,received_at
q1,a1,-5,CNY,2026-03-01T10:00:00+08:00
q2,a1,12.50,CNY,2026-03-01T10:00:00+08:00
q3,a1,100,XYZ,2026-03-01T10:00:00+08:00
q4,nope,100,CNY,2026-03-01T10:00:00+08:00
q5,a1,100,CNY,2026-03-01 10:00
q6,a1,100,CNY,yesterday
q7,a1,100,USD,2026-03-01T10:00:00+08:00
q7,a1,100,CNY,2026-03-01T10:00:00+08:00
q8,a1,100,CNY,2026-03-01T10:00:00+08:00
"""
        before = count(session, Payment)
        result = importer.import_file(write(tmp_path, "payments.csv", bad))
        found = problems(result.errors)
        assert (2, "amount_minor") in found
        assert (3, "amount_minor") in found
        assert (4, "currency") in found
        assert (5, "account_ref") in found
        assert (6, "received_at") in found
        assert (7, "received_at") in found
        assert (8, "currency") in found
        assert (9, "external_id") in found
        assert all(e.file == "payments.csv" and e.problem for e in result.errors)
        assert "greater than zero" in next(e.problem for e in result.errors if e.line == 2)
        assert "no time zone" in next(e.problem for e in result.errors if e.line == 6)
        assert next(e.problem for e in result.errors if e.line == 4) == (
            "is not an ISO 4217 currency code; got XYZ"
        )
        # by default a file with any invalid row imports nothing, not even q8
        assert result.imported == 0
        assert count(session, Payment) == before

    def test_a_currency_in_lower_case_is_read_as_the_api_reads_it(
        self, importer: Importer, session: Session, tmp_path: Path
    ) -> None:
        load_all(importer, tmp_path)
        text = "external_id,account_ref,amount_minor,currency,received_at\n"
        text += "lc1,a1,100, cny ,2026-03-01T10:00:00+08:00\n"
        result = importer.import_file(write(tmp_path, "payments.csv", text))
        assert (result.imported, result.errors) == (1, [])
        stored = session.execute(select(Payment.currency).where(Payment.external_id == "lc1"))
        assert stored.scalar_one() == "CNY"

    def test_skip_invalid_imports_the_good_rows(
        self, importer: Importer, session: Session, tmp_path: Path
    ) -> None:
        load_all(importer, tmp_path)
        mixed = """account_ref,external_ref,due_date,principal_minor
a1,i3,2026-04-10,100
a1,i4,2026-13-10,100
a1,i5,2026-05-10,
"""
        result = importer.import_file(write(tmp_path, "bills.csv", mixed), skip_invalid=True)
        assert result.imported == 1
        assert problems(result.errors) == [(3, "due_date"), (4, "principal_minor")]

    def test_wrong_encoding_names_the_line(self, importer: Importer, tmp_path: Path) -> None:
        text = "external_ref,name,jurisdiction\nc9,Zoë,GB\nc10,José,GB\n"
        result = importer.import_file(write(tmp_path, "customers.csv", text, encoding="latin-1"))
        assert result.rejected_file
        assert result.errors[0].line == 2
        assert "UTF-8" in result.errors[0].problem

    def test_missing_and_unknown_columns_stop_the_file(
        self, importer: Importer, tmp_path: Path
    ) -> None:
        missing = importer.import_file(
            write(tmp_path, "accounts.csv", "external_ref,customer_ref\nx,y\n")
        )
        assert missing.rejected_file
        assert "product" in missing.errors[0].problem
        unknown = importer.import_file(
            write(
                tmp_path,
                "bills.csv",
                "account_ref,external_ref,due_date,principal_minr\na,b,2026-01-01,5\n",
            )
        )
        assert unknown.rejected_file
        assert any("principal_minr" in e.problem for e in unknown.errors)

    def test_customer_row_errors_name_the_field(self, importer: Importer, tmp_path: Path) -> None:
        bad = "external_ref,name,phones,jurisdiction\nc1,李娜,12345,CN\nc2,,13812345678,CN\nc3,王强,13812345679,Chinaland\n"
        result = importer.import_file(write(tmp_path, "customers.csv", bad))
        assert problems(result.errors) == [(2, "phones"), (3, "name"), (4, "jurisdiction")]

    def test_unknown_customer_and_closed_before_opened(
        self, importer: Importer, tmp_path: Path
    ) -> None:
        importer.import_file(write(tmp_path, "customers.csv", CUSTOMERS))
        bad = "external_ref,customer_ref,product,currency,opened_date,closed_date\nx1,ghost,bnpl,CNY,2026-01-01,\nx2,c1,bnpl,CNY,2026-05-01,2026-04-01\nx3,c1,pawn,CNY,2026-01-01,\n"
        result = importer.import_file(write(tmp_path, "accounts.csv", bad))
        assert problems(result.errors) == [(2, "customer_ref"), (3, "closed_date"), (4, "product")]

    def test_report_file_lists_every_problem(self, importer: Importer, tmp_path: Path) -> None:
        result = importer.import_file(
            write(
                tmp_path,
                "bills.csv",
                "account_ref,external_ref,due_date,principal_minor\nnope,b,2026-01-01,-1\n",
            )
        )
        report = tmp_path / "report.csv"
        write_report(report, [result])
        lines = report.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "file,line,field,problem"
        assert len(lines) == 1 + len(result.errors) == 3


class TestKinds:
    def test_kind_from_the_file_name(self, importer: Importer, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="cannot tell"):
            importer.import_file(write(tmp_path, "stuff.csv", "a\n1\n"))
        result = importer.import_file(write(tmp_path, "stuff.csv", CUSTOMERS), kind=Kind.customers)
        assert result.imported == 3


class TestConsentColumn:
    """The customers file's `consents` column: recorded through privacy with source `import`; a
    bad consent rejects its row (named in the report) and the good rows are imported."""

    def test_good_rows_recorded_and_a_bad_one_reported(
        self, importer: Importer, session: Session, tmp_path: Path
    ) -> None:
        from recoup.models import Consent

        text = (
            "external_ref,name,phones,jurisdiction,consents,consent_evidence\n"
            "k1,Emily Chen,+12125550123,US,electronic:email;time_window:21:00-22:00@2027-01-01,"
            "signed form F-12 scanned by the wallet\n"
            "k2,Sam Lee,+12125550124,US,marketing,form F-13\n"
            "k3,Ann Wu,+12125550125,US,electronic:sms,\n"
            "k4,Bo Li,+12125550126,US,,\n"
        )
        result = importer.import_file(write(tmp_path, "customers.csv", text), skip_invalid=True)
        assert problems(result.errors) == [(3, "consents"), (4, "consent_evidence")]
        assert result.imported == 2
        refs = dict(session.execute(select(Customer.id, Customer.external_ref)).all())
        stored = session.execute(select(Consent)).scalars().all()
        assert sorted((refs[c.customer_id], c.purpose, c.channel) for c in stored) == [
            ("k1", "electronic", "email"),
            ("k1", "time_window", None),
        ]
        window = next(c for c in stored if c.purpose == "time_window")
        assert window.scope == {"from": "21:00", "to": "22:00"}
        assert window.expires_at == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
        assert {c.source for c in stored} == {"import"}
        assert {c.evidence for c in stored} == {"signed form F-12 scanned by the wallet"}

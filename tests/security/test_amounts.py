"""Amounts are bounded where they enter: one amount through the API (finding 6), an account's total
across the valid rows of an import (finding 8)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.kit.money import MAX_MINOR, to_minor
from recoup.models import Bill, Payment
from tests.api.test_ingest_api import payment, setup_account


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.parametrize("amount", [2**63 - 1, 2**63, 2**64 + 5, 10**30, MAX_MINOR + 1])
def test_finding_06_amounts_past_the_bound_are_a_422(
    client: TestClient, session: Session, amount: int
) -> None:
    """A bill or a payment of 2^63 or more (or anything past `MAX_MINOR`) is a 422 naming the
    field, never a 500, and stores nothing. Catches removing `le=MAX_MINOR` from `Minor` or from
    `PaymentCreate.amount_minor` in `ledger.schemas` (2^63 then reaches the database: a 500)."""
    setup_account(client)
    bills, payments = count(session, Bill), count(session, Payment)
    bill = client.post(
        "/v1/bills",
        json={
            "account_ref": "bnpl-1",
            "external_ref": "big",
            "due_date": "2026-06-05",
            "principal_minor": amount,
        },
    )
    paid = client.post("/v1/payments", json=payment(external_id="big", amount=amount))
    assert (bill.status_code, paid.status_code) == (422, 422), (bill.text, paid.text)
    assert "principal_minor" in bill.json()["message"]
    assert "amount_minor" in paid.json()["message"]
    assert (count(session, Bill), count(session, Payment)) == (bills, payments)


def test_finding_06_the_largest_amount_is_accepted(client: TestClient) -> None:
    setup_account(client)
    paid = client.post("/v1/payments", json=payment(external_id="max", amount=MAX_MINOR))
    assert paid.status_code == 201, paid.text


@pytest.mark.parametrize(
    ("typed", "currency"),
    [("10000000000001", "CNY"), ("1e20", "USD"), ("1000000000000001", "JPY")],
)
def test_finding_06_amounts_typed_in_the_portal_are_bounded_too(typed: str, currency: str) -> None:
    """What a debtor types in the portal (pay now, a plan's budget) is bounded in minor units,
    after scaling by the currency: 10^13 yuan and a little is 10^15 fen and more. Catches
    removing the `MAX_MINOR` check from `kit.money.to_minor` (it bounded the major amount only)."""
    with pytest.raises(ValueError, match="more than any amount"):
        to_minor(typed, currency)
    assert to_minor("10000000000000", "CNY") == MAX_MINOR


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def importer(session: Session, tmp_path: Path) -> Importer:
    importer = Importer(session, clock=SettableClock(dt.datetime(2026, 4, 1, tzinfo=dt.UTC)))
    for name, text in (
        ("customers.csv", "external_ref,name,jurisdiction\nc1,李娜,CN\n"),
        (
            "accounts.csv",
            "external_ref,customer_ref,product,currency,opened_date\n"
            "a1,c1,bnpl,CNY,2026-01-10\na2,c1,bnpl,CNY,2026-01-10\n",
        ),
    ):
        assert not importer.import_file(write(tmp_path, name, text)).errors
    return importer


def test_finding_08_an_accounts_total_past_the_bound_is_refused_with_its_lines(
    importer: Importer, session: Session, tmp_path: Path
) -> None:
    """Rows each valid whose sum on one account passes what the ledger can hold (here 11 of
    9x10^17, past 2^63) are refused with file, line and field, not a traceback; so is a sum just
    past `MAX_MINOR` of rows each within it; another account's rows are not blamed. Catches
    removing `Checker.account_total` from `ingest.bills`/`ingest.payments` together with the
    per-amount bound in `Checker.integer` (the import then dies on an integer overflow)."""
    huge = "\n".join(f"a1,i{n},2026-02-{n + 1:02d},900000000000000000" for n in range(11))
    bills = importer.import_file(
        write(tmp_path, "bills.csv", f"account_ref,external_ref,due_date,principal_minor\n{huge}\n")
    )
    assert bills.imported == 0
    assert {(e.line, e.field) for e in bills.errors} >= {
        (n + 2, "principal_minor") for n in range(11)
    }

    half = MAX_MINOR // 2 + 1
    rows = (
        f"p1,a1,{half},CNY,2026-02-09T20:00:00+08:00\np2,a1,{half},CNY,2026-02-09T21:00:00+08:00\n"
    )
    rows += "p3,a2,100,CNY,2026-02-09T20:00:00+08:00\n"
    payments = importer.import_file(
        write(
            tmp_path,
            "payments.csv",
            f"external_id,account_ref,amount_minor,currency,received_at\n{rows}",
        )
    )
    assert payments.imported == 0, payments.errors
    assert [(e.line, e.field) for e in payments.errors] == [(2, "account_ref"), (3, "account_ref")]
    assert "total" in payments.errors[0].problem
    assert count(session, Payment) == 0

    existing = importer.import_file(
        write(
            tmp_path,
            "bills-1.csv",
            f"account_ref,external_ref,due_date,principal_minor\na2,b1,2026-02-01,{MAX_MINOR}\n",
        )
    )
    assert existing.imported == 1
    more = importer.import_file(
        write(
            tmp_path,
            "bills-2.csv",
            "account_ref,external_ref,due_date,principal_minor\na2,b2,2026-03-01,1\n",
        )
    )
    assert [(e.line, e.field) for e in more.errors] == [(2, "account_ref")]


def test_finding_06_an_accounts_total_through_the_api_is_bounded_too(
    client: TestClient, session: Session
) -> None:
    """Amounts each within `MAX_MINOR` cannot add up past it on one account through the API
    either (about 9,200 bills of 10^15 would pass 2^63): the bill or payment that would take the
    account's total past the bound is a 422 naming the field, and stores nothing. Catches removing
    the total's check from `ledger.service.billing.add_bill` or `payments.record_payment`."""
    setup_account(client)  # the account has a bill already
    bill = {"account_ref": "bnpl-1", "due_date": "2026-07-05"}
    past = client.post(
        "/v1/bills", json={**bill, "external_ref": "b-max", "principal_minor": MAX_MINOR}
    )
    assert past.status_code == 422, past.text
    assert "principal_minor" in past.json()["message"]
    assert "total" in past.json()["message"]
    assert (
        client.post(
            "/v1/bills", json={**bill, "external_ref": "b-1", "principal_minor": 1}
        ).status_code
        == 201
    )

    paid = client.post("/v1/payments", json=payment(external_id="p-1", amount=MAX_MINOR - 1))
    assert paid.status_code == 201, paid.text
    payments = count(session, Payment)
    more = client.post("/v1/payments", json=payment(external_id="p-2", amount=2))
    assert more.status_code == 422, more.text
    assert "amount_minor" in more.json()["message"]
    assert count(session, Payment) == payments


def test_finding_08_a_payments_file_counts_what_is_already_paid(
    importer: Importer, session: Session, tmp_path: Path
) -> None:
    """A payments file whose rows fit on their own but not with what the account was already
    paid is refused on `account_ref`, like a bills file. Catches the payments import passing an
    empty `recorded` frame to `Checker.account_total` (it did, until the ledger could say what
    an account was paid)."""
    header = "external_id,account_ref,amount_minor,currency,received_at\n"
    first = importer.import_file(
        write(
            tmp_path, "payments-1.csv", f"{header}p1,a2,{MAX_MINOR},CNY,2026-02-09T20:00:00+08:00\n"
        )
    )
    assert first.imported == 1, first.errors
    second = importer.import_file(
        write(tmp_path, "payments-2.csv", f"{header}p2,a2,1,CNY,2026-02-10T20:00:00+08:00\n")
    )
    assert [(e.line, e.field) for e in second.errors] == [(2, "account_ref")]
    assert count(session, Payment) == 1

"""The REST API as the wallet's backend uses it: idempotency, errors, pagination, the signed webhook."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.kit.clock import SettableClock
from recoup.kit.signing import sign
from recoup.models import Payment, WebhookReceipt
from tests.conftest import WEBHOOK_SECRET

CUSTOMER = {
    "external_ref": "u-api-1",
    "name": "李娜",
    "national_id": "440305199203151234",
    "phones": [{"number": "138 1234 5678", "type": "mobile"}],
    "emails": [{"address": "Li.Na@Example.com"}],
    "addresses": [{"country": "cn", "region": "GD", "city": "深圳", "postal_code": "518000"}],
    "jurisdiction": "CN",
}


def setup_account(client: TestClient, ref: str = "bnpl-1") -> dict[str, Any]:
    customer = {**CUSTOMER, "external_ref": f"u-{ref}"}
    assert client.post("/v1/customers", json=customer).status_code == 201
    account = client.post(
        "/v1/accounts",
        json={
            "external_ref": ref,
            "customer_ref": f"u-{ref}",
            "product": "bnpl",
            "currency": "CNY",
            "opened_date": "2026-04-01",
        },
    )
    assert account.status_code == 201, account.text
    bill = client.post(
        "/v1/bills",
        json={
            "account_ref": ref,
            "external_ref": "i1",
            "due_date": "2026-05-05",
            "principal_minor": 120_000,
        },
    )
    assert bill.status_code == 201, bill.text
    return dict(account.json())


def payment(ref: str = "bnpl-1", external_id: str = "wx-1", amount: int = 60_000) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "account_ref": ref,
        "amount_minor": amount,
        "currency": "CNY",
        "received_at": "2026-05-10T09:30:00+08:00",
    }


class TestCustomers:
    def test_customer_is_normalised_and_comes_back_masked(self, client: TestClient) -> None:
        created = client.post("/v1/customers", json=CUSTOMER)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["name"] == "李*"
        assert body["national_id"] == "**************1234"
        assert body["phones"] == [
            {"number": "+86138****5678", "type": "mobile", "source": "customer"}
        ]
        assert body["emails"][0]["address"] == "L***@example.com"
        assert body["timezones"] == ["Asia/Shanghai"]
        raw = json.dumps(body, ensure_ascii=False)
        for secret in ("李娜", "13812345678", "440305199203151234", "Li.Na@"):
            assert secret not in raw

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"phones": [{"number": "12345"}]}, "phones"),
            ({"emails": [{"address": "not-an-email"}]}, "emails"),
            ({"jurisdiction": "China"}, "jurisdiction"),
            ({"timezones": ["Mars/Olympus"]}, "timezones"),
            ({"name": ""}, "name"),
            ({"preferred_language": "fr"}, "preferred_language"),
        ],
    )
    def test_bad_customer_fields_are_422_naming_the_problem(
        self, client: TestClient, change: dict[str, Any], field: str
    ) -> None:
        response = client.post("/v1/customers", json={**CUSTOMER, **change})
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "validation_failed"
        assert field in json.dumps(body)

    def test_pagination(self, client: TestClient) -> None:
        for i in range(5):
            assert (
                client.post(
                    "/v1/customers", json={**CUSTOMER, "external_ref": f"page-{i}"}
                ).status_code
                == 201
            )
        first = client.get("/v1/customers", params={"limit": 2, "offset": 0}).json()
        second = client.get("/v1/customers", params={"limit": 2, "offset": 2}).json()
        assert first["total"] == second["total"] >= 5
        assert len(first["items"]) == len(second["items"]) == 2
        assert {c["id"] for c in first["items"]}.isdisjoint({c["id"] for c in second["items"]})
        assert client.get("/v1/customers", params={"limit": 0}).status_code == 422


class TestIdempotency:
    def test_same_key_same_body_one_effect_same_answer(
        self, client: TestClient, session: Session
    ) -> None:
        setup_account(client)
        headers = {"Idempotency-Key": "k-123"}
        first = client.post("/v1/payments", json=payment(), headers=headers)
        second = client.post("/v1/payments", json=payment(), headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 1

    def test_same_key_other_body_is_a_conflict(self, client: TestClient) -> None:
        setup_account(client)
        headers = {"Idempotency-Key": "k-9"}
        assert client.post("/v1/payments", json=payment(), headers=headers).status_code == 201
        conflict = client.post("/v1/payments", json=payment(amount=1), headers=headers)
        assert conflict.status_code == 409
        assert conflict.json()["error"] == "idempotency_conflict"

    def test_repeated_external_id_returns_the_first_payment(
        self, client: TestClient, session: Session
    ) -> None:
        setup_account(client)
        first = client.post("/v1/payments", json=payment())
        again = client.post("/v1/payments", json=payment())
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        different = client.post("/v1/payments", json=payment(amount=5))
        assert different.status_code == 409
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 1


class TestPaymentErrors:
    @pytest.mark.parametrize(
        ("change", "status"),
        [
            ({"amount_minor": -5}, 422),
            ({"amount_minor": 12.5}, 422),
            ({"amount_minor": "100"}, 422),
            ({"currency": "XXY"}, 422),
            ({"currency": "USD"}, 422),
            ({"received_at": "2026-05-10T09:30:00"}, 422),
            ({"received_at": "2027-05-10T09:30:00+08:00"}, 422),
            ({"account_ref": "nope"}, 404),
        ],
    )
    def test_bad_payments_get_a_clear_4xx(
        self, client: TestClient, change: dict[str, Any], status: int
    ) -> None:
        setup_account(client)
        response = client.post("/v1/payments", json={**payment(), **change})
        assert response.status_code == status, response.text
        assert response.json()["message"]

    def test_malformed_json_is_a_4xx(self, client: TestClient) -> None:
        response = client.post(
            "/v1/payments", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422

    def test_openapi_documents_every_operation(self, client: TestClient) -> None:
        document = client.get("/openapi.json").json()
        operations = [op for path in document["paths"].values() for op in path.values()]
        assert len(operations) >= 15
        assert all(op.get("summary") for op in operations)


class TestReversal:
    def test_reversal_reopens_the_bill_and_is_idempotent(
        self, client: TestClient, clock: SettableClock
    ) -> None:
        clock.set(dt.datetime(2026, 5, 20, 2, tzinfo=dt.UTC))
        account = setup_account(client)
        paid = client.post("/v1/payments", json=payment(amount=120_000)).json()
        assert client.get(f"/v1/accounts/{account['id']}/bills").json()[0]["paid_minor"] == 120_000
        assert client.get(f"/v1/accounts/{account['id']}/delinquency").json()["dpd"] == 0
        first = client.post(f"/v1/payments/{paid['id']}/reversal", json={"reason": "chargeback"})
        second = client.post(f"/v1/payments/{paid['id']}/reversal", json={"reason": "chargeback"})
        assert first.status_code == second.status_code == 200
        assert first.json()["reversed_at"] == second.json()["reversed_at"]
        assert client.get(f"/v1/accounts/{account['id']}/bills").json()[0]["paid_minor"] == 0
        state = client.get(f"/v1/accounts/{account['id']}/delinquency").json()
        assert (state["dpd"], state["bucket"], state["overdue_minor"]) == (15, "M1", 120_000)


def signed(body: bytes, ts: int, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {
        "X-Recoup-Timestamp": str(ts),
        "X-Recoup-Signature": sign(secret.encode(), ts, body),
        "Content-Type": "application/json",
    }


def event(event_id: str = "evt-1", **change: Any) -> bytes:
    return json.dumps(
        {"event_id": event_id, "type": "payment.succeeded", "payment": {**payment(), **change}}
    ).encode()


class TestWalletWebhook:
    URL = "/v1/webhooks/wallet/payments"

    def count(self, session: Session, model: type) -> int:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    def test_a_signed_event_records_the_payment(
        self, anonymous: TestClient, client: TestClient, clock: SettableClock, session: Session
    ) -> None:
        setup_account(client)
        now = int(clock.now().timestamp())
        response = anonymous.post(self.URL, content=event(), headers=signed(event(), now))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "recorded"
        assert self.count(session, Payment) == 1

    def test_bad_or_missing_signature_is_401_and_records_nothing(
        self, anonymous: TestClient, client: TestClient, clock: SettableClock, session: Session
    ) -> None:
        setup_account(client)
        now = int(clock.now().timestamp())
        body = event()
        forged = anonymous.post(self.URL, content=body, headers=signed(body, now, secret="wrong"))
        tampered = anonymous.post(
            self.URL, content=event(amount_minor=1), headers=signed(body, now)
        )
        missing = anonymous.post(
            self.URL, content=body, headers={"Content-Type": "application/json"}
        )
        assert forged.status_code == tampered.status_code == missing.status_code == 401
        assert self.count(session, Payment) == 0
        assert self.count(session, WebhookReceipt) == 0

    def test_stale_timestamp_is_rejected(
        self, anonymous: TestClient, client: TestClient, clock: SettableClock, session: Session
    ) -> None:
        setup_account(client)
        old = int(clock.now().timestamp()) - 301
        response = anonymous.post(self.URL, content=event(), headers=signed(event(), old))
        assert response.status_code == 401
        assert "timestamp" in response.json()["message"]
        assert self.count(session, Payment) == 0

    def test_a_replayed_delivery_is_rejected_but_a_redelivery_is_idempotent(
        self, anonymous: TestClient, client: TestClient, clock: SettableClock, session: Session
    ) -> None:
        setup_account(client)
        now = int(clock.now().timestamp())
        body = event()
        headers = signed(body, now)
        assert anonymous.post(self.URL, content=body, headers=headers).status_code == 200
        replay = anonymous.post(self.URL, content=body, headers=headers)
        assert replay.status_code == 409
        assert replay.json()["error"] == "replay_rejected"
        clock.advance(dt.timedelta(seconds=30))
        again = anonymous.post(self.URL, content=body, headers=signed(body, now + 30))
        assert again.status_code == 200
        assert again.json()["status"] == "already_recorded"
        assert self.count(session, Payment) == 1

    def test_rotation_accepts_either_signature_of_several(
        self, anonymous: TestClient, client: TestClient, clock: SettableClock
    ) -> None:
        setup_account(client)
        now = int(clock.now().timestamp())
        body = event()
        header = (
            sign(b"retired-secret", now, body) + ", " + sign(WEBHOOK_SECRET.encode(), now, body)
        )
        response = anonymous.post(
            self.URL,
            content=body,
            headers={
                "X-Recoup-Timestamp": str(now),
                "X-Recoup-Signature": header,
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200

    def test_reversal_event(
        self, anonymous: TestClient, client: TestClient, clock: SettableClock, session: Session
    ) -> None:
        setup_account(client)
        now = int(clock.now().timestamp())
        assert (
            anonymous.post(self.URL, content=event(), headers=signed(event(), now)).status_code
            == 200
        )
        body = json.dumps(
            {
                "event_id": "evt-2",
                "type": "payment.reversed",
                "payment_external_id": "wx-1",
                "reason": "chargeback",
            }
        ).encode()
        response = anonymous.post(self.URL, content=body, headers=signed(body, now))
        assert response.status_code == 200, response.text
        assert response.json()["payment"]["reversed_at"] is not None

    def test_invalid_event_body_after_a_good_signature_is_422(
        self, anonymous: TestClient, clock: SettableClock, session: Session
    ) -> None:
        body = b'{"event_id": "e", "type": "payment.exploded"}'
        response = anonymous.post(
            self.URL, content=body, headers=signed(body, int(clock.now().timestamp()))
        )
        assert response.status_code == 422
        assert self.count(session, WebhookReceipt) == 0

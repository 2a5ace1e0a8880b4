"""The signed-webhook dependency: refusals with the statuses and codes the wallet's webhook always
answered (401 `bad_signature`, 409 `replay_rejected`, 422), a bounded body (413), and the parsed event
for the endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

from recoup.config import Settings
from recoup.http.errors import install_error_handlers
from recoup.http.webhooks import WEBHOOK_BODY_LIMIT, SignedWebhook, json_event
from recoup.kit.clock import SettableClock
from recoup.kit.signing import sign
from tests.api.test_ingest_api import event, signed

SECRET = b"ping-secret"


class Ping(BaseModel):
    id: str


def _secrets(_settings: Settings) -> list[bytes]:
    return [SECRET]


PingEvent = Annotated[
    Ping, Depends(SignedWebhook("ping", _secrets, json_event(TypeAdapter(Ping), "invalid ping")))
]


@pytest.fixture
def hooks(app: FastAPI) -> Iterator[TestClient]:
    """A small app with one signed webhook, on the test app's database, clock and settings."""
    small = FastAPI()
    small.state.sessionmaker = app.state.sessionmaker
    small.state.clock = app.state.clock
    small.state.settings = app.state.settings
    install_error_handlers(small)

    @small.post("/ping")
    def ping(data: PingEvent) -> dict[str, str]:
        return {"id": data.id}

    with TestClient(small, raise_server_exceptions=False) as client:
        yield client


def headers(body: bytes, clock: SettableClock, secret: bytes = SECRET) -> dict[str, str]:
    ts = int(clock.now().timestamp())
    return {
        "X-Recoup-Timestamp": str(ts),
        "X-Recoup-Signature": sign(secret, ts, body),
        "Content-Type": "application/json",
    }


class TestSignedWebhook:
    def test_a_signed_delivery_reaches_the_endpoint_parsed(
        self, hooks: TestClient, clock: SettableClock
    ) -> None:
        body = b'{"id": "p-1"}'
        response = hooks.post("/ping", content=body, headers=headers(body, clock))
        assert response.status_code == 200, response.text
        assert response.json() == {"id": "p-1"}

    def test_a_bad_signature_is_401_bad_signature(
        self, hooks: TestClient, clock: SettableClock
    ) -> None:
        body = b'{"id": "p-1"}'
        forged = hooks.post("/ping", content=body, headers=headers(body, clock, b"wrong"))
        missing = hooks.post("/ping", content=body)
        assert forged.status_code == missing.status_code == 401
        assert forged.json()["error"] == missing.json()["error"] == "bad_signature"

    def test_a_replayed_delivery_is_409_replay_rejected(
        self, hooks: TestClient, clock: SettableClock
    ) -> None:
        body = b'{"id": "p-1"}'
        signed_once = headers(body, clock)
        assert hooks.post("/ping", content=body, headers=signed_once).status_code == 200
        replay = hooks.post("/ping", content=body, headers=signed_once)
        assert replay.status_code == 409
        assert replay.json()["error"] == "replay_rejected"

    def test_a_body_that_is_not_the_event_is_422_naming_it(
        self, hooks: TestClient, clock: SettableClock
    ) -> None:
        body = b'{"name": "p-1"}'
        response = hooks.post("/ping", content=body, headers=headers(body, clock))
        assert response.status_code == 422
        assert response.json()["message"] == "invalid ping"

    def test_an_oversized_body_is_413_before_its_signature_is_checked(
        self, hooks: TestClient, clock: SettableClock
    ) -> None:
        body = json.dumps({"id": "x" * WEBHOOK_BODY_LIMIT}).encode()
        declared = hooks.post("/ping", content=body, headers=headers(body, clock))
        streamed = hooks.post(
            "/ping", content=iter([body[:1000], body[1000:]]), headers=headers(body, clock)
        )
        assert declared.status_code == streamed.status_code == 413
        assert declared.json()["error"] == streamed.json()["error"] == "payload_too_large"


class TestTheWalletWebhookKeepsItsAnswers:
    def test_a_bad_signature_is_401_bad_signature(
        self, anonymous: TestClient, clock: SettableClock
    ) -> None:
        body = event()
        now = int(clock.now().timestamp())
        response = anonymous.post(
            "/v1/webhooks/wallet/payments", content=body, headers=signed(body, now, secret="wrong")
        )
        assert response.status_code == 401
        assert response.json()["error"] == "bad_signature"

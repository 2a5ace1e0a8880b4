"""The push adapters against local stand-ins of Google's token endpoint, FCM and the wallet's push
service on real sockets."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from recoup.channels.base import Accepted, Outgoing, PermanentError, TransientError
from recoup.channels.push import FcmAdapter, WebhookPushAdapter
from recoup.kit import signing
from tests.channels.providers import FakeFcm, FakeSignedService, Response, google_error

pytestmark = pytest.mark.pure

PROJECT = "recoup-test"
CLIENT_EMAIL = "fcm-sender@recoup-test.iam.gserviceaccount.com"
DEVICE = "fGcm-device-token_" + "x" * 120  # the shape of an FCM registration token


def outgoing(
    key: str = "idem-1", to: str = DEVICE, subject: str | None = "Payment due"
) -> Outgoing:
    return Outgoing(
        idempotency_key=key,
        channel="push",
        to=to,
        body="Your instalment of 120.00 is due tomorrow.",
        subject=subject,
        metadata={"contact_id": "c-1", "account_id": "a-9"},
    )


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fcm(key: rsa.RSAPrivateKey) -> Iterator[FakeFcm]:
    with FakeFcm(project_id=PROJECT, client_email=CLIENT_EMAIL, key=key) as fake:
        yield fake


def service_account(fcm: FakeFcm, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The JSON Google issues for a service account, pointed at the local token endpoint."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000000",
        "token_uri": fcm.token_uri,
    }


@pytest.fixture
def adapter(fcm: FakeFcm, key: rsa.RSAPrivateKey) -> Iterator[FcmAdapter]:
    adapter = FcmAdapter(
        service_account=service_account(fcm, key), base_url=fcm.url, timeout=2, concurrency=4
    )
    yield adapter
    adapter.close()


def jwt_header(assertion: str) -> dict[str, Any]:
    part = assertion.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


class TestFcmSend:
    def test_accepted_with_the_message_name(self, fcm: FakeFcm, adapter: FcmAdapter) -> None:
        accepted = adapter.send(outgoing())

        assert accepted.provider == "fcm"
        assert accepted.provider_id is not None
        assert accepted.provider_id.startswith(f"projects/{PROJECT}/messages/")
        [send] = fcm.requests_to("/messages:send")
        assert send.path == f"/v1/projects/{PROJECT}/messages:send"
        assert send.headers["content-type"] == "application/json"
        assert send.json() == {
            "message": {
                "token": DEVICE,
                "notification": {
                    "title": "Payment due",
                    "body": "Your instalment of 120.00 is due tomorrow.",
                },
                "data": {"contact_id": "c-1", "account_id": "a-9", "idempotency_key": "idem-1"},
            }
        }

    def test_the_token_request_is_a_signed_jwt_bearer_grant(
        self, fcm: FakeFcm, adapter: FcmAdapter
    ) -> None:
        adapter.send(outgoing())

        [token_request] = fcm.requests_to("/token")
        form = token_request.form()
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        assert jwt_header(form["assertion"]) == {
            "alg": "RS256",
            "typ": "JWT",
            "kid": "0123456789abcdef",
        }
        [claims] = fcm.claims  # the fake verified the RS256 signature with the public key
        assert claims["iss"] == CLIENT_EMAIL
        assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
        assert claims["aud"] == fcm.token_uri
        assert claims["exp"] == claims["iat"] + 3600
        [send] = fcm.requests_to("/messages:send")
        assert send.headers["authorization"].startswith("Bearer ya29.")

    def test_without_a_subject_the_notification_has_no_title(
        self, fcm: FakeFcm, adapter: FcmAdapter
    ) -> None:
        adapter.send(outgoing(subject=None))

        notification = fcm.requests_to("/messages:send")[0].json()["message"]["notification"]
        assert notification == {"body": "Your instalment of 120.00 is due tomorrow."}

    def test_attributes(self, adapter: FcmAdapter) -> None:
        assert (adapter.name, adapter.channel, adapter.concurrency, adapter.rate_per_second) == (
            "fcm",
            "push",
            4,
            None,
        )

    def test_a_service_account_without_a_key_is_refused(self) -> None:
        with pytest.raises(ValueError, match="private_key"):
            FcmAdapter(service_account={"project_id": PROJECT, "client_email": CLIENT_EMAIL})


class TestFcmToken:
    def test_one_token_serves_many_sends(self, fcm: FakeFcm, adapter: FcmAdapter) -> None:
        for i in range(5):
            adapter.send(outgoing(f"idem-{i}"))

        assert len(fcm.requests_to("/token")) == 1
        assert len({r.headers["authorization"] for r in fcm.requests_to("/messages:send")}) == 1

    def test_a_token_near_its_expiry_is_replaced(self, fcm: FakeFcm, adapter: FcmAdapter) -> None:
        fcm.expires_in = 60  # within the 60 s margin: already too old to use

        adapter.send(outgoing("idem-1"))
        adapter.send(outgoing("idem-2"))

        assert len(fcm.requests_to("/token")) == 2

    def test_a_revoked_token_is_refreshed_once_and_the_send_retried(
        self, fcm: FakeFcm, adapter: FcmAdapter
    ) -> None:
        adapter.send(outgoing("idem-1"))
        fcm.revoke_tokens()

        accepted = adapter.send(outgoing("idem-2"))

        assert accepted.provider_id is not None
        assert len(fcm.requests_to("/token")) == 2
        sends = fcm.requests_to("/messages:send")
        assert [r.json()["message"]["data"]["idempotency_key"] for r in sends] == [
            "idem-1",
            "idem-2",
            "idem-2",
        ]
        assert sends[1].headers["authorization"] != sends[2].headers["authorization"]

    def test_a_second_401_is_permanent(self, fcm: FakeFcm, adapter: FcmAdapter) -> None:
        unauthenticated = google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
        fcm.script(unauthenticated, unauthenticated, path="/messages:send")

        with pytest.raises(PermanentError, match="fcm 401 credentials refused UNAUTHENTICATED"):
            adapter.send(outgoing())

        assert len(fcm.requests_to("/token")) == 2
        assert len(fcm.requests_to("/messages:send")) == 2

    def test_a_third_party_auth_error_is_not_retried(
        self, fcm: FakeFcm, adapter: FcmAdapter
    ) -> None:
        fcm.script(
            google_error(401, "UNAUTHENTICATED", "APNs auth error", "THIRD_PARTY_AUTH_ERROR"),
            path="/messages:send",
        )

        with pytest.raises(PermanentError, match="THIRD_PARTY_AUTH_ERROR"):
            adapter.send(outgoing())

        assert len(fcm.requests_to("/messages:send")) == 1

    def test_a_refused_service_account_is_permanent(self, fcm: FakeFcm) -> None:
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        adapter = FcmAdapter(service_account=service_account(fcm, stranger), base_url=fcm.url)
        try:
            with pytest.raises(PermanentError, match="fcm oauth 400 invalid_grant: Invalid JWT"):
                adapter.send(outgoing())
        finally:
            adapter.close()

        assert fcm.requests_to("/messages:send") == []

    def test_a_token_endpoint_outage_is_transient(self, fcm: FakeFcm, adapter: FcmAdapter) -> None:
        fcm.script(Response(503, {"error": "temporarily_unavailable"}), path="/token")

        with pytest.raises(TransientError, match="fcm oauth 503"):
            adapter.send(outgoing())

        assert adapter.send(outgoing()).provider_id is not None  # nothing bad was cached


class TestFcmErrors:
    @pytest.mark.parametrize(
        ("status", "state", "code"),
        [
            (404, "NOT_FOUND", "UNREGISTERED"),
            (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
            (403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"),
        ],
    )
    def test_dead_or_foreign_tokens_are_permanent(
        self, fcm: FakeFcm, adapter: FcmAdapter, status: int, state: str, code: str
    ) -> None:
        fcm.script(
            google_error(status, state, f"The registration token {DEVICE} is not valid", code),
            path="/messages:send",
        )

        with pytest.raises(PermanentError) as caught:
            adapter.send(outgoing())

        assert caught.value.reason.startswith(f"fcm {status} {code}: The registration token")
        assert DEVICE not in caught.value.reason

    def test_a_bad_request_without_an_fcm_code_names_the_status(
        self, fcm: FakeFcm, adapter: FcmAdapter
    ) -> None:
        fcm.script(
            google_error(400, "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value'"),
            path="/messages:send",
        )

        with pytest.raises(PermanentError, match="fcm 400 INVALID_ARGUMENT: Invalid value"):
            adapter.send(outgoing())

    @pytest.mark.parametrize(
        ("status", "state", "code", "retry_after", "expected"),
        [
            (429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "30", 30.0),
            (503, "UNAVAILABLE", "UNAVAILABLE", "5", 5.0),
            (500, "INTERNAL", "INTERNAL", None, None),
        ],
    )
    def test_quota_and_outages_are_transient(
        self,
        fcm: FakeFcm,
        adapter: FcmAdapter,
        status: int,
        state: str,
        code: str,
        retry_after: str | None,
        expected: float | None,
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        fcm.script(google_error(status, state, "Try again", code, **headers), path="/messages:send")

        with pytest.raises(TransientError, match=f"fcm {status} {code}") as caught:
            adapter.send(outgoing())

        assert caught.value.retry_after == expected


class TestFcmConcurrency:
    def test_threads_share_one_token_and_all_succeed(
        self, fcm: FakeFcm, adapter: FcmAdapter
    ) -> None:
        fcm.token_delay = 0.1  # every thread arrives while the first is still fetching the token

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: adapter.send(outgoing(f"idem-{i}")), range(32)))

        assert all(isinstance(result, Accepted) for result in results)
        assert len({result.provider_id for result in results}) == 32
        assert len(fcm.requests_to("/token")) == 1


SECRET = "wallet-push-secret"


@pytest.fixture
def wallet() -> Iterator[FakeSignedService]:
    with FakeSignedService([SECRET]) as fake:
        yield fake


@pytest.fixture
def wallet_adapter(wallet: FakeSignedService) -> Iterator[WebhookPushAdapter]:
    adapter = WebhookPushAdapter(url=f"{wallet.url}/push", secret=SECRET, timeout=2, concurrency=4)
    yield adapter
    adapter.close()


class TestWalletPush:
    def test_posts_signed_json_and_takes_the_id(
        self, wallet: FakeSignedService, wallet_adapter: WebhookPushAdapter
    ) -> None:
        accepted = wallet_adapter.send(outgoing(to="wallet-user-42"))

        assert accepted.provider == "wallet-push"
        assert accepted.provider_id is not None
        assert accepted.provider_id.startswith("msg_")
        [request] = wallet.requests
        assert request.path == "/push"
        assert request.json() == {
            "user": "wallet-user-42",
            "title": "Payment due",
            "body": "Your instalment of 120.00 is due tomorrow.",
            "data": {"contact_id": "c-1", "account_id": "a-9"},
            "idempotency_key": "idem-1",
        }
        assert request.headers["idempotency-key"] == "idem-1"
        timestamp = int(request.headers["x-recoup-timestamp"])
        assert signing.verify(
            [SECRET.encode()], timestamp, request.body, request.headers["x-recoup-signature"]
        )

    def test_an_empty_answer_is_accepted_without_an_id(
        self, wallet: FakeSignedService, wallet_adapter: WebhookPushAdapter
    ) -> None:
        wallet.script(Response(204))

        assert wallet_adapter.send(outgoing()) == Accepted(provider="wallet-push")

    def test_a_wrong_secret_is_refused(self, wallet: FakeSignedService) -> None:
        adapter = WebhookPushAdapter(url=wallet.url, secret="old-secret")
        try:
            with pytest.raises(PermanentError, match="wallet-push 401 credentials refused"):
                adapter.send(outgoing())
        finally:
            adapter.close()

    def test_errors_are_classified(
        self, wallet: FakeSignedService, wallet_adapter: WebhookPushAdapter
    ) -> None:
        wallet.script(
            Response(503, None, {"Retry-After": "12"}),
            Response(404, {"code": "unknown_user", "message": "no such user"}),
        )

        with pytest.raises(TransientError) as outage:
            wallet_adapter.send(outgoing())
        with pytest.raises(PermanentError, match="wallet-push 404 unknown_user: no such user"):
            wallet_adapter.send(outgoing())

        assert outage.value.retry_after == 12

    def test_a_secret_is_required(self) -> None:
        with pytest.raises(ValueError, match="secret"):
            WebhookPushAdapter(url="http://127.0.0.1:1/push", secret="")

    def test_concurrent_sends_all_succeed(
        self, wallet: FakeSignedService, wallet_adapter: WebhookPushAdapter
    ) -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: wallet_adapter.send(outgoing(f"k-{i}")), range(24)))

        assert len({result.provider_id for result in results}) == 24
        assert sorted(r.headers["idempotency-key"] for r in wallet.requests) == sorted(
            f"k-{i}" for i in range(24)
        )

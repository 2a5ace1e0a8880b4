"""The SMS adapters against local stand-ins of Twilio and of a JSON gateway on real sockets."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from recoup.channels.base import Accepted, Outgoing, PermanentError, TransientError
from recoup.channels.http import parse_retry_after
from recoup.channels.sms import (
    HttpSmsAdapter,
    TwilioAdapter,
    twilio_signature,
    verify_twilio_signature,
)
from recoup.kit import signing
from tests.channels.providers import FakeSignedService, FakeTwilio, Response, twilio_error

pytestmark = pytest.mark.pure

SID = "AC" + "0" * 32
TOKEN = "twilio-auth-token-0123456789"
TO = "+15005550006"


def outgoing(key: str = "idem-1", **changes: str) -> Outgoing:
    fields = {"idempotency_key": key, "channel": "sms", "to": TO, "body": "Your payment is due."}
    return Outgoing(**(fields | changes), metadata={"contact": "c-1"})  # type: ignore[arg-type]


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def adapter(twilio: FakeTwilio) -> Iterator[TwilioAdapter]:
    adapter = TwilioAdapter(
        account_sid=SID,
        auth_token=TOKEN,
        from_number="+15005550001",
        status_callback="https://recoup.example/hooks/twilio",
        base_url=twilio.url,
        timeout=2,
        concurrency=4,
    )
    yield adapter
    adapter.close()


class TestTwilioSend:
    def test_accepted_with_the_message_sid(
        self, twilio: FakeTwilio, adapter: TwilioAdapter
    ) -> None:
        accepted = adapter.send(outgoing())

        assert accepted.provider == "twilio"
        assert accepted.provider_id is not None
        assert accepted.provider_id.startswith("SM")
        [request] = twilio.requests
        assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
        assert request.form() == {
            "To": TO,
            "Body": "Your payment is due.",
            "From": "+15005550001",
            "StatusCallback": "https://recoup.example/hooks/twilio",
        }
        assert request.headers["i-twilio-idempotency-token"] == "idem-1"

    def test_messaging_service_sends_without_a_from_number(self, twilio: FakeTwilio) -> None:
        adapter = TwilioAdapter(
            account_sid=SID, auth_token=TOKEN, messaging_service_sid="MG123", base_url=twilio.url
        )
        try:
            adapter.send(outgoing())
        finally:
            adapter.close()

        form = twilio.requests[0].form()
        assert form["MessagingServiceSid"] == "MG123"
        assert "From" not in form
        assert "StatusCallback" not in form

    def test_the_message_sender_overrides_the_configured_number(
        self, twilio: FakeTwilio, adapter: TwilioAdapter
    ) -> None:
        adapter.send(outgoing(sender="RECOUP"))

        assert twilio.requests[0].form()["From"] == "RECOUP"

    def test_needs_a_sender(self) -> None:
        with pytest.raises(ValueError, match="from_number or messaging_service_sid"):
            TwilioAdapter(account_sid=SID, auth_token=TOKEN)

    def test_attributes(self, adapter: TwilioAdapter) -> None:
        assert (adapter.name, adapter.channel, adapter.concurrency, adapter.rate_per_second) == (
            "twilio",
            "sms",
            4,
            None,
        )


class TestTwilioErrors:
    def test_invalid_number_is_permanent_and_the_reason_omits_it(
        self, twilio: FakeTwilio, adapter: TwilioAdapter
    ) -> None:
        twilio.script(
            twilio_error(400, 21211, f"The 'To' number {TO} is not a valid phone number.")
        )

        with pytest.raises(PermanentError) as caught:
            adapter.send(outgoing())

        assert caught.value.reason.startswith("twilio 400 21211: The 'To' number")
        assert TO not in caught.value.reason
        assert TO[1:] not in caught.value.reason
        assert caught.value.retry_after is None

    def test_unsubscribed_recipient_is_permanent_and_says_stop(
        self, twilio: FakeTwilio, adapter: TwilioAdapter
    ) -> None:
        twilio.script(twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"))

        with pytest.raises(PermanentError, match="21610") as caught:
            adapter.send(outgoing())

        assert "replied STOP" in caught.value.reason

    def test_non_mobile_number_is_permanent(
        self, twilio: FakeTwilio, adapter: TwilioAdapter
    ) -> None:
        twilio.script(twilio_error(400, 21614, "'To' number is not a valid mobile number"))

        with pytest.raises(PermanentError, match="21614"):
            adapter.send(outgoing())

    def test_full_sender_queue_is_transient(
        self, twilio: FakeTwilio, adapter: TwilioAdapter
    ) -> None:
        twilio.script(
            twilio_error(400, 21611, "This 'From' number has exceeded the maximum queued messages")
        )

        with pytest.raises(TransientError, match="21611"):
            adapter.send(outgoing())

    def test_rate_limited_is_transient_with_retry_after_seconds(
        self, twilio: FakeTwilio, adapter: TwilioAdapter
    ) -> None:
        twilio.script(twilio_error(429, 20429, "Too Many Requests", **{"Retry-After": "7"}))

        with pytest.raises(TransientError, match="20429") as caught:
            adapter.send(outgoing())

        assert caught.value.retry_after == 7

    def test_retry_after_as_an_http_date(self, twilio: FakeTwilio, adapter: TwilioAdapter) -> None:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
        retry_at = email.utils.format_datetime(later, usegmt=True)
        twilio.script(twilio_error(503, 20503, "Service Unavailable", **{"Retry-After": retry_at}))

        with pytest.raises(TransientError) as caught:
            adapter.send(outgoing())

        assert caught.value.retry_after is not None
        assert 110 <= caught.value.retry_after <= 120

    def test_server_error_is_transient(self, twilio: FakeTwilio, adapter: TwilioAdapter) -> None:
        twilio.script(twilio_error(500, 20500, "Internal Server Error"))

        with pytest.raises(TransientError, match="twilio 500 20500") as caught:
            adapter.send(outgoing())

        assert caught.value.retry_after is None

    def test_refused_credentials_are_permanent(self, twilio: FakeTwilio) -> None:
        adapter = TwilioAdapter(
            account_sid=SID, auth_token="wrong", from_number="+15005550001", base_url=twilio.url
        )
        try:
            with pytest.raises(PermanentError, match="credentials refused"):
                adapter.send(outgoing())
        finally:
            adapter.close()

    def test_timeout_is_transient(self, twilio: FakeTwilio) -> None:
        twilio.delay = 0.5
        adapter = TwilioAdapter(
            account_sid=SID,
            auth_token=TOKEN,
            from_number="+15005550001",
            base_url=twilio.url,
            timeout=0.1,
        )
        try:
            with pytest.raises(TransientError, match="timed out"):
                adapter.send(outgoing())
        finally:
            adapter.close()

    def test_refused_connection_is_transient(self) -> None:
        with socket.socket() as probe:  # a port nobody listens on once closed
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        adapter = TwilioAdapter(
            account_sid=SID,
            auth_token=TOKEN,
            from_number="+15005550001",
            base_url=f"http://127.0.0.1:{port}",
        )
        try:
            with pytest.raises(TransientError, match="connection failed"):
                adapter.send(outgoing())
        finally:
            adapter.close()


class TestTwilioConcurrency:
    def test_sends_from_many_threads_all_succeed(
        self, twilio: FakeTwilio, adapter: TwilioAdapter
    ) -> None:
        keys = [f"idem-{i}" for i in range(40)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda key: adapter.send(outgoing(key)), keys))

        assert all(isinstance(result, Accepted) for result in results)
        assert len({result.provider_id for result in results}) == 40
        assert sorted(r.headers["i-twilio-idempotency-token"] for r in twilio.requests) == sorted(
            keys
        )


class TestTwilioSignature:
    # twilio/twilio-python tests/unit/test_request_validator.py
    URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    PARAMS = {  # noqa: RUF012
        "CallSid": "CA1234567890ABCDE",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
        "Caller": "+14158675309",
    }
    EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="

    def test_matches_twilios_published_example(self) -> None:
        assert twilio_signature(self.URL, self.PARAMS, "12345") == self.EXPECTED

    def test_matches_an_independent_computation(self) -> None:
        params = {"b": "2", "a": "1", "MessageStatus": "delivered"}
        data = "https://h/x" + "MessageStatusdelivered" + "a1" + "b2"
        mac = hmac.new(b"tok", data.encode(), hashlib.sha1).digest()
        assert twilio_signature("https://h/x", params, "tok") == base64.b64encode(mac).decode()

    def test_verifies_a_valid_signature(self) -> None:
        assert verify_twilio_signature(self.URL, self.PARAMS, self.EXPECTED, ["12345"])

    def test_rejects_a_tampered_parameter(self) -> None:
        tampered = self.PARAMS | {"Digits": "9999"}
        assert not verify_twilio_signature(self.URL, tampered, self.EXPECTED, ["12345"])

    def test_rejects_a_different_url(self) -> None:
        other = "https://mycompany.com/myapp.php?foo=1&bar=3"
        assert not verify_twilio_signature(other, self.PARAMS, self.EXPECTED, ["12345"])

    def test_rejects_a_missing_header_or_no_tokens(self) -> None:
        assert not verify_twilio_signature(self.URL, self.PARAMS, None, ["12345"])
        assert not verify_twilio_signature(self.URL, self.PARAMS, "", ["12345"])
        assert not verify_twilio_signature(self.URL, self.PARAMS, self.EXPECTED, [])

    def test_accepts_either_token_while_rotating(self) -> None:
        new = twilio_signature(self.URL, self.PARAMS, "new-token")

        assert verify_twilio_signature(self.URL, self.PARAMS, new, ["12345", "new-token"])
        assert verify_twilio_signature(self.URL, self.PARAMS, self.EXPECTED, ["new-token", "12345"])
        assert not verify_twilio_signature(self.URL, self.PARAMS, self.EXPECTED, ["new-token"])

    def test_tolerates_the_default_port_either_way(self) -> None:
        # Twilio's own vectors: the same request signed with the URL carrying `:443`, and with `:1234`.
        with_port = "kvajT1Ptam85bY51eRf/AJRuM3w="
        assert verify_twilio_signature(self.URL, self.PARAMS, with_port, ["12345"])
        url_with_port = self.URL.replace(".com", ".com:1234")
        assert verify_twilio_signature(url_with_port, self.PARAMS, self.EXPECTED, ["12345"])


GATEWAY_KEY = "gw-api-key"
GATEWAY_SECRET = "gw-signing-secret"


@pytest.fixture
def gateway() -> Iterator[FakeSignedService]:
    with FakeSignedService(
        [GATEWAY_SECRET],
        id_field="message_id",
        status=200,
        idempotency_header="X-Request-Id",
        required_headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
    ) as fake:
        yield fake


@pytest.fixture
def gateway_adapter(gateway: FakeSignedService) -> Iterator[HttpSmsAdapter]:
    adapter = HttpSmsAdapter(
        url=f"{gateway.url}/api/sms",
        headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
        body_fields={
            "msisdn": "to",
            "text": "body",
            "originator": "sender",
            "brand": "sender_id",
            "reference": "idempotency_key",
        },
        sender_id="RECOUP",
        id_field="message_id",
        idempotency_header="X-Request-Id",
        secret=GATEWAY_SECRET,
        timeout=2,
        concurrency=4,
    )
    yield adapter
    adapter.close()


class TestHttpSms:
    def test_posts_the_mapped_fields_signed(
        self, gateway: FakeSignedService, gateway_adapter: HttpSmsAdapter
    ) -> None:
        accepted = gateway_adapter.send(outgoing())

        assert accepted.provider == "http-sms"
        assert accepted.provider_id is not None
        assert accepted.provider_id.startswith("msg_")
        [request] = gateway.requests
        assert request.path == "/api/sms"
        assert request.headers["content-type"] == "application/json"
        assert request.json() == {
            "msisdn": TO,
            "text": "Your payment is due.",
            "originator": "RECOUP",
            "brand": "RECOUP",
            "reference": "idem-1",
        }
        assert request.headers["x-request-id"] == "idem-1"
        timestamp = int(request.headers["x-recoup-timestamp"])
        expected = signing.sign(GATEWAY_SECRET.encode(), timestamp, request.body)
        assert request.headers["x-recoup-signature"] == expected

    def test_message_sender_fills_sender_but_not_the_constant(
        self, gateway: FakeSignedService, gateway_adapter: HttpSmsAdapter
    ) -> None:
        gateway_adapter.send(outgoing(sender="+15005550009"))

        body = gateway.requests[0].json()
        assert (body["originator"], body["brand"]) == ("+15005550009", "RECOUP")

    def test_a_retried_key_gets_the_same_id(self, gateway_adapter: HttpSmsAdapter) -> None:
        first = gateway_adapter.send(outgoing("idem-7"))
        again = gateway_adapter.send(outgoing("idem-7"))

        assert first.provider_id == again.provider_id

    def test_a_wrong_secret_is_refused_permanently(self, gateway: FakeSignedService) -> None:
        adapter = HttpSmsAdapter(
            url=gateway.url,
            headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
            secret="not-the-secret",
        )
        try:
            with pytest.raises(
                PermanentError, match="http-sms 401 credentials refused bad_signature"
            ):
                adapter.send(outgoing())
        finally:
            adapter.close()

    def test_rotating_secrets_sign_with_each(self, gateway: FakeSignedService) -> None:
        adapter = HttpSmsAdapter(
            url=gateway.url,
            headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
            secret=["next-secret", GATEWAY_SECRET],
        )
        try:
            adapter.send(outgoing())
        finally:
            adapter.close()

        assert gateway.requests[0].headers["x-recoup-signature"].count("v1=") == 2

    def test_gateway_errors_are_classified(
        self, gateway: FakeSignedService, gateway_adapter: HttpSmsAdapter
    ) -> None:
        gateway.script(
            Response(429, {"error": "rate_limited"}, {"Retry-After": "3"}),
            Response(502, None),
            Response(422, {"code": "invalid_msisdn", "message": f"{TO} is not reachable"}),
        )

        with pytest.raises(TransientError) as limited:
            gateway_adapter.send(outgoing())
        with pytest.raises(TransientError, match="http-sms 502 Bad Gateway"):
            gateway_adapter.send(outgoing())
        with pytest.raises(PermanentError) as invalid:
            gateway_adapter.send(outgoing())

        assert limited.value.retry_after == 3
        assert invalid.value.reason == "http-sms 422 invalid_msisdn: [redacted] is not reachable"

    def test_unknown_body_field_sources_are_refused(self) -> None:
        with pytest.raises(ValueError, match="body_fields"):
            HttpSmsAdapter(url="http://127.0.0.1:1", body_fields={"to": "to", "text": "message"})

    def test_concurrent_sends_all_succeed(
        self, gateway: FakeSignedService, gateway_adapter: HttpSmsAdapter
    ) -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: gateway_adapter.send(outgoing(f"k-{i}")), range(24)))

        assert len({r.provider_id for r in results}) == 24
        assert len(gateway.requests) == 24


class TestRetryAfter:
    NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (None, None),
            ("", None),
            ("30", 30.0),
            (" 5 ", 5.0),
            ("Mon, 01 Jun 2026 12:01:30 GMT", 90.0),
            ("Mon, 01 Jun 2026 11:00:00 GMT", 0.0),
            ("soon", None),
        ],
    )
    def test_seconds_or_http_date(self, value: str | None, expected: float | None) -> None:
        assert parse_retry_after(value, now=self.NOW) == expected

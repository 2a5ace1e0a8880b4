"""SmtpAdapter against a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, STARTTLS and AUTH,
how the server's answers map to Accepted / TransientError / PermanentError, connection reuse."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from recoup.channels.base import Outgoing, PermanentError, TransientError
from recoup.channels.email import SmtpAdapter
from recoup.kit.clock import SettableClock

pytestmark = pytest.mark.pure

HOST = "127.0.0.1"
SENDER = "还款提醒 <billing@recoup.example>"
RECIPIENT = "zhang.wei@example.com"
NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
USER, PASSWORD = "recoup", "s3cret-pass"


# A test SMTP server


@dataclass
class Received:
    server: SMTP  # the protocol instance: one per connection
    session: Session
    envelope: Envelope

    @property
    def message(self) -> EmailMessage:
        content = self.envelope.original_content
        assert content is not None
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Recorder:
    """An aiosmtpd handler that keeps what it was given and can refuse at RCPT or at DATA."""

    def __init__(self, *, rcpt_reply: str | None = None, data_reply: str | None = None) -> None:
        self.rcpt_reply = rcpt_reply  # `{address}` is replaced by the recipient, as servers echo it
        self.data_reply = data_reply
        self.received: list[Received] = []
        self.quits = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.received.append(Received(server, session, envelope))
        return "250 2.0.0 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(handler: Recorder, **smtp_options: Any) -> Iterator[Controller]:
    controller = Controller(handler, hostname=HOST, port=free_port(), **smtp_options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def drop_connection(controller: Controller, server: SMTP) -> None:
    """Close one connection from the server's side and wait until it is gone."""
    transport = server.transport
    assert transport is not None
    controller.loop.call_soon_threadsafe(transport.close)
    deadline = time.monotonic() + 2
    while server.transport is not None:  # aiosmtpd clears it in connection_lost
        assert time.monotonic() < deadline, "the server did not close the connection"
        time.sleep(0.005)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    if good:
        return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)  # aiosmtpd answers 535


def outgoing(key: str = "reminder-1", **fields: Any) -> Outgoing:
    values: dict[str, Any] = {
        "idempotency_key": key,
        "channel": "email",
        "to": RECIPIENT,
        "subject": "还款提醒：您的账单已逾期",
        "body": "张伟您好，\n您的账单已逾期 3 天，请尽快还款。\n",
        "language": "zh-CN",
    }
    return Outgoing(**(values | fields))


def adapter_for(port: int, **options: Any) -> SmtpAdapter:
    defaults: dict[str, Any] = {
        "timeout": 2.0,
        "local_hostname": "client.test",  # no FQDN lookup
        "clock": SettableClock(NOW),
    }
    return SmtpAdapter(host=HOST, port=port, sender=SENDER, **(defaults | options))


# Fixtures: a plain server with a recording handler, and an adapter pointed at it


@pytest.fixture
def handler(request: pytest.FixtureRequest) -> Recorder:
    return Recorder(**getattr(request, "param", {}))


@pytest.fixture
def server(handler: Recorder) -> Iterator[Controller]:
    with smtp_server(handler) as controller:
        yield controller


@pytest.fixture
def adapter(server: Controller) -> Iterator[SmtpAdapter]:
    adapter = adapter_for(server.port)
    yield adapter
    adapter.close()


class TestWhatArrives:
    def test_chinese_subject_body_and_html_arrive_intact(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        html = "<p>张伟您好，<b>您的账单已逾期</b>。</p>"
        accepted = adapter.send(outgoing(html=html))

        [received] = handler.received
        assert received.envelope.mail_from == "billing@recoup.example"
        assert received.envelope.rcpt_tos == [RECIPIENT]
        content = received.envelope.original_content
        assert content is not None
        assert content.isascii()  # 7-bit clean: any relay takes it
        message = received.message
        assert message["Subject"] == "还款提醒：您的账单已逾期"
        assert message["From"].addresses[0].display_name == "还款提醒"
        assert message["From"].addresses[0].addr_spec == "billing@recoup.example"
        assert message["To"] == RECIPIENT
        assert message["Date"].datetime == NOW
        assert message["Content-Language"] == "zh-CN"
        assert message.get_content_type() == "multipart/alternative"
        plain, rich = message.iter_parts()
        assert plain.get_content_type() == "text/plain"
        assert plain.get_content_charset() == "utf-8"
        assert plain.get_content().splitlines() == outgoing().body.splitlines()
        assert rich.get_content_type() == "text/html"
        assert rich.get_content().strip() == html
        assert accepted.provider == "smtp"
        assert accepted.provider_id == message["Message-ID"]
        assert message["X-Recoup-Idempotency-Key"] == "reminder-1"

    def test_a_text_only_message_is_a_single_text_part(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        adapter.send(outgoing())

        message = handler.received[0].message
        assert message.get_content_type() == "text/plain"
        assert message.get_content().splitlines() == outgoing().body.splitlines()


class TestHeaders:
    def test_message_id_follows_the_idempotency_key(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        first = adapter.send(outgoing("reminder-1"))
        again = adapter.send(outgoing("reminder-1"))
        other = adapter.send(outgoing("reminder-2"))

        ids = [received.message["Message-ID"] for received in handler.received]
        assert ids[0] == ids[1] != ids[2]
        assert re.fullmatch(r"<[0-9a-f]{32}@recoup\.example>", ids[0])
        assert [first.provider_id, again.provider_id, other.provider_id] == ids

    def test_one_click_unsubscribe_headers_follow_rfc_8058(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        url = "https://pay.recoup.example/unsubscribe?t=" + "a1b2c3d4" * 12  # longer than a line
        adapter.send(outgoing(unsubscribe_url=url))

        content = handler.received[0].envelope.original_content
        assert content is not None
        # Written as is, on one line: clients do not decode encoded words in this header.
        assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in content
        assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in content
        message = handler.received[0].message
        assert message["List-Unsubscribe"] == f"<{url}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    def test_no_unsubscribe_headers_without_a_url(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        adapter.send(outgoing())

        message = handler.received[0].message
        assert "List-Unsubscribe" not in message
        assert "List-Unsubscribe-Post" not in message

    def test_a_line_break_in_the_subject_is_refused_not_injected(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        with pytest.raises(PermanentError):
            adapter.send(outgoing(subject="hello\r\nBcc: victim@example.com"))
        assert handler.received == []


class TestStartTlsAndAuth:
    @pytest.fixture
    def certificate(self, tmp_path: Path) -> tuple[Path, Path]:
        return make_certificate(tmp_path)

    @pytest.fixture
    def tls_server(self, certificate: tuple[Path, Path], handler: Recorder) -> Iterator[Controller]:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        with smtp_server(
            handler,
            tls_context=context,
            require_starttls=True,
            auth_require_tls=True,
            authenticator=authenticator,
        ) as controller:
            yield controller

    def client_context(self, certificate: tuple[Path, Path]) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(certificate[0]))

    def test_sends_over_starttls_after_authenticating(
        self, tls_server: Controller, certificate: tuple[Path, Path], handler: Recorder
    ) -> None:
        adapter = adapter_for(
            tls_server.port,
            security="starttls",
            ssl_context=self.client_context(certificate),
            username=USER,
            password=PASSWORD,
        )
        try:
            adapter.send(outgoing())
        finally:
            adapter.close()

        [received] = handler.received
        assert received.session.ssl is not None
        assert received.session.authenticated
        assert received.session.login_data == USER.encode()

    def test_a_wrong_password_is_permanent_and_not_repeated(
        self, tls_server: Controller, certificate: tuple[Path, Path], handler: Recorder
    ) -> None:
        adapter = adapter_for(
            tls_server.port,
            security="starttls",
            ssl_context=self.client_context(certificate),
            username=USER,
            password="wrong-pass",
        )
        try:
            with pytest.raises(PermanentError) as refused:
                adapter.send(outgoing())
        finally:
            adapter.close()

        assert refused.value.reason.startswith("smtp authentication refused: 535")
        assert "wrong-pass" not in refused.value.reason
        assert handler.received == []

    def test_an_untrusted_certificate_is_not_accepted(
        self, tls_server: Controller, handler: Recorder
    ) -> None:
        adapter = adapter_for(
            tls_server.port, security="starttls", username=USER, password=PASSWORD
        )
        try:
            with pytest.raises(TransientError, match="CERTIFICATE_VERIFY_FAILED"):
                adapter.send(outgoing())
        finally:
            adapter.close()
        assert handler.received == []

    def test_sends_over_implicit_tls(
        self, certificate: tuple[Path, Path], handler: Recorder
    ) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        with smtp_server(handler, ssl_context=context) as controller:
            adapter = adapter_for(
                controller.port, security="ssl", ssl_context=self.client_context(certificate)
            )
            try:
                adapter.send(outgoing())
            finally:
                adapter.close()

        assert len(handler.received) == 1  # a plain-text client could not have spoken to it


class TestErrorMapping:
    @pytest.mark.parametrize(
        "handler",
        [
            {"rcpt_reply": "550 5.1.1 <{address}>: mailbox unavailable"},
            {"data_reply": "550 5.7.1 message refused"},
        ],
        ids=["rcpt", "data"],
        indirect=True,
    )
    def test_a_5xx_reply_is_permanent_and_names_no_address(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        with pytest.raises(PermanentError) as refused:
            adapter.send(outgoing())

        reason = refused.value.reason
        assert "550" in reason
        assert RECIPIENT not in reason
        assert "zhang.wei" not in reason

    def test_a_server_echoing_a_dotless_address_is_scrubbed_too(self) -> None:
        with smtp_server(Recorder(rcpt_reply="550 5.1.1 {address} unknown")) as controller:
            adapter = adapter_for(controller.port)
            try:
                with pytest.raises(PermanentError) as refused:
                    adapter.send(outgoing(to="Zhang.Wei@localhost"))
            finally:
                adapter.close()
        assert "zhang.wei" not in refused.value.reason.lower()
        assert refused.value.reason.startswith("smtp recipient refused: 550 5.1.1")

    @pytest.mark.parametrize(
        "handler",
        [{"rcpt_reply": "451 4.3.0 try later"}, {"data_reply": "451 4.3.0 try later"}],
        ids=["rcpt", "data"],
        indirect=True,
    )
    def test_a_4xx_reply_is_transient(self, adapter: SmtpAdapter, handler: Recorder) -> None:
        with pytest.raises(TransientError) as deferred:
            adapter.send(outgoing())

        assert "451 4.3.0 try later" in deferred.value.reason

    def test_nothing_listening_is_transient(self) -> None:
        adapter = adapter_for(free_port())
        with pytest.raises(TransientError, match="smtp connection failed"):
            adapter.send(outgoing())

    def test_a_server_that_never_answers_is_transient(self) -> None:
        with socket.socket() as silent:  # accepts connections (the backlog) and says nothing
            silent.bind((HOST, 0))
            silent.listen()
            adapter = adapter_for(silent.getsockname()[1], timeout=0.2)
            with pytest.raises(TransientError, match="timed out"):
                adapter.send(outgoing())

    def test_an_invalid_recipient_is_permanent_without_a_round_trip(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        with pytest.raises(PermanentError, match="not a valid e-mail address"):
            adapter.send(outgoing(to="not an address"))
        assert handler.received == []


class TestConnections:
    def test_two_sends_on_one_thread_share_one_session(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        adapter.send(outgoing("reminder-1"))
        adapter.send(outgoing("reminder-2"))

        first, second = handler.received
        assert first.session is second.session

    def test_a_connection_dropped_by_the_server_is_replaced_transparently(
        self, server: Controller, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        adapter.send(outgoing("reminder-1"))
        drop_connection(server, handler.received[0].server)

        adapter.send(outgoing("reminder-2"))

        first, second = handler.received
        assert first.session is not second.session
        assert second.message["X-Recoup-Idempotency-Key"] == "reminder-2"

    def test_a_refused_recipient_leaves_the_connection_usable(self) -> None:
        handler = Recorder(rcpt_reply="550 5.1.1 mailbox unavailable")
        with smtp_server(handler) as controller:
            adapter = adapter_for(controller.port)
            try:
                with pytest.raises(PermanentError):
                    adapter.send(outgoing("reminder-1"))
                handler.rcpt_reply = None
                adapter.send(outgoing("reminder-2"))
                adapter.send(outgoing("reminder-3"))
            finally:
                adapter.close()

        second, third = handler.received
        assert second.session is third.session

    def test_each_thread_has_its_own_connection_and_close_quits_them_all(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        threads = [
            threading.Thread(target=adapter.send, args=(outgoing(f"reminder-{n}"),))
            for n in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        first, second = handler.received
        assert first.session is not second.session
        adapter.close()
        deadline = time.monotonic() + 2
        while handler.quits < 2:
            assert time.monotonic() < deadline, "close() did not quit every connection"
            time.sleep(0.005)

    def test_the_adapter_reconnects_after_close(
        self, adapter: SmtpAdapter, handler: Recorder
    ) -> None:
        adapter.send(outgoing("reminder-1"))
        adapter.close()
        adapter.send(outgoing("reminder-2"))

        first, second = handler.received
        assert first.session is not second.session

"""E-mail over SMTP, with the standard library only.

One message per `send`: multipart/alternative (text/plain, plus text/html when given), UTF-8,
7-bit clean on the wire (base64 or quoted-printable bodies, RFC 2047 headers) so any relay takes it.
The `Message-ID` is derived from the idempotency key, `<sha256(key)[:32]@sender-domain>`, so a
message resent after a crash carries the same id and `Accepted.provider_id` names it either way.
With an `unsubscribe_url` the message carries RFC 8058 one-click headers (`List-Unsubscribe` and
`List-Unsubscribe-Post`); they only count with a DKIM signature covering them, which is the
relay's job.

Connections: one per thread (the dispatcher's workers), opened lazily, upgraded by STARTTLS or
opened with implicit TLS per `security`, authenticated when a username is set, and kept for the
next message. When a kept connection turns out closed by the server (idle timeout, per-session
limit), the message is sent once more on a fresh connection; a fresh connection failing is
reported. `close()` quits every connection the adapter opened.

What the server says, mapped for the dispatcher:
- a 5xx reply (recipient refused, sender refused, message refused), an authentication refusal,
  a missing extension (STARTTLS, AUTH, SMTPUTF8) -> `PermanentError`;
- a 4xx reply, a refused or timed-out connection, a dropped connection -> `TransientError`.
Reasons quote the server's code and text with every e-mail address taken out: reasons are stored
and shown, and servers like to echo the recipient (`550 5.1.1 <a@b.c>: unknown user`).
"""

from __future__ import annotations

import email.utils
import hashlib
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from typing import Literal

from recoup.channels.base import Accepted, Outgoing, PermanentError, TransientError
from recoup.kit.clock import Clock, SystemClock, ensure_utc
from recoup.kit.logging import scrub

Security = Literal["starttls", "ssl", "none"]

_MAX_REASON = 300  # server texts can run long; the start says what happened
_MAX_VERBATIM = 900  # RFC 5322 caps a line at 998 characters, header name included


class _VerbatimHeader(UnstructuredHeader, BaseHeader):
    """A header written on one line, as given.

    The standard folding turns a long token without spaces, such as an unsubscribe URL, into
    RFC 2047 encoded words, which mail clients do not decode in `List-Unsubscribe` (RFC 2369 wants
    the URL inside angle brackets). Values that are not short printable ASCII fold as usual.
    """

    def fold(self, *, policy: Policy) -> str:
        value = str(self)
        if len(value) <= _MAX_VERBATIM and value.isascii() and value.isprintable():
            return f"{self.name}: {value}{policy.linesep}"
        return super().fold(policy=policy)


def _policy() -> Policy:
    registry = HeaderRegistry()
    for name in ("list-unsubscribe", "list-unsubscribe-post", "x-recoup-idempotency-key"):
        registry.map_to_type(name, _VerbatimHeader)
    # CRLF line ends (text parts are encoded in canonical form) and 7-bit bodies: no 8BITMIME needed.
    return SMTP.clone(header_factory=registry, cte_type="7bit")


_POLICY = _policy()


def message_id(idempotency_key: str, sender: str) -> str:
    """The `Message-ID` for a key: the same key always gives the same id (RFC 5322 3.6.4)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2].strip().lower()
    try:
        domain = domain.encode("idna").decode("ascii") if domain else "recoup.invalid"
    except UnicodeError:
        domain = "recoup.invalid"
    return f"<{digest}@{domain}>"


@dataclass(frozen=True, slots=True)
class _Built:
    mail: EmailMessage
    from_address: str  # the envelope sender (MAIL FROM)
    recipient: str
    message_id: str


class SmtpAdapter:
    """Sends e-mail through one SMTP server (a relay or a provider's SMTP endpoint)."""

    channel = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        security: Security = "none",
        timeout: float = 10.0,
        concurrency: int = 4,
        rate_per_second: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        clock: Clock | None = None,
        name: str = "smtp",
    ) -> None:
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"security must be starttls, ssl or none, not {security!r}")
        if "@" not in email.utils.parseaddr(sender)[1]:
            raise ValueError("sender must be an e-mail address, optionally with a display name")
        self.name = name
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self.host = host
        self.port = port
        self.sender = sender
        self.security: Security = security
        self.timeout = timeout
        self.local_hostname = local_hostname  # the EHLO name; None asks the OS for its FQDN
        self._username = username
        self._password = password
        self._ssl_context = ssl_context
        self._clock = clock or SystemClock()  # for the Date header
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[smtplib.SMTP] = []

    def send(self, message: Outgoing) -> Accepted:
        built = self._build(message)
        try:
            self._deliver(built)
        except OSError as error:  # smtplib's exceptions are OSErrors too
            raise _classify(error, message.to) from None
        return Accepted(provider=self.name, provider_id=built.message_id)

    def close(self) -> None:
        """Quit every connection opened so far; call it when no `send` is in flight."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()

    # Building

    def _build(self, message: Outgoing) -> _Built:
        if message.channel != self.channel:
            raise PermanentError(f"smtp adapter cannot send {message.channel!r} messages")
        sender = message.sender or self.sender
        try:
            recipient = Address(addr_spec=message.to.strip())
        except (ValueError, IndexError, HeaderParseError):
            recipient = None
        if recipient is None or not recipient.domain:
            raise PermanentError("recipient is not a valid e-mail address")
        if message.unsubscribe_url is not None and not (
            message.unsubscribe_url.isascii() and message.unsubscribe_url.isprintable()
        ):
            raise PermanentError("unsubscribe url must be printable ASCII (percent-encode it)")
        mid = message_id(message.idempotency_key, sender)

        mail = EmailMessage(policy=_POLICY)
        try:
            mail["Subject"] = message.subject or ""
            mail["From"] = sender
            mail["To"] = recipient
            mail["Date"] = email.utils.format_datetime(ensure_utc(self._clock.now()))
            mail["Message-ID"] = mid
            mail["X-Recoup-Idempotency-Key"] = message.idempotency_key
            if message.unsubscribe_url is not None:
                mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
                mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            mail.set_content(message.body)
            if message.html is not None:
                mail.add_alternative(message.html, subtype="html")
            # After the parts: making the alternative moves every Content-* header into the first.
            mail["Content-Language"] = message.language
            from_address = mail["From"].addresses[0].addr_spec
        except (ValueError, IndexError) as error:  # a line break in a header, an unparsable From
            raise PermanentError(
                f"message cannot be built: {_text(str(error), message.to)}"
            ) from None
        return _Built(mail, from_address, recipient.addr_spec, mid)

    # Connections

    def _deliver(self, built: _Built) -> None:
        connection, reused = self._connection()
        try:
            self._transmit(connection, built)
        except smtplib.SMTPServerDisconnected:
            if not reused:
                raise
        else:
            return
        # The server closed a connection kept from an earlier message: once more on a new one.
        # Should the first attempt have gone through unacknowledged, the same Message-ID lets the
        # recipient's side recognise the copy.
        connection, _ = self._connection()
        self._transmit(connection, built)

    def _transmit(self, connection: smtplib.SMTP, built: _Built) -> None:
        try:
            connection.send_message(built.mail, built.from_address, [built.recipient])
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # smtplib reset the transaction (or closed the connection on 421): still sound
        except BaseException:
            self._discard(connection)  # broken mid-transaction: its state is unknown
            raise

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        """This thread's connection and whether it was kept from an earlier message."""
        connection: smtplib.SMTP | None = getattr(self._local, "connection", None)
        if connection is not None and connection.sock is not None:
            return connection, True
        if connection is not None:
            self._discard(connection)  # closed by smtplib (421), by `close()` or by an error
        connection = self._open()
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection, False

    def _open(self) -> smtplib.SMTP:
        context = self._ssl_context or ssl.create_default_context()
        connection: smtplib.SMTP
        if self.security == "ssl":
            connection = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=context,
            )
        else:
            connection = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        try:
            connection.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()  # RFC 3207: forget what was learnt before TLS
            if self._username is not None:
                connection.login(self._username, self._password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def _discard(self, connection: smtplib.SMTP) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None
        connection.close()


def _text(raw: str | bytes, recipient: str) -> str:
    """The server's words, safe to store: no e-mail address, no line breaks, not too long."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = " ".join(text.split())
    if recipient:
        # scrub() needs a dotted domain; the literal pass catches `user@localhost` and the like.
        lowered, needle = text.lower(), recipient.strip().lower()
        while needle and needle in lowered:
            start = lowered.index(needle)
            text = text[:start] + "[email]" + text[start + len(needle) :]
            lowered = text.lower()
    return scrub(text)[:_MAX_REASON]


def _classify(error: OSError, recipient: str) -> PermanentError | TransientError:
    """What the dispatcher should make of a failed attempt."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # One recipient per message, so "all refused" is this one; the code decides its fate.
        code, reply = next(iter(error.recipients.values()))
        return _by_code("smtp recipient refused", code, reply, recipient)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        if 400 <= error.smtp_code < 500:  # RFC 4954 454: a temporary failure on the server's side
            return _by_code(
                "smtp authentication failed", error.smtp_code, error.smtp_error, recipient
            )
        said = _text(error.smtp_error, recipient)
        return PermanentError(f"smtp authentication refused: {error.smtp_code} {said}".rstrip())
    if isinstance(error, smtplib.SMTPResponseException):  # sender or data refused, bad greeting
        return _by_code("smtp", error.smtp_code, error.smtp_error, recipient)
    if isinstance(error, smtplib.SMTPServerDisconnected):  # also a read timeout mid-conversation
        return TransientError(f"smtp connection lost: {_text(str(error), recipient)}")
    if isinstance(error, smtplib.SMTPNotSupportedError):  # STARTTLS, AUTH or SMTPUTF8 missing
        return PermanentError(f"smtp server lacks an extension: {_text(str(error), recipient)}")
    if isinstance(error, smtplib.SMTPException):  # no usable AUTH mechanism and the like
        return PermanentError(f"smtp: {_text(str(error), recipient)}")
    # Refused, unreachable, timed out, a failed TLS handshake.
    said = _text(str(error), recipient) or type(error).__name__
    return TransientError(f"smtp connection failed: {said}")


def _by_code(
    what: str, code: int, raw: str | bytes, recipient: str
) -> PermanentError | TransientError:
    """5xx is final (RFC 5321 4.2.1); 4xx, and anything unexpected, may go later."""
    reason = f"{what}: {code} {_text(raw, recipient)}".rstrip()
    return PermanentError(reason) if 500 <= code < 600 else TransientError(reason)

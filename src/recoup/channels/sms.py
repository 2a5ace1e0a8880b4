"""SMS adapters: Twilio's Messages API and a configurable JSON gateway; Twilio's webhook signatures.

Twilio (https://www.twilio.com/docs/messaging/api/message-resource):
    POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP basic auth (sid, token),
    form fields To, Body, From | MessagingServiceSid, StatusCallback -> 201 {"sid": "SM...", ...}
    errors -> {"code": 21211, "message": ..., "more_info": ..., "status": 400}

The idempotency key travels in `I-Twilio-Idempotency-Token`, the header Twilio itself uses for
retried webhooks; Twilio does not document de-duplication of Messages requests by it, so a message
retried after a timeout may still go twice through Twilio.

Status callbacks and inbound messages are signed by Twilio (X-Twilio-Signature): see
`verify_twilio_signature`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

from recoup.channels.base import Accepted, Outgoing, PermanentError, TransientError
from recoup.channels.http import (
    ProviderClient,
    classify,
    error_detail,
    json_field,
    reason_for,
    signed_json,
)
from recoup.kit.clock import Clock, SystemClock

TWILIO_IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"

# Twilio error codes that need their own wording or class (https://www.twilio.com/docs/api/errors).
_TWILIO_STOPPED = "21610"  # the recipient replied STOP; Twilio refuses until they reply START
_TWILIO_QUEUE_FULL = "21611"  # the From number's queue is full: back-pressure, not a bad message


class TwilioAdapter:
    name = "twilio"
    channel = "sms"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
        concurrency: int = 8,
        rate_per_second: float | None = None,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("TwilioAdapter needs from_number or messaging_service_sid")
        self.account_sid = account_sid
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._client = ProviderClient(
            self.name,
            concurrency=concurrency,
            timeout=timeout,
            base_url=base_url.rstrip("/"),
            auth=(account_sid, auth_token),
            headers={"Accept": "application/json"},
        )

    def send(self, message: Outgoing) -> Accepted:
        form = {"To": message.to, "Body": message.body}
        sender = message.sender or self.from_number
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        if sender:
            form["From"] = sender
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        response = self._client.post(
            self._path, data=form, headers={TWILIO_IDEMPOTENCY_HEADER: message.idempotency_key}
        )
        redact = (message.to,)
        if response.status_code == 400:
            code, _ = error_detail(response)
            if code == _TWILIO_STOPPED:
                raise PermanentError(
                    reason_for(
                        response,
                        provider=self.name,
                        code=code,
                        message="recipient replied STOP (unsubscribed); Twilio refuses until START",
                    )
                )
            if code == _TWILIO_QUEUE_FULL:
                raise TransientError(reason_for(response, provider=self.name, redact=redact))
        classify(response, provider=self.name, redact=redact)
        return Accepted(provider=self.name, provider_id=json_field(response, "sid"))

    def close(self) -> None:
        self._client.close()


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """Twilio's X-Twilio-Signature: base64(HMAC-SHA1(token, url + k1 + v1 + k2 + v2 ...)), the POST
    parameters sorted by name (https://www.twilio.com/docs/usage/security#validating-requests)."""
    data = url + "".join(key + params[key] for key in sorted(params))
    mac = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def verify_twilio_signature(
    url: str, params: Mapping[str, str], header: str | None, tokens: Iterable[str]
) -> bool:
    """Whether `header` signs this request under any of `tokens` (the current and the previous auth
    token while they rotate). `url` is the full URL Twilio called, query string included. Like
    Twilio's own validators, the URL is also tried with its default port added and removed, since
    Twilio signs whichever form it was configured with. JSON bodies (`bodySHA256`) are not handled."""
    if not header:
        return False
    candidates = _port_variants(url)
    offered = header.strip().encode()
    matched = False
    for token in tokens:
        for candidate in candidates:
            expected = twilio_signature(candidate, params, token).encode()
            # No early exit: the time taken does not say which token or URL form matched.
            matched |= hmac.compare_digest(expected, offered)
    return matched


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    variants = [url, urlunsplit(parts._replace(netloc=prefix + host))]
    if default is not None and parts.port is None:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
    return list(dict.fromkeys(variants))


# What an `HttpSmsAdapter` body field can carry.
_SOURCES = frozenset({"to", "body", "sender", "sender_id", "idempotency_key"})


class HttpSmsAdapter:
    """Any SMS gateway that takes a JSON POST and answers with an id.

    `body_fields` maps the gateway's field names to what they carry: `to`, `body`, `sender` (the
    message's sender, else `sender_id`), `sender_id` (always the configured constant) or
    `idempotency_key`. Fields with nothing to carry are left out. With `secret`, the body is signed
    as recoup.kit.signing describes (`X-Recoup-Timestamp`, `X-Recoup-Signature`); a list of secrets
    signs with each while the gateway rotates.
    """

    name = "http-sms"
    channel = "sms"

    def __init__(
        self,
        *,
        url: str,
        headers: Mapping[str, str] | None = None,
        body_fields: Mapping[str, str] | None = None,
        sender_id: str | None = None,
        id_field: str = "id",
        idempotency_header: str | None = "Idempotency-Key",
        secret: str | Sequence[str] | None = None,
        timeout: float = 10.0,
        concurrency: int = 8,
        rate_per_second: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        fields = dict(body_fields or {"to": "to", "body": "body", "from": "sender"})
        unknown = sorted(source for source in fields.values() if source not in _SOURCES)
        if unknown:
            raise ValueError(f"body_fields values must be among {sorted(_SOURCES)}; got {unknown}")
        if "to" not in fields.values() or "body" not in fields.values():
            raise ValueError("body_fields must carry both `to` and `body`")
        self.url = url
        self.body_fields = fields
        self.sender_id = sender_id
        self.id_field = id_field
        self.idempotency_header = idempotency_header
        self.secrets: tuple[str, ...] = (
            (secret,) if isinstance(secret, str) else tuple(secret or ())
        )
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._clock = clock or SystemClock()
        self._client = ProviderClient(
            self.name, concurrency=concurrency, timeout=timeout, headers=headers
        )

    def send(self, message: Outgoing) -> Accepted:
        values = {
            "to": message.to,
            "body": message.body,
            "sender": message.sender or self.sender_id,
            "sender_id": self.sender_id,
            "idempotency_key": message.idempotency_key,
        }
        payload = {
            field: values[source]
            for field, source in self.body_fields.items()
            if values[source] is not None
        }
        body, headers = signed_json(payload, self.secrets, self._clock)
        if self.idempotency_header:
            headers[self.idempotency_header] = message.idempotency_key
        response = self._client.post(self.url, content=body, headers=headers)
        classify(response, provider=self.name, redact=(message.to,))
        return Accepted(provider=self.name, provider_id=json_field(response, self.id_field))

    def close(self) -> None:
        self._client.close()

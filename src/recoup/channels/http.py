"""What the HTTP adapters share: a pooled client, the answer → error mapping, signed JSON bodies.

    2xx                       -> the caller reads the answer
    408, 425, 429, 5xx        -> TransientError, with `Retry-After` (seconds or HTTP-date) as retry_after
    timeout, refused, reset   -> TransientError (the idempotency key makes the retry safe)
    any other status          -> PermanentError

A reason is stored with the message and shown to staff, so it is built from the status and the
provider's error code and message only, with the recipient (and anything that looks like a number,
an address or a token) scrubbed out: providers like to echo the number they refused.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from recoup.channels.base import PermanentError, TransientError
from recoup.kit import signing
from recoup.kit.clock import Clock, SystemClock

TIMESTAMP_HEADER = "X-Recoup-Timestamp"
SIGNATURE_HEADER = "X-Recoup-Signature"
USER_AGENT = "recoup-channels/1"

TRANSIENT_STATUSES = frozenset({408, 425, 429})

_NUMBER = re.compile(r"\+?\d[\d ().-]{5,}\d")
_ADDRESS = re.compile(r"[^\s@'\"<>]+@[^\s@'\"<>]+")
_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{40,}")
_REASON_LIMIT = 200


def make_client(
    *,
    concurrency: int,
    timeout: float,
    base_url: str = "",
    auth: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """A client whose pool holds one connection per sending thread, so keep-alive is never starved."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        follow_redirects=False,
    )


class ProviderClient:
    """A pooled `httpx.Client` that lets at most `concurrency` requests in at once and turns failed
    exchanges into TransientError.

    The gate matters: httpcore 1.0.9's sync pool can close a connection it already handed to a queued
    request when more threads than connections share it (encode/httpcore#1110), failing the request
    with EBADF or hanging it until the read timeout. Requests that never queue in the pool avoid that.
    """

    def __init__(
        self,
        provider: str,
        *,
        concurrency: int,
        timeout: float,
        base_url: str = "",
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.client = make_client(
            concurrency=concurrency, timeout=timeout, base_url=base_url, auth=auth, headers=headers
        )
        self._timeout = timeout
        self._slots = threading.BoundedSemaphore(concurrency)

    def post(self, url: str, *, provider: str | None = None, **kwargs: Any) -> httpx.Response:
        provider = provider or self.provider
        # Waiting longer than one request may take means the caller runs more threads than it said.
        if not self._slots.acquire(timeout=self._timeout):
            raise TransientError(f"{provider}: all {provider} connections busy")
        try:
            with transport_errors(provider):
                return self.client.post(url, **kwargs)
        finally:
            self._slots.release()

    def get(self, url: str, *, provider: str | None = None, **kwargs: Any) -> httpx.Response:
        provider = provider or self.provider
        if not self._slots.acquire(timeout=self._timeout):
            raise TransientError(f"{provider}: all {provider} connections busy")
        try:
            with transport_errors(provider):
                return self.client.get(url, **kwargs)
        finally:
            self._slots.release()

    def close(self) -> None:
        self.client.close()


@contextmanager
def transport_errors(provider: str) -> Iterator[None]:
    """Turn a failed exchange into a TransientError. The exception text is left out: it names hosts
    and sometimes the request, and the reason is stored."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransientError(f"{provider}: timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"{provider}: connection failed ({type(exc).__name__})") from exc


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """RFC 9110 10.2.3: delay-seconds or an HTTP-date. A date in the past means now (0)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; obsolete forms may parse as naive
        when = when.replace(tzinfo=dt.UTC)
    now = now or SystemClock().now()
    return max((when - now).total_seconds(), 0.0)


def scrub(text: str, redact: Iterable[str] = ()) -> str:
    """Provider text made safe to store: the recipient and look-alikes replaced, length capped."""
    for value in redact:
        if value:
            text = text.replace(value, "[redacted]")
    text = _ADDRESS.sub("[address]", text)
    text = _TOKEN.sub("[token]", text)
    text = _NUMBER.sub("[number]", text)
    text = " ".join(text.split())
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


def error_detail(response: httpx.Response) -> tuple[str | None, str | None]:
    """The provider's (code, message) from the usual JSON error shapes, or (None, None).

    Twilio `{"code": 21211, "message": ...}`; Google `{"error": {"status": ..., "message": ...,
    "details": [{"errorCode": ...}]}}`; OAuth2 `{"error": "invalid_grant", "error_description": ...}`;
    otherwise a top-level `code`/`error_code` and `message`/`detail`. Non-JSON bodies (HTML error
    pages) are ignored rather than risk storing whatever they echo.
    """
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        code = None
        for detail in error.get("details") or ():
            if isinstance(detail, dict) and detail.get("errorCode"):
                code = str(detail["errorCode"])
                break
        code = code or _text(error.get("status")) or _text(error.get("code"))
        return code, _text(error.get("message"))
    if isinstance(error, str):
        return error, _text(body.get("error_description")) or _text(body.get("message"))
    code = _text(body.get("code")) or _text(body.get("error_code"))
    return code, _text(body.get("message")) or _text(body.get("detail"))


def reason_for(
    response: httpx.Response,
    *,
    provider: str,
    code: str | None = None,
    message: str | None = None,
    redact: Iterable[str] = (),
) -> str:
    """`"<provider> <status> <code>: <message>"`, scrubbed; code and message default to the body's."""
    if code is None and message is None:
        code, message = error_detail(response)
    status = response.status_code
    reason = f"{provider} {status}"
    if status == 401:
        reason += " credentials refused"
    if code:
        reason += f" {scrub(code, redact)}"
    if message:
        reason += f": {scrub(message, redact)}"
    elif not code:
        reason += f" {response.reason_phrase}".rstrip()
    return reason


def classify(
    response: httpx.Response, *, provider: str = "provider", redact: Iterable[str] = ()
) -> None:
    """Return on 2xx; otherwise raise the error the status calls for. `redact` names values that must
    not reach the reason (the recipient's number or push token)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    redact = tuple(redact)
    reason = reason_for(response, provider=provider, redact=redact)
    if status in TRANSIENT_STATUSES or status >= 500:
        raise TransientError(
            reason, retry_after=parse_retry_after(response.headers.get("Retry-After"))
        )
    # 3xx lands here too: redirects are not followed, so a moved endpoint is a configuration error.
    raise PermanentError(reason)


def signed_json(
    payload: Mapping[str, Any], secrets: Sequence[str], clock: Clock
) -> tuple[bytes, dict[str, str]]:
    """The body to send and its `X-Recoup-Timestamp` / `X-Recoup-Signature` headers (recoup.kit.signing).
    Several secrets sign with each, so a receiver rotating its secret accepts either."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"}
    if secrets:
        timestamp = int(clock.now().timestamp())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = ", ".join(
            signing.sign(secret.encode(), timestamp, body) for secret in secrets
        )
    return body, headers


def json_field(response: httpx.Response, key: str) -> str | None:
    """A top-level field of a JSON answer as text, or None when the answer is not JSON or lacks it.
    An accepted message without an id is still accepted: raising would send it again."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    value = body.get(key) if isinstance(body, dict) else None
    return None if value is None or isinstance(value, dict | list) else str(value)


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)

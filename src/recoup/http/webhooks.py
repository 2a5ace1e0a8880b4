"""Signed webhooks: a FastAPI dependency per provider verifies a delivery before its endpoint runs.

    X-Recoup-Timestamp: 1767225600
    X-Recoup-Signature: v1=<hex hmac_sha256(secret, f"{timestamp}.{body}")>[, v1=<...>]

- The body is read with a bound (`WEBHOOK_BODY_LIMIT`): a larger one is a 413 before anything else.
- Missing headers, a timestamp that is not Unix seconds, a signature none of the provider's secrets
  makes, a timestamp farther from now than `Settings.webhook_tolerance_seconds`: 401 `bad_signature`.
- A delivery whose signed content (timestamp and body) was already received (table
  `webhook_receipts`, owned here) is a 409 `replay_rejected`, however its signature header is
  spelled: the receipt is keyed on what the signature covers, never on the header's text (extra
  spaces, commas or `v0=` entries, a second `v1=` from another secret do not make a new delivery).
  A new delivery of the same event (new timestamp, new signature) passes and is idempotent on the
  event's id. The receipt is written in the request's transaction, so a delivery the endpoint then
  refuses records nothing.
- A body that does not fit the provider's event model is a 422 naming what was expected.

    WalletEvent = Annotated[Event, Depends(SignedWebhook("wallet", secrets, json_event(adapter, ...)))]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Header
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.http.errors import responses
from recoup.http.limits import BoundedBody
from recoup.http.repository import WebhookReceiptRepository
from recoup.kit import signing
from recoup.kit.clock import Clock
from recoup.kit.errors import BadSignature, PayloadTooLarge, ReplayRejected, ValidationFailed

T = TypeVar("T")

# Far above any event a provider sends (a few KB), far below what would hurt to hold in memory.
WEBHOOK_BODY_LIMIT = 256 * 1024

# What a signed webhook can answer besides its own errors.
WEBHOOK_RESPONSES = responses(BadSignature, ReplayRejected, PayloadTooLarge, ValidationFailed)


WebhookBody = Annotated[bytes, Depends(BoundedBody(WEBHOOK_BODY_LIMIT))]


def check_signature(
    secrets: Sequence[bytes],
    *,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    tolerance: int,
    now: dt.datetime,
) -> int:
    """The signed timestamp, or BadSignature unless one of `secrets` signed this body at a time
    within `tolerance` seconds of `now`."""
    if not timestamp_header or not signature_header:
        raise BadSignature("missing X-Recoup-Timestamp or X-Recoup-Signature header")
    if not _UNIX_SECONDS.fullmatch(timestamp_header):
        raise BadSignature("X-Recoup-Timestamp must be Unix seconds")
    timestamp = int(timestamp_header)
    if not secrets or not signing.verify(secrets, timestamp, body, signature_header):
        raise BadSignature("signature does not match the body and timestamp")
    age = abs(now.timestamp() - timestamp)
    if age > tolerance:
        raise BadSignature(f"timestamp is {int(age)} s away from now; the limit is {tolerance} s")
    return timestamp


# The one spelling of a timestamp (`int()` would also take "+17_67...", " 0017...").
_UNIX_SECONDS = re.compile(r"[1-9][0-9]{0,11}")


def delivery_digest(timestamp: int, body: bytes) -> str:
    """What identifies a delivery: the content its signature covers, in canonical form."""
    return hashlib.sha256(str(timestamp).encode() + b"." + body).hexdigest()


def verify(
    session: Session,
    *,
    source: str,
    secrets: Sequence[bytes],
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    tolerance: int,
    clock: Clock,
) -> None:
    """Raise unless the delivery is authentic, fresh and not seen before; then remember it."""
    timestamp = check_signature(
        secrets,
        timestamp_header=timestamp_header,
        signature_header=signature_header,
        body=body,
        tolerance=tolerance,
        now=clock.now(),
    )
    digest = delivery_digest(timestamp, body)
    receipts = WebhookReceiptRepository(session)
    if receipts.seen(digest):
        raise ReplayRejected("this signed delivery was already received")
    try:
        receipts.record(source, digest, at=clock.now())
    except IntegrityError as exc:  # a concurrent copy of the same delivery won the race
        raise ReplayRejected("this signed delivery was already received") from exc


def receipt_cutoff(clock: Clock, tolerance: int) -> dt.datetime:
    """Receipts older than this can be purged: their timestamps would be rejected as stale anyway."""
    return clock.now() - dt.timedelta(seconds=2 * tolerance)


def json_event(adapter: TypeAdapter[T], invalid: str) -> Callable[[bytes], T]:
    """Read a verified body as `adapter`'s type; a body that does not fit is a 422 `invalid`."""

    def parse(body: bytes) -> T:
        try:
            return adapter.validate_json(body)
        except ValidationError as exc:
            # Field and problem only: the input itself may be any bytes (not JSON, not UTF-8),
            # which an error body must neither carry nor echo.
            details = [
                {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
            raise ValidationFailed(invalid, details=details) from exc

    return parse


class SignedWebhook(Generic[T]):
    """Dependency: a delivery from `source`, signed with one of `secrets(settings)`, verified and
    remembered (see the module docstring), then read by `parse`."""

    def __init__(
        self,
        source: str,
        secrets: Callable[[Settings], Sequence[bytes]],
        parse: Callable[[bytes], T],
    ) -> None:
        self.source = source
        self.secrets = secrets
        self.parse = parse

    def __call__(
        self,
        body: WebhookBody,
        session: SessionDep,
        clock: ClockDep,
        settings: SettingsDep,
        x_recoup_timestamp: Annotated[str | None, Header(description="Unix seconds")] = None,
        x_recoup_signature: Annotated[
            str | None, Header(description="v1=<hex HMAC-SHA256>")
        ] = None,
    ) -> T:
        verify(
            session,
            source=self.source,
            secrets=self.secrets(settings),
            timestamp_header=x_recoup_timestamp,
            signature_header=x_recoup_signature,
            body=body,
            tolerance=settings.webhook_tolerance_seconds,
            clock=clock,
        )
        return self.parse(body)

"""Idempotent requests and signed webhooks: the same request twice has one effect.

- `Idempotency-Key`: the first answer is stored with a hash of the request; a repeat with the same key
  and the same request gets the stored answer, with another request a 409.
- Webhooks: HMAC-SHA256 over timestamp and body (`kit/signing.py`); a timestamp outside the tolerance is
  rejected as stale, a delivery whose signature was already seen is rejected as a replay. A new delivery
  of the same event (new timestamp, new signature) is accepted and is idempotent on the event's id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recoup.kit import signing
from recoup.kit.clock import Clock
from recoup.kit.errors import BadSignature, IdempotencyConflict, ReplayRejected
from recoup.models import IdempotencyRecord, WebhookReceipt


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def recall(session: Session, scope: str, key: str, digest: str) -> IdempotencyRecord | None:
    record = session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).scalar_one_or_none()
    if record is not None and record.request_hash != digest:
        raise IdempotencyConflict(
            f"Idempotency-Key {key!r} was already used for a different request"
        )
    return record


def remember(
    session: Session,
    scope: str,
    key: str,
    digest: str,
    status_code: int,
    response: dict[str, Any],
    *,
    clock: Clock,
) -> None:
    session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=digest,
            status_code=status_code,
            response=response,
            created_at=clock.now(),
        )
    )
    session.flush()


def verify_webhook(
    session: Session,
    *,
    source: str,
    secrets: list[bytes],
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    tolerance: int,
    clock: Clock,
) -> None:
    """Raise unless the delivery is authentic, fresh and not seen before; then remember it."""
    if not timestamp_header or not signature_header:
        raise BadSignature("missing X-Recoup-Timestamp or X-Recoup-Signature header")
    try:
        timestamp = int(timestamp_header)
    except ValueError as exc:
        raise BadSignature("X-Recoup-Timestamp must be Unix seconds") from exc
    if not secrets or not signing.verify(secrets, timestamp, body, signature_header):
        raise BadSignature("signature does not match the body and timestamp")
    age = abs(clock.now().timestamp() - timestamp)
    if age > tolerance:
        raise BadSignature(f"timestamp is {int(age)} s away from now; the limit is {tolerance} s")
    digest = hashlib.sha256(signature_header.encode()).hexdigest()
    if session.execute(
        select(WebhookReceipt.id).where(WebhookReceipt.signature_hash == digest)
    ).first():
        raise ReplayRejected("this signed delivery was already received")
    receipt = WebhookReceipt(source=source, signature_hash=digest, received_at=clock.now())
    try:
        with session.begin_nested():
            session.add(receipt)
    except IntegrityError as exc:  # a concurrent copy of the same delivery won the race
        raise ReplayRejected("this signed delivery was already received") from exc


def receipt_cutoff(clock: Clock, tolerance: int) -> dt.datetime:
    """Receipts older than this can be purged: their timestamps would be rejected as stale anyway."""
    return clock.now() - dt.timedelta(seconds=2 * tolerance)

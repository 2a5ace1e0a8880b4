"""`Idempotency-Key`: the same write sent twice has one effect.

The first answer is stored (table `idempotency_records`, owned here) with a hash of the request; a
repeat with the same key and the same request gets the stored answer back verbatim, with another
request a 409 (`IdempotencyConflict`), and while the first is still in progress a 409 (`Conflict`).
Endpoints that call `respond` declare `responses(*IDEMPOTENT_ERRORS)`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recoup.http.limits import DEFAULT_BODY_LIMIT, read_body
from recoup.http.repository import IdempotencyRepository
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, IdempotencyConflict, ValidationFailed
from recoup.models import IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENT_ERRORS = (IdempotencyConflict, Conflict)


async def body_of(request: Request) -> bytes:
    """The raw body, bounded like every body (`recoup.http.limits`)."""
    return await read_body(request, DEFAULT_BODY_LIMIT)


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def recall(session: Session, scope: str, key: str, digest: str) -> IdempotencyRecord | None:
    """The first answer under this key, or None; a 409 when the key came with another request."""
    record = IdempotencyRepository(session).by_key(scope, key)
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
    IdempotencyRepository(session).record(
        scope,
        key,
        request_hash=digest,
        status_code=status_code,
        response=response,
        at=clock.now(),
    )


def respond(
    request: Request,
    body: bytes,
    session: Session,
    clock: Clock,
    scope: str,
    produce: Callable[[], tuple[int, BaseModel]],
) -> JSONResponse:
    """Run `produce` once per Idempotency-Key; repeats get the first answer back verbatim."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 1 <= len(key) <= 255:
        raise ValidationFailed("Idempotency-Key must be 1 to 255 characters")
    digest = request_hash(request.method, request.url.path, body)
    if key:
        record = recall(session, scope, key, digest)
        if record is not None:
            return JSONResponse(
                record.response,
                status_code=record.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
    status, model = produce()
    payload: dict[str, Any] = jsonable_encoder(model)
    if key:
        try:
            with session.begin_nested():
                remember(session, scope, key, digest, status, payload, clock=clock)
        except IntegrityError as exc:
            raise Conflict("a request with this Idempotency-Key is in progress; retry it") from exc
    return JSONResponse(payload, status_code=status)

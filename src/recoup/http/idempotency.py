from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recoup.ingest import service as ingest_service
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, ValidationFailed

IDEMPOTENCY_HEADER = "Idempotency-Key"


async def body_of(request: Request) -> bytes:
    return await request.body()


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
    digest = ingest_service.request_hash(request.method, request.url.path, body)
    if key:
        record = ingest_service.recall(session, scope, key, digest)
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
                ingest_service.remember(session, scope, key, digest, status, payload, clock=clock)
        except IntegrityError as exc:
            raise Conflict("a request with this Idempotency-Key is in progress; retry it") from exc
    return JSONResponse(payload, status_code=status)

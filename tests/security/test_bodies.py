"""Finding 1: request bodies are bounded on every route, while they stream in.

The probe drives the ASGI application directly with a body it produces chunk by chunk, so it can
count how much the server took before answering: a server that buffers first takes all of it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from recoup.api.app import BODY_LIMITS, PORTAL_BODY_LIMIT
from recoup.http.limits import DEFAULT_BODY_LIMIT
from recoup.http.webhooks import WEBHOOK_BODY_LIMIT

CHUNK = 64 * 1024
OFFERED = 32 * 1024 * 1024  # what the probe is ready to send: far past every limit

# One route of each kind the probe found buffering: the unsigned webhook, sign-in, the portal's
# forms (token-authenticated), an authenticated API write.
ROUTES = [
    ("/v1/webhooks/wallet/payments", WEBHOOK_BODY_LIMIT),
    ("/v1/auth/sessions", DEFAULT_BODY_LIMIT),
    ("/p/eyJrIjoicGF5In0.AAAAAAAAAAAAAAAAAAAAAAAAAAA/pay", PORTAL_BODY_LIMIT),
    ("/p/eyJrIjoicGF5In0.AAAAAAAAAAAAAAAAAAAAAAAAAAA/help", PORTAL_BODY_LIMIT),
    ("/v1/customers", DEFAULT_BODY_LIMIT),
]


def post(
    app: FastAPI, path: str, chunks: Iterator[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, int]:
    """POST `chunks` to `path` as a client streaming a body; the status and the bytes the
    application took from the client before it answered."""
    taken = 0
    status: list[int] = []

    async def run() -> None:
        nonlocal taken
        answered = asyncio.Event()
        finished = False

        async def receive() -> dict[str, Any]:
            nonlocal taken, finished
            if finished or answered.is_set():
                await answered.wait()
                return {"type": "http.disconnect"}
            chunk = next(chunks, None)
            if chunk is None:
                finished = True
                return {"type": "http.request", "body": b"", "more_body": False}
            taken += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered.set()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver"), *headers],
            "client": ("203.0.113.9", 50000),
            "server": ("testserver", 443),
        }
        await app(scope, receive, send)

    asyncio.run(run())
    return status[0], taken


def endless() -> Iterator[bytes]:
    for _ in range(OFFERED // CHUNK):
        yield b"x" * CHUNK


@pytest.mark.parametrize(("path", "limit"), ROUTES)
def test_finding_01_unbounded_body_refused_while_streaming(
    app: FastAPI, integration_key: str, path: str, limit: int
) -> None:
    """A body sent without a length is counted as it arrives and refused (413) once past its
    route's limit: the server never takes more than the limit and a chunk. Catches removing the
    `BodyLimit` middleware from `create_app` (sign-in, the portal and API writes then buffer the
    whole 32 MiB before answering) or its counting in `counted_receive`."""
    headers = [
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {integration_key}".encode()),
    ]
    status, taken = post(app, path, endless(), headers)
    assert status == 413
    assert taken <= limit + CHUNK, f"{path} took {taken:,} bytes; its limit is {limit:,}"


@pytest.mark.parametrize(("path", "limit"), ROUTES)
def test_finding_01_declared_length_over_the_limit_refused_before_reading(
    app: FastAPI, path: str, limit: int
) -> None:
    """A Content-Length over the limit is a 413 before one byte is read. Catches removing the
    Content-Length check from `BodyLimit` (the body would be read up to the limit first)."""
    status, taken = post(app, path, endless(), [(b"content-length", str(2**30).encode())])
    assert status == 413
    assert taken == 0


def test_finding_01_every_route_has_a_limit_and_only_small_ones_are_overridden() -> None:
    """No prefix raises the default: the only larger-than-default limit would be an import route,
    and imports are files given to `recoup import`, not request bodies."""
    assert all(limit <= DEFAULT_BODY_LIMIT for limit in BODY_LIMITS.values())


def test_finding_01_a_malformed_content_length_is_a_400(app: FastAPI) -> None:
    status, taken = post(
        app, "/v1/auth/sessions", endless(), [(b"content-length", b"12, 1000000000")]
    )
    assert (status, taken) == (400, 0)

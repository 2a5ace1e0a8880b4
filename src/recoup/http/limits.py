"""Request bodies have a size limit on every route, enforced while they stream in.

`BodyLimit` is an ASGI middleware around the whole application:

- a declared `Content-Length` over the route's limit is a 413 before one byte is read (a malformed
  or repeated one is a 400);
- a body sent without a length (chunked) is counted as it arrives, and the 413 goes out as soon as
  the count passes the limit: the rest is never read, so no route can be made to buffer more than
  its limit, whatever it does with the body afterwards;
- the limit is `default` unless the path starts with one of `routes`' prefixes (the longest wins):
  a larger limit only where a route needs it, a smaller one where a route takes only small forms.

`read_body` is the bounded read for code that takes the raw body (webhook signatures, forms,
idempotency hashes): it never returns more than its own limit either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recoup.kit.errors import BadRequest, PayloadTooLarge

# Any JSON document the API takes (a customer with its contacts, a bill, a payment) is a few KB.
DEFAULT_BODY_LIMIT = 1024 * 1024


def _answer(status: int, code: str, message: str) -> tuple[Message, Message]:
    body = json.dumps({"error": code, "message": message, "details": None}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp, *, default: int, routes: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.routes = sorted(routes.items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.routes:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = [v for k, v in scope["headers"] if k.lower() == b"content-length"]
        if declared:
            value = declared[0].strip()
            if len(declared) > 1 or not value.isdigit():
                for message in _answer(400, BadRequest.code, "Content-Length is not a number"):
                    await send(message)
                return
            if int(value) > limit:
                for message in _answer(
                    413,
                    PayloadTooLarge.code,
                    f"the body is {int(value)} bytes; the limit here is {limit}",
                ):
                    await send(message)
                return
        received = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        for answer in _answer(
                            413,
                            PayloadTooLarge.code,
                            f"the body is over the limit here of {limit} bytes",
                        ):
                            await send(answer)
                    # The application sees a client that went away: it stops reading.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; whatever the application says after is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # The application failed on the body it was refused: the 413 is already sent.


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused with a 413 as soon as it is known to pass `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    return bytes(body)


class BoundedBody:
    """Dependency: the raw body, at most `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def __call__(self, request: Request) -> bytes:
        return await read_body(request, self.limit)

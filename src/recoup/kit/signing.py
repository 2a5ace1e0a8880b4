"""HMAC-SHA256 signatures over a timestamp and a body, as webhooks carry them.

    X-Recoup-Timestamp: 1767225600
    X-Recoup-Signature: v1=<hex hmac_sha256(secret, f"{timestamp}.{body}")>[, v1=<...>]

Several `v1=` values let a sender sign with an old and a new secret while they rotate; several
secrets on the receiving side let it accept both.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secrets: Iterable[bytes], timestamp: int, body: bytes, header: str) -> bool:
    offered = [part.strip() for part in header.split(",") if part.strip().startswith("v1=")]
    for secret in secrets:
        expected = sign(secret, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return True
    return False

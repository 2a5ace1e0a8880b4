"""Signed, expiring tokens for links (pay links, one-click unsubscribe): a compact JSON payload and
an HMAC-SHA256 tag, both base64url. The payload names ids, never personal data, and is readable by
whoever holds the link: sign what must not change, do not put secrets in it.

Several keys verify (the first signs), so a key can be rotated without breaking links in flight.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from recoup.kit.errors import BadSignature


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(key: bytes, payload: Mapping[str, Any], *, expires_at: dt.datetime) -> str:
    body = _b64(
        json.dumps({**payload, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode()
    )
    tag = hmac.new(key, body.encode(), hashlib.sha256).digest()[:20]
    return f"{body}.{_b64(tag)}"


def read_token(keys: Sequence[bytes], token: str, *, now: dt.datetime) -> dict[str, Any]:
    """The payload of a genuine, unexpired token; `BadSignature` for anything else."""
    body, _, tag = token.partition(".")
    try:
        given = _unb64(tag)
        if not any(
            hmac.compare_digest(hmac.new(k, body.encode(), hashlib.sha256).digest()[:20], given)
            for k in keys
        ):
            raise BadSignature("this link is not genuine")
        payload: dict[str, Any] = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadSignature("this link is malformed") from exc
    if not isinstance(payload, dict) or int(payload.get("exp", 0)) < now.timestamp():
        raise BadSignature("this link has expired")
    return payload

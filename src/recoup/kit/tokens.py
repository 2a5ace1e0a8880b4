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
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from recoup.kit.errors import BadSignature


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


TAG_BYTES = 20
# What `sign_token` writes: unpadded base64url, a payload and a 20-byte tag (27 characters).
_SHAPE = re.compile(r"[A-Za-z0-9_-]{2,4096}\.[A-Za-z0-9_-]{27}")


def canonical_token(text: str) -> str | None:
    """The token in the one spelling `sign_token` writes, or None when `text` is not that spelling.

    base64 decoders skip characters outside their alphabet and ignore a last character's unused
    bits, so without this one link would have many spellings: each would pass the signature and
    count, in a rate limit or a replay check, as another link."""
    if not _SHAPE.fullmatch(text):
        return None
    body, _, tag = text.partition(".")
    try:
        if _b64(_unb64(body)) != body or _b64(_unb64(tag)) != tag:
            return None
    except ValueError:
        return None
    return text


def sign_token(key: bytes, payload: Mapping[str, Any], *, expires_at: dt.datetime) -> str:
    body = _b64(
        json.dumps({**payload, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode()
    )
    return sign_body(key, body)


def sign_body(key: bytes, body: str) -> str:
    """The token of a payload already in base64url: the body and its tag. The key's HMAC state
    (its two padded SHA-256 blocks) is computed once and copied per token."""
    mac = _keyed(key).copy()
    mac.update(body.encode())
    return f"{body}.{_b64(mac.digest()[:20])}"


@lru_cache(maxsize=16)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def read_token(keys: Sequence[bytes], token: str, *, now: dt.datetime) -> dict[str, Any]:
    """The payload of a genuine, unexpired token in its canonical spelling; `BadSignature` for
    anything else."""
    if canonical_token(token) is None:
        raise BadSignature("this link is malformed")
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

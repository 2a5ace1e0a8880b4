"""Pay links: signed, expiring, per customer and revocable, with no personal data in the URL.

A link is a token (`recoup.kit.tokens`) naming the customer, the contact that carried it and when
it was issued; nothing is stored when one is issued, so a batch of messages costs no writes.
Revocation is stored instead (`pay_link_revocations`): one link by its contact, or every link of a
customer issued before a moment.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from recoup.kit.errors import BadSignature
from recoup.kit.tokens import read_token, sign_body, sign_token

PATH = "/p/"
LIFETIME = dt.timedelta(days=14)


@dataclass(frozen=True)
class PayLink:
    customer_id: int
    contact_id: int | None
    issued_at: dt.datetime


def pay_link(
    public_url: str, key: bytes, *, customer_id: int, contact_id: int | None, now: dt.datetime
) -> str:
    # The payload as `sign_token` spells it (compact JSON of ints, `null` for no contact), written
    # directly: a dispatcher signs a link per message (tests/arrangements: the same tokens).
    issued = int(now.timestamp())
    contact = "null" if contact_id is None else int(contact_id)
    payload = (
        f'{{"k":"pay","c":{int(customer_id)},"n":{contact},"i":{issued},'
        f'"exp":{int((now + LIFETIME).timestamp())}}}'
    )
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{public_url.rstrip('/')}{PATH}{sign_body(key, body)}"


def read_pay_link(keys: Sequence[bytes], token: str, *, now: dt.datetime) -> PayLink:
    """The link's contents if it is genuine and unexpired (revocation is the service's to check)."""
    payload = read_token(keys, token, now=now)
    if payload.get("k") != "pay" or not isinstance(payload.get("c"), int):
        raise BadSignature("not a pay link")
    contact = payload.get("n")
    return PayLink(
        customer_id=payload["c"],
        contact_id=contact if isinstance(contact, int) else None,
        issued_at=dt.datetime.fromtimestamp(int(payload.get("i", 0)), tz=dt.UTC),
    )


# One-time codes and the verified session they open. The code is derived from the code's row id
# with the link key, so the database holds no code (only a keyed hash, for the record) and the
# dispatcher can put it in the message without it ever being stored in clear.
CODE_LIFETIME = dt.timedelta(minutes=10)
VERIFIED_LIFETIME = dt.timedelta(minutes=15)


def one_time_code(key: bytes, code_id: int) -> str:
    digest = hmac.new(key, f"otp:{code_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def code_hash(key: bytes, code_id: int, code: str) -> str:
    return hmac.new(key, f"otp-check:{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def verified_token(key: bytes, customer_id: int, *, now: dt.datetime) -> str:
    """The portal's proof that this browser entered a code for this customer, for a while."""
    return sign_token(key, {"k": "verified", "c": customer_id}, expires_at=now + VERIFIED_LIFETIME)


def is_verified(
    keys: Sequence[bytes], token: str | None, customer_id: int, *, now: dt.datetime
) -> bool:
    if not token:
        return False
    try:
        payload = read_token(keys, token, now=now)
    except BadSignature:
        return False
    return payload.get("k") == "verified" and payload.get("c") == customer_id

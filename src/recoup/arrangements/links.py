"""Pay links: signed, expiring, per customer and revocable, with no personal data in the URL.

A link is a token (`recoup.kit.tokens`) naming the customer, the contact that carried it and when
it was issued; nothing is stored when one is issued, so a batch of messages costs no writes.
Revocation is stored instead (`pay_link_revocations`): one link by its contact, or every link of a
customer issued before a moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from recoup.kit.errors import BadSignature
from recoup.kit.tokens import read_token, sign_token

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
    token = sign_token(
        key,
        {"k": "pay", "c": customer_id, "n": contact_id, "i": int(now.timestamp())},
        expires_at=now + LIFETIME,
    )
    return f"{public_url.rstrip('/')}{PATH}{token}"


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

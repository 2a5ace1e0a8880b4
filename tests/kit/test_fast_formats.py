"""The dispatcher's per-message formats done without their general machinery give the same text:
amounts of money (Babel), signed tokens (JSON and a fresh HMAC per token)."""

from __future__ import annotations

import datetime as dt
import json
import random

from babel import Locale

from recoup.arrangements.links import LIFETIME, PATH, pay_link, read_pay_link
from recoup.kit import money
from recoup.kit.tokens import sign_token

LOCALES = [
    "zh_CN",
    "zh_TW",
    "en_US",
    "en_IN",
    "nl_NL",
    "vi_VN",
    "th_TH",
    "id_ID",
    "de_DE",
    "fr_FR",
    "ar_EG",
    "ja_JP",
    "hi_IN",
]
CURRENCIES = ["CNY", "USD", "JPY", "EUR", "TWD", "KWD", "INR", "VND", "GBP", "BHD", "CLF", "PHP"]


class TestMoney:
    def test_amounts_read_as_babel_writes_them(self) -> None:
        """Catches a shape that differs from Babel's text: a grouping, a separator, a symbol's
        place or spacing, the fraction's digits (JPY 0, KWD 3)."""
        rng = random.Random(7)
        for name in LOCALES:
            locale = Locale.parse(name)
            for currency in CURRENCIES:
                amounts = [0, 1, 9, 10, 99, 100, 999, 1_000, 10**15]
                amounts += [rng.randrange(10 ** rng.randrange(1, 16)) for _ in range(40)]
                for amount in amounts:
                    assert money.format_money(amount, currency, locale) == money._babel(
                        amount, currency, locale
                    ), (name, currency, amount)

    def test_the_shape_is_used_where_it_can_be(self) -> None:
        assert money._shape("CNY", Locale.parse("zh_CN")) is not None
        assert money._shape("INR", Locale.parse("en_IN")) is None  # groups by two: Babel's
        assert money.format_money(-5, "CNY", Locale.parse("zh_CN")) == "-¥0.05"


class TestPayLink:
    def test_a_pay_link_is_the_token_sign_token_makes(self) -> None:
        """Catches a payload spelled otherwise than `json.dumps` spells it (spaces, order, a
        `null`), or a tag from a reused HMAC that carried an earlier message."""
        key = b"k" * 32
        now = dt.datetime(2026, 6, 1, 11, 0, 5, 123456, tzinfo=dt.UTC)
        for customer_id, contact_id in [(1, 2), (10**12, None), (5, 0), (7, 10**15)]:
            expected = sign_token(
                key,
                {"k": "pay", "c": customer_id, "n": contact_id, "i": int(now.timestamp())},
                expires_at=now + LIFETIME,
            )
            link = pay_link(
                "http://x/", key, customer_id=customer_id, contact_id=contact_id, now=now
            )
            assert link == f"http://x{PATH}{expected}"
            read = read_pay_link([key], link.rsplit("/", 1)[1], now=now)
            assert (read.customer_id, read.contact_id) == (customer_id, contact_id)
        # Two keys in turn: each token is tagged by its own key.
        other = pay_link("http://x", b"o" * 32, customer_id=1, contact_id=2, now=now)
        assert other != pay_link("http://x", key, customer_id=1, contact_id=2, now=now)
        assert json.loads(
            __import__("base64").urlsafe_b64decode(other.rsplit("/", 1)[1].split(".")[0] + "==")
        ) == {
            "k": "pay",
            "c": 1,
            "n": 2,
            "i": int(now.timestamp()),
            "exp": int((now + LIFETIME).timestamp()),
        }

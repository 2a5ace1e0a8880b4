"""Money is an integer count of minor units with an ISO 4217 code. Never a float.

Formatting for people goes through Babel with the reader's locale.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from babel import Locale
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
)

from recoup.kit.errors import InvalidValue

# The largest amount Recoup takes anywhere (one bill, one payment, one account's total): 10^15 minor
# units (ten trillion yuan) is past any consumer debt, and thousands of them still sum inside the
# 64-bit integers the database stores. Every entry point (API, import) bounds amounts by it.
MAX_MINOR = 10**15


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency(code: str) -> bool:
    return code in known_currencies()


def minor_digits(currency: str) -> int:
    return int(get_currency_precision(currency))


def to_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


def format_money(amount_minor: int, currency: str, locale: str | Locale = "en") -> str:
    """`format_money(120000, "CNY", "zh_CN")` -> '¥1,200.00'. A caller formatting many amounts
    passes a parsed `Locale`: parsing the name costs more than the formatting."""
    if amount_minor >= 0 and isinstance(locale, Locale):
        shape = _shape(currency, locale)
        if shape is not None:
            return _apply(shape, amount_minor)
    return _babel(amount_minor, currency, locale)


def currency_symbol(currency: str, locale: str | Locale = "en") -> str:
    """The symbol `format_money` puts before or after an amount in this locale: "¥" for CNY in
    zh_CN (CN¥ in en_US, where ¥ alone could be the yen), "€", "$" for USD in en_US (US$ in
    zh_CN): a label shows the currency as the amounts beside it do, never its ISO code."""
    return str(get_currency_symbol(currency, locale=locale))


def _babel(amount_minor: int, currency: str, locale: str | Locale) -> str:
    return str(format_currency(to_major(amount_minor, currency), currency, locale=locale))


# Babel's formatting costs some 20-50 µs an amount (a dispatcher formats one per message). For a
# locale whose pattern groups by three, an amount of zero or more is Babel's text for one probe
# amount with the digits replaced: the symbol and its spacing do not depend on the amount.
# tests/kit/test_money.py compares the two on random amounts, locales and currencies.
_PROBE = 123456789


class _Shape(NamedTuple):
    prefix: str
    suffix: str
    digits: int
    group: str
    decimal: str


@lru_cache(maxsize=256)
def _shape(currency: str, locale: Locale) -> _Shape | None:
    pattern = locale.currency_formats.get("standard")
    if pattern is None or tuple(pattern.grouping) != (3, 3) or ";" in pattern.pattern:
        return None
    digits = minor_digits(currency)
    shape = _Shape("", "", digits, get_group_symbol(locale), get_decimal_symbol(locale))
    number = _apply(shape, _PROBE)
    text = _babel(_PROBE, currency, locale)
    if text.count(number) != 1:
        return None
    prefix, suffix = text.split(number)
    return shape._replace(prefix=prefix, suffix=suffix)


def _apply(shape: _Shape, amount_minor: int) -> str:
    whole, fraction = divmod(amount_minor, 10**shape.digits) if shape.digits else (amount_minor, 0)
    number = f"{whole:,}".replace(",", shape.group) if shape.group != "," else f"{whole:,}"
    if shape.digits:
        number += f"{shape.decimal}{fraction:0{shape.digits}d}"
    return f"{shape.prefix}{number}{shape.suffix}"


def to_minor(amount: str, currency: str) -> int:
    """A decimal amount as a person types it ("500", "500.5", "1,200.00") in minor units; a
    `ValueError` naming the problem otherwise."""
    text = amount.strip().replace(",", "").replace("，", "")
    try:
        value = Decimal(text)
    except ArithmeticError as exc:
        raise InvalidValue(f"{amount!r} is not an amount", reason="amount_format") from exc
    if not value.is_finite() or value <= 0:
        raise InvalidValue(f"{amount!r} is not a positive amount", reason="amount_not_positive")
    if value.adjusted() > 30:  # far past the bound below: not worth scaling
        raise InvalidValue(
            f"{amount!r} is more than any amount Recoup takes", reason="amount_too_large"
        )
    minor = value.scaleb(minor_digits(currency))
    if minor != minor.to_integral_value():
        raise InvalidValue(
            f"{amount!r} has more decimals than {currency} allows",
            reason="amount_decimals",
            digits=minor_digits(currency),
        )
    if minor > MAX_MINOR:
        raise InvalidValue(
            f"{amount!r} is more than any amount Recoup takes", reason="amount_too_large"
        )
    return int(minor)

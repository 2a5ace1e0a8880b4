"""Normalising the ways to reach a person: E.164 phones, e-mail addresses, candidate time zones.

Pure functions; the importer and the API call the same ones, so a phone accepted one way is accepted
the other.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import phonenumbers
import polars as pl
from babel.core import get_global
from phonenumbers import PhoneMetadata, phonenumberutil
from phonenumbers import timezone as phone_timezone

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3}){0,2}$")


class ContactError(ValueError):
    pass


def normalise_phone(raw: str, default_region: str) -> str:
    return parse_phone(raw, default_region)[0]


def parse_phone(raw: str, default_region: str) -> tuple[str, list[str]]:
    """The number in E.164 and the time zones its numbering plan places it in (parsed once).

    The number is classified once: `is_valid_number` is "its type is known", and
    `time_zones_for_number` classifies it again before looking its zones up (by prefix for a
    geographical type, by country otherwise), so the two are done here from the one type."""
    try:
        parsed = _parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ContactError(f"{raw!r} is not a phone number ({exc})") from exc
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise ContactError(f"{raw!r} is not a valid phone number for its country")
    country = parsed.country_code or 0  # a parsed number always has one
    found: tuple[str, ...] | None
    if phonenumbers.is_number_type_geographical(kind, country):
        found = tuple(phone_timezone.time_zones_for_geographical_number(parsed))
    else:
        found = _country_zones.get(country)
        if found is None:  # the same for every number of the country: asked once
            found = _country_zones[country] = tuple(phone_timezone.time_zones_for_number(parsed))
    zones = [z for z in found if z in _known_zones()]
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), zones


_country_zones: dict[int, tuple[str, ...]] = {}  # country calling code -> its zones


# A number written in E.164 (`+` and digits, the usual form in a wallet's files) parsed without
# `phonenumbers.parse`, which spends most of its 60 µs on the forms people type (spaces, letters,
# extensions, national prefixes, IDD). The shortcut builds the same `PhoneNumber` by the library's
# own steps for that form; whatever it is not sure of (no known country code, a national number
# starting with 0 or that the country's national prefix could match, an unusual length) goes to
# `phonenumbers.parse`. tests/ledger/test_phone_parsing.py compares the two on thousands of numbers.
_E164 = re.compile(r"\+([1-9][0-9]{2,16})")


def _parse(raw: str, default_region: str) -> phonenumbers.PhoneNumber:
    match = _E164.fullmatch(raw)
    if match is not None:
        parsed = _parse_e164(match.group(1))
        if parsed is not None:
            return parsed
    return phonenumbers.parse(raw, default_region)


def _parse_e164(digits: str) -> phonenumbers.PhoneNumber | None:
    country, national = phonenumberutil._extract_country_code(digits)
    if country == 0 or not 2 <= len(national) <= 17 or national[0] == "0":
        return None
    prefix = _national_prefixes.get(country, _UNSEEN)
    if prefix is _UNSEEN:
        prefix = _national_prefixes[country] = _national_prefix(country)
    if prefix is None or (prefix is not _NO_PREFIX and prefix.match(national)):
        return None
    return phonenumbers.PhoneNumber(country_code=country, national_number=int(national))


def _national_prefix(country: int) -> re.Pattern[str] | None:
    """The country's national prefix for parsing (`_NO_PREFIX`: it has none), or None when its
    metadata is missing (the library then decides)."""
    region = phonenumbers.region_code_for_country_code(country)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region)
    if metadata is None:
        return None
    pattern = metadata.national_prefix_for_parsing
    return re.compile(pattern) if pattern else _NO_PREFIX


_UNSEEN = re.compile("unseen")
_NO_PREFIX = re.compile("no prefix")
_national_prefixes: dict[int, re.Pattern[str] | None] = {}


# Numbers in E.164 classified set-wise (`parse_phones`): what `parse_phone` gives for each, by the
# library's own numbering plan, with its patterns run as Polars expressions over a file's numbers
# (the library runs up to eleven of them in Python per number: most of `parse_phone`'s cost).
# The same steps as `_parse_e164` and `number_type`, in their order; a number they do not settle
# (a country code shared by several regions, a national prefix, a pattern Polars cannot compile,
# an invalid number) is left to `parse_phone`. tests/ledger/test_phone_parsing.py holds the two
# equal on the 4,000 inputs of the shortcut's test.
_E164_TEXT = r"^\+[1-9][0-9]{2,16}$"
_CODES = [str(c) for c in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE]
# `_number_type_helper`'s order: the first description a number matches is its type.
_SPECIAL = (
    ("premium_rate", phonenumbers.PhoneNumberType.PREMIUM_RATE),
    ("toll_free", phonenumbers.PhoneNumberType.TOLL_FREE),
    ("shared_cost", phonenumbers.PhoneNumberType.SHARED_COST),
    ("voip", phonenumbers.PhoneNumberType.VOIP),
    ("personal_number", phonenumbers.PhoneNumberType.PERSONAL_NUMBER),
    ("pager", phonenumbers.PhoneNumberType.PAGER),
    ("uan", phonenumbers.PhoneNumberType.UAN),
    ("voicemail", phonenumbers.PhoneNumberType.VOICEMAIL),
)
_UNKNOWN = int(phonenumbers.PhoneNumberType.UNKNOWN)


def parse_phones(raws: list[str]) -> list[tuple[str, list[str]] | None]:
    """`parse_phone`'s answer for each number in E.164 that the numbering plan settles set-wise
    (a valid number of a country with one region); None for any other, which the caller gives
    to `parse_phone` (it parses, or refuses, the rest). The default region does not matter to
    a number written with its country code."""
    if not raws:
        return []
    digits = pl.col("raw").str.slice(1)
    country = pl.lit(None, dtype=pl.String)
    for length in (3, 2, 1):  # `_extract_country_code` tries 1, 2, 3 digits: the first wins
        head = digits.str.slice(0, length)
        country = pl.when(head.is_in(_CODES)).then(head).otherwise(country)
    frame = pl.DataFrame({"raw": raws}, schema={"raw": pl.String}).with_columns(
        e164=pl.col("raw").str.contains(_E164_TEXT).fill_null(False),
        country=country,
    )
    frame = frame.with_columns(
        national=pl.when("e164").then(digits.str.slice(pl.col("country").str.len_chars()))
    ).with_columns(kind=pl.lit(_UNKNOWN, dtype=pl.Int32))
    kinds = pl.Series("kind", [_UNKNOWN] * len(raws), dtype=pl.Int32)
    for (code,), part in frame.with_row_index("_i").filter("e164").group_by("country"):
        if code is None:
            continue
        found = _classify(int(str(code)), part)
        if found is not None:
            kinds.scatter(part["_i"].to_list(), found)
    out: list[tuple[str, list[str]] | None] = []
    longest = phone_timezone.TIMEZONE_LONGEST_PREFIX  # type: ignore[attr-defined]
    for raw, kind in zip(raws, kinds.to_list(), strict=True):
        if kind == _UNKNOWN:
            out.append(None)
            continue
        # The zones depend on the type and on the leading digits the library reads at most
        # (which hold the country code): asked once for each.
        key = (kind, raw[1 : 1 + longest])
        zones = _zones_by_prefix.get(key)
        if zones is None:
            zones = _zones_by_prefix[key] = _zones_of(raw, kind)
        out.append((raw, list(zones)))
    return out


_zones_by_prefix: dict[tuple[int, str], list[str]] = {}


def _classify(country: int, part: pl.DataFrame) -> pl.Series | None:
    """The type (`PhoneNumberType`, UNKNOWN where unsettled) of each of one country's numbers,
    or None when the country is not settled set-wise at all."""
    regions = phonenumberutil.COUNTRY_CODE_TO_REGION_CODE.get(country, ())
    if len(regions) != 1:
        return None  # `region_code_for_number` picks among regions by their patterns
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, regions[0])
    if metadata is None:
        return None
    national = pl.col("national")
    settled = national.str.len_chars().is_between(2, 17) & ~national.str.starts_with("0")
    prefix = metadata.national_prefix_for_parsing
    if prefix:
        settled = settled & ~national.str.contains(f"^(?:{prefix})")

    def matches(desc: Any) -> pl.Expr:
        """`_is_number_matching_desc`: one of its lengths (if it lists any) and its pattern."""
        if desc is None or not desc.national_number_pattern:
            return pl.lit(False)
        fits = national.str.contains(f"^(?:{desc.national_number_pattern})$")
        if desc.possible_length:
            fits = fits & national.str.len_chars().is_in(list(desc.possible_length))
        return fits

    fixed, mobile = matches(metadata.fixed_line), matches(metadata.mobile)
    same = bool(metadata.same_mobile_and_fixed_line_pattern)
    both = pl.lit(True) if same else mobile
    kind: Any = pl.when(~settled | ~matches(metadata.general_desc)).then(_UNKNOWN)
    for name, value in _SPECIAL:
        kind = kind.when(matches(getattr(metadata, name))).then(int(value))
    kind = (
        kind.when(fixed & both)
        .then(int(phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE))
        .when(fixed)
        .then(int(phonenumbers.PhoneNumberType.FIXED_LINE))
        .when(pl.lit(not same) & mobile)
        .then(int(phonenumbers.PhoneNumberType.MOBILE))
        .otherwise(_UNKNOWN)
    )
    try:
        return part.select(kind.cast(pl.Int32))[:, 0]
    except pl.exceptions.ComputeError:  # a pattern Polars' regex engine does not take
        return None


def _zones_of(e164: str, kind: int) -> list[str]:
    """`parse_phone`'s zones for a valid number of this type: by its prefix for a geographical
    type, else its country's."""
    country, national = phonenumberutil._extract_country_code(e164[1:])
    number = phonenumbers.PhoneNumber(country_code=country, national_number=int(national))
    found: tuple[str, ...] | None
    if phonenumbers.is_number_type_geographical(kind, country):
        found = tuple(phone_timezone.time_zones_for_geographical_number(number))
    else:
        found = _country_zones.get(country)
        if found is None:
            found = _country_zones[country] = tuple(phone_timezone.time_zones_for_number(number))
    known = _known_zones()
    return [z for z in found if z in known]


def normalise_email(raw: str) -> str:
    value = raw.strip()
    if not EMAIL.match(value) or len(value) > 254:
        raise ContactError(f"{raw!r} is not an e-mail address")
    local, _, domain = value.partition("@")
    return local + "@" + domain.lower()


def check_jurisdiction(value: str) -> str:
    if not JURISDICTION.match(value):
        raise ContactError(
            f"{value!r} is not a jurisdiction: give an ISO 3166 country with an optional "
            "subdivision, such as CN, US or US-MA"
        )
    return value


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_zone(value: str) -> str:
    if value not in _known_zones():
        raise ContactError(f"{value!r} is not an IANA time zone")
    return value


def zones_for_country(country: str) -> list[str]:
    territory_zones: Mapping[str, list[str]] = get_global("territory_zones")
    return [z for z in territory_zones.get(country.upper(), []) if z in _known_zones()]

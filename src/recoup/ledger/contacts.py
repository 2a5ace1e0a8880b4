"""Normalising the ways to reach a person: E.164 phones, e-mail addresses, candidate time zones.

Pure functions; the importer and the API call the same ones, so a phone accepted one way is accepted
the other.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from functools import lru_cache

import phonenumbers
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

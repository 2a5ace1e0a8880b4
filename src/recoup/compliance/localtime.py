"""The debtor's local time: candidate zones, local days, and the day's window of an hours rule.

A debtor may be in any of several zones (the address, each phone's numbering plan, the device). A
contact must be acceptable in every one of them (Reg F comment 6(b)(1)(i)-2), so windows intersect
and day-based counters use the widest day the zones allow: a day starts at the earliest local
midnight of the candidate zones and ends at the latest (regulation-rules A3, the conservative count).

Local wall times that do not exist (a spring-forward gap) are read with the offset before the
change, as `zoneinfo` does with fold=0: 02:30 on a gap day is 03:30 after it. Ambiguous wall times
(fall back) are the earlier instant. The batch uses the same readings.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays
import phonenumbers
from babel.core import get_global
from phonenumbers import timezone as phone_timezone

from recoup.compliance import calendars

if TYPE_CHECKING:
    from recoup.compliance.packs import HoursRule, Window

UTC = dt.UTC

# Where a country spans zones but its law or practice reads one, or babel lists zones nobody uses
# for a debtor's calendar (regulation-rules A2: China is Asia/Shanghai unless evidence says abroad).
COUNTRY_ZONES = {"CN": ("Asia/Shanghai",)}

# US states (address region) to their zones; a state that straddles zones lists all of them.
US_STATE_ZONES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        [
            "CT",
            "DC",
            "DE",
            "GA",
            "MA",
            "MD",
            "ME",
            "NC",
            "NH",
            "NJ",
            "NY",
            "OH",
            "PA",
            "RI",
            "SC",
            "VA",
            "VT",
            "WV",
        ],
        ("America/New_York",),
    ),
    **dict.fromkeys(
        ["AL", "AR", "IA", "IL", "LA", "MN", "MO", "MS", "OK", "WI"], ("America/Chicago",)
    ),
    **dict.fromkeys(["CO", "MT", "NM", "UT", "WY"], ("America/Denver",)),
    **dict.fromkeys(["CA", "NV", "WA"], ("America/Los_Angeles",)),
    "AZ": ("America/Phoenix",),
    "AK": ("America/Anchorage", "America/Adak"),
    "HI": ("Pacific/Honolulu",),
    "FL": ("America/New_York", "America/Chicago"),
    "IN": ("America/Indiana/Indianapolis", "America/Chicago"),
    "KY": ("America/New_York", "America/Chicago"),
    "MI": ("America/Detroit", "America/Menominee"),
    "TN": ("America/Chicago", "America/New_York"),
    "KS": ("America/Chicago", "America/Denver"),
    "NE": ("America/Chicago", "America/Denver"),
    "ND": ("America/Chicago", "America/Denver"),
    "SD": ("America/Chicago", "America/Denver"),
    "TX": ("America/Chicago", "America/Denver"),
    "ID": ("America/Boise", "America/Los_Angeles"),
    "OR": ("America/Los_Angeles", "America/Boise"),
    "PR": ("America/Puerto_Rico",),
}


# North American area codes whose territory straddles two zones: phonenumbers' timezone data gives
# one of them, and a debtor there may be in either (regulation-rules A2).
NANP_STRADDLING: dict[str, tuple[str, ...]] = {
    "208": ("America/Boise", "America/Los_Angeles"),
    "270": ("America/Chicago", "America/New_York"),
    "308": ("America/Chicago", "America/Denver"),
    "423": ("America/New_York", "America/Chicago"),
    "541": ("America/Los_Angeles", "America/Boise"),
    "605": ("America/Chicago", "America/Denver"),
    "606": ("America/New_York", "America/Chicago"),
    "620": ("America/Chicago", "America/Denver"),
    "701": ("America/Chicago", "America/Denver"),
    "785": ("America/Chicago", "America/Denver"),
    "812": ("America/Indiana/Indianapolis", "America/Chicago"),
    "850": ("America/Chicago", "America/New_York"),
    "906": ("America/Detroit", "America/Menominee"),
    "915": ("America/Denver", "America/Chicago"),
    "931": ("America/Chicago", "America/New_York"),
}


class ZoneError(ValueError):
    pass


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=512)
def zone(name: str) -> zoneinfo.ZoneInfo:
    if name not in known_zones():
        raise ZoneError(f"{name!r} is not an IANA time zone")
    return zoneinfo.ZoneInfo(name)


def zones_for_phone(number: str) -> tuple[str, ...]:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = [z for z in phone_timezone.time_zones_for_number(parsed) if z in known_zones()]
    if parsed.country_code == 1:
        zones.extend(NANP_STRADDLING.get(str(parsed.national_number)[:3], ()))
    return tuple(dict.fromkeys(zones))


def zones_for_place(country: str, region: str | None = None) -> tuple[str, ...]:
    country = country.upper()
    if country == "US" and region and region.upper() in US_STATE_ZONES:
        return US_STATE_ZONES[region.upper()]
    if country in COUNTRY_ZONES:
        return COUNTRY_ZONES[country]
    territory: Mapping[str, list[str]] = get_global("territory_zones")
    return tuple(z for z in territory.get(country, []) if z in known_zones())


def candidate_zones(
    *,
    jurisdiction: str,
    phones: Iterable[str] = (),
    address: tuple[str, str | None] | None = None,
    device: str | None = None,
) -> tuple[str, ...]:
    """Every zone the debtor might be in: address, phones, device; the jurisdiction's as a last resort."""
    found: list[str] = []
    if address is not None:
        found.extend(zones_for_place(*address))
    for number in phones:
        found.extend(zones_for_phone(number))
    if device:
        zone(device)
        found.append(device)
    if not found:
        country, _, region = jurisdiction.partition("-")
        found.extend(zones_for_place(country, region.split("-")[0] or None))
    if not found:
        raise ZoneError(f"no time zone is known for {jurisdiction!r}: give the debtor's zones")
    return tuple(dict.fromkeys(found))


def utc_at(day: dt.date, minute: int, zone_name: str) -> dt.datetime:
    """The instant of a local wall time (minutes after midnight; 1440 is the next midnight)."""
    if minute >= 1440:
        day, minute = day + dt.timedelta(days=1), minute - 1440
    local = dt.datetime(
        day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone(zone_name)
    )
    return local.astimezone(UTC)


def local_date(at: dt.datetime, zone_name: str) -> dt.date:
    return at.astimezone(zone(zone_name)).date()


def day_start(at: dt.datetime, zones: Sequence[str], days_back: int = 0) -> dt.datetime:
    """The earliest instant that is on (local today - days_back) in any candidate zone."""
    return _day_start(at, tuple(zones), days_back)


def day_end(at: dt.datetime, zones: Sequence[str], days_ahead: int = 1) -> dt.datetime:
    """The latest local midnight (today + days_ahead) over the candidate zones."""
    return _day_end(at, tuple(zones), days_ahead)


# Remembered, bounded: a dispatcher's batch asks every cap of every contact the same question (one
# instant, the same few zones), and the answer depends on nothing else (an aware instant's local
# date does not depend on the zone it was written in, and equal instants hash alike).
@lru_cache(maxsize=4096)
def _day_start(at: dt.datetime, zones: tuple[str, ...], days_back: int) -> dt.datetime:
    return min(utc_at(local_date(at, z) - dt.timedelta(days=days_back), 0, z) for z in zones)


@lru_cache(maxsize=4096)
def _day_end(at: dt.datetime, zones: tuple[str, ...], days_ahead: int) -> dt.datetime:
    return max(utc_at(local_date(at, z) + dt.timedelta(days=days_ahead), 0, z) for z in zones)


def subdivision_of(country: str, jurisdiction: str) -> str | None:
    head, _, rest = jurisdiction.partition("-")
    if head != country or not rest:
        return None
    sub = rest.split("-")[0]
    try:
        supported = holidays.list_supported_countries().get(country, [])
    except Exception:  # pragma: no cover - the package's registry is static data
        return None
    return sub if sub in supported else None


def day_window(rule: HoursRule, day: dt.date, calendar: tuple[str, str | None]) -> Window | None:
    """The open window of an hours rule on a local day, or None on a rest day (both paths use it).

    Asks the calendar only what the rule needs (public holidays when it treats them apart, working
    days when it keeps to them); raises `CalendarUnknown` when that is not known for the day."""
    return rule.window_for(
        day.weekday(),
        calendars.is_holiday(*calendar, day) if rule.holidays != "allow" else False,
        calendars.is_workday(*calendar, day) if rule.working_days else True,
    )


def is_holiday(country: str, subdivision: str | None, day: dt.date) -> bool:
    """The lenient reading for a caller that judges after the fact (the contact audit): a day no
    calendar knows counts as no holiday. The guard asks `calendars` and refuses such a day."""
    try:
        return calendars.is_holiday(country, subdivision, day)
    except calendars.CalendarUnknown:
        return False


def is_workday(country: str, subdivision: str | None, day: dt.date) -> bool:
    """The lenient reading (see `is_holiday`): an unknown day counts as Monday to Friday."""
    try:
        return calendars.is_workday(country, subdivision, day)
    except calendars.CalendarUnknown:
        return day.weekday() < 5

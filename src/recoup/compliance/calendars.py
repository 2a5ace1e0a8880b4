"""Calendars as data: which days are public holidays and which are working days, per country and
year, and how far that knowledge reaches.

Sources, a later one replacing an earlier one for the country-years it lists:

1. the packages: `chinese-calendar` for China (the State Council's yearly schedule, rest days and
   调休 make-up working days; 1.11.0 covers 2004-2026), and `holidays` for every other country it
   knows (rule-based, but a date it marks "(estimated)", a lunar holiday fixed each year by
   sighting or decree, is not known, nor is the day either side of it);
2. `calendars.yaml`, shipped beside this module: what we know that the packages do not yet;
3. the deployment's file, named by `RECOUP_CALENDARS_FILE` (read when first needed; `reload`
   reads it again).

A country-year in a file is complete: its public holidays are exactly the dates it lists, and its
working days are Monday to Friday less those holidays, plus the make-up working days it lists.

A day outside every source is unknown: `is_holiday` and `is_workday` raise `CalendarUnknown`, and
the guard refuses the contact (`CALENDAR_UNKNOWN`) instead of guessing. A country no source knows
has no known day at all (no silent empty holiday list).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import chinese_calendar
import holidays
import yaml
from chinese_calendar import constants as cn_constants

if TYPE_CHECKING:
    from recoup.compliance.packs import Guard

ENV = "RECOUP_CALENDARS_FILE"
WARN_DAYS = 60  # the daily run warns this many days before a calendar in use runs out
MAX_FILE_BYTES = 1_000_000
FIRST_YEAR, LAST_YEAR = 1900, 2200
HOLIDAYS = "holidays"
WORKDAYS = "working days"


class CalendarError(ValueError):
    """A calendar file that does not validate; the message names the file, entry and field."""


class CalendarUnknown(LookupError):
    """The status of a day that no calendar source covers."""

    def __init__(self, country: str, day: dt.date, what: str) -> None:
        super().__init__(f"the {what} of {country} for {day.isoformat()} are not known")
        self.country = country
        self.day = day
        self.what = what


@dataclass(frozen=True)
class Year:
    """One country-year from a calendar file."""

    country: str
    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str
    origin: str  # the file it came from


# -- files ----------------------------------------------------------------------------------------


def parse(data: Any, *, origin: str) -> dict[tuple[str, int], Year]:
    """A calendar file's content: `calendars:` a list of {country, year, source, holidays,
    workdays}, dates as YYYY-MM-DD inside the year."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or set(data) - {"calendars"}:
        raise CalendarError(f"{origin}: a calendar file is a mapping with one key, calendars")
    entries = data.get("calendars") or []
    if not isinstance(entries, list):
        raise CalendarError(f"{origin}: calendars must be a list")
    out: dict[tuple[str, int], Year] = {}
    for i, entry in enumerate(entries):
        where = f"{origin}: calendars[{i}]"
        if not isinstance(entry, Mapping):
            raise CalendarError(f"{where} must be a mapping")
        unknown = set(entry) - {"country", "year", "source", "holidays", "workdays"}
        if unknown:
            raise CalendarError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        country = str(entry.get("country", "")).strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise CalendarError(f"{where}: country must be a two-letter ISO code")
        year = entry.get("year")
        if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
            raise CalendarError(f"{where}: year must be a year from {FIRST_YEAR} to {LAST_YEAR}")
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise CalendarError(f"{where}: source is required (the official text it copies)")
        if (country, year) in out:
            raise CalendarError(f"{where}: {country} {year} is listed twice")
        out[(country, year)] = Year(
            country,
            year,
            _dates(entry.get("holidays", []), year, f"{where}.holidays"),
            _dates(entry.get("workdays", []), year, f"{where}.workdays"),
            source.strip(),
            origin,
        )
    return out


def _dates(value: Any, year: int, where: str) -> frozenset[dt.date]:
    if not isinstance(value, list) or len(value) > 366:
        raise CalendarError(f"{where} must be a list of at most 366 dates")
    out = set()
    for v in value:
        try:
            day = v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
        except ValueError:
            raise CalendarError(f"{where}: {v!r} is not a date YYYY-MM-DD") from None
        if day.year != year:
            raise CalendarError(f"{where}: {day.isoformat()} is not in {year}")
        out.add(day)
    return frozenset(out)


def load_file(path: Path) -> dict[tuple[str, int], Year]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CalendarError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return parse(yaml.safe_load(text), origin=str(path))
    except yaml.YAMLError as exc:
        raise CalendarError(f"{path}: not YAML ({exc})") from None


@lru_cache(maxsize=1)
def files() -> dict[tuple[str, int], Year]:
    """The shipped file with the deployment's over it."""
    shipped = resources.files("recoup.compliance") / "calendars.yaml"
    found = parse(yaml.safe_load(shipped.read_text(encoding="utf-8")), origin="calendars.yaml")
    named = os.environ.get(ENV, "").strip()
    if named:
        found.update(load_file(Path(named)))
    return found


_generation = [0]


def reload() -> None:
    """Read the calendar files again (after `RECOUP_CALENDARS_FILE` changed)."""
    files.cache_clear()
    _generation[0] += 1


def generation() -> int:
    """Changes at each `reload`: what a caller remembered of the calendars before is stale."""
    return _generation[0]


# -- the packages ---------------------------------------------------------------------------------

CN_FIRST = min(cn_constants.holidays).year
CN_LAST = max(max(cn_constants.holidays), max(cn_constants.workdays)).year


@lru_cache(maxsize=1)
def _supported() -> Mapping[str, list[str]]:
    return holidays.list_supported_countries()


@lru_cache(maxsize=512)
def _library(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


@lru_cache(maxsize=256)
def _library_years(country: str) -> tuple[int, int] | None:
    if country not in _supported():
        return None
    cls = holidays.country_holidays(country)
    return int(cls.start_year), int(cls.end_year)


@lru_cache(maxsize=512)
def _estimated(country: str, subdivision: str | None, year: int) -> frozenset[dt.date]:
    """Days the library only estimates, with the day either side (sighting moves them by one)."""
    out: set[dt.date] = set()
    for day, name in _library(country, subdivision, year).items():
        if "estimated" in str(name).lower():
            out.update(day + dt.timedelta(days=k) for k in (-1, 0, 1))
    return frozenset(out)


def _library_knows(country: str, subdivision: str | None, day: dt.date) -> bool:
    years = _library_years(country)
    if years is None or not years[0] <= day.year <= years[1]:
        return False
    same = _estimated(country, subdivision, day.year)
    near = _estimated(country, subdivision, day.year + 1) if day.month == 12 else frozenset()
    before = _estimated(country, subdivision, day.year - 1) if day.month == 1 else frozenset()
    return day not in same | near | before


# -- the questions --------------------------------------------------------------------------------


def is_holiday(country: str, subdivision: str | None, day: dt.date) -> bool:
    """A public holiday (China: an official rest day of the State Council's schedule)."""
    entry = files().get((country, day.year))
    if entry is not None:
        return day in entry.holidays
    if country == "CN":
        if CN_FIRST <= day.year <= CN_LAST:
            return day in cn_constants.holidays
        raise CalendarUnknown(country, day, HOLIDAYS)
    if len(country) != 2 or not _library_knows(country, subdivision, day):
        raise CalendarUnknown(country, day, HOLIDAYS)
    return day in _library(country, subdivision, day.year)


def is_workday(country: str, subdivision: str | None, day: dt.date) -> bool:
    """A working day: China's from its official schedule (调休 make-up days included); elsewhere
    Monday to Friday, not a public holiday."""
    entry = files().get((country, day.year))
    if entry is not None:
        return day in entry.workdays or (day.weekday() < 5 and day not in entry.holidays)
    if country == "CN":
        if CN_FIRST <= day.year <= CN_LAST:
            return bool(chinese_calendar.is_workday(day))
        raise CalendarUnknown(country, day, WORKDAYS)
    try:
        return day.weekday() < 5 and not is_holiday(country, subdivision, day)
    except CalendarUnknown:
        raise CalendarUnknown(country, day, WORKDAYS) from None


def knows(country: str, day: dt.date, what: str) -> bool:
    try:
        (is_workday if what == WORKDAYS else is_holiday)(country, None, day)
    except CalendarUnknown:
        return False
    return True


# -- coverage -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    country: str
    what: str  # HOLIDAYS or WORKDAYS
    years: tuple[tuple[int, int], ...]  # inclusive spans of years some source covers
    sources: tuple[str, ...]
    unknown_ahead: tuple[dt.date, ...]  # unknown days inside covered years, from `since`

    def label(self) -> str:
        spans = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.years) or "none"
        return spans


def coverage(country: str, what: str, *, since: dt.date, ahead_years: int = 2) -> Coverage:
    years: set[int] = set()
    sources: list[str] = []
    if country == "CN":
        years.update(range(CN_FIRST, CN_LAST + 1))
        sources.append(f"chinese-calendar {_version('chinese-calendar')}")
    else:
        span = _library_years(country)
        if span is not None:
            years.update(range(span[0], span[1] + 1))
            extra = "" if what == HOLIDAYS else ", Monday to Friday less holidays"
            sources.append(f"holidays {_version('holidays')}{extra}")
    listed = sorted(y for (c, y) in files() if c == country)
    if listed:
        years.update(listed)
        origins = sorted({files()[(country, y)].origin for y in listed})
        sources.append(f"{', '.join(origins)} ({', '.join(map(str, listed))})")
    unknown: list[dt.date] = []
    if country != "CN":
        for year in range(since.year, since.year + ahead_years):
            if year in years and (country, year) not in files():
                unknown.extend(
                    d
                    for d in sorted(_estimated(country, None, year))
                    if d >= since and d.year == year
                )
    return Coverage(country, what, _spans(years), tuple(sources), tuple(unknown))


def _spans(years: Iterable[int]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for y in sorted(years):
        if out and out[-1][1] == y - 1:
            out[-1][1] = y
        else:
            out.append([y, y])
    return tuple((a, b) for a, b in out)


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:  # pragma: no cover - installed with the package
        return "?"


def first_unknown(country: str, what: str, start: dt.date, days: int) -> dt.date | None:
    """The first day from `start` within `days` days whose status is not known, if any."""
    for k in range(days + 1):
        day = start + dt.timedelta(days=k)
        if not knows(country, day, what):
            return day
    return None


# -- what the rules use, and when it runs out -----------------------------------------------------


def in_use(guard: Guard) -> dict[tuple[str, str], list[str]]:
    """(country, HOLIDAYS or WORKDAYS) to the ids of the rules that need it. A rule without a
    calendar of its own reads the debtor's country: every country a pack covers."""
    from recoup.compliance.packs import HoursRule

    countries = sorted(
        {p.country for p in guard.packs if len(p.country) == 2 and p.country != "ZZ"}
    )
    out: dict[tuple[str, str], list[str]] = {}
    rules = [r for p in guard.packs for r in p.rules if r.id not in guard.house.disable]
    for rule in (*rules, *guard.house.rules):
        if not isinstance(rule, HoursRule):
            continue
        needs = [HOLIDAYS] if rule.holidays != "allow" else []
        needs += [WORKDAYS] if rule.working_days else []
        own = rule.calendar not in ("", "ZZ")
        for country in [rule.calendar] if own else countries:
            for what in needs:
                out.setdefault((country, what), []).append(rule.id)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class Alert:
    """A calendar in use that does not know a day within the warning period."""

    country: str
    what: str
    first_unknown: dt.date
    days_left: int
    rules: tuple[str, ...]

    def message(self) -> str:
        return (
            f"the {self.what} of {self.country} are not known from {self.first_unknown.isoformat()} "
            f"({self.days_left} days): rules {', '.join(self.rules)} will refuse contacts on such "
            f"days (CALENDAR_UNKNOWN) until the calendar is extended ({ENV})"
        )


def expiring(guard: Guard, today: dt.date, *, within: int = WARN_DAYS) -> list[Alert]:
    """Every calendar in use with a day it does not know in the next `within` days."""
    alerts = []
    for (country, what), rules in in_use(guard).items():
        day = first_unknown(country, what, today, within)
        if day is not None:
            alerts.append(Alert(country, what, day, (day - today).days, tuple(rules)))
    return alerts

"""Counters over the contact history, one per cap rule: how many events count now, and when the
count falls below the cap.

Windows, in the debtor's local calendar (see `localtime` for several zones):

- `local_day`: today; `days` n: today and the n-1 days before it (Reg F's "seven consecutive days",
  the day of the event being day 1); `iso_week`: Monday to Sunday; `calendar_month`;
- `minutes` n: the rolling n minutes before the planned moment.

What counts is the rule's `counts` filter: events in the listed directions (outbound, unless the
rule counts conversations, which count whoever started them) on the listed channels with the listed
results (a call whose result is `UNRECORDED` counts for any call result) to the listed parties,
never a call later found misdirected (Reg F comment 14(b)(2)(i)-3),
and, where the rule says so, never a call placed under prior consent given directly (1006.14(b)(3)).
Scopes narrow the history to this debt, this number or address, or this creditor. An event that
names no debt counts for every debt (an unanswered call counts towards one debt of the collector's
choice, comment 14(b)(4)-2; not knowing which, we count it for all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recoup.compliance.codes import CALL_RESULTS, UNRECORDED
from recoup.compliance.facts import Tally
from recoup.compliance.localtime import day_end, day_start, local_date, utc_at
from recoup.compliance.packs import CapRule


@dataclass(frozen=True)
class Event:
    """One past contact or attempt, as the contact history records it."""

    at: dt.datetime
    channel: str
    result: str
    direction: str = "outbound"
    party: str = "debtor"
    address: str | None = None
    debt_ids: tuple[str, ...] = ()
    creditor: str | None = None
    misdirected: bool = False
    with_consent: bool = False


@dataclass(frozen=True)
class Subject:
    """What the planned contact is about: the scopes a cap can narrow to."""

    at: dt.datetime
    zones: tuple[str, ...]
    debt_id: str | None = None
    address: str | None = None
    creditor: str | None = None


def counted(rule: CapRule, events: Iterable[Event], subject: Subject) -> list[dt.datetime]:
    """The times of the events the rule counts, up to the planned moment, oldest first."""
    times = []
    for e in events:
        if e.at > subject.at or e.direction not in rule.count_directions or e.misdirected:
            continue
        if e.channel not in rule.count_channels or not _counts_result(rule, e.result):
            continue
        if e.party not in rule.count_parties or (rule.exclude_consented and e.with_consent):
            continue
        if "debt" in rule.scope and e.debt_ids and subject.debt_id not in e.debt_ids:
            continue
        if "address" in rule.scope and e.address != subject.address:
            continue
        if "creditor" in rule.scope and (e.creditor or None) != (subject.creditor or None):
            continue
        times.append(e.at)
    return sorted(times)


def _counts_result(rule: CapRule, result: str) -> bool:
    if result == UNRECORDED:
        return not rule.count_results.isdisjoint(CALL_RESULTS)
    return result in rule.count_results


def tally(rule: CapRule, events: Iterable[Event], subject: Subject) -> Tally:
    times = counted(rule, events, subject)
    if not times and rule.max > 0:
        # Nothing counted: every window holds none, below any cap, so nothing to release. Most
        # debtors at send time (the dispatcher asks each cap of each contact) have no history.
        return Tally(0)
    return windowed(rule, times, subject)


def windowed(rule: CapRule, times: list[dt.datetime], subject: Subject) -> Tally:
    """The count of the counted `times` (oldest first) in the rule's window now, and the release."""
    at, zones = subject.at, subject.zones
    match rule.window_kind:
        case "minutes":
            span = dt.timedelta(minutes=rule.window_n)
            inside = [t for t in times if t > at - span]
            n = len(inside)
            return Tally(n, inside[n - rule.max] + span if n >= rule.max else None)
        case "local_day" | "days":
            days = rule.window_n if rule.window_kind == "days" else 1
            n = _since(times, day_start(at, zones, days - 1))
            if n < rule.max:
                return Tally(n)
            for k in range(1, days + 1):
                if _since(times, day_start(at, zones, days - 1 - k)) < rule.max:
                    return Tally(n, day_end(at, zones, k))
            return Tally(n, day_end(at, zones, days))  # pragma: no cover - k = days empties it
        case "iso_week":
            start = min(utc_at(_monday(at, z), 0, z) for z in zones)
            end = max(utc_at(_monday(at, z) + dt.timedelta(days=7), 0, z) for z in zones)
            return _calendar_window(times, start, end, rule.max)
        case _:
            start = min(utc_at(local_date(at, z).replace(day=1), 0, z) for z in zones)
            end = max(utc_at(_next_month(local_date(at, z)), 0, z) for z in zones)
            return _calendar_window(times, start, end, rule.max)


_NONE = Tally(0)


def tally_all(
    rules: Sequence[CapRule], events: Sequence[Event], subject: Subject
) -> dict[str, Tally]:
    if not events:  # `tally`'s short cut for every cap at once: no history, nothing counted
        return {r.id: _NONE if r.max > 0 else windowed(r, [], subject) for r in rules}
    return {r.id: tally(r, events, subject) for r in rules}


def _since(times: list[dt.datetime], start: dt.datetime) -> int:
    return sum(1 for t in times if t >= start)


def _calendar_window(
    times: list[dt.datetime], start: dt.datetime, end: dt.datetime, maximum: int
) -> Tally:
    n = _since(times, start)
    return Tally(n, end if n >= maximum else None)


def _monday(at: dt.datetime, zone_name: str) -> dt.date:
    d = local_date(at, zone_name)
    return d - dt.timedelta(days=d.weekday())


def _next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)

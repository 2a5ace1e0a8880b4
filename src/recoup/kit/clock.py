"""Time is passed in, never read from the wall.

Every service that needs "now" takes a `Clock`. Production uses `SystemClock`; tests and the simulator
use `SettableClock` and move it explicitly, so a whole portfolio can live through 60 days in seconds.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class SettableClock:
    """A clock that only moves when told to. Thread-safe, so a served API can share it with a test."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, instant: dt.datetime) -> None:
        with self._lock:
            self._now = ensure_utc(instant)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        with self._lock:
            self._now = self._now + delta
            return self._now


def ensure_utc(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to UTC; refuse naive ones, which are ambiguous by construction."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone; give an offset")
    return value.astimezone(UTC)


def start_of_day_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=UTC)


class ShiftedClock:
    """Real time moved to start at `start`: it runs at the wall's speed from there. Replays and
    process tests use it to act on a planned day while leases and retries still age."""

    def __init__(self, start: dt.datetime) -> None:
        self._offset = ensure_utc(start) - dt.datetime.now(UTC)

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC) + self._offset

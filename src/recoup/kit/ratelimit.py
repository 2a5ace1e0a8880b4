"""A sliding-window rate limiter in process memory, keyed by any string (an IP, a username).

Per process: with several API workers each enforces its own window, so the effective limit is the
limit times the workers; a shared store (Redis) can replace it behind the same two methods.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque

from recoup.kit.clock import Clock


class RateLimiter:
    def __init__(self, *, limit: int, window: dt.timedelta, clock: Clock) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[dt.datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> dt.timedelta | None:
        """Count one attempt. Returns None when allowed, else how long until the next is."""
        now = self.clock.now()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return self.window - (now - hits[0])
            hits.append(now)
            return None

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

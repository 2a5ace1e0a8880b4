"""The simulator's clock: a simulated day's moments in the debtors' time zone (Asia/Shanghai for
the default world), and when the dispatcher and the agents work.

- 06:00 the daily run;
- the dispatcher runs where the policy's contact windows open, and the agents dial at 10:00 and
  18:30 (between two runs of the dispatcher: the first opens the tasks of the call treatments
  whose window opens then, the second sends the dials); debtors react `REPLY_MINUTES` after each
  slot (sooner if the next slot comes first);
- 20:00 the day's payments are received, and the settlement file arrives at 21:00.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager

from recoup.strategy.policy import Policy
from recoup.strategy.service import DEFAULT_WINDOW

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
CALL_SLOTS = (
    dt.time(10),
    dt.time(18, 30),
)  # the agents dial, morning and evening, between two runs of the dispatcher
REPLY_MINUTES = 30  # debtors react this long after a slot (sooner if the next slot comes first)
MORNING = 6  # the daily run
RECEIVED = 20  # the day's payments are received
SETTLED = 21  # the wallet's settlement file arrives


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of a simulated day, local time in the debtors' zone, as UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(dt.UTC)


def slots(policy: Policy) -> list[dt.time]:
    """When the dispatcher runs, local time: where the policy's contact windows open (the strategy
    plans each contact at its window's start), the learning stages' arms' too (an arm may have a
    window no treatment has: without its slot its contacts would wait for the next one and arrive
    at another hour), and when the agents dial."""
    windows = [t.window for stage in policy.stages for t in stage.treatments]
    windows += [
        arm.window
        for stage in policy.stages
        if stage.learn is not None
        for arm in stage.learn.arms
        if arm.channel != "none"
    ]
    opens = {dt.time.fromisoformat(w.start if w else DEFAULT_WINDOW) for w in windows}
    return sorted(opens | set(CALL_SLOTS))


def reply_at(day: dt.date, slot: dt.time, after: dt.time | None) -> dt.datetime:
    """When debtors read and answer what a slot sent them: a while after the messages arrive (a
    reply cannot come at the very instant of the message it answers), before the next slot."""
    at = local(day, slot.hour, slot.minute)
    reply = at + dt.timedelta(minutes=REPLY_MINUTES)
    if after is not None:
        reply = min(reply, at + (local(day, after.hour, after.minute) - at) / 2)
    return reply


@contextmanager
def timed(
    into: dict[str, float], phase: str, cpu: dict[str, float] | None = None
) -> Iterator[None]:
    """Adds the block's wall time to `into[phase]` and, given `cpu`, the process's CPU time (all
    its threads: Polars', LightGBM's) to `cpu[phase]`: on a shared machine the wall time says as
    much about the neighbours as about the phase."""
    started, began = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        into[phase] = into.get(phase, 0.0) + time.perf_counter() - started
        if cpu is not None:
            cpu[phase] = cpu.get(phase, 0.0) + time.process_time() - began

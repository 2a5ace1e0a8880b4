"""Counters over the contact history: windows in the debtor's calendar and when they release."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recoup.compliance import localtime
from recoup.compliance.codes import UNRECORDED
from recoup.compliance.packs import CapRule
from recoup.compliance.tally import Event, Subject, counted, tally, tally_all, windowed

pytestmark = pytest.mark.pure
UTC = dt.UTC


def rule(kind: str, n: int = 1, maximum: int = 2, scope: str = "debtor") -> CapRule:
    return CapRule(
        id="t",
        kind="cap",
        pack="T",
        citation="c",
        confidence="P",
        title="t",
        max=maximum,
        window_kind=kind,
        window_n=n,
        scope=frozenset({scope}),
    )


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def events(*times: str, **extra: object) -> list[Event]:
    return [Event(at=at(t), channel="call", result="connected", **extra) for t in times]  # type: ignore[arg-type]


class TestWindows:
    def test_rolling_minutes_release_when_the_oldest_needed_event_ages_out(self) -> None:
        history = events(
            "2026-06-16T10:00:00+00:00", "2026-06-16T10:20:00+00:00", "2026-06-16T10:40:00+00:00"
        )
        t = tally(
            rule("minutes", 60, maximum=2),
            history,
            Subject(at("2026-06-16T10:50:00+00:00"), ("UTC",)),
        )
        assert (t.count, t.release_at) == (3, at("2026-06-16T11:20:00+00:00"))

    def test_a_local_day_in_several_zones_is_the_widest_day(self) -> None:
        zones = ("Asia/Shanghai", "America/New_York")
        # 23:30 New York on the 15th is 11:30 Shanghai on the 16th: both are "today" somewhere.
        history = events("2026-06-15T23:30:00-04:00")
        t = tally(
            rule("local_day", maximum=1), history, Subject(at("2026-06-16T12:00:00+08:00"), zones)
        )
        assert t.count == 1
        assert t.release_at == at("2026-06-17T00:00:00-04:00")  # the latest midnight of the zones

    def test_calendar_week_and_month(self) -> None:
        history = events("2026-06-15T10:00:00+00:00", "2026-06-16T10:00:00+00:00")
        week = tally(rule("iso_week"), history, Subject(at("2026-06-17T10:00:00+00:00"), ("UTC",)))
        assert week.release_at == at("2026-06-22T00:00:00+00:00")
        month = tally(
            rule("calendar_month"), history, Subject(at("2026-06-30T10:00:00+00:00"), ("UTC",))
        )
        assert month.release_at == at("2026-07-01T00:00:00+00:00")
        july = tally(
            rule("calendar_month"), history, Subject(at("2026-07-01T10:00:00+00:00"), ("UTC",))
        )
        assert july.count == 0

    def test_scopes_narrow_the_history(self) -> None:
        history = [
            *events("2026-06-16T09:00:00+00:00", debt_ids=("a",), address="+1"),
            *events("2026-06-16T09:30:00+00:00", debt_ids=("b",), address="+2"),
            *events("2026-06-16T09:45:00+00:00"),  # names no debt: counts for every debt
        ]
        subject = Subject(at("2026-06-16T10:00:00+00:00"), ("UTC",), debt_id="a", address="+1")
        assert tally(rule("days", 7, scope="debt"), history, subject).count == 2
        assert tally(rule("days", 7, scope="address"), history, subject).count == 1
        assert tally(rule("days", 7, scope="debtor"), history, subject).count == 3

    def test_future_and_inbound_events_do_not_count(self) -> None:
        history = [
            *events("2026-06-16T11:00:00+00:00"),
            Event(
                at=at("2026-06-16T09:00:00+00:00"),
                channel="sms",
                result="delivered",
                direction="inbound",
            ),
        ]
        assert (
            tally(
                rule("days", 7), history, Subject(at("2026-06-16T10:00:00+00:00"), ("UTC",))
            ).count
            == 0
        )

    def test_a_call_with_no_recorded_outcome_counts_for_any_call_result(self) -> None:
        unrecorded = [Event(at=at("2026-06-16T09:00:00+00:00"), channel="call", result=UNRECORDED)]
        subject = Subject(at("2026-06-16T10:00:00+00:00"), ("UTC",))
        conversations = replace(rule("local_day"), count_results=frozenset({"conversation"}))
        unanswered = replace(rule("local_day"), count_results=frozenset({"no_answer", "busy"}))
        messages_only = replace(rule("local_day"), count_results=frozenset({"sent", "delivered"}))
        assert tally(conversations, unrecorded, subject).count == 1
        assert tally(unanswered, unrecorded, subject).count == 1
        assert tally(messages_only, unrecorded, subject).count == 0
        answered = [replace(unrecorded[0], result="connected")]
        assert tally(conversations, answered, subject).count == 0


ZONES = ("UTC", "Asia/Shanghai", "America/New_York", "America/Los_Angeles", "Asia/Kolkata")
WINDOWS = [("minutes", 60), ("local_day", 1), ("days", 7), ("iso_week", 1), ("calendar_month", 1)]
instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC)
)


class TestTheShortCuts:
    """The dispatcher asks every cap of every contact; two short cuts make that cheap and must give
    the general path's answer."""

    @settings(max_examples=300, deadline=None)
    @given(
        window=st.sampled_from(WINDOWS),
        maximum=st.integers(1, 3),
        now=instants,
        zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
        history=st.lists(
            st.tuples(
                st.integers(-40 * 24 * 60, 60),  # minutes from now: some ahead of it
                st.sampled_from(["call", "sms"]),
                st.sampled_from(["outbound", "inbound"]),
            ),
            max_size=4,
        ),
    )
    def test_a_tally_is_the_windowed_count_of_what_counts(
        self,
        window: tuple[str, int],
        maximum: int,
        now: dt.datetime,
        zones: list[str],
        history: list[tuple[int, str, str]],
    ) -> None:
        # Catches a short cut for an empty history that answers for a history that is not (e.g.
        # `if rule.max > 0` without `not times`): counted events would be reported as none.
        cap = replace(
            rule(window[0], window[1], maximum=maximum), count_channels=frozenset({"call"})
        )
        past = [
            Event(at=now + dt.timedelta(minutes=m), channel=c, result="connected", direction=d)
            for m, c, d in history
        ]
        subject = Subject(now, tuple(zones))
        assert tally(cap, past, subject) == windowed(cap, counted(cap, past, subject), subject)

    @settings(max_examples=200, deadline=None)
    @given(
        windows=st.lists(
            st.tuples(st.sampled_from(WINDOWS), st.integers(0, 3)), min_size=1, max_size=4
        ),
        now=instants,
        zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
        history=st.lists(st.integers(-40 * 24 * 60, 60), max_size=3),
    )
    def test_every_cap_at_once_is_each_cap_by_the_general_path(
        self,
        windows: list[tuple[tuple[str, int], int]],
        now: dt.datetime,
        zones: list[str],
        history: list[int],
    ) -> None:
        # `tally_all` answers an empty history for every cap at once. Catches that short cut
        # taken with a history (counted events reported as none) or for a cap of at most 0 (none
        # counted is already at its limit: its release must still be computed).
        caps = [  # a rolling window's release is undefined at 0 (no cap of a pack has one)
            replace(rule(kind, n, maximum=max(maximum, kind == "minutes")), id=f"c{i}")
            for i, ((kind, n), maximum) in enumerate(windows)
        ]
        past = [
            Event(at=now + dt.timedelta(minutes=m), channel="call", result="connected")
            for m in history
        ]
        subject = Subject(now, tuple(zones))
        assert tally_all(caps, past, subject) == {
            cap.id: windowed(cap, counted(cap, past, subject), subject) for cap in caps
        }

    @settings(max_examples=300, deadline=None)
    @given(
        now=instants,
        zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
        days=st.integers(0, 8),
    )
    def test_remembered_day_bounds_are_the_computed_ones(
        self, now: dt.datetime, zones: list[str], days: int
    ) -> None:
        # Catches a remembered answer keyed on less than its question (the zones or the days left
        # out of the cache's key): the same instant asked with other zones or days would get it.
        for zs in (zones, zones[:1], list(reversed(zones))):
            for k in (0, days):
                assert localtime.day_start(now, zs, k) == localtime._day_start.__wrapped__(
                    now, tuple(zs), k
                )
                assert localtime.day_end(now, zs, k + 1) == localtime._day_end.__wrapped__(
                    now, tuple(zs), k + 1
                )

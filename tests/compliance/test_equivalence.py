"""The batch and the single-contact guard agree on random planned contacts: same reasons (rule and
code, one per reason), same `next_allowed_at`."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields, replace
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, assume, given, settings

from recoup.compliance import Guard, load_guard
from recoup.compliance import guard as guard_module
from recoup.compliance.batch import decide_frame, facts_frame, tallies_frame
from recoup.compliance.codes import CHANNELS, COLLECTORS, FLAGS, PARTIES, PRODUCTS, TO_TYPES
from recoup.compliance.facts import ConsentWindow, Facts, Inconvenient, Tally
from recoup.compliance.guard import decide, plan

GUARD = load_guard()
# A deployment's house policy over the packs: working days on the official calendar, a per-day cap.
HOUSE = load_guard(
    {
        "rules": [
            {
                "id": "acme.workdays",
                "kind": "hours",
                "title": "Working days",
                "window": {"from": "09:00", "to": "18:30"},
                "working_days": True,
                "channels": ["call", "visit"],
            },
            {
                "id": "acme.texts",
                "kind": "cap",
                "title": "Two texts a day",
                "channels": ["sms"],
                "counts": {"channels": ["sms"]},
                "scope": ["debtor"],
                "window": {"kind": "local_day"},
                "max": 2,
            },
        ],
        "disable": ["cn.hours.house"],
    }
)
JURISDICTIONS = [
    "CN",
    "US",
    "US-MA",
    "US-WA",
    "US-NY-NYC",
    "US-CA",
    "GB",
    "IE",
    "NL",
    "GR",
    "IN",
    "PH",
    "ID",
    "VN",
    "TH",
    "MY",
]
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Chicago",
    "Asia/Shanghai",
    "Europe/Dublin",
    "Europe/Amsterdam",
    "Asia/Jakarta",
    "Asia/Jayapura",
    "Asia/Manila",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]
TEXTS = [
    None,
    "Hi, your bill of $120 is due. Reply STOP to opt out.",
    "Pay now or we will tell your employer. This is from a debt collector.",
    "Please call us back at 1-800-555-1212.",
    "您好，您的账单已逾期，请及时还款。回复TD退订",
    "再不还款就起诉你，通知你单位",
]
UTC = dt.UTC
pytestmark = pytest.mark.pure


def minutes(lo: int = 0, hi: int = 1440) -> st.SearchStrategy[int]:
    return st.integers(lo // 15, hi // 15).map(lambda q: q * 15)


@st.composite
def windows(draw: st.DrawFn) -> tuple[int, int]:
    start = draw(minutes(0, 1425))
    end = draw(minutes(start + 15, 1440))
    return start, end


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    at = draw(
        st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2030, 12, 31), timezones=st.just(UTC))
    )
    # Often on a quarter hour, where windows and periods start and end.
    at = at.replace(minute=at.minute // 15 * 15 if draw(st.booleans()) else at.minute)
    at = at.replace(second=0, microsecond=0)
    consents = []
    for _ in range(draw(st.integers(0, 2))):
        start, end = draw(windows())
        valid_from = at - dt.timedelta(hours=draw(st.integers(-30, 400)))
        until = draw(st.none() | st.integers(1, 500).map(lambda h: at + dt.timedelta(hours=h)))
        consents.append(ConsentWindow(start, end, valid_from, until))
    periods = []
    for _ in range(draw(st.integers(0, 2))):
        start, end = draw(windows())
        days = frozenset(draw(st.sets(st.integers(0, 6), max_size=3)))
        periods.append(Inconvenient(days, start, end))
    text = draw(st.sampled_from(TEXTS))
    return Facts(
        at=at,
        channel=draw(st.sampled_from(CHANNELS)),
        jurisdiction=draw(st.sampled_from(JURISDICTIONS)),
        zones=tuple(draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True))),
        party=draw(st.sampled_from(["debtor"] * 4 + list(PARTIES))),
        collector=draw(st.sampled_from(COLLECTORS)),
        product=draw(st.sampled_from(PRODUCTS)),
        dpd=draw(st.integers(0, 90)),
        flags=frozenset(draw(st.lists(st.sampled_from(FLAGS), max_size=1)))
        if draw(st.booleans())
        else frozenset(),
        handover_notice_sent=draw(st.booleans()),
        time_barred=draw(st.booleans()),
        to_type=draw(st.sampled_from(TO_TYPES)),
        opted_out=draw(st.integers(0, 5)) == 0,
        electronic_consent=draw(st.booleans()),
        recent_inbound=draw(st.booleans()),
        wrong_party=draw(st.integers(0, 8)) == 0,
        debtor_unreachable=draw(st.booleans()),
        third_party_refused=draw(st.booleans()),
        evidence=draw(st.booleans()),
        designated=draw(st.booleans()),
        third_party_contacts=draw(st.integers(0, 2)),
        call_back_until=draw(
            st.none() | st.integers(-48, 200).map(lambda h: at + dt.timedelta(hours=h))
        ),
        consent_windows=tuple(consents),
        inconvenient=tuple(periods),
        content_text=text,
        content_language=draw(st.sampled_from([None, "en", "zh-CN"])) if text else None,
        creditor_name="",
    )


@st.composite
def tallies_for(draw: st.DrawFn, f: Facts, guard: Guard) -> dict[str, Tally]:
    out = {}
    for cap in plan(guard, f).caps:
        count = draw(st.integers(0, cap.max + 1))
        release = (
            draw(st.none() | st.integers(1, 24 * 40).map(lambda h: f.at + dt.timedelta(hours=h)))
            if count >= cap.max
            else None
        )
        out[cap.id] = Tally(count, release)
    return out


@st.composite
def batches(draw: st.DrawFn) -> tuple[Guard, list[Facts], dict[int, dict[str, Tally]]]:
    guard = draw(st.sampled_from([GUARD, HOUSE]))
    items = draw(st.lists(facts(), min_size=1, max_size=6))
    return guard, items, {i: draw(tallies_for(f, guard)) for i, f in enumerate(items)}


class TestBatchEqualsSingle:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches())
    def test_same_reasons_and_next_moment(
        self, batch: tuple[Guard, list[Facts], dict[int, dict[str, Tally]]]
    ) -> None:
        guard, items, tallies = batch
        out = decide_frame(guard, facts_frame(items), tallies_frame(tallies))
        assert out["contact_id"].to_list() == list(range(len(items)))
        for i, f in enumerate(items):
            single = decide(guard, f, tallies[i])
            row = out.row(i, named=True)
            assert row["reasons"] == sorted(f"{r.rule}:{r.code.value}" for r in single.reasons), f
            assert row["allowed"] == single.allowed
            assert row["next_allowed_at"] == single.next_allowed_at, f


class TestSmallBatchesDecidedOneByOne:
    """With no counters and a handful of contacts (an event re-deciding one account), the frame is
    decided contact by contact with `decide`: the same answer as the frame machinery."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches())
    def test_the_small_path_answers_as_the_frame_path(
        self, batch: tuple[Guard, list[Facts], dict[int, dict[str, Tally]]]
    ) -> None:
        guard, items, _ = batch
        frame = facts_frame(items)
        one_by_one = decide_frame(guard, frame)
        whole = decide_frame(guard, frame, small=0)
        assert one_by_one.to_dicts() == whole.to_dicts()
        assert one_by_one.schema == whole.schema


class TestRememberedMomentsChangeNothing:
    """The guard remembers hours moments across decisions (the dispatcher asks the same question for
    every contact of a batch): a guard that has answered many questions decides exactly as a new
    one, for the same instant read in any zone."""

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches(), st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York"]))
    def test_a_guard_that_remembers_decides_as_a_new_one(
        self, batch: tuple[Guard, list[Facts], dict[int, dict[str, Tally]]], zone_name: str
    ) -> None:
        guard, items, tallies = batch
        for i, f in enumerate(items):
            for at in (f.at, f.at.astimezone(ZoneInfo(zone_name))):
                asked = replace(f, at=at)
                remembered = decide(guard, asked, tallies[i])
                new = decide(Guard(guard.packs, guard.house), asked, tallies[i])
                assert remembered.to_json() == new.to_json(), asked


class TestRememberedPlansChangeNothing:
    """The guard remembers the part of a plan that depends on neither the time, the days past
    due nor the text (`guard._skeleton`), keyed by the other facts: a guard that has planned a
    contact plans one differing from it in any single fact exactly as a new guard does. Fails
    with a fact the plan reads left out of the key (checked with `opted_out`, `flags` and
    whether there is a text, each removed in turn), and with the days past due left out of the
    hours rules' waivers remembered on the skeleton (`_Skeleton.unwaived`: tried)."""

    @pytest.mark.parametrize("name", [f.name for f in fields(Facts)])
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(guard=st.sampled_from([GUARD, HOUSE]), first=facts(), other=facts())
    def test_a_plan_remembered_for_other_facts_is_not_reused(
        self, name: str, guard: Guard, first: Facts, other: Facts
    ) -> None:
        if name == "content_text":  # a text where there was none, or none where there was one
            first = replace(first, content_text=None, content_language=None)
            other = replace(other, content_text=TEXTS[-1], content_language="zh-CN")
        elif name == "creditor_name":
            other = replace(other, creditor_name="Recoup Wallet")
        elif isinstance(getattr(first, name), bool):
            other = replace(other, **{name: not getattr(first, name)})
        assume(getattr(other, name) != getattr(first, name))
        remembering = Guard(guard.packs, guard.house)
        plan(remembering, first)
        changed = replace(first, **{name: getattr(other, name)})
        if changed.content_text is None:
            changed = replace(changed, content_language=None)
        elif first.content_text is None:
            changed = replace(changed, content_language=other.content_language)
        new = Guard(guard.packs, guard.house)
        assert plan(remembering, changed) == plan(new, changed), changed
        tallies = {cap.id: Tally(cap.max) for cap in plan(new, changed).caps}
        assert (
            decide(remembering, changed, tallies).to_json()
            == decide(new, changed, tallies).to_json()
        )


class TestAContactsMomentRememberedChangesNothing:
    """A guard remembers each hours rule's next open moment for a contact's moment, zones and
    jurisdiction (`guard._hours_at`; a batch asks it for every contact of a claim): a guard that
    has decided a contact decides one differing from it in any single fact the moment reads, or
    in the zone `at` is written in, exactly as a new guard does. Fails with the zones left out of
    the key (the second contact got the first's moment); the jurisdiction, which chooses the
    calendar of a rule every jurisdiction shares, is caught by the holiday case below (tried)."""

    def test_a_moment_remembered_for_another_jurisdictions_calendar_is_not_reused(self) -> None:
        """A house rule on working days applies in every jurisdiction, on each one's calendar: at
        10:00 in Shanghai on 1 October 2026 (National Day) it refuses a call to a Chinese debtor
        and not to an American one in the same zone."""
        at = dt.datetime(2026, 10, 1, 2, tzinfo=UTC)
        chinese = Facts(at=at, channel="call", jurisdiction="CN", zones=("Asia/Shanghai",))
        american = replace(chinese, jurisdiction="US")
        remembering = Guard(HOUSE.packs, HOUSE.house)
        assert "REST_DAY" in [r.code.value for r in decide(remembering, chinese).reasons]
        assert (
            decide(remembering, american).to_json()
            == decide(Guard(HOUSE.packs, HOUSE.house), american).to_json()
        )
        assert "REST_DAY" not in [r.code.value for r in decide(remembering, american).reasons]

    @pytest.mark.parametrize(
        "name", ["at", "zones", "jurisdiction", "consent_windows", "channel", "product", "dpd"]
    )
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(guard=st.sampled_from([GUARD, HOUSE]), first=facts(), other=facts())
    def test_a_moment_remembered_for_other_facts_is_not_reused(
        self, name: str, guard: Guard, first: Facts, other: Facts
    ) -> None:
        remembering = Guard(guard.packs, guard.house)
        decide(remembering, first)
        if name == "at":  # the same instant in another zone: an answer of `at` itself differs
            changed = replace(first, at=first.at.astimezone(ZoneInfo(other.zones[0])))
        else:
            assume(getattr(other, name) != getattr(first, name))
            changed = replace(first, **{name: getattr(other, name)})
        new = Guard(guard.packs, guard.house)
        assert decide(remembering, changed).to_json() == decide(new, changed).to_json(), changed


class TestTheMemoryIsBounded:
    """A guard may live as long as a dispatcher's worker: past `MEMO_KEPT` entries it forgets
    what it remembered and starts afresh, deciding as before. Fails with the bound taken out of
    `guard._remember` (the memo grows past it: tried)."""

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(many=st.lists(facts(), min_size=5, max_size=12))
    def test_a_guard_past_its_bound_forgets_and_decides_the_same(self, many: list[Facts]) -> None:
        remembering = Guard(GUARD.packs, GUARD.house)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(guard_module, "MEMO_KEPT", 4)
            for f in many:
                assert plan(remembering, f) == plan(Guard(GUARD.packs, GUARD.house), f)
                assert len(remembering.memo) <= 4

"""A scenario (the JSON a compliance officer or the dispatcher hands the guard) into facts.

The format is documented in `docs/compliance.md`. Parsing names the field of every problem
(`debtor.consents[1].given_at: ...`). Derived facts:

- zones: `debtor.zones` when given, else the address, every phone and the device zone; a zone the
  debtor confirmed (`debtor.confirmed_zone`) replaces them all (regulation-rules A2);
- the prior consent to be called (`call_back`) lasts at most 7 days counting the day it was given
  and ends at the next conversation about the debt (Reg F 1006.14(b)(3)(i), comment 14(b)(3)(i)-2);
  calls placed while it lasted are marked as made with consent;
- "recent inbound": the debtor wrote from this address on this channel in the last 60 days
  (1006.6(d)(5));
- the debtor is unreachable when `debtor.unreachable_since` is set, or the last 3 calls to the
  debtor all failed and the planned contact is on a later local day (CBA 2026 guideline: the day
  after 3 consecutive unanswered calls);
- a third party's earlier contacts are the history's contacts with the same party role at `to`;
- an inconvenience tied to a place applies only to contacts that reach the debtor there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recoup.compliance.codes import (
    CHANNELS,
    COLLECTORS,
    FLAGS,
    PARTIES,
    PRODUCTS,
    RESULTS,
    VOICE,
    WEEKDAYS,
)
from recoup.compliance.facts import ConsentWindow, Decision, Facts, Inconvenient
from recoup.compliance.guard import decide, plan
from recoup.compliance.localtime import ZoneError, candidate_zones, day_end, utc_at, zone
from recoup.compliance.packs import Guard, PackError, parse_house, parse_time
from recoup.compliance.tally import Event, Subject, tally_all

UTC = dt.UTC
UNREACHABLE_AFTER_FAILED_CALLS = 3
FAILED = frozenset({"not_connected", "busy", "no_answer", "voicemail"})
RECENT_INBOUND = dt.timedelta(days=60)
CALL_BACK_DAYS = 7


class ScenarioError(ValueError):
    """A scenario that cannot be read; the message names the field."""


@dataclass(frozen=True)
class Scenario:
    facts: Facts
    events: tuple[Event, ...]
    debt_id: str | None
    to: str | None
    creditor: str | None
    house: Mapping[str, Any]


def check(guard: Guard, data: Any) -> Decision:
    """Read a scenario and decide it: the single-contact entry point."""
    s = parse(data)
    if s.house:
        try:
            guard = guard.with_house(parse_house(s.house, source="scenario house"))
        except PackError as exc:
            raise ScenarioError(str(exc)) from exc
    p = plan(guard, s.facts)
    subject = Subject(s.facts.at, s.facts.zones, s.debt_id, s.to, s.creditor)
    return decide(guard, s.facts, tally_all(p.caps, s.events, subject))


def parse(data: Any) -> Scenario:
    r = _Reader(data, "")
    at = r.instant("at")
    channel = r.choice("channel", CHANNELS)
    collector = r.sub("collector", default={})
    party = r.sub("party", default={})
    debtor = r.sub("debtor")
    debt = r.sub("debt", default={})
    jurisdiction = debtor.text("jurisdiction")
    phones = debtor.items("phones")
    emails = debtor.items("emails")
    numbers = [p.text("number") for p in phones]
    addresses = [e.text("address") for e in emails]
    to = r.optional_text("to")
    if to is None:
        if channel in VOICE or channel == "sms":
            to = numbers[0] if numbers else None
        elif channel == "email":
            to = addresses[0] if addresses else None
    zones = _zones(debtor, jurisdiction, numbers)
    debt_id = debt.optional_text("id")
    creditor = debt.optional_text("creditor")
    history = [_event(e) for e in r.items("history")]
    consents = debtor.items("consents")
    call_back_until = _call_back_until(consents, history, at, zones, debt_id)
    events = tuple(
        _with_consent(e, consents, history, zones, debt_id) if e.channel in VOICE else e
        for e in history
    )
    role = party.choice("role", PARTIES, default="debtor")
    phone = next((p for p in phones if p.text("number") == to), None)
    email = next((e for e in emails if e.text("address") == to), None)
    text_content = r.sub("content", default={})
    facts = Facts(
        at=at,
        channel=channel,
        jurisdiction=jurisdiction,
        zones=zones,
        party=role,
        collector=collector.choice("role", COLLECTORS, default="creditor"),
        product=debt.choice("product", PRODUCTS, default="bnpl"),
        dpd=debt.integer("days_past_due", default=0),
        flags=frozenset(debtor.choices("flags", FLAGS)),
        handover_notice_sent=collector.boolean("handover_notice_sent", default=False),
        time_barred=debt.boolean("time_barred", default=False),
        to_type=_to_type(channel, phone, email),
        opted_out=_opted_out(debtor.items("opt_outs"), channel, to),
        electronic_consent=_electronic_consent(consents, channel, to, at),
        recent_inbound=any(
            e.direction == "inbound"
            and e.channel == channel
            and e.address == to
            and at - RECENT_INBOUND <= e.at <= at
            for e in events
        ),
        wrong_party=bool(
            (phone is not None and phone.boolean("wrong_party", default=False))
            or (email is not None and email.boolean("wrong_party", default=False))
            or any(e.misdirected and e.address == to for e in events)
        ),
        debtor_unreachable=_unreachable(debtor, events, at, zones),
        third_party_refused=party.boolean("refused", default=False),
        evidence=party.boolean("evidence", default=False),
        designated=party.boolean("designated", default=False),
        third_party_contacts=sum(
            1
            for e in events
            if role != "debtor"
            and e.party == role
            and e.address == to
            and e.direction == "outbound"
        ),
        call_back_until=call_back_until,
        consent_windows=tuple(
            ConsentWindow(
                c.minutes("from"),
                c.minutes("to"),
                c.instant("given_at"),
                c.optional_instant("until"),
            )
            for c in consents
            if c.text("kind") == "time_window"
        ),
        inconvenient=tuple(
            _inconvenient(i)
            for i in debtor.items("inconvenient")
            if _at_place(i, channel, phone, email)
        ),
        content_text=text_content.optional_text("text"),
        content_language=text_content.optional_text("language"),
        creditor_name=collector.optional_text("name") or creditor or "",
    )
    for c in consents:
        c.choice("kind", ("call_back", "time_window", "electronic"))
    return Scenario(facts, events, debt_id, to, creditor, r.sub("house", default={}).raw)


def _zones(debtor: _Reader, jurisdiction: str, numbers: Sequence[str]) -> tuple[str, ...]:
    try:
        confirmed = debtor.optional_text("confirmed_zone")
        if confirmed:
            zone(confirmed)
            return (confirmed,)
        given = debtor.strings("zones")
        if given:
            for z in given:
                zone(z)
            return tuple(dict.fromkeys(given))
        address = debtor.sub("address", default={})
        country = address.optional_text("country")
        return candidate_zones(
            jurisdiction=jurisdiction,
            phones=numbers,
            address=(country, address.optional_text("region")) if country else None,
            device=debtor.optional_text("device_zone"),
        )
    except ZoneError as exc:
        raise ScenarioError(f"{debtor.path or 'debtor'}: {exc}") from exc


def _event(r: _Reader) -> Event:
    return Event(
        at=r.instant("at"),
        channel=r.choice("channel", CHANNELS),
        result=r.choice("result", RESULTS),
        direction=r.choice("direction", ("outbound", "inbound"), default="outbound"),
        party=r.choice("party", PARTIES, default="debtor"),
        address=r.optional_text("address"),
        debt_ids=tuple(r.strings("debt_ids")),
        creditor=r.optional_text("creditor"),
        misdirected=r.boolean("misdirected", default=False),
    )


def _call_back_until(
    consents: Sequence[_Reader],
    history: Sequence[Event],
    at: dt.datetime,
    zones: tuple[str, ...],
    debt_id: str | None,
) -> dt.datetime | None:
    """When the prior consent to be called that covers `at` ends; None when none covers it."""
    for given, until in _call_back_spans(consents, history, zones, debt_id):
        if given <= at < until:
            return until
    return None


def _call_back_spans(
    consents: Sequence[_Reader],
    history: Sequence[Event],
    zones: tuple[str, ...],
    debt_id: str | None,
) -> list[tuple[dt.datetime, dt.datetime]]:
    spans = []
    for c in consents:
        if c.text("kind") != "call_back":
            continue
        given = c.instant("given_at")
        # Day 1 is the day consent was given: it lapses at the start of day 8 (earliest zone).
        until = min(
            utc_at(_local(given, z) + dt.timedelta(days=CALL_BACK_DAYS), 0, z) for z in zones
        )
        explicit = c.optional_instant("until")
        if explicit is not None:
            until = min(until, explicit)
        for e in history:
            if (
                e.result == "conversation"
                and given < e.at < until
                and (not e.debt_ids or debt_id in e.debt_ids)
            ):
                until = e.at
        spans.append((given, until))
    return spans


def _with_consent(
    e: Event,
    consents: Sequence[_Reader],
    history: Sequence[Event],
    zones: tuple[str, ...],
    debt_id: str | None,
) -> Event:
    spans = _call_back_spans(consents, history, zones, debt_id)
    if e.direction == "outbound" and any(g <= e.at < u for g, u in spans):
        return Event(**{**e.__dict__, "with_consent": True})
    return e


def _local(at: dt.datetime, zone_name: str) -> dt.date:
    return at.astimezone(zone(zone_name)).date()


def _to_type(channel: str, phone: _Reader | None, email: _Reader | None) -> str:
    if channel in ("push", "in_app", "chat", "wechat"):
        return "app"
    if channel in ("letter", "visit"):
        return "postal"
    if email is not None:
        return "work_email" if email.optional_text("type") == "work" else "personal_email"
    if channel == "email":
        return "personal_email"
    if phone is not None:
        kind = phone.optional_text("type") or "mobile"
        return kind if kind in ("mobile", "home", "work") else "other"
    return "mobile"


def _opted_out(opt_outs: Sequence[_Reader], channel: str, to: str | None) -> bool:
    family = VOICE if channel in VOICE else frozenset({channel})
    for o in opt_outs:
        ch = o.optional_text("channel")
        address = o.optional_text("address")
        if (ch is None or ch == "all" or ch in family) and (address is None or address == to):
            return True
    return False


def _electronic_consent(
    consents: Sequence[_Reader], channel: str, to: str | None, at: dt.datetime
) -> bool:
    for c in consents:
        if c.text("kind") != "electronic":
            continue
        ch, address = c.optional_text("channel"), c.optional_text("address")
        until = c.optional_instant("until")
        if (
            (ch is None or ch == channel)
            and (address is None or address == to)
            and c.instant("given_at") <= at
            and (until is None or at < until)
        ):
            return True
    return False


def _unreachable(
    debtor: _Reader, events: Sequence[Event], at: dt.datetime, zones: tuple[str, ...]
) -> bool:
    since = debtor.optional_instant("unreachable_since")
    if since is not None and since <= at:
        return True
    calls = sorted(
        (
            e
            for e in events
            if e.party == "debtor"
            and e.direction == "outbound"
            and e.channel in VOICE
            and e.at <= at
        ),
        key=lambda e: e.at,
    )[-UNREACHABLE_AFTER_FAILED_CALLS:]
    return (
        len(calls) == UNREACHABLE_AFTER_FAILED_CALLS
        and all(e.result in FAILED for e in calls)
        and at >= day_end(calls[-1].at, zones)
    )


def _at_place(r: _Reader, channel: str, phone: _Reader | None, email: _Reader | None) -> bool:
    """An inconvenience tied to a place (`"place": "work"`, Reg F 1006.6(b)(1)-(3)) applies only to
    contacts that reach the debtor there: a work number or e-mail, or a visit."""
    place = r.choice("place", ("anywhere", "work", "home"), default="anywhere")
    if place == "anywhere":
        return True
    kind = _to_type(channel, phone, email)
    if place == "work":
        return kind in ("work", "work_email") or channel == "visit"
    return kind == "home" or channel == "visit"


def _inconvenient(r: _Reader) -> Inconvenient:
    days = frozenset(WEEKDAYS.index(d) for d in r.choices("days", WEEKDAYS))
    start = r.minutes("from", default="00:00")
    end = r.minutes("to", default="24:00")
    if end <= start:
        raise ScenarioError(f"{r.path}: 'to' must be after 'from'")
    return Inconvenient(days, start, end)


class _Reader:
    """Typed access to a JSON object, with the path for error messages."""

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, Mapping):
            raise ScenarioError(f"{path or 'the scenario'} must be a JSON object")
        self.raw = raw
        self.path = path

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def sub(self, key: str, default: Any = None) -> _Reader:
        value = self.raw.get(key, default)
        if value is None:
            raise ScenarioError(f"{self._at(key)} is required")
        return _Reader(value, self._at(key))

    def items(self, key: str) -> list[_Reader]:
        value = self.raw.get(key) or []
        if not isinstance(value, list):
            raise ScenarioError(f"{self._at(key)} must be a list")
        return [_Reader(v, f"{self._at(key)}[{i}]") for i, v in enumerate(value)]

    def text(self, key: str) -> str:
        value = self.optional_text(key)
        if value is None:
            raise ScenarioError(f"{self._at(key)} is required")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ScenarioError(f"{self._at(key)} must be a non-empty string")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ScenarioError(f"{self._at(key)} must be a list of strings")
        return value

    def choice(self, key: str, allowed: Sequence[str], default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if value is None:
            raise ScenarioError(f"{self._at(key)} is required (one of {', '.join(allowed)})")
        if value not in allowed:
            raise ScenarioError(f"{self._at(key)}: {value!r} is not one of {', '.join(allowed)}")
        return str(value)

    def choices(self, key: str, allowed: Sequence[str]) -> list[str]:
        values = self.strings(key)
        for v in values:
            if v not in allowed:
                raise ScenarioError(f"{self._at(key)}: {v!r} is not one of {', '.join(allowed)}")
        return values

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self._at(key)} must be true or false")
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ScenarioError(f"{self._at(key)} must be a whole number of 0 or more")
        return value

    def minutes(self, key: str, default: str | None = None) -> int:
        try:
            return parse_time(self.raw.get(key, default), self._at(key))
        except PackError as exc:
            raise ScenarioError(str(exc)) from exc

    def instant(self, key: str) -> dt.datetime:
        value = self.optional_instant(key)
        if value is None:
            raise ScenarioError(f"{self._at(key)} is required (an ISO 8601 time with its offset)")
        return value

    def optional_instant(self, key: str) -> dt.datetime | None:
        value = self.raw.get(key)
        if value is None:
            return None
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ScenarioError(f"{self._at(key)}: {value!r} is not an ISO 8601 time") from exc
        if parsed.tzinfo is None:
            raise ScenarioError(f"{self._at(key)}: {value!r} needs a UTC offset, such as +08:00")
        return parsed.astimezone(UTC)

"""The guard: for one planned contact, allow or block with every reason, and when it could happen.

A decision has two parts.

- The plan (`plan`): everything that depends only on who, how, by whom and what (party, channel,
  collector, flags, consents and opt-outs as booleans, content). It yields the reasons time cannot
  cure, and the time-bound rules that apply: hours, caps, the debtor's inconvenient times, grace.
  The batch evaluates the plan once per distinct combination and joins it back, so both entry
  points share this code exactly.
- The clock (`_components`): each time-bound rule gives the earliest moment at or after t at which
  it passes. The decision at `at` blocks on every rule whose earliest moment is not `at`;
  `next_allowed_at` is the fixpoint of taking the latest of those moments, which is the earliest
  moment at which they all pass (each is monotone and exact, so the iteration never overshoots).
  It is absent when a reason time cannot cure applies, or when no moment within the horizon works.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from recoup.compliance import calendars, content
from recoup.compliance.calendars import CalendarUnknown
from recoup.compliance.codes import Code
from recoup.compliance.facts import ConsentWindow, Decision, Facts, Inconvenient, Reason, Tally
from recoup.compliance.localtime import day_window, local_date, subdivision_of, utc_at, zone
from recoup.compliance.packs import (
    CapRule,
    ChannelRule,
    ConsentRule,
    ContentRule,
    GraceRule,
    Guard,
    HoursRule,
    PartyRule,
    PartyTerms,
    Rule,
    StatusRule,
)

HORIZON_DAYS = 14  # how far an hours rule looks for its next open day
MAX_ROUNDS = 48
MAX_AHEAD = dt.timedelta(days=400)
MOMENTS_KEPT = 50_000  # hours moments remembered per guard (a worker's batches, a day's run)
MEMO_KEPT = 50_000  # rules' verdicts and plans remembered per guard before it starts afresh
_T = TypeVar("_T")
THIRD_PARTIES = frozenset(
    {
        "debt_related_third_party",
        "emergency_contact",
        "phonebook_contact",
        "employer",
        "other_third_party",
    }
)


@dataclass(frozen=True)
class Plan:
    reasons: tuple[Reason, ...]
    hours: tuple[HoursRule, ...]
    caps: tuple[CapRule, ...]
    inconvenient: Rule | None
    grace: tuple[GraceRule, ...]
    packs: tuple[str, ...]


def applies(rule: Rule, f: Facts) -> bool:
    return (
        f.channel in rule.channels
        and f.party in rule.parties
        and f.collector in rule.collectors
        and f.product in rule.products
        and (rule.to_types is None or f.to_type in rule.to_types)
        and (f.time_barred or not rule.only_time_barred)
    )


def _selecting(f: Facts) -> tuple[object, ...]:
    """The facts that choose which rules apply (`_applicable`)."""
    return (f.jurisdiction, f.collector, f.channel, f.party, f.product, f.to_type, f.time_barred)


def _applicable(guard: Guard, f: Facts) -> tuple[Rule, ...]:
    key = ("applicable", *_selecting(f))
    found = guard.memo.get(key)
    if found is None:
        found = _remember(
            guard,
            key,
            tuple(r for r in guard.rules_for(f.jurisdiction, f.collector) if applies(r, f)),
        )
    return found


def _remember(guard: Guard, key: tuple[object, ...], value: _T) -> _T:
    """Keep `value` under `key` on the guard, and return it. A guard lives as long as its
    process may (a dispatcher's worker): past MEMO_KEPT entries it forgets them all and starts
    afresh, as `moments` does, so its memory has a bound whatever facts it meets."""
    if len(guard.memo) >= MEMO_KEPT:
        guard.memo.clear()
    guard.memo[key] = value
    return value


@dataclass(frozen=True)
class _Skeleton:
    """What a plan is for every contact with the same facts but its time, days past due and
    text: the rules' remembered verdicts in the rules' order, with the content rules (and, for a
    text, the party rules) left in their place to be asked of each contact's own text."""

    steps: tuple[tuple[Reason, ...] | Rule, ...]
    hours: tuple[HoursRule, ...]  # before the days past due waive any
    caps: tuple[CapRule, ...]
    inconvenient: Rule | None
    grace: tuple[GraceRule, ...]
    packs: tuple[str, ...]
    # The hours rules not waived, by (product, days past due): what `plan` asks per contact.
    unwaived: dict[tuple[str, int], tuple[HoursRule, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )


def plan(guard: Guard, f: Facts) -> Plan:
    """The reasons time cannot cure, and the time-bound rules that apply. Reads no time field.

    A batch's contacts mostly share their facts but for the time, the days past due and the
    rendered text: the rest of the plan (`_skeleton`) is remembered on the guard for those facts,
    and only the text's rules and the hours' waivers are asked per contact."""
    skeleton = _skeleton(guard, f)
    reasons: list[Reason] = []
    for step in skeleton.steps:
        if isinstance(step, tuple):
            reasons.extend(step)
        else:
            reasons.extend(_verdict(step, f))  # rendered texts vary: not worth remembering
    hours = skeleton.unwaived.get((f.product, f.dpd))
    if hours is None:
        if len(skeleton.unwaived) >= MEMO_KEPT:
            skeleton.unwaived.clear()
        hours = skeleton.unwaived[f.product, f.dpd] = tuple(
            rule for rule in skeleton.hours if not rule.waived(f.product, f.dpd)
        )
    return Plan(
        tuple(reasons), hours, skeleton.caps, skeleton.inconvenient, skeleton.grace, skeleton.packs
    )


def _skeleton(guard: Guard, f: Facts) -> _Skeleton:
    """The plan's part that depends on neither the time, the days past due nor the text, keyed by
    every other field of the facts that `plan` reads (`_reads` of every rule kind, the rules'
    selection by `_applicable`, and whether there is a text at all)."""
    key = (
        "skeleton",
        *_selecting(f),
        f.flags,
        f.handover_notice_sent,
        f.opted_out,
        f.electronic_consent,
        f.recent_inbound,
        f.wrong_party,
        f.debtor_unreachable,
        f.third_party_refused,
        f.evidence,
        f.designated,
        f.third_party_contacts,
        f.content_text is not None,
    )
    found: _Skeleton | None = guard.memo.get(key)
    if found is None:
        found = _remember(guard, key, _build_skeleton(guard, f))
    return found


def _build_skeleton(guard: Guard, f: Facts) -> _Skeleton:
    steps: list[tuple[Reason, ...] | Rule] = []
    hours: list[HoursRule] = []
    caps: list[CapRule] = []
    grace: list[GraceRule] = []
    inconvenient: Rule | None = None
    for rule in _applicable(guard, f):
        if isinstance(rule, HoursRule):
            hours.append(rule)
        elif isinstance(rule, CapRule):
            caps.append(rule)
        elif isinstance(rule, GraceRule):
            grace.append(rule)
        elif rule.kind == "inconvenient":
            inconvenient = rule
        elif f.content_text is not None and rule.kind in ("content", "party"):
            steps.append(rule)
        else:
            key = (rule.id, *_reads(rule, f))
            known = guard.memo.get(key)
            if known is None:
                known = _remember(guard, key, tuple(_verdict(rule, f)))
            if known:
                steps.append(known)
    versions = guard.memo.get(("versions", f.jurisdiction, f.collector))
    if versions is None:
        versions = _remember(
            guard,
            ("versions", f.jurisdiction, f.collector),
            tuple(guard.versions(f.jurisdiction, f.collector)),
        )
    return _Skeleton(tuple(steps), tuple(hours), tuple(caps), inconvenient, tuple(grace), versions)


def _reads(rule: Rule, f: Facts) -> tuple[object, ...]:
    """The facts a rule's verdict depends on (the key under which the verdict is remembered)."""
    match rule:
        case StatusRule():
            return (rule.flags & f.flags,)
        case PartyRule():
            return (
                f.party,
                f.debtor_unreachable,
                f.third_party_refused,
                f.evidence,
                f.designated,
                f.third_party_contacts,
            )
        case ChannelRule():
            return (f.channel,)
        case ConsentRule():
            return (f.electronic_consent, f.recent_inbound, f.channel)
        case ContentRule():
            return ()
        case _:
            return (f.channel, f.opted_out, f.wrong_party, f.handover_notice_sent)


def _verdict(rule: Rule, f: Facts) -> list[Reason]:
    """The reasons a rule that time cannot satisfy gives for these facts."""
    match rule:
        case StatusRule():
            hit = sorted(rule.flags & f.flags)
            if hit:
                why = f"the account is flagged {', '.join(hit)}"
                return [_reason(rule, rule.code, why, flags=hit)]
        case PartyRule():
            return _party(rule, f)
        case ChannelRule():
            if f.channel in rule.forbid:
                why = f"{f.channel} is not a permitted channel"
                return [_reason(rule, Code.CHANNEL_FORBIDDEN, why)]
        case ConsentRule():
            ok = ("electronic_consent" in rule.accepts and f.electronic_consent) or (
                "recent_inbound" in rule.accepts and f.recent_inbound
            )
            if not ok:
                why = f"no consent on record for {f.channel} to this address"
                return [_reason(rule, Code.NO_CONSENT, why)]
        case ContentRule():
            return _content(rule, f)
        case _ if rule.kind == "opt_out" and f.opted_out:
            why = f"the debtor opted out of {f.channel} to this address"
            return [_reason(rule, Code.OPTED_OUT, why)]
        case _ if rule.kind == "wrong_party" and f.wrong_party:
            why = "this number or address is known not to be the debtor's"
            return [_reason(rule, Code.WRONG_PARTY, why)]
        case _ if rule.kind == "handover" and not f.handover_notice_sent:
            why = "the debtor has not been told the case was handed to an agency"
            return [_reason(rule, Code.HANDOVER_NOTICE_MISSING, why)]
    return []


def _party(rule: PartyRule, f: Facts) -> list[Reason]:
    terms = rule.roles.get(f.party, PartyTerms(allowed=False))
    if not terms.allowed:
        return [
            _reason(rule, Code.THIRD_PARTY, f"a {f.party.replace('_', ' ')} may not be contacted")
        ]
    missing = sorted(c for c in terms.requires if not _condition(c, f))
    out = []
    if missing:
        out.append(
            _reason(
                rule,
                Code.THIRD_PARTY,
                f"a {f.party.replace('_', ' ')} may be contacted only when: {', '.join(missing)}",
                missing=missing,
            )
        )
    if terms.max_contacts is not None and f.third_party_contacts >= terms.max_contacts:
        out.append(
            _reason(
                rule,
                Code.THIRD_PARTY,
                f"this person was already contacted {f.third_party_contacts} time(s); the limit is {terms.max_contacts}",
                limit=terms.max_contacts,
            )
        )
    if terms.no_disclosure and f.content_text:
        hits = content.found(f.content_text, "debt_terms", f.content_language)
        if hits:
            out.append(
                _reason(
                    rule,
                    Code.DISCLOSURE,
                    f"the message tells a third party about the debt ({', '.join(hits)})",
                    terms=hits,
                )
            )
    return out


def _condition(name: str, f: Facts) -> bool:
    return {
        "debtor_unreachable": f.debtor_unreachable,
        "not_refused": not f.third_party_refused,
        "evidence": f.evidence,
        "designated": f.designated,
        "not_disputed_told": True,
    }[name]


def _content(rule: ContentRule, f: Facts) -> list[Reason]:
    if f.content_text is None:
        return []
    out = []
    categories = tuple(sorted(rule.forbid))
    each = content.found_each(f.content_text, categories, f.content_language) if categories else {}
    for category in categories:
        hits = each[category]
        if hits:
            out.append(
                _reason(
                    rule,
                    rule.code,
                    f"{category.replace('_', ' ')}: {', '.join(hits)}",
                    category=category,
                    terms=hits,
                )
            )
    missing = (
        sorted(
            e
            for e in rule.require
            if not content.has_element(
                f.content_text, e, f.content_language, creditor=f.creditor_name
            )
        )
        if rule.require
        else []
    )
    if missing:
        out.append(
            _reason(
                rule,
                rule.code,
                f"missing: {', '.join(m.replace('_', ' ') for m in missing)}",
                missing=missing,
            )
        )
    return out


def _reason(rule: Rule, code: Code, why: str, **detail: object) -> Reason:
    return Reason(
        code=code,
        rule=rule.id,
        pack=rule.pack,
        citation=rule.citation,
        confidence=rule.confidence,
        message=f"{rule.title} ({why})",
        detail=dict(detail),
    )


# -- the clock ------------------------------------------------------------------------------------


Component = Callable[[dt.datetime], dt.datetime | None]


def hours_next(
    rule: HoursRule,
    t: dt.datetime,
    zone_name: str,
    calendar: tuple[str, str | None],
    consents: tuple[ConsentWindow, ...],
) -> dt.datetime | None:
    """The earliest moment at or after t inside the rule's window (or a consented one) in a zone."""
    today = local_date(t, zone_name)
    for k in range(HORIZON_DAYS):
        day = today + dt.timedelta(days=k)
        try:
            window = day_window(rule, day, calendar)
        except CalendarUnknown:
            return None  # the next open day is past what the calendar knows: no guess
        if window is None:
            continue
        spans: list[tuple[int, int, dt.datetime | None, dt.datetime | None]] = [
            (window.start, window.end, None, None)
        ]
        if rule.consent_opens:
            spans.extend((c.start, c.end, c.valid_from, c.valid_until) for c in consents)
        best: dt.datetime | None = None
        for start, end, valid_from, valid_until in spans:
            lo = max(t, utc_at(day, start, zone_name))
            if valid_from is not None:
                lo = max(lo, valid_from)
            hi = utc_at(day, end, zone_name)
            if valid_until is not None:
                hi = min(hi, valid_until)
            if lo < hi and (best is None or lo < best):
                best = lo
        if best is not None:
            return best
    return None


def inconvenient_next(
    t: dt.datetime, zones: tuple[str, ...], periods: tuple[Inconvenient, ...]
) -> dt.datetime:
    """t if no inconvenient period contains it in any zone, else the latest end of those that do."""
    latest = t
    for z in zones:
        day = local_date(t, z)
        for p in periods:
            if p.days and day.weekday() not in p.days:
                continue
            start, end = utc_at(day, p.start, z), utc_at(day, p.end, z)
            if start <= t < end and end > latest:
                latest = end
    return latest


def cap_next(rule: CapRule, t: dt.datetime, f: Facts, tally: Tally | None) -> dt.datetime | None:
    if tally is None or tally.count < rule.max:
        return t
    if rule.exempt_with_consent and f.call_back_until is not None and t < f.call_back_until:
        return t
    if tally.release_at is None:
        return None
    return max(t, tally.release_at)


def grace_next(rule: GraceRule, f: Facts) -> dt.datetime:
    """Days past due grow by one each local day; the contact may happen once they exceed the grace."""
    ahead = rule.days - f.dpd + 1
    return max(utc_at(local_date(f.at, z) + dt.timedelta(days=ahead), 0, z) for z in f.zones)


def calendar_of(rule: HoursRule, f: Facts) -> tuple[str, str | None]:
    country = rule.calendar if rule.calendar not in ("", "ZZ") else f.jurisdiction.split("-")[0]
    return country, subdivision_of(country, f.jurisdiction)


def _hours_moment(
    guard: Guard,
    rule: HoursRule,
    t: dt.datetime,
    zone_name: str,
    calendar: tuple[str, str | None],
    consents: tuple[ConsentWindow, ...],
) -> dt.datetime | None:
    """`hours_next`, remembered on the guard: a batch asks it the same question for every contact
    (the same moment, zone and calendar). Keyed by the rule's identity, which the guard holds, and
    by `t` with its zone (the answer may be `t` itself). Consented windows are the debtor's own:
    those are not remembered."""
    if consents:
        return hours_next(rule, t, zone_name, calendar, consents)
    key = (id(rule), t, t.tzinfo, zone_name, calendar, calendars.generation())
    memo = guard.moments
    if key in memo:
        known: dt.datetime | None = memo[key]
        return known
    if len(memo) >= MOMENTS_KEPT:
        memo.clear()
    found = memo[key] = hours_next(rule, t, zone_name, calendar, consents)
    return found


def _hours_at(guard: Guard, rule: HoursRule, t: dt.datetime, f: Facts) -> dt.datetime | None:
    """The earliest moment at or after t inside the rule's window in every one of the debtor's
    zones (None: none within the horizon in some zone). Without consented windows the answer is
    remembered whole, keyed by what it reads: the rule, `t` with its zone, the zones, the
    jurisdiction (the rule's calendar and subdivision, `calendar_of`) and the calendars' generation;
    a batch asks it for every contact of the same moment and zones."""
    key = None
    if not f.consent_windows:
        key = ("at", id(rule), t, t.tzinfo, f.zones, f.jurisdiction, calendars.generation())
        memo = guard.moments
        if key in memo:
            known: dt.datetime | None = memo[key]
            return known
    cal = calendar_of(rule, f)
    moments = [_hours_moment(guard, rule, t, z, cal, f.consent_windows) for z in f.zones]
    found = None if any(m is None for m in moments) else max(m for m in moments if m)
    if key is not None:
        if len(guard.moments) >= MOMENTS_KEPT:
            guard.moments.clear()
        guard.moments[key] = found
    return found


def _failing_now(guard: Guard, p: Plan, f: Facts, tallies: Mapping[str, Tally]) -> list[Rule]:
    """The time-bound rules that do not pass at `f.at`, in `_components`' order: each component
    asked at `f.at` directly, without building it (most contacts pass them all, and then no
    component is needed)."""
    at = f.at
    out: list[Rule] = [rule for rule in p.hours if _hours_at(guard, rule, at, f) != at]
    for cap in p.caps:
        if cap_next(cap, at, f, tallies.get(cap.id)) != at:
            out.append(cap)
    if (
        p.inconvenient is not None
        and f.inconvenient
        and inconvenient_next(at, f.zones, f.inconvenient) != at
    ):
        out.append(p.inconvenient)
    for g in p.grace:
        if f.dpd <= g.days and max(at, grace_next(g, f)) != at:
            out.append(g)
    return out


def _components(
    guard: Guard, p: Plan, f: Facts, tallies: Mapping[str, Tally]
) -> list[tuple[Rule, Component]]:
    out: list[tuple[Rule, Component]] = []
    for rule in p.hours:

        def hours(t: dt.datetime, rule: HoursRule = rule) -> dt.datetime | None:
            return _hours_at(guard, rule, t, f)

        out.append((rule, hours))
    for cap in p.caps:

        def capped(t: dt.datetime, cap: CapRule = cap) -> dt.datetime | None:
            return cap_next(cap, t, f, tallies.get(cap.id))

        out.append((cap, capped))
    if p.inconvenient is not None and f.inconvenient:

        def inconvenient(t: dt.datetime) -> dt.datetime | None:
            return inconvenient_next(t, f.zones, f.inconvenient)

        out.append((p.inconvenient, inconvenient))
    for g in p.grace:
        if f.dpd <= g.days:

            def graced(
                t: dt.datetime, moment: dt.datetime = grace_next(g, f)
            ) -> dt.datetime | None:
                return max(t, moment)

            out.append((g, graced))
    return out


def _temporal_reason(rule: Rule, f: Facts, tallies: Mapping[str, Tally]) -> Reason:
    match rule:
        case HoursRule():
            unknown = [z for z in f.zones if _unknown_day(rule, f, z)]
            if unknown:
                country, _ = calendar_of(rule, f)
                day = local_date(f.at, unknown[0]).isoformat()
                return _reason(
                    rule,
                    Code.CALENDAR_UNKNOWN,
                    f"{country}'s calendar does not cover {day}: refused rather than guessed",
                    calendar=country,
                    day=day,
                )
            rest = [z for z in f.zones if _rest_day(rule, f, z)]
            local = {z: f.at.astimezone(zone(z)).strftime("%a %H:%M") for z in f.zones}
            if rest:
                return _reason(
                    rule, Code.REST_DAY, f"it is a rest day in {', '.join(rest)}", local=local
                )
            return _reason(
                rule,
                Code.OUTSIDE_HOURS,
                f"allowed {rule.window.label()}; it is "
                + ", ".join(f"{v} in {k}" for k, v in local.items()),
                local=local,
                window=rule.window.label(),
            )
        case CapRule():
            count = tallies[rule.id].count
            return _reason(
                rule,
                rule.code,
                f"{count} counted {rule.window_label()}, the limit is {rule.max}",
                count=count,
                max=rule.max,
            )
        case GraceRule():
            return _reason(rule, Code.GRACE_PERIOD, f"{f.dpd} days past due", dpd=f.dpd)
        case _:
            return _reason(
                rule, Code.DEBTOR_INCONVENIENT, "the debtor said this time is inconvenient"
            )


def _rest_day(rule: HoursRule, f: Facts, z: str) -> bool:
    day = local_date(f.at, z)
    return day_window(rule, day, calendar_of(rule, f)) is None


def _unknown_day(rule: HoursRule, f: Facts, z: str) -> bool:
    try:
        day_window(rule, local_date(f.at, z), calendar_of(rule, f))
    except CalendarUnknown:
        return True
    return False


def decide(
    guard: Guard,
    f: Facts,
    tallies: Mapping[str, Tally] | None = None,
    *,
    count: Callable[[tuple[CapRule, ...]], Mapping[str, Tally]] | None = None,
) -> Decision:
    """The decision for one planned contact, given its counters (`tally.tally_all`), or given
    `count`, which computes them for the caps that apply (a caller holding the history)."""
    p = plan(guard, f)
    if count is not None:
        tallies = count(p.caps)
    tallies = tallies or {}
    temporal = [_temporal_reason(rule, f, tallies) for rule in _failing_now(guard, p, f, tallies)]
    reasons = (*p.reasons, *temporal)
    next_at = None
    if temporal and not p.reasons:
        next_at = settle(f.at, [c for _, c in _components(guard, p, f, tallies)])
    return Decision(f.at, reasons, next_at, p.packs, f.zones)


def settle(at: dt.datetime, components: list[Component]) -> dt.datetime | None:
    """The earliest moment at or after `at` at which every component passes (see module docstring)."""
    t = at
    for _ in range(MAX_ROUNDS):
        latest = t
        for c in components:
            moment = c(t)
            if moment is None:
                return None
            latest = max(latest, moment)
        if latest == t:
            return t
        if latest - at > MAX_AHEAD:
            return None
        t = latest
    return None


def check_content(
    guard: Guard,
    text: str,
    *,
    language: str | None,
    channel: str,
    jurisdiction: str,
    collector: str = "creditor",
    party: str = "debtor",
    creditor_name: str = "",
) -> list[Reason]:
    """The content reasons a message or template would draw, for saving a template (every pack it
    may be used in is asked in turn by the caller) or previewing a rendered message."""
    f = Facts(
        at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        channel=channel,
        jurisdiction=jurisdiction,
        zones=("UTC",),
        party=party,
        collector=collector,
        content_text=text,
        content_language=language,
        creditor_name=creditor_name,
    )
    content_codes = {Code.CONTENT_FORBIDDEN, Code.CONTENT_MISSING, Code.DISCLOSURE}
    return [r for r in plan(guard, f).reasons if r.code in content_codes]

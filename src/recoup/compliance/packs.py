"""Rule packs: versioned data, validated on load, one vocabulary of rule kinds for every jurisdiction.

A pack is a YAML file in `packs/`: an id (`US`, `US-MA`, `CN`...), a version, the jurisdictions it
covers and the collector roles it binds, and a list of rules. Every rule has an id, a kind, a citation
and a confidence tag (`P` primary text read, `S` secondary source, `M` from memory, `house` a house
policy), plus the parameters of its kind. The kinds are the engine's whole vocabulary; a country needs
new code only when its rule cannot be said with them.

A house policy (a deployment's file, or a scenario's `house` object) can add rules of any kind, which
can only make a decision stricter since every rule must pass, and can switch off the pack rules that are
themselves house policies (`optional: true`, such as China's 21:00 evening limit). Switching off a
rule that is law is refused on load.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from recoup.compliance.codes import (
    CHANNELS,
    COLLECTORS,
    FLAGS,
    PARTIES,
    PRODUCTS,
    RESULTS,
    TO_TYPES,
    WEEKDAYS,
    Code,
)

CONFIDENCE = ("P", "S", "M", "house")
CONDITIONS = ("debtor_unreachable", "not_refused", "evidence", "designated", "not_disputed_told")
ELEMENTS = ("opt_out", "creditor_identity", "debt_collector", "recording_notice")
CATEGORIES = (
    "threat",
    "insult",
    "shaming",
    "impersonation",
    "false_legal",
    "new_borrowing",
    "collection_fee",
    "private_channel",
    "intrusion",
    "lawsuit",
    "debt_terms",
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class PackError(ValueError):
    """A pack or house policy that does not validate; the message names the file, rule and field."""


@dataclass(frozen=True)
class Window:
    """A local-time window [start, end) in minutes after midnight; end may be 1440 (24:00)."""

    start: int
    end: int

    def label(self) -> str:
        return f"{_hhmm(self.start)}–{_hhmm(self.end)}"


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    pack: str
    citation: str
    confidence: str
    title: str
    title_zh: str = ""
    optional: bool = False
    channels: frozenset[str] = frozenset(CHANNELS)
    parties: frozenset[str] = frozenset(PARTIES)
    collectors: frozenset[str] = frozenset(COLLECTORS)
    products: frozenset[str] = frozenset(PRODUCTS)
    to_types: frozenset[str] | None = None
    only_time_barred: bool = False
    # The law behind the rule as a debtor in one country is shown it (the portal's "your rights"):
    # by country code, then language (en, zh). A shared pack's `citation` names several countries'
    # laws for staff; `cites` keeps each country's part apart, so a debtor reads only their own.
    cites: Mapping[str, Mapping[str, str]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class HoursRule(Rule):
    """Contacts only inside a daily local window, on allowed days, in every candidate zone."""

    window: Window = Window(480, 1260)
    days: frozenset[int] = frozenset(range(7))
    day_windows: Mapping[int, Window] = field(default_factory=dict)
    holidays: str = "allow"  # allow | forbid | window
    holiday_window: Window | None = None
    calendar: str = ""  # holiday calendar country; the pack's country when empty
    consent_opens: bool = True
    waived_over_dpd: int | None = None
    waived_over_dpd_by_product: Mapping[str, int] = field(default_factory=dict)
    working_days: bool = False

    def window_for(self, weekday: int, holiday: bool, workday: bool = True) -> Window | None:
        """The allowed window of a local day, or None when the day is a rest day.

        `workday` matters only to a rule limited to working days (the country's official calendar,
        with China's adjusted working days)."""
        if self.working_days and not workday:
            return None
        if holiday:
            if self.holidays == "forbid":
                return None
            if self.holidays == "window":
                return self.holiday_window
        if weekday not in self.days:
            return None
        return self.day_windows.get(weekday, self.window)

    def waived(self, product: str, dpd: int) -> bool:
        limit = self.waived_over_dpd_by_product.get(product, self.waived_over_dpd)
        return limit is not None and dpd > limit


@dataclass(frozen=True)
class CapRule(Rule):
    """At most `max` counted events in a window, per scope; the planned contact is blocked at the cap."""

    max: int = 1
    window_kind: str = "local_day"  # local_day | days | iso_week | calendar_month | minutes
    window_n: int = 1
    scope: frozenset[str] = frozenset({"debtor"})  # debtor, debt, address, creditor
    count_channels: frozenset[str] = frozenset(CHANNELS)
    count_results: frozenset[str] = frozenset(RESULTS)
    count_parties: frozenset[str] = frozenset({"debtor"})
    exclude_consented: bool = False
    exempt_with_consent: bool = False
    code: Code = Code.FREQUENCY_CAP
    # Who started a counted event. A conversation counts whoever started it (Reg F 1006.14(b)(2)(i)(B)
    # speaks of "a telephone conversation"), so a cool-down counts both directions by default.
    count_directions: frozenset[str] = frozenset({"outbound"})
    # The law this cap extends (a house cap per person beside Reg F's per debt): it excludes what
    # that law excludes, for every counting term the cap does not state itself (`explicit`).
    extends: str = ""
    explicit: frozenset[str] = frozenset()

    def window_label(self) -> str:
        match self.window_kind:
            case "local_day":
                return "per local day"
            case "days":
                return f"in {self.window_n} consecutive days"
            case "iso_week":
                return "per calendar week"
            case "calendar_month":
                return "per calendar month"
            case _:
                return f"in {self.window_n} minutes"


@dataclass(frozen=True)
class StatusRule(Rule):
    flags: frozenset[str] = frozenset()
    code: Code = Code.ACCOUNT_STATUS


@dataclass(frozen=True)
class PartyRule(Rule):
    """Who may be contacted: per party role `allow`, `forbid`, or conditions and limits."""

    roles: Mapping[str, PartyTerms] = field(default_factory=dict)


@dataclass(frozen=True)
class PartyTerms:
    allowed: bool = True
    requires: frozenset[str] = frozenset()
    max_contacts: int | None = None
    no_disclosure: bool = False


@dataclass(frozen=True)
class ChannelRule(Rule):
    forbid: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ConsentRule(Rule):
    """Electronic messages only to an address with consent (or, where `accepts` says so, recent use)."""

    accepts: frozenset[str] = frozenset({"electronic_consent"})


@dataclass(frozen=True)
class GraceRule(Rule):
    """No contact while the debt is `days` or fewer days past due."""

    days: int = 0


@dataclass(frozen=True)
class ContentRule(Rule):
    """Forbidden categories (lexicons) or required elements in the message text."""

    forbid: frozenset[str] = frozenset()
    require: frozenset[str] = frozenset()
    code: Code = Code.CONTENT_FORBIDDEN


CASE_KINDS = ("dispute", "complaint", "hardship")


@dataclass(frozen=True)
class Deadline:
    """How long a collector has to answer a case the debtor raised (a dispute's verification, a
    complaint's final response), counted in calendar days from the day the case was opened."""

    id: str
    case: str  # dispute, complaint, hardship
    days: int
    pack: str
    citation: str
    confidence: str
    title: str
    title_zh: str | None = None
    cites: Mapping[str, Mapping[str, str]] = field(
        default_factory=dict, hash=False
    )  # as Rule.cites


@dataclass(frozen=True)
class Pack:
    id: str
    version: str
    name: str
    country: str
    jurisdictions: tuple[str, ...]
    collectors: frozenset[str]
    house_collectors: frozenset[str]
    rules: tuple[Rule, ...]
    source: str
    deadlines: tuple[Deadline, ...] = ()

    def covers(self, jurisdiction: str) -> bool:
        return any(
            jurisdiction == j or (j.endswith("-*") and jurisdiction.startswith(j[:-1]))
            for j in self.jurisdictions
        ) or (self.jurisdictions == ("*",))

    def binds(self, collector: str, *, extend_scope: bool) -> bool:
        return collector in self.collectors or (extend_scope and collector in self.house_collectors)


@dataclass(frozen=True)
class HousePolicy:
    rules: tuple[Rule, ...] = ()
    disable: frozenset[str] = frozenset()
    extend_scope: bool = True


@dataclass(frozen=True)
class Guard:
    """The packs and the house policy, ready to decide. Build with `load_guard`."""

    packs: tuple[Pack, ...]
    house: HousePolicy
    _memo: dict[tuple[str, str], tuple[tuple[Pack, ...], tuple[Rule, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)
    moments: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def packs_for(self, jurisdiction: str, collector: str) -> tuple[Pack, ...]:
        return self._selection(jurisdiction, collector)[0]

    def rules_for(self, jurisdiction: str, collector: str) -> tuple[Rule, ...]:
        return self._selection(jurisdiction, collector)[1]

    def _selection(
        self, jurisdiction: str, collector: str
    ) -> tuple[tuple[Pack, ...], tuple[Rule, ...]]:
        key = (jurisdiction, collector)
        if key not in self._memo:
            packs = tuple(
                p
                for p in self.packs
                if p.covers(jurisdiction)
                and p.binds(collector, extend_scope=self.house.extend_scope)
            )
            rules = [r for p in packs for r in p.rules if r.id not in self.house.disable]
            self._memo[key] = (packs, (*rules, *self.house.rules))
        return self._memo[key]

    def deadline(self, jurisdiction: str, collector: str, case: str) -> Deadline | None:
        """The answer deadline for a case of this kind: a jurisdiction's own pack over the packs
        that cover every place (`*`), and the shortest where several of the same reach apply."""
        packs = self.packs_for(jurisdiction, collector)
        for specific in (True, False):
            found = [
                d
                for p in packs
                if (p.jurisdictions != ("*",)) == specific
                for d in p.deadlines
                if d.case == case
            ]
            if found:
                return min(found, key=lambda d: d.days)
        return None

    def versions(self, jurisdiction: str, collector: str) -> list[str]:
        names = [f"{p.id}@{p.version}" for p in self.packs_for(jurisdiction, collector)]
        return [*names, "house"] if self.house.rules else names

    def with_house(self, house: HousePolicy) -> Guard:
        merged = HousePolicy(
            rules=(*self.house.rules, *house.rules),
            disable=self.house.disable | house.disable,
            extend_scope=self.house.extend_scope and house.extend_scope,
        )
        _check_disable(self.packs, merged.disable, "house policy")
        known = {r.id: r for r in (*(r for p in self.packs for r in p.rules), *merged.rules)}
        rules = tuple(resolve_extends(merged.rules, known, "house policy"))
        return Guard(self.packs, replace(merged, rules=rules))

    def rule(self, rule_id: str) -> Rule:
        for r in (*(r for p in self.packs for r in p.rules), *self.house.rules):
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def all_rules(self) -> Iterable[Rule]:
        for p in self.packs:
            yield from p.rules
        yield from self.house.rules


# -- loading -------------------------------------------------------------------------------------


def load_guard(house: Mapping[str, Any] | None = None) -> Guard:
    """The shipped packs with a house policy (a parsed YAML mapping) over them."""
    guard = Guard(shipped_packs(), HousePolicy())
    return guard.with_house(parse_house(house or {}, source="house policy"))


@lru_cache(maxsize=1)
def shipped_packs() -> tuple[Pack, ...]:
    folder = resources.files("recoup.compliance") / "packs"
    packs = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            text = entry.read_text(encoding="utf-8")
            packs.append(parse_pack(yaml.safe_load(text), source=f"packs/{entry.name}"))
    ids = [r.id for p in packs for r in p.rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PackError(f"rule ids used twice across packs: {', '.join(duplicates)}")
    known = {r.id: r for p in packs for r in p.rules}
    return tuple(replace(p, rules=tuple(resolve_extends(p.rules, known, p.source))) for p in packs)


def parse_pack(data: Any, *, source: str) -> Pack:
    where = _Where(source)
    doc = where.mapping(data, "the pack")
    pack_id = where.text(doc, "pack")
    country = where.text(doc, "country", default=pack_id.split("-")[0])
    rules = tuple(
        _with_calendar(parse_rule(item, pack=pack_id, where=where.at(f"rules[{i}]")), country)
        for i, item in enumerate(where.sequence(doc, "rules"))
    )
    return Pack(
        id=pack_id,
        version=where.text(doc, "version"),
        name=where.text(doc, "name"),
        country=country,
        jurisdictions=tuple(where.strings(doc, "jurisdictions")),
        collectors=where.choices(doc, "collectors", COLLECTORS, default=COLLECTORS),
        house_collectors=where.choices(doc, "house_collectors", COLLECTORS, default=()),
        rules=rules,
        source=source,
        deadlines=tuple(
            _deadline(item, pack=pack_id, where=where.at(f"deadlines[{i}]"))
            for i, item in enumerate(where.sequence(doc, "deadlines", default=[]))
        ),
    )


def _deadline(data: Any, *, pack: str, where: _Where) -> Deadline:
    doc = where.mapping(data, "a deadline")
    deadline_id = where.text(doc, "id")
    where = where.named(deadline_id)
    case = where.text(doc, "case")
    if case not in CASE_KINDS:
        raise PackError(f"{where}: case must be one of {', '.join(CASE_KINDS)}")
    days = doc.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise PackError(f"{where}: days must be a whole number from 1 to 366")
    confidence = where.text(doc, "confidence")
    if confidence not in CONFIDENCE:
        raise PackError(f"{where}: confidence must be one of {', '.join(CONFIDENCE)}")
    title_zh = doc.get("title_zh")
    return Deadline(
        id=deadline_id,
        case=case,
        days=days,
        pack=pack,
        citation=where.text(doc, "citation"),
        confidence=confidence,
        title=where.text(doc, "title"),
        title_zh=str(title_zh) if title_zh else None,
        cites=where.cites(doc),
    )


def _with_calendar(rule: Rule, country: str) -> Rule:
    if isinstance(rule, HoursRule) and not rule.calendar:
        return replace(rule, calendar=country)
    return rule


def parse_house(data: Mapping[str, Any], *, source: str) -> HousePolicy:
    where = _Where(source)
    doc = where.mapping(data, "the house policy")
    unknown = set(doc) - {"rules", "disable", "extend_scope"}
    if unknown:
        raise PackError(
            f"{source}: unknown key(s) {', '.join(sorted(unknown))}; "
            "a house policy has rules, disable and extend_scope"
        )
    rules = tuple(
        parse_rule(item, pack="house", where=where.at(f"rules[{i}]"), house=True)
        for i, item in enumerate(where.sequence(doc, "rules", default=[]))
    )
    return HousePolicy(
        rules=rules,
        disable=frozenset(where.strings(doc, "disable", default=[])),
        extend_scope=bool(doc.get("extend_scope", True)),
    )


def _check_disable(packs: Sequence[Pack], disable: frozenset[str], source: str) -> None:
    known = {r.id: r for p in packs for r in p.rules}
    for rule_id in sorted(disable):
        rule = known.get(rule_id)
        if rule is None:
            raise PackError(f"{source}: disable names {rule_id!r}, which is not a rule")
        if not rule.optional:
            raise PackError(
                f"{source}: {rule_id!r} is law ({rule.citation}), not a house policy; "
                "a house policy can only make rules stricter"
            )


def parse_rule(data: Any, *, pack: str, where: _Where, house: bool = False) -> Rule:
    doc = where.mapping(data, "a rule")
    rule_id = where.text(doc, "id")
    where = where.named(rule_id)
    kind = where.text(doc, "kind")
    builder = _KINDS.get(kind)
    if builder is None:
        raise PackError(f"{where}: kind {kind!r} is not one of {', '.join(sorted(_KINDS))}")
    confidence = "house" if house else where.text(doc, "confidence")
    if confidence not in CONFIDENCE:
        raise PackError(f"{where}: confidence must be one of {', '.join(CONFIDENCE)}")
    common: dict[str, Any] = {
        "id": rule_id,
        "kind": kind,
        "pack": pack,
        "citation": where.text(doc, "citation", default="house policy" if house else None),
        "confidence": confidence,
        "title": where.text(doc, "title"),
        "title_zh": str(doc.get("title_zh", "")),
        "optional": bool(doc.get("optional", False)),
        "channels": where.choices(doc, "channels", CHANNELS, default=CHANNELS),
        "parties": where.choices(doc, "parties", PARTIES, default=PARTIES),
        "collectors": where.choices(doc, "collectors", COLLECTORS, default=COLLECTORS),
        "products": where.choices(doc, "products", PRODUCTS, default=PRODUCTS),
        "to_types": (
            where.choices(doc, "to_types", TO_TYPES, default=()) if "to_types" in doc else None
        ),
        "only_time_barred": bool(doc.get("only_time_barred", False)),
        "cites": where.cites(doc),
    }
    known = set(common) | set(_KIND_KEYS[kind]) | {"confidence"}
    unknown = set(doc) - known
    if unknown:
        raise PackError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} for a {kind} rule; "
            f"it takes {', '.join(sorted(_KIND_KEYS[kind]))}"
        )
    rule: Rule = builder(doc, where, common)
    return rule


def _hours(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
    holidays = doc.get("holidays", "allow")
    holiday_window = None
    if isinstance(holidays, Mapping):
        holiday_window = where.window(holidays, "holidays")
        holidays = "window"
    elif holidays not in ("allow", "forbid"):
        raise PackError(f"{where}: holidays must be allow, forbid or a window {{from, to}}")
    day_windows = {
        _weekday(where, name): where.window(window, f"day_windows.{name}")
        for name, window in where.mapping(doc.get("day_windows", {}), "day_windows").items()
    }
    waived = where.mapping(doc.get("waived_over_dpd", {}), "waived_over_dpd")
    by_product = {k: int(v) for k, v in waived.items() if k != "default"}
    for product in by_product:
        if product not in PRODUCTS:
            raise PackError(f"{where}: waived_over_dpd names unknown product {product!r}")
    return HoursRule(
        **common,
        window=where.window(doc.get("window"), "window"),
        days=frozenset(_weekday(where, d) for d in where.strings(doc, "days", default=WEEKDAYS)),
        day_windows=day_windows,
        holidays=holidays,
        holiday_window=holiday_window,
        calendar=str(doc.get("calendar", "")),
        consent_opens=bool(doc.get("consent_opens", True)),
        waived_over_dpd=int(waived["default"]) if "default" in waived else None,
        waived_over_dpd_by_product=by_product,
        working_days=bool(doc.get("working_days", False)),
    )


def _cap(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
    window = where.mapping(doc.get("window"), "window")
    kind = where.text(window, "kind")
    if kind not in ("local_day", "days", "iso_week", "calendar_month", "minutes"):
        raise PackError(
            f"{where}: window.kind must be local_day, days, iso_week, calendar_month or minutes"
        )
    n = int(window.get("n", 1))
    if n < 1:
        raise PackError(f"{where}: window.n must be 1 or more")
    counts = where.mapping(doc.get("counts", {}), "counts")
    maximum = doc.get("max")
    if not isinstance(maximum, int) or maximum < 1:
        raise PackError(f"{where}: max must be a whole number of 1 or more")
    code = Code(doc.get("code", Code.FREQUENCY_CAP))
    if code not in (Code.FREQUENCY_CAP, Code.CONVERSATION_COOLDOWN):
        raise PackError(f"{where}: a cap's code is FREQUENCY_CAP or CONVERSATION_COOLDOWN")
    scope = where.choices(doc, "scope", ("debtor", "debt", "address", "creditor"))
    both = ("outbound", "inbound")
    directions = where.choices(
        counts,
        "directions",
        both,
        default=both if code == Code.CONVERSATION_COOLDOWN else ("outbound",),
    )
    stated = {k: f for k, f in INHERITED_COUNTS.items() if k in counts}
    explicit = set(stated.values()) | ({"exempt_with_consent"} & set(doc))
    return CapRule(
        **common,
        max=maximum,
        window_kind=kind,
        window_n=n,
        scope=scope,
        count_channels=where.choices(counts, "channels", CHANNELS, default=CHANNELS),
        count_results=where.choices(counts, "results", RESULTS, default=RESULTS),
        count_parties=where.choices(counts, "parties", PARTIES, default=("debtor",)),
        exclude_consented=bool(counts.get("exclude_consented", False)),
        exempt_with_consent=bool(doc.get("exempt_with_consent", False)),
        code=code,
        count_directions=directions,
        extends=str(doc.get("extends", "")),
        explicit=frozenset(explicit),
    )


# The counting terms a cap that `extends` a law takes from it unless it states them: the law's
# exclusions (calls not connected, calls under prior consent, who is counted, who started it).
INHERITED_COUNTS = {
    "results": "count_results",
    "parties": "count_parties",
    "directions": "count_directions",
    "exclude_consented": "exclude_consented",
}
INHERITED = (*INHERITED_COUNTS.values(), "exempt_with_consent")


def resolve_extends(rules: Sequence[Rule], known: Mapping[str, Rule], source: str) -> list[Rule]:
    """Caps that extend a law with the law's exclusions filled in where they state none."""
    out: list[Rule] = []
    for rule in rules:
        if isinstance(rule, CapRule) and rule.extends:
            base = known.get(rule.extends)
            if not isinstance(base, CapRule):
                raise PackError(
                    f"{source}: {rule.id} extends {rule.extends!r}, which is not a cap rule"
                )
            inherited = {f: getattr(base, f) for f in INHERITED if f not in rule.explicit}
            rule = replace(rule, **inherited)
        out.append(rule)
    return out


def _status(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
    code = Code(doc.get("code", Code.ACCOUNT_STATUS))
    return StatusRule(**common, flags=where.choices(doc, "flags", FLAGS), code=code)


def _party(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
    roles: dict[str, PartyTerms] = {}
    for role, terms in where.mapping(doc.get("roles"), "roles").items():
        if role not in PARTIES:
            raise PackError(f"{where}: roles names unknown party {role!r}")
        if terms in ("allow", "forbid"):
            roles[role] = PartyTerms(allowed=terms == "allow")
            continue
        t = where.mapping(terms, f"roles.{role}")
        roles[role] = PartyTerms(
            requires=where.choices(t, "requires", CONDITIONS, default=()),
            max_contacts=int(t["max_contacts"]) if "max_contacts" in t else None,
            no_disclosure=bool(t.get("no_disclosure", False)),
        )
    return PartyRule(**common, roles=roles)


def _channel(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
    return ChannelRule(**common, forbid=where.choices(doc, "forbid", CHANNELS))


def _consent(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
    accepts = where.choices(doc, "accepts", ("electronic_consent", "recent_inbound"))
    return ConsentRule(**common, accepts=accepts)


def _grace(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
    return GraceRule(**common, days=int(doc.get("days", 0)))


def _content(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
    forbid = where.choices(doc, "forbid", CATEGORIES, default=())
    require = where.choices(doc, "require", ELEMENTS, default=())
    if bool(forbid) == bool(require):
        raise PackError(f"{where}: a content rule has either forbid or require")
    default = Code.CONTENT_FORBIDDEN if forbid else Code.CONTENT_MISSING
    code = Code(doc.get("code", default))
    return ContentRule(**common, forbid=forbid, require=require, code=code)


def _simple(cls: type[Rule]) -> Any:
    def build(doc: Mapping[str, Any], where: _Where, common: dict[str, Any]) -> Rule:
        return cls(**common)

    return build


_KINDS = {
    "hours": _hours,
    "cap": _cap,
    "status": _status,
    "party": _party,
    "channel": _channel,
    "consent": _consent,
    "grace": _grace,
    "content": _content,
    "opt_out": _simple(Rule),
    "wrong_party": _simple(Rule),
    "inconvenient": _simple(Rule),
    "handover": _simple(Rule),
}
_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "hours": (
        "window",
        "days",
        "day_windows",
        "holidays",
        "calendar",
        "consent_opens",
        "waived_over_dpd",
        "working_days",
    ),
    "cap": ("window", "counts", "max", "scope", "code", "exempt_with_consent", "extends"),
    "status": ("flags", "code"),
    "party": ("roles",),
    "channel": ("forbid",),
    "consent": ("accepts",),
    "grace": ("days",),
    "content": ("forbid", "require", "code"),
    "opt_out": (),
    "wrong_party": (),
    "inconvenient": (),
    "handover": (),
}


class _Where:
    """Error context: the file and the path inside it."""

    def __init__(self, source: str, path: str = "") -> None:
        self.source = source
        self.path = path

    def __str__(self) -> str:
        return f"{self.source}: {self.path}" if self.path else self.source

    def at(self, path: str) -> _Where:
        return _Where(self.source, path)

    def named(self, rule_id: str) -> _Where:
        return _Where(self.source, f"{self.path} ({rule_id})")

    def mapping(self, value: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise PackError(f"{self}: {what} must be a mapping")
        return value

    def sequence(self, doc: Mapping[str, Any], key: str, default: Any = None) -> list[Any]:
        value = doc.get(key, default)
        if not isinstance(value, list):
            raise PackError(f"{self}: {key} must be a list")
        return value

    def text(self, doc: Mapping[str, Any], key: str, default: str | None = None) -> str:
        value = doc.get(key, default)
        if not isinstance(value, str | int | float) or value == "":
            raise PackError(f"{self}: {key} is required")
        return str(value)

    def strings(self, doc: Mapping[str, Any], key: str, default: Any = None) -> list[str]:
        value = doc.get(key, default)
        if value is None:
            raise PackError(f"{self}: {key} is required")
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value]

    def cites(self, doc: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        """`cites`: by country code (CN, US...), a citation the same in every language or one
        per language ({en: ..., zh: ...}, en required)."""
        out: dict[str, dict[str, str]] = {}
        for country, value in self.mapping(doc.get("cites", {}), "cites").items():
            if not isinstance(country, str) or not _COUNTRY.match(country):
                raise PackError(
                    f"{self}: cites is keyed by country code (CN, US...), not {country!r}"
                )
            words = {"en": value, "zh": value} if isinstance(value, str) else value
            if (
                not isinstance(words, Mapping)
                or set(words) - {"en", "zh"}
                or not all(isinstance(v, str) and v for v in words.values())
                or "en" not in words
            ):
                raise PackError(
                    f"{self}: cites.{country} is a citation, or one per language {{en, zh}}"
                )
            out[country] = {"en": words["en"], "zh": words.get("zh", words["en"])}
        return out

    def choices(
        self, doc: Mapping[str, Any], key: str, allowed: Sequence[str], default: Any = None
    ) -> frozenset[str]:
        values = self.strings(doc, key, default=list(default) if default is not None else None)
        if values == ["all"]:
            return frozenset(allowed)
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise PackError(
                f"{self}: {key} has {', '.join(map(repr, unknown))}; "
                f"expected any of {', '.join(allowed)}"
            )
        return frozenset(values)

    def window(self, value: Any, key: str) -> Window:
        doc = self.mapping(value, key)
        start, end = (
            parse_time(doc.get("from"), f"{self}: {key}.from"),
            parse_time(doc.get("to"), f"{self}: {key}.to"),
        )
        if end <= start:
            raise PackError(f"{self}: {key} must end after it starts")
        return Window(start, end)


def parse_time(value: Any, where: str) -> int:
    """'HH:MM' to minutes after midnight; '24:00' is the end of the day."""
    if isinstance(value, dt.time):
        return value.hour * 60 + value.minute
    match = _TIME.match(str(value)) if value is not None else None
    if match is None or (match.group(1) == "24" and match.group(2) != "00"):
        raise PackError(f"{where} must be a local time HH:MM, got {value!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def _weekday(where: _Where, name: str) -> int:
    if name not in WEEKDAYS:
        raise PackError(f"{where}: {name!r} is not a weekday ({', '.join(WEEKDAYS)})")
    return WEEKDAYS.index(name)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"

"""The debtor's rights in their jurisdiction, in the rule packs' own words: the article's
`[[rights]]` block is rendered from the guard at read time, so the learning centre can never say
something the guard does not enforce (a pack edited, a house rule disabled: the article follows).

A pure engine: a `Guard`, a jurisdiction and the collector roles of the debtor's accounts in,
sections of (text, citation) out. The packs carry English titles and Simplified Chinese ones
(`title_zh`); a Traditional Chinese reader is shown the Simplified text the pack holds, marked as
such, rather than a translation no one reviewed.

Only the law of the debtor's own country is cited. A pack shared by every place (`BASE`, `HOUSE`)
names several countries' laws in its staff-facing `citation`; the debtor is shown the rule's
`cites` entry for their country, and where it has none (or the rule is a house policy) the rule is
ours, not their law's, and says so (`citation` is None) rather than citing a foreign regulation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from recoup.compliance import Guard
from recoup.compliance.packs import ConsentRule, Deadline, HoursRule, Rule, StatusRule

# The sections, in the order the article shows them, and the rules each one gathers.
# The packs hold no data-access rule: the article says that in its own (approved) words and
# points to "my data", which is the access itself.
SECTIONS = ("hours", "stop", "disputes", "complaints")
STOP_FLAGS = frozenset({"cease_requested"})
DISPUTE_FLAGS = frozenset({"dispute_open"})


@dataclass(frozen=True)
class Right:
    text: str
    citation: str | None  # the debtor's own law; None for a rule that is ours, not the law's
    source: str  # the rule's or deadline's id in its pack


@dataclass(frozen=True)
class Section:
    key: str
    rights: tuple[Right, ...]


def _words(title: str, title_zh: str | None, language: str) -> str:
    return title if language == "en" or not title_zh else title_zh


def _citation(item: Rule | Deadline, country: str, language: str, shared: bool) -> str | None:
    cited = item.cites.get(country)
    if cited is not None:
        return cited["en" if language == "en" else "zh"]
    if shared or item.confidence == "house":
        return None
    return item.citation


def sections(
    guard: Guard, jurisdiction: str, language: str, collectors: Iterable[str] = ("creditor",)
) -> tuple[Section, ...]:
    """What the packs binding the debtor's collectors (the roles of their accounts) in
    `jurisdiction` promise them, by section. A section no pack speaks to is left out rather than
    filled with words of our own."""
    country = jurisdiction.split("-")[0].upper()
    shared = {p.id for p in guard.packs if p.jurisdictions == ("*",)}

    def right(item: Rule | Deadline) -> Right:
        text = _words(item.title, item.title_zh, language)
        if isinstance(item, HoursRule):
            text = f"{text} ({item.window.label()})"
        in_shared = item.pack in shared or item.pack == "house"
        return Right(text, _citation(item, country, language, in_shared), item.id)

    found: dict[str, list[Right]] = {key: [] for key in SECTIONS}
    seen: set[str] = set()
    roles = tuple(dict.fromkeys(collectors)) or ("creditor",)
    for collector in roles:
        for rule in guard.rules_for(jurisdiction, collector):
            if rule.id in seen or collector not in rule.collectors:
                continue
            seen.add(rule.id)
            if isinstance(rule, HoursRule):
                found["hours"].append(right(rule))
            elif (
                rule.kind == "opt_out"
                or (isinstance(rule, StatusRule) and rule.flags & STOP_FLAGS)
                or isinstance(rule, ConsentRule)
            ):
                found["stop"].append(right(rule))
            elif isinstance(rule, StatusRule) and rule.flags & DISPUTE_FLAGS:
                found["disputes"].append(right(rule))
        for case, key in (("dispute", "disputes"), ("complaint", "complaints")):
            deadline = guard.deadline(jurisdiction, collector, case)
            if deadline is not None and deadline.id not in seen:
                seen.add(deadline.id)
                found[key].append(right(deadline))
    return tuple(Section(key, tuple(found[key])) for key in SECTIONS if found[key])

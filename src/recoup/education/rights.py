"""The debtor's rights in their jurisdiction, in the rule packs' own words: the article's
`[[rights]]` block is rendered from the guard at read time, so the learning centre can never say
something the guard does not enforce (a pack edited, a house rule disabled: the article follows).

A pure engine: a `Guard` and a jurisdiction in, sections of (text, citation) out. The packs carry
English titles and Simplified Chinese ones (`title_zh`); a Traditional Chinese reader is shown the
Simplified text the pack holds, marked as such, rather than a translation no one reviewed.
"""

from __future__ import annotations

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
    citation: str
    source: str  # the rule's or deadline's id in its pack


@dataclass(frozen=True)
class Section:
    key: str
    rights: tuple[Right, ...]


def _words(title: str, title_zh: str | None, language: str) -> str:
    return title if language == "en" or not title_zh else title_zh


def _of_rule(rule: Rule, language: str) -> Right:
    text = _words(rule.title, rule.title_zh, language)
    if isinstance(rule, HoursRule):
        text = f"{text} ({rule.window.label()})"
    return Right(text, rule.citation, rule.id)


def _of_deadline(deadline: Deadline, language: str) -> Right:
    return Right(
        _words(deadline.title, deadline.title_zh, language), deadline.citation, deadline.id
    )


def sections(guard: Guard, jurisdiction: str, language: str) -> tuple[Section, ...]:
    """What the packs binding a creditor in `jurisdiction` promise the debtor, by section. A
    section no pack speaks to is left out rather than filled with words of our own."""
    rules = guard.rules_for(jurisdiction, "creditor")
    found: dict[str, list[Right]] = {key: [] for key in SECTIONS}
    for rule in rules:
        if isinstance(rule, HoursRule):
            found["hours"].append(_of_rule(rule, language))
        elif (
            rule.kind == "opt_out"
            or (isinstance(rule, StatusRule) and rule.flags & STOP_FLAGS)
            or isinstance(rule, ConsentRule)
        ):
            found["stop"].append(_of_rule(rule, language))
        elif isinstance(rule, StatusRule) and rule.flags & DISPUTE_FLAGS:
            found["disputes"].append(_of_rule(rule, language))
    for case, key in (("dispute", "disputes"), ("complaint", "complaints")):
        deadline = guard.deadline(jurisdiction, "creditor", case)
        if deadline is not None:
            found[key].append(_of_deadline(deadline, language))
    return tuple(Section(key, tuple(found[key])) for key in SECTIONS if found[key])

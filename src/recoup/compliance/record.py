"""What the guard's verdict on one contact keeps, and how it is told again, rule by rule.

A verdict is kept compact: the moment checked (`at`, UTC), the debtor's candidate zones, the rule
packs and their versions (`Guard.versions`), the facts that chose which rules apply (`SELECTING`:
jurisdiction, collector, channel, party, product, address type), the reasons (`rule:CODE`, or the
send-time check's full reasons) and the next allowed moment. The rules that passed are not kept:
they are the rules those facts select from those pack versions, which `rule_verdicts` selects
again (exactly, while the same versions are loaded; otherwise only the kept reasons are known,
and it says so). The daily run keeps this per planned contact (`strategy_decisions.compliance`),
the dispatcher per check at send time (the contact event's `guard`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from recoup.compliance.codes import TEMPORAL
from recoup.compliance.facts import Decision, Facts
from recoup.compliance.guard import applies
from recoup.compliance.localtime import zone as zone_info
from recoup.compliance.packs import Guard

# The facts that select the rules (`guard._selecting` but the time-barred flag, which neither the
# daily run nor the dispatcher sets).
SELECTING = ("jurisdiction", "collector", "channel", "party", "product", "to_type")
NO_MOMENT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def keep(decision: Decision, facts: Facts) -> dict[str, Any]:
    """A verdict as kept: the same shape the daily run writes from its frame (`strategy`'s
    `decision_rows`), the reasons in full (their rule, citation and counters)."""
    out = decision.to_json()
    out["facts"] = {  # SELECTING, spelled out: a dispatcher keeps one a message
        "jurisdiction": facts.jurisdiction,
        "collector": facts.collector,
        "channel": facts.channel,
        "party": facts.party,
        "product": facts.product,
        "to_type": facts.to_type,
    }
    return out


@dataclass(frozen=True)
class RuleVerdict:
    """One rule's answer: `allowed`, `deferred` (waiting cures it) or `refused`."""

    rule: str
    pack: str
    title: str
    title_zh: str
    citation: str
    verdict: str
    code: str | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class Told:
    """A kept verdict told again: the decision, the moment in UTC and in each candidate zone,
    the packs, each rule's verdict, and whether the rules that passed are known (`complete`:
    False when the packs kept are not the versions loaded now)."""

    decision: str  # allow, defer, block
    at: dt.datetime | None
    local: list[tuple[str, dt.datetime | None]]
    packs: list[str]
    rules: list[RuleVerdict]
    complete: bool
    next_allowed_at: dt.datetime | None


def _instant(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _reasons(kept: Any) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(rule, code, detail) of each kept reason: `rule:CODE` strings or the full reasons."""
    out: list[tuple[str, str, dict[str, Any] | None]] = []
    for r in kept or []:
        if isinstance(r, str):
            rule, _, code = r.rpartition(":")
            out.append((rule or r, code, None))
        elif isinstance(r, dict):
            detail = r.get("detail")
            out.append((str(r.get("rule", "")), str(r.get("code", "")), detail if detail else None))
    return out


def _verdict(code: str) -> str:
    return "deferred" if code in {c.value for c in TEMPORAL} else "refused"


def rule_verdicts(guard: Guard, kept: dict[str, Any]) -> Told:
    """A kept verdict (`keep`, or the daily run's) told rule by rule: the rules the kept facts
    select from the packs loaded now, when they are the versions kept, each `allowed` unless a
    kept reason names it; a kept reason's rule the packs do not select still listed."""
    at = _instant(kept.get("at"))
    zones = [str(z) for z in kept.get("zones") or []]
    local: list[tuple[str, dt.datetime | None]] = []
    for z in zones:
        try:
            local.append((z, at.astimezone(zone_info(z)) if at else None))
        except (KeyError, ValueError):
            continue
    packs = [str(p) for p in kept.get("packs") or []]
    facts = kept.get("facts") or {}
    reasons = _reasons(kept.get("reasons"))
    failing: dict[str, list[tuple[str | None, dict[str, Any] | None]]] = {}
    for rule, code, detail in reasons:
        failing.setdefault(rule, []).append((code, detail))
    selected = []
    complete = False
    if facts.get("jurisdiction") and facts.get("collector"):
        j, collector = str(facts["jurisdiction"]), str(facts["collector"])
        if guard.versions(j, collector) == packs:
            probe = Facts(
                at=at or NO_MOMENT,  # the rules' selection reads no time
                channel=str(facts.get("channel", "")),
                jurisdiction=j,
                zones=tuple(zones),
                party=str(facts.get("party", "debtor")),
                collector=collector,
                product=str(facts.get("product", "bnpl")),
                to_type=str(facts.get("to_type", "mobile")),
            )
            selected = [r.id for r in guard.rules_for(j, collector) if applies(r, probe)]
            complete = True
    order = selected + [r for r in failing if r not in selected]
    rules = []
    for rule_id in order:
        try:
            found = guard.rule(rule_id)
            pack, title, title_zh, citation = (
                found.pack,
                found.title,
                found.title_zh or found.title,
                found.citation,
            )
        except KeyError:
            pack, title, title_zh, citation = "", rule_id, rule_id, ""
        for answer, detail in failing.get(rule_id) or [(None, None)]:
            rules.append(
                RuleVerdict(
                    rule=rule_id,
                    pack=pack,
                    title=title,
                    title_zh=title_zh,
                    citation=citation,
                    verdict="allowed" if answer is None else _verdict(answer),
                    code=answer,
                    detail=detail,
                )
            )
    next_at = _instant(kept.get("next_allowed_at"))
    decision = kept.get("decision")
    if decision not in ("allow", "defer", "block"):
        decision = "allow" if not reasons else "defer" if next_at is not None else "block"
    elif (
        decision == "block"
        and next_at is not None
        and all(c in {x.value for x in TEMPORAL} for _, c, _ in reasons)
    ):
        decision = "defer"  # the send-time check's `block` with a moment: deferred to it
    return Told(decision, at, local, packs, rules, complete, next_at)


def as_json(told: Told) -> dict[str, Any]:
    """A told verdict as JSON (`recoup contact explain`, `GET /v1/contacts/{id}/explanation`)."""
    return {
        "decision": told.decision,
        "at": told.at.isoformat() if told.at else None,
        "local": [{"zone": z, "at": t.isoformat() if t else None} for z, t in told.local],
        "packs": told.packs,
        "complete": told.complete,
        "next_allowed_at": told.next_allowed_at.isoformat() if told.next_allowed_at else None,
        "rules": [
            {
                "rule": r.rule,
                "pack": r.pack,
                "title": r.title,
                "title_zh": r.title_zh,
                "citation": r.citation,
                "verdict": r.verdict,
                "code": r.code,
                "detail": r.detail,
            }
            for r in told.rules
        ],
    }

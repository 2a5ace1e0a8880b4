"""A kept verdict told rule by rule (`compliance.record`): the rules that passed are selected again
from the packs loaded, exactly while their versions are the ones kept, and never guessed when not."""

from __future__ import annotations

import datetime as dt

from recoup.compliance import Facts, decide, load_guard
from recoup.compliance.guard import _applicable
from recoup.compliance.record import SELECTING, keep, rule_verdicts

GUARD = load_guard()
# 22:30 in Shanghai: outside every hours rule of the China pack.
LATE = dt.datetime(2026, 6, 2, 14, 30, tzinfo=dt.UTC)


def facts(at: dt.datetime) -> Facts:
    return Facts(at=at, channel="sms", jurisdiction="CN", zones=("Asia/Shanghai",))


class TestRuleVerdicts:
    def test_every_applicable_rule_is_told_with_the_refusals_where_they_fell(self) -> None:
        """Removal caught: `rule_verdicts` listing only the kept reasons (the rules that passed
        are what the compliance officer could not read)."""
        f = facts(LATE)
        told = rule_verdicts(GUARD, keep(decide(GUARD, f), f))
        assert told.complete
        assert told.decision == "defer"
        assert [r.rule for r in told.rules if r.verdict == "allowed"]
        assert {r.rule for r in told.rules} == {r.id for r in _applicable(GUARD, f)}
        hours = [r for r in told.rules if r.rule == "cn.hours.legal"]
        assert [(r.verdict, r.code) for r in hours] == [("deferred", "OUTSIDE_HOURS")]
        [(zone, local)] = told.local
        assert (zone, local.hour, local.minute) == ("Asia/Shanghai", 22, 30)  # type: ignore[union-attr]

    def test_packs_of_another_version_list_only_the_kept_reasons(self) -> None:
        """Removal caught: the version check in `rule_verdicts`: rules selected from packs other
        than those that decided would be told as having passed."""
        f = facts(LATE)
        kept = keep(decide(GUARD, f), f)
        kept["packs"] = [p.replace("CN@", "CN@1999.") for p in kept["packs"]]
        told = rule_verdicts(GUARD, kept)
        assert not told.complete
        assert told.rules
        assert all(r.verdict != "allowed" for r in told.rules)


class TestKeep:
    def test_the_kept_facts_are_the_selecting_facts_in_order(self) -> None:
        """`keep` spells the selecting facts out (a dispatcher keeps one verdict a message): they
        are `SELECTING`, in its order, with the facts' values. Removal caught: a fact left out of
        the spelled-out dict, or `SELECTING` grown without it."""
        f = Facts(
            at=LATE,
            channel="email",
            jurisdiction="US-MA",
            zones=("America/New_York",),
            party="spouse",
            collector="third_party",
            product="credit_line",
            to_type="personal_email",
        )
        kept = keep(decide(GUARD, f), f)
        assert list(kept["facts"].items()) == [(name, getattr(f, name)) for name in SELECTING]

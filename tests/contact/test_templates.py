"""Message templates: rendering for the locale, the sandbox, SMS length, and the guard on save."""

from __future__ import annotations

import pytest

from recoup.compliance import load_guard
from recoup.contact.sms import sms_length
from recoup.contact.templates import (
    LANGUAGES,
    MessageTemplate,
    TemplateProblem,
    check,
    names_the_debtor,
    render,
    sample,
    shipped,
)

pytestmark = pytest.mark.pure
GUARD = load_guard()


def sms(body: str, language: str = "en") -> MessageTemplate:
    return MessageTemplate("t", "sms", language, "neutral", body)


class TestShipped:
    def test_every_shipped_template_renders_and_passes_the_guard_where_it_may_be_used(self) -> None:
        templates = shipped()
        assert {t.language for t in templates} == set(LANGUAGES)
        for t in templates:
            rendered = render(t, sample(t.language))
            assert rendered.body
            assert check(t, GUARD, ["CN", "US", "US-NY-NYC", "GB"]) == [], t.key

    def test_money_and_dates_read_as_the_debtor_reads_them(self) -> None:
        t = sms("{{ amount_minor|money(currency) }} on {{ due_date|date }}")
        assert render(t, {**sample("en"), "currency": "USD"}).body == "$1,234.56 on Jun 15, 2026"
        zh = MessageTemplate("t", "sms", "zh-CN", "neutral", t.body)
        assert render(zh, sample("zh-CN")).body == "¥1,234.56 on 2026年6月15日"
        tw = MessageTemplate("t", "sms", "zh-TW", "neutral", t.body)
        assert render(tw, sample("zh-TW")).body.startswith(
            "$1,234.56"
        )  # NT dollars, as Taiwan writes them


class TestSandbox:
    @pytest.mark.parametrize(
        "body",
        [
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ first_name.__class__ }}",
            "{{ cycler.__init__.__globals__ }}",
            "{% for x in range(10**9) %}{% endfor %}{{ first_name.upper.__self__ }}",
        ],
    )
    def test_escapes_are_refused(self, body: str) -> None:
        with pytest.raises(TemplateProblem):
            render(sms(body), sample("en"))

    def test_unknown_variables_are_errors_not_blanks(self) -> None:
        with pytest.raises(TemplateProblem, match="bogus"):
            render(sms("Hi {{ bogus }}"), sample("en"))
        with pytest.raises(TemplateProblem, match="unknown variable"):
            render(sms("Hi"), {**sample("en"), "password": "x"})


class TestGuardOnSave:
    def test_a_threat_and_a_missing_opt_out_are_named(self) -> None:
        t = sms(
            "{{ creditor_name }}: pay {{ overdue_minor|money(currency) }} or the police will come."
        )
        rules = {r.rule for r in check(t, GUARD, ["US"])}
        assert rules == {"base.abusive_content", "us.opt_out_instruction"}
        assert {r.rule for r in check(t, GUARD, ["CN"])} == {"base.abusive_content"}


class TestSmsLength:
    @pytest.mark.parametrize(
        ("text", "encoding", "units", "segments"),
        [
            ("a" * 160, "GSM-7", 160, 1),
            ("a" * 161, "GSM-7", 161, 2),
            ("a" * 306, "GSM-7", 306, 2),
            ("a" * 307, "GSM-7", 307, 3),
            ("€" * 80, "GSM-7", 160, 1),  # the euro sign takes two septets
            ("还" * 70, "UCS-2", 70, 1),
            ("还" * 71, "UCS-2", 71, 2),
            ("a" * 69 + "😀", "UCS-2", 71, 2),  # an emoji is two UTF-16 units
            ("", "GSM-7", 0, 0),
        ],
    )
    def test_segments(self, text: str, encoding: str, units: int, segments: int) -> None:
        length = sms_length(text)
        assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


def shipped_policy(file_name: str) -> dict:
    """A shipped policy file as plain YAML (not through the policy loader)."""
    from pathlib import Path

    import yaml

    policies = Path(__file__).resolve().parents[2] / "src" / "recoup" / "strategy" / "policies"
    return yaml.safe_load((policies / file_name).read_text(encoding="utf-8"))


def templates_named(policy: dict) -> set[tuple[str, str, str]]:
    """(template, channel, tone) of every treatment, as written and under every experiment arm's
    overrides (the kernel applies an arm's overrides to every treatment of the stages it covers)."""
    out: set[tuple[str, str, str]] = set()
    for stage in policy.get("stages") or []:
        arms = [
            arm.get("overrides") or {}
            for experiment in policy.get("experiments") or []
            if stage["name"] in (experiment.get("stages") or [])
            for arm in experiment.get("arms") or []
        ]
        for treatment in stage.get("treatments") or []:
            for overrides in [{}, *arms]:
                picked = {**treatment, **overrides}
                out.add((picked["template"], picked["channel"], picked["tone"]))
    return out


class TestShippedPoliciesHaveTheirTemplates:
    """Every template a shipped policy can pick exists in every language; calls are not message
    templates. Letters are: the US policy's `late_letter` names `late_notice` (issue 22)."""

    @pytest.mark.parametrize("file_name", ["cn-wallet.yaml", "us-wallet.yaml"])
    def test_every_template_a_shipped_policy_names_is_shipped_in_every_language(
        self, file_name: str
    ) -> None:
        named = {n for n in templates_named(shipped_policy(file_name)) if n[1] != "call"}
        assert named  # the file was read and has message treatments
        have = {t.key for t in shipped()}
        missing = sorted(
            (name, channel, language, tone)
            for name, channel, tone in named
            for language in LANGUAGES
            if (name, channel, language, tone) not in have
        )
        assert missing == [], missing

    def test_arm_overrides_are_followed(self) -> None:
        us = templates_named(shipped_policy("us-wallet.yaml"))
        assert {
            ("early_reminder_plain", c, t) for c, t in [("email", "gentle"), ("sms", "neutral")]
        } <= us
        cn = templates_named(shipped_policy("cn-wallet.yaml"))
        assert ("early_reminder", "sms", "firm") in cn  # the firm-tone arm


def test_a_template_that_greets_the_debtor_by_name_is_personal() -> None:
    personal = {(t.name, t.channel, t.tone) for t in shipped() if names_the_debtor(t.body)}
    assert ("early_reminder", "sms", "gentle") in personal
    assert ("early_reminder", "push", "gentle") not in personal
    assert names_the_debtor("{% if first_name %}{{ first_name }}{% endif %}")
    assert not names_the_debtor("{{ creditor_name }}: {{ overdue_minor|money(currency) }}")

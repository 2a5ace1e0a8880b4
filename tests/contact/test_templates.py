"""Message templates: rendering for the locale, the sandbox, SMS length, and the guard on save."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from recoup.compliance import load_guard
from recoup.contact import templates
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


ROOT = Path(__file__).resolve().parents[2]
SHIPPED_POLICIES = ROOT / "src" / "recoup" / "strategy" / "policies"
# Every policy file of the project: the shipped ones and the worlds' learners and oracles.
POLICY_FILES = sorted(SHIPPED_POLICIES.glob("*.yaml")) + sorted(
    (ROOT / "worlds" / "policies").glob("*.yaml")
)


def shipped_policy(file_name: str) -> dict:
    """A shipped policy file as plain YAML (not through the policy loader)."""
    return yaml.safe_load((SHIPPED_POLICIES / file_name).read_text(encoding="utf-8"))


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
        treatments = {t["id"]: t for t in stage.get("treatments") or []}
        for treatment in treatments.values():
            for overrides in [{}, *arms]:
                picked = {**treatment, **overrides}
                out.add((picked["template"], picked["channel"], picked["tone"]))
        # A learner's arms: a treatment of the stage with what the arm changes, or one of its own.
        for arm in (stage.get("learn") or {}).get("arms") or []:
            picked = {**treatments.get(arm.get("treatment"), {}), **arm}
            if picked.get("channel") not in ("none", "call"):
                out.add((picked["template"], picked["channel"], picked["tone"]))
    # A hand-off queue's learned message in its call's place (tone: neutral unless it says).
    for queue in policy.get("handoff") or []:
        for arm in (queue.get("learn") or {}).get("arms") or []:
            if arm.get("channel") not in ("none", "call"):
                out.add((arm["template"], arm["channel"], arm.get("tone", "neutral")))
    return out


class TestShippedPoliciesHaveTheirTemplates:
    """Every template a shipped policy can pick exists in every language; calls are not message
    templates. Letters are: the US policy's `late_letter` names `late_notice` (issue 22)."""

    @pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
    def test_every_template_a_policy_names_is_shipped_in_every_language(self, path: Path) -> None:
        """Every policy of the project, the worlds' learners' arms included: a learner's in-app
        plan offer named a template that did not exist, so the dispatcher failed every such
        contact and the learners and oracles that had it learned nothing from the inbox
        (docs/models.md, "Eleventh session"); removing `plan_offer`'s in-app texts fails this
        for thirteen files (tried)."""
        policy = yaml.safe_load(path.read_text(encoding="utf-8"))
        named = {n for n in templates_named(policy) if n[1] != "call"}
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


def jinja_or_error(locale: str, source: str, variables: dict[str, Any]) -> object:
    """What Jinja alone renders (or the error's type): the answer `_fill` must give."""
    try:
        return templates._bounded_render(templates._compiled(locale, source), variables)
    except Exception as exc:
        return type(exc)


def filled_or_error(locale: str, source: str, variables: dict[str, Any]) -> object:
    try:
        return templates._fill(locale, source, variables)
    except Exception as exc:
        return type(exc)


EDGES = [
    "Hi {{ first_name }}\n",  # Jinja drops one trailing newline
    "Hi {{ first_name }}\n\n",
    "Hi\r\n{{ first_name }}\r\n",
    "{{ first_name }}{{ first_name }}",
    "{{ overdue_minor|money(currency) }} {{ due_date|date }}",
    "{{ first_name|upper }}",  # another filter: Jinja renders it
    "{{ first_name ~ 'x' }}",
    "{% if promise_days %}{{ promise_days }} days{% endif %}",
    "{{ bogus }}",  # unknown: Jinja's error
    "{{ first_name }",
    "",
]


class TestFilledAsJinjaRenders:
    """A template of literal text and plain substitutions is filled in without Jinja
    (`templates._fill`): every shipped template and some edge texts, with random values, give
    exactly Jinja's output or its error. Fails with the output bound left out of the direct path
    (a 50,001-character name renders there, and Jinja refuses it)."""

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        source=st.sampled_from([t.body for t in shipped()] + EDGES),
        locale=st.sampled_from(sorted(LANGUAGES.values())),
        name=st.text(max_size=30)
        | st.sampled_from(["{{ x }}", "张伟", "x" * (templates.MAX_TEXT + 1)]),
        amount=st.integers(-(10**12), 10**12),
        currency=st.sampled_from(["CNY", "USD", "JPY", "KWD", "EUR"]),
        day=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
        dpd=st.integers(-5, 10_000),
        drop=st.sampled_from([None, "first_name", "currency", "due_date"]),
    )
    def test_the_same_text_or_the_same_error(
        self,
        source: str,
        locale: str,
        name: str,
        amount: int,
        currency: str,
        day: dt.date,
        dpd: int,
        drop: str | None,
    ) -> None:
        language = next(k for k, v in LANGUAGES.items() if v == locale)
        variables = {
            **sample(language),
            "first_name": name,
            "amount_minor": amount,
            "overdue_minor": amount,
            "currency": currency,
            "due_date": day,
            "days_past_due": dpd,
        }
        if drop is not None:
            del variables[drop]
        assert filled_or_error(locale, source, variables) == jinja_or_error(
            locale, source, variables
        )

    def test_plain_templates_are_filled_without_jinja(self) -> None:
        """Every shipped text without a statement (`{% if %}`) is literal text and substitutions."""
        for t in shipped():
            direct = templates._pieces(LANGUAGES[t.language], t.body) is not None
            assert direct == ("{%" not in t.body), t.key

"""Message templates: rendering for the locale, the sandbox, SMS length, and the guard on save."""

from __future__ import annotations

import pytest

from recoup.compliance import load_guard
from recoup.delivery.sms import sms_length
from recoup.delivery.templates import (
    LANGUAGES,
    MessageTemplate,
    TemplateProblem,
    check,
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

"""Finding 13: a message template cannot exhaust memory or CPU. Each probe is refused as a
`TemplateProblem` (what saving or sending a template answers) within a second."""

from __future__ import annotations

import time

import pytest

from recoup.contact.templates import MAX_TEXT, MessageTemplate, TemplateProblem, render, sample

PROBES = [
    "{{ 'x' * 10**8 }}",  # one huge string
    "{{ lipsum(n=10**6) }}",  # a million paragraphs
    "{{ lipsum(n=100, min=100, max=100) }}",  # within the number bound, still too much text
    "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}",  # CPU
    "{% for i in range(10**9) %}{% endfor %}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'|indent(10**9) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%s'|format(1) }}",
    "{{ (2**64)**64 }}",
    "{{ 9**9**9**9 }}",
    "{% set s = 'x' * 9000 %}{{ s ~ s ~ s ~ s ~ s ~ s }}{{ s ~ s ~ s ~ s ~ s ~ s }}",
    "{% for i in range(9000) %}{{ 'abcdefghij' }}{% endfor %}",  # the output itself
    "{{ ['x'] * 10**7 }}",
    "{{ ('x' * 9000)|list|join('xxxxxxxxxx') }}",
]


@pytest.mark.parametrize("body", PROBES)
def test_finding_13_templates_cannot_exhaust_memory_or_cpu(body: str) -> None:
    """Catches removing the bounds of `contact.templates.BoundedSandbox` (its intercepted
    operators, its `call` check), the budgeted `range`, the removal of `lipsum` and `format`, the
    bounded filters or `_bounded_render`: each probe then renders (tens of MB or minutes of CPU)
    instead of being refused."""
    template = MessageTemplate("probe", "email", "en", "neutral", body, subject="s")
    started = time.monotonic()
    with pytest.raises(TemplateProblem):
        render(template, sample("en"))
    assert time.monotonic() - started < 1.0


def test_finding_13_ordinary_templates_still_render() -> None:
    """The bounds leave room for every real message: loops, filters and arithmetic of a normal
    size still render."""
    body = (
        "Hi {{ first_name|title }}, {{ amount_minor }} is due."
        "{% for i in range(3) %} {{ i * 2 + 1 }}{% endfor %} {{ 'ab' * 10 }} {{ 2**10 }}"
        "{{ ' x'|indent(4) }}"
    )
    template = MessageTemplate("probe", "email", "en", "neutral", body, subject="s")
    rendered = render(template, sample("en"))
    assert " 1 3 5 abababababababababab 1024" in rendered.body
    assert len(rendered.body) < MAX_TEXT

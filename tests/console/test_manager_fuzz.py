"""The manager's forms fuzzed: whatever the dashboard's query or a template's fields hold (any
text, any length, ids out of range), the answer is a page or a 4xx, never a 5xx. Hypothesis,
derandomized; a few dozen requests per route."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recoup.identity.permissions import Role
from tests.console.conftest import ConsoleClient

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "sms", "en", "zh-CN", "gentle", "2026-06-01", "7", "30", "-1", "9" * 30, "{{ x }}"]
    ),
    st.text(alphabet="{}%|_ .()abc", max_size=200),
)
FIELDS = ("name", "channel", "language", "tone", "subject", "body", "account_id")


def no_server_error(answer: Any) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:500])


def test_the_dashboard_query(console: ConsoleClient) -> None:
    console.sign_in(Role.strategist)

    @FUZZ
    @given(st.dictionaries(st.sampled_from(["from", "to", "days", "product", "segment"]), TEXT))
    def ask(query: dict[str, str]) -> None:
        no_server_error(console.get("/console/dashboard", params=query))

    ask()


def test_the_template_forms(console: ConsoleClient) -> None:
    console.sign_in(Role.strategist)

    @FUZZ
    @given(
        st.sampled_from(["check", "preview", "save"]),
        st.dictionaries(st.sampled_from(FIELDS), TEXT),
        st.booleans(),
    )
    def post(route: str, form: dict[str, str], htmx: bool) -> None:
        headers = {"HX-Request": "true"} if htmx else {}
        answer = console.post_form(
            f"/console/templates/{route}", form, headers=headers, follow_redirects=False
        )
        no_server_error(answer)

    post()


def test_the_version_pages(console: ConsoleClient) -> None:
    console.sign_in(Role.compliance_officer)

    @FUZZ
    @given(
        st.one_of(st.integers(-5, 2**64), st.text(max_size=12)),
        st.sampled_from(["", "/submit", "/approve"]),
    )
    def act(version: object, action: str) -> None:
        url = f"/console/templates/versions/{quote(str(version), safe='')}{action}"
        answer = console.post_form(url) if action else console.get(url)
        no_server_error(answer)

    act()

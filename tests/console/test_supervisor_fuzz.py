"""The supervisor's forms and filters fuzzed: whatever a browser (or something pretending to be one)
sends, with the right CSRF field, the answer is a page below 500: a redirect after an action that
worked, or a 4xx naming what is wrong.

Removal it catches (tried once): a form field that is not ASCII reaching code that assumed it was
(a 500 on the first Chinese reason)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.console.conftest import ConsoleClient
from tests.console.test_supervisor import a_reply, open_case, waiting_settlement

FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "dispute:not_mine",
            "hardship:rude",
            "case",
            "done",
            "approve",
            "x" * 3000,
        ]
    ),
)
IDS = st.one_of(st.integers(1, 50), st.just(2**63 - 1), st.just(2**63), st.just(0), st.just(-1))


@pytest.fixture
def world(console: ConsoleClient, session: Session, clock: SettableClock) -> dict[str, int]:
    deal = waiting_settlement(session, clock, "staff:agent-9")
    case = open_case(session, clock, "dispute")
    task_id, _ = a_reply(session, clock, "能不能少还一点")
    console.sign_in(Role.supervisor)
    return {"arrangement": deal.id, "case": case.id, "task": task_id}


def below_500(status: int) -> None:
    assert status < 500, status


def test_every_supervisor_form_answers_below_500(
    console: ConsoleClient, world: dict[str, int]
) -> None:
    @FUZZ
    @given(
        which=st.sampled_from(["approve", "refuse", "reply", "resolve", "reply_task", "other"]),
        known=st.booleans(),
        any_id=IDS,
        field=TEXT,
        other=TEXT,
    )
    def post(which: str, known: bool, any_id: int, field: str, other: str) -> None:
        if which in ("approve", "refuse", "other"):
            target = world["arrangement"] if known else any_id
            verb = which if which != "other" else (other[:20] or "x")
            url, data = f"/console/approvals/{target}/{verb}", {"reason": field}
        elif which in ("reply", "resolve"):
            target = world["case"] if known else any_id
            name = "template" if which == "reply" else "resolution"
            url, data = f"/console/cases/{target}/{which}", {name: field}
        else:
            target = world["task"] if known else any_id
            url, data = f"/console/replies/{target}", {"action": field, "case": other}
        below_500(console.post_form(url, data, follow_redirects=False).status_code)

    post()


def test_the_cases_filter_answers_below_500(console: ConsoleClient, world: dict[str, int]) -> None:
    @FUZZ
    @given(kind=TEXT, status=TEXT, any_id=IDS)
    def get(kind: str, status: str, any_id: int) -> None:
        below_500(
            console.get("/console/cases", params={"kind": kind, "status": status}).status_code
        )
        below_500(console.get(f"/console/cases/{any_id}").status_code)

    get()

"""The strategy desk's pages without a browser: the versions, the editor's problem at its line and
column, the dry-run (the service's numbers), four eyes through the pages (the author refused, a
second manager approves), CSRF and permissions on every step."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.kit.masking import mask_id
from recoup.models import Account, AuditEvent, PolicyVersion
from recoup.strategy import service as strategy_service
from tests.console.conftest import ConsoleClient
from tests.factories import shanghai
from tests.strategy.test_daily_run import AS_OF, policy_text, portfolio
from tests.strategy.test_desk import changed_text, column_of, line_of


@pytest.fixture
def active(session: Session, clock: SettableClock) -> PolicyVersion:
    clock.set(shanghai(AS_OF, 10))
    version = strategy_service.save_policy(
        session, policy_text(), author="staff:lin", clock=clock, source="test"
    )
    active = strategy_service.activate(session, version.id, actor="staff:lin", clock=clock)
    session.commit()
    return active


def saved_version(answer_location: str) -> int:
    match = re.fullmatch(r"/console/strategy/versions/(\d+)\?saved=1", answer_location)
    assert match, answer_location
    return int(match[1])


def test_the_desk_lists_the_active_policy_and_its_versions(
    console: ConsoleClient, active: PolicyVersion
) -> None:
    console.sign_in(Role.strategist)
    page = console.get("/console/strategy")
    assert page.status_code == 200
    assert f'href="/console/strategy/versions/{active.id}"' in page.text
    assert 'data-status="active"' in page.text
    text = console.get(f"/console/strategy/versions/{active.id}")
    assert 'id="line-1"' in text.text
    assert "cn-wallet" in text.text


def test_the_editor_shows_the_problem_at_its_line_then_saves_a_draft(
    console: ConsoleClient, active: PolicyVersion, session: Session
) -> None:
    """Removal it catches: the excerpt's marked line (the page would say where only in words)."""
    console.sign_in(Role.strategist)
    editor = console.get(f"/console/strategy/edit?from={active.id}")
    assert editor.status_code == 200
    assert "days_to_due == 1" in editor.text  # the active text, to edit
    bad = policy_text().replace("when: days_to_due == 1", "when: days_to_due == = 1", 1)
    answer = console.post_form(
        "/console/strategy/edit", {"text": bad, "action": "save", "from": str(active.id)}
    )
    assert answer.status_code == 422
    line, column = line_of(bad, "days_to_due == = 1"), column_of(bad, "== = 1") + 3
    assert f'data-line="{line}" data-column="{column}"' in answer.text
    assert f"Line {line}, column {column}" in answer.text
    marked = re.search(
        r'<tr class="at" id="problem-line">\s*<td class="num">(\d+)</td>', answer.text
    )
    assert marked
    assert int(marked[1]) == line
    assert "stages[0].treatments[2].when" in answer.text
    assert session.scalars(select(PolicyVersion)).all() == [active]  # nothing saved

    checked = console.post_form(
        "/console/strategy/edit", {"text": changed_text(), "action": "check"}
    )
    assert checked.status_code == 200
    assert 'id="no-problem"' in checked.text
    saved = console.post_form(
        "/console/strategy/edit", {"text": changed_text(), "action": "save"}, follow_redirects=False
    )
    assert saved.status_code == 303
    version_id = saved_version(saved.headers["location"])
    assert session.get(PolicyVersion, version_id) is not None
    page = console.get(saved.headers["location"])
    assert 'id="status"' in page.text
    assert "Draft" in page.text


def test_the_dry_run_page_shows_the_services_numbers(
    console: ConsoleClient, active: PolicyVersion, session: Session, clock: SettableClock
) -> None:
    ids = portfolio(session, clock)
    draft = strategy_service.save_draft(session, changed_text(), author="staff:mei", clock=clock)
    session.commit()
    clock.set(shanghai(AS_OF, 10))
    console.sign_in(Role.strategist)
    page = console.get(f"/console/strategy/versions/{draft.id}/dry-run")
    assert page.status_code == 200, page.text
    changed = re.search(r'<strong id="changed">([\d,]+)</strong>', page.text)
    assert changed
    assert changed[1] == "1"
    assert f'data-account="{ids["mid_large"]}"' in page.text
    assert "mid_call → <strong>mid_sms_offer</strong>" in page.text
    assert "call → <strong>sms</strong>" in page.text
    ref = session.get(Account, ids["mid_large"])
    assert ref is not None
    assert ref.external_ref not in page.text  # masked
    assert mask_id(ref.external_ref) in page.text
    assert console.get(f"/console/strategy/versions/{draft.id}/dry-run?page=0").status_code == 422


def test_four_eyes_through_the_pages(
    console: ConsoleClient, active: PolicyVersion, session: Session
) -> None:
    """Removal it catches: the service's same-person check (the author's approval would
    activate the version through the page)."""
    author = console.sign_in(Role.strategist)
    saved = console.post_form(
        "/console/strategy/edit", {"text": changed_text(), "action": "save"}, follow_redirects=False
    )
    version_id = saved_version(saved.headers["location"])
    base = f"/console/strategy/versions/{version_id}"
    assert console.post(f"{base}/submit", data={}).status_code == 403  # no CSRF field
    assert console.post_form(f"{base}/submit", follow_redirects=False).status_code == 303
    own = console.get(base)
    assert 'id="own"' in own.text
    assert 'id="approve"' not in own.text
    refused = console.post_form(f"{base}/approve")
    assert refused.status_code == 403
    assert 'id="refused"' in refused.text
    assert strategy_service.active_policy(session)[0].id == active.id

    console.sign_in(Role.agent)
    assert console.get("/console/strategy").status_code == 403
    assert console.post_form(f"{base}/approve").status_code == 403

    second = console.sign_in(Role.strategist)
    assert second.username != author.username
    no_reason = console.post_form(f"{base}/reject", {"reason": "  "})
    assert no_reason.status_code == 422
    approved = console.post_form(f"{base}/approve", follow_redirects=False)
    assert approved.status_code == 303
    session.expire_all()
    assert strategy_service.active_policy(session)[0].id == version_id
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.subject_type == "policy_version", AuditEvent.subject_id == str(version_id)
        )
        .order_by(AuditEvent.seq)
    ).all()
    assert [(e.action, e.actor) for e in events] == [
        ("policy.saved", f"staff:{author.username}"),
        ("policy.submitted", f"staff:{author.username}"),
        ("policy.approved", f"staff:{second.username}"),
        ("policy.activated", f"staff:{second.username}"),
    ]
    assert 'data-status="active"' in console.get("/console/strategy").text


def test_bad_input_is_a_4xx(console: ConsoleClient, active: PolicyVersion) -> None:
    console.sign_in(Role.strategist)
    assert console.get("/console/strategy/versions/999999").status_code == 404
    assert console.get("/console/strategy/edit?from=x").status_code == 422
    assert console.get("/console/strategy?page=-1").status_code == 422
    huge = console.post_form("/console/strategy/edit", {"text": "x" * 200_001, "action": "check"})
    assert huge.status_code == 422
    assert "longer than" in huge.text
    assert console.post_form("/console/strategy/versions/999999/submit").status_code == 404
    assert console.post_form(f"/console/strategy/versions/{active.id}/submit").status_code == 409


def test_a_rejection_shows_its_reason_and_the_author_submits_again(
    console: ConsoleClient, active: PolicyVersion, session: Session
) -> None:
    author = console.sign_in(Role.strategist)
    saved = console.post_form(
        "/console/strategy/edit", {"text": changed_text(), "action": "save"}, follow_redirects=False
    )
    base = f"/console/strategy/versions/{saved_version(saved.headers['location'])}"
    console.post_form(f"{base}/submit")
    reviewer = console.sign_in(Role.strategist)
    rejected = console.post_form(
        f"{base}/reject", {"reason": "large accounts still need a call"}, follow_redirects=False
    )
    assert rejected.status_code == 303
    page = console.get(base)
    assert "large accounts still need a call" in page.text
    assert f"staff:{reviewer.username}" in page.text
    console.sign_in_as(author.username)
    assert 'id="submit"' in console.get(base).text
    assert console.post_form(f"{base}/submit", follow_redirects=False).status_code == 303
    assert strategy_service.active_policy(session)[0].id == active.id


def test_a_dry_run_without_an_active_policy_says_so(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    draft = strategy_service.save_draft(session, changed_text(), author="staff:mei", clock=clock)
    session.commit()
    console.sign_in(Role.strategist)
    page = console.get(f"/console/strategy/versions/{draft.id}/dry-run")
    assert page.status_code == 409
    assert "No policy is active" in page.text
    desk = console.get("/console/strategy")
    assert desk.status_code == 200
    assert "recoup strategy activate FILE" in desk.text

"""The administration pages: four eyes on staff and keys through the console, and a new person's
own password through the set-password page."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.models import StaffProposal, StaffUser
from tests.console.conftest import ConsoleClient

NEW_PASSWORD = "my own new password"


def proposal_id(session: Session, username: str) -> int:
    session.expire_all()
    found = session.scalar(select(StaffProposal.id).where(StaffProposal.username == username))
    assert found is not None
    return found


def test_a_proposal_approved_by_another_admin_makes_the_role_and_its_code_sets_the_password(
    console: ConsoleClient, session: Session
) -> None:
    a = console.sign_in(Role.administrator)
    made = console.post_form(
        "/console/admin/staff/propose",
        {"username": "chen.gang", "display_name": "陈刚", "role": "supervisor"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    pid = proposal_id(session, "chen.gang")
    page = console.get("/console/admin/staff")
    assert f"/console/admin/proposals/{pid}/approve" not in page.text  # not one's own
    own = console.post_form(f"/console/admin/proposals/{pid}/approve")
    assert own.status_code == 403
    assert session.scalar(select(StaffUser).where(StaffUser.username == "chen.gang")) is None

    console.sign_in(Role.administrator)
    page = console.get("/console/admin/staff")
    assert f"/console/admin/proposals/{pid}/approve" in page.text
    approved = console.post_form(f"/console/admin/proposals/{pid}/approve")
    assert approved.status_code == 200
    code = re.search(r'id="set-password-code">([0-9a-f]+)<', approved.text)
    assert code
    session.expire_all()
    user = session.scalar(select(StaffUser).where(StaffUser.username == "chen.gang"))
    assert user is not None
    assert user.role == "supervisor"
    assert code[1] not in console.get("/console/admin/staff").text  # shown once

    console.cookies.clear()
    wrong = console.post(
        "/console/set-password",
        data={"username": a.username, "code": code[1], "password": NEW_PASSWORD,
              "password_again": NEW_PASSWORD},
    )  # fmt: skip
    assert wrong.status_code == 422  # the code is chen.gang's, not the proposer's
    done = console.post(
        "/console/set-password",
        data={"username": "chen.gang", "code": code[1], "password": NEW_PASSWORD,
              "password_again": NEW_PASSWORD},
    )  # fmt: skip
    assert done.status_code == 200, done.text
    again = console.post(
        "/console/set-password",
        data={"username": "chen.gang", "code": code[1], "password": "another password 2",
              "password_again": "another password 2"},
    )  # fmt: skip
    assert again.status_code == 422
    page = console.get("/console/sign-in")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text)
    assert token
    signed = console.post(
        "/console/sign-in",
        data={"sign_in_token": token[1], "username": "chen.gang", "password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303


def test_a_bad_proposal_is_shown_beside_its_field_in_the_persons_language(
    console: ConsoleClient,
) -> None:
    console.sign_in(Role.administrator)
    bad = console.post_form(
        "/console/admin/staff/propose?lang=zh-CN",
        {"username": "Not Valid!", "display_name": "x", "role": "agent"},
    )
    assert bad.status_code == 422
    assert 'id="error-username"' in bad.text
    assert "仅限 a-z" in bad.text
    keys = console.post_form("/console/admin/keys/propose", {"name": "w", "scopes": "staff:manage"})
    assert keys.status_code == 422
    assert 'id="error-scopes"' in keys.text


def test_a_refused_key_proposal_makes_nothing_and_a_key_is_shown_once(
    console: ConsoleClient, session: Session
) -> None:
    console.sign_in(Role.administrator)
    for name in ("refused one", "approved one"):
        assert (
            console.post_form(
                "/console/admin/keys/propose",
                {"name": name, "scopes": "accounts:read"},
                follow_redirects=False,
            ).status_code
            == 303
        )
    session.expire_all()
    ids = dict(session.execute(select(StaffProposal.key_name, StaffProposal.id)).all())
    console.sign_in(Role.administrator)
    refused = console.post_form(
        f"/console/admin/proposals/{ids['refused one']}/refuse",
        {"reason": "not needed"},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    approved = console.post_form(f"/console/admin/proposals/{ids['approved one']}/approve")
    key = re.search(r'id="api-key">(rk_[^<]+)<', approved.text)
    assert key
    listed = console.get("/console/admin/keys")
    assert key[1] not in listed.text
    assert "approved one" in listed.text
    late = console.post_form(f"/console/admin/proposals/{ids['refused one']}/approve")
    assert late.status_code == 409


def test_an_agent_gets_the_403_page_on_the_admin_pages(console: ConsoleClient) -> None:
    console.sign_in(Role.agent)
    for path in ("/console/admin/staff", "/console/admin/keys"):
        page = console.get(path)
        assert page.status_code == 403
        assert "text/html" in page.headers["content-type"]

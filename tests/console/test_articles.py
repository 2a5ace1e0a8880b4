"""The learning centre's desk and the debtor's voice in the console: write a version, submit it,
the author's own approval refused, another person's approval taken and shown in the portal; an
edit is a new version; the survey's and the reads' figures, aggregates only."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session, sessionmaker

from recoup.cases import service as case_service
from recoup.education import service as education_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.console.conftest import ConsoleClient
from tests.factories import create_customer


def fields(**more: str) -> dict[str, str]:
    return {
        "slug": "saving-up",
        "language": "zh-TW",
        "title": "存一點應急金",
        "summary": "每月留一點，下次不慌",
        "body": "## 為什麼\n\n- 意外支出\n- 收入變動",
        **more,
    }


def version_id(location: str) -> int:
    found = re.search(r"/console/articles/versions/(\d+)$", location)
    assert found is not None, location
    return int(found[1])


class TestFourEyesInTheConsole:
    def test_write_submit_own_approval_refused_another_approves_then_shown(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        author = console.sign_in(Role.strategist)
        saved = console.post_form("/console/articles/save", fields(), follow_redirects=False)
        assert saved.status_code == 303, saved.text
        vid = version_id(saved.headers["location"])
        page = console.get(f"/console/articles/versions/{vid}")
        assert "存一點應急金" in page.text
        assert 'id="status"' in page.text
        submitted = console.post_form(
            f"/console/articles/versions/{vid}/submit", follow_redirects=False
        )
        assert submitted.status_code == 303
        assert 'id="own-note"' in console.get(f"/console/articles/versions/{vid}").text
        own = console.post_form(f"/console/articles/versions/{vid}/approve")
        assert own.status_code == 403
        assert 'id="version-error"' in own.text
        console.sign_in(Role.compliance_officer)
        approved = console.post_form(
            f"/console/articles/versions/{vid}/approve", follow_redirects=False
        )
        assert approved.status_code == 303
        with sessions() as session:
            listed = education_service.catalogue(session, "zh-TW")
            assert "saving-up" in [a.slug for a in listed]
            version = education_service.article_version(session, vid)
            assert version.approved_by != author.username
            assert version.approved_by is not None

    def test_an_edit_starts_from_a_version_and_saves_a_new_one(
        self, console: ConsoleClient
    ) -> None:
        console.sign_in(Role.strategist)
        first = version_id(
            console.post_form("/console/articles/save", fields(), follow_redirects=False).headers[
                "location"
            ]
        )
        editor = console.get(f"/console/articles/new?from={first}")
        assert "存一點應急金" in editor.text
        second = version_id(
            console.post_form(
                "/console/articles/save", fields(title="存應急金"), follow_redirects=False
            ).headers["location"]
        )
        assert second != first
        history = console.get(f"/console/articles/versions/{second}").text
        assert ">v1<" in history
        assert ">v2<" in history

    def test_bad_fields_are_a_422_and_an_agent_cannot_open_the_desk(
        self, console: ConsoleClient
    ) -> None:
        console.sign_in(Role.strategist)
        bad = console.post_form("/console/articles/save", fields(slug="Not A Slug"))
        assert bad.status_code == 422
        assert 'id="editor-error"' in bad.text
        assert console.get("/console/articles/new?from=abc").status_code == 422
        console.sign_in(Role.agent)
        assert console.get("/console/articles").status_code == 403
        assert console.get("/console/voice").status_code == 403


class TestDebtorsVoice:
    def test_the_survey_and_the_reads_as_counts(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        with sessions() as session:
            customer = create_customer(session, clock)
            case_service.answer_survey(
                session,
                customer.id,
                contact_id=None,
                treated="2",
                clear="5",
                again="no",
                text="秘密的话",
                clock=clock,
            )
            education_service.read(
                session, "choosing-a-plan", language="en", jurisdiction="CN", clock=clock
            )
            session.commit()
        console.sign_in(Role.supervisor)
        page = console.get("/console/voice")
        assert page.status_code == 200
        assert "n = 1" in page.text
        assert "秘密的话" not in page.text
        assert re.search(r"<td>choosing-a-plan</td><td>en</td><td>1</td>", page.text)

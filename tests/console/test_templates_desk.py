"""The templates desk in the console: the guard's verdict per jurisdiction as one types, a masked
preview with a real account, save, submit, the author's own approval refused, another person's
approval taken, and the approved version the one `approved()` (the dispatcher's) returns; every
step on the audit ledger, every state change refused without the CSRF field."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.contact import service as contact_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import AuditEvent
from tests.console.conftest import ConsoleClient
from tests.factories import add_bill, create_account, create_customer

KEY = ("early_reminder", "sms", "en", "gentle")
GOOD = (
    "{{ creditor_name }}: Hello {{ first_name }}, {{ overdue_minor|money(currency) }} is "
    "{{ days_past_due }} days late. Pay or choose a plan: {{ pay_link }} {{ opt_out }}"
)
THREAT = GOOD + " We know where you live."
HTMX = {"HX-Request": "true"}


def fields(body: str, **more: str) -> dict[str, str]:
    name, channel, language, tone = KEY
    return {
        "name": name,
        "channel": channel,
        "language": language,
        "tone": tone,
        "subject": "",
        "body": body,
        **more,
    }


def refused_in(html: str) -> set[str]:
    return set(re.findall(r'<tr class="refused" data-jurisdiction="([^"]+)"', html))


class TestTheVerdictAsOneTypes:
    def test_a_threat_is_refused_where_a_content_rule_forbids_it(
        self, console: ConsoleClient
    ) -> None:
        console.sign_in(Role.strategist)
        live = console.post_form("/console/templates/check", fields(THREAT), headers=HTMX)
        assert live.status_code == 200
        assert "<html" not in live.text  # a fragment for htmx to swap in
        assert refused_in(live.text) == set(contact_service.DEFAULT_JURISDICTIONS)
        assert "we know where you live" in live.text.lower()
        clean = console.post_form("/console/templates/check", fields(GOOD), headers=HTMX)
        assert refused_in(clean.text) == set()
        # Without JavaScript: the "check" button posts the form and gets the whole page back.
        page = console.post_form("/console/templates/check", fields(THREAT, lang="en"))
        assert page.status_code == 200
        assert "<html" in page.text
        assert refused_in(page.text) == set(contact_service.DEFAULT_JURISDICTIONS)

    def test_a_text_that_does_not_render_says_so(self, console: ConsoleClient) -> None:
        console.sign_in(Role.compliance_officer)
        broken = console.post_form(
            "/console/templates/check", fields("Hi {{ first_name.__class__ }}"), headers=HTMX
        )
        assert broken.status_code == 200
        assert 'class="error"' in broken.text

    def test_a_bad_field_is_named(self, console: ConsoleClient) -> None:
        console.sign_in(Role.strategist)
        page = console.post_form("/console/templates/save", fields(GOOD, name="Bad Name!"))
        assert page.status_code == 422
        assert 'id="error-name"' in page.text


class TestPreview:
    def test_a_real_accounts_figures_with_the_name_masked(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock, name="Emily Chen")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, clock.now().date(), 123_400)
        session.commit()
        console.sign_in(Role.strategist)
        shown = console.post_form(
            "/console/templates/preview",
            fields(
                "Hi {{ first_name }}, {{ amount_minor|money(currency) }}.",
                account_id=str(account.id),
            ),
            headers=HTMX,
        )
        assert shown.status_code == 200
        assert "Hi E****, CN¥1,234.00." in shown.text
        assert "Emily" not in shown.text
        unknown = console.post_form(
            "/console/templates/preview", fields(GOOD, account_id="999999999", lang="en")
        )
        assert unknown.status_code == 404
        assert 'id="error-account_id"' in unknown.text


class TestFourEyes:
    def test_write_submit_own_approval_refused_another_approves(
        self, console: ConsoleClient, sessions: sessionmaker[Session]
    ) -> None:
        author = console.sign_in(Role.strategist)
        saved = console.post_form("/console/templates/save", fields(GOOD), follow_redirects=False)
        assert saved.status_code == 303, saved.text
        url = saved.headers["location"]
        version_id = int(url.rsplit("/", 1)[1])
        assert "Draft" in console.get(url, params={"lang": "en"}).text

        submitted = console.post_form(f"{url}/submit", follow_redirects=False)
        assert submitted.status_code == 303
        page = console.get(url, params={"lang": "en"}).text
        assert "Awaiting approval" in page
        assert 'id="own-note"' in page

        own = console.post_form(f"{url}/approve", {"lang": "en"})
        assert own.status_code == 403
        assert "another person must approve it" in own.text
        with sessions() as session:
            assert contact_service.approved(session, *KEY).id != version_id  # type: ignore[union-attr]

        approver = console.sign_in(Role.compliance_officer)
        approved = console.post_form(f"{url}/approve", follow_redirects=False)
        assert approved.status_code == 303
        with sessions() as session:
            current = contact_service.approved(session, *KEY)
            assert current is not None
            assert current.id == version_id
            assert current.author == f"staff:{author.username}"
            assert current.approved_by == f"staff:{approver.username}"
            trail = session.execute(
                select(AuditEvent.action, AuditEvent.actor)
                .where(AuditEvent.subject_id == str(version_id))
                .order_by(AuditEvent.seq)
            ).all()
        assert [tuple(r) for r in trail] == [
            ("template.saved", f"staff:{author.username}"),
            ("template.submitted", f"staff:{author.username}"),
            ("template.approved", f"staff:{approver.username}"),
        ]
        listed = console.get("/console/templates", params={"lang": "en"})
        assert f'/console/templates/versions/{version_id}"' in listed.text

    def test_no_state_change_without_the_csrf_field(self, console: ConsoleClient) -> None:
        console.sign_in(Role.strategist)
        for url in (
            "/console/templates/save",
            "/console/templates/check",
            "/console/templates/preview",
            "/console/templates/versions/1/submit",
            "/console/templates/versions/1/approve",
        ):
            answer = console.post(url, data=fields(GOOD), follow_redirects=False)
            assert answer.status_code == 403, url

    def test_an_agent_cannot_open_the_desk_nor_approve(self, console: ConsoleClient) -> None:
        console.sign_in(Role.agent)
        assert console.get("/console/templates").status_code == 403
        assert console.post_form("/console/templates/versions/1/approve").status_code == 403

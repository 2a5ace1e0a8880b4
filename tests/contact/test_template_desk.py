"""The template desk's service: a version's life (draft, submitted, approved by a second person,
retired by the next approval), the guard's verdict per jurisdiction without saving, a masked
preview with a real account's figures, and the dispatcher using only the approved version."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.audit import service as audit_service
from recoup.contact import service as contact_service
from recoup.contact.templates import MessageTemplate
from recoup.kit.clock import SettableClock
from recoup.kit.errors import NotFound, ValidationFailed
from recoup.models import AuditEvent, TemplateVersion
from tests.contact.test_dispatch import (
    at_its_moment,
    dispatcher,
    drain,
    planned_reminder,
    spool,
    spooled,
)
from tests.factories import add_bill, create_account, create_customer

KEY = ("early_reminder", "sms", "en", "gentle")
GOOD = MessageTemplate(
    *KEY,
    "{{ creditor_name }}: Hello {{ first_name }}, {{ overdue_minor|money(currency) }} is "
    "{{ days_past_due }} days late. Pay or choose a plan: {{ pay_link }} {{ opt_out }}",
)
THREAT = dataclasses.replace(GOOD, body=GOOD.body + " We know where you live.")


def audited(session: Session, version_id: int) -> list[str]:
    return list(
        session.execute(
            select(AuditEvent.action)
            .where(
                AuditEvent.subject_type == "template_version",
                AuditEvent.subject_id == str(version_id),
            )
            .order_by(AuditEvent.seq)
        ).scalars()
    )


class TestFourEyes:
    def test_write_submit_and_a_second_person_approves(
        self, session: Session, clock: SettableClock
    ) -> None:
        before = contact_service.approved(session, *KEY)
        assert before is not None
        draft = contact_service.save(session, GOOD, author="staff:zhou", clock=clock)
        with pytest.raises(contact_service.TemplateNotSubmitted):
            contact_service.approve(session, draft.id, actor="staff:lin", clock=clock)
        contact_service.submit(session, draft.id, actor="staff:zhou", clock=clock)
        assert draft.status == "submitted"
        assert contact_service.approved(session, *KEY) == before
        contact_service.approve(session, draft.id, actor="staff:lin", clock=clock)
        assert (draft.status, draft.approved_by) == ("approved", "staff:lin")
        assert contact_service.approved(session, *KEY) == draft
        session.refresh(before)
        assert before.status == "retired"
        assert audited(session, draft.id) == [
            "template.saved",
            "template.submitted",
            "template.approved",
        ]

    def test_the_author_cannot_approve_their_own_version(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Removal caught: without the author check in `approve`, the author's approval goes
        through and this fails."""
        draft = contact_service.save(session, GOOD, author="staff:zhou", clock=clock)
        contact_service.submit(session, draft.id, actor="staff:zhou", clock=clock)
        with pytest.raises(contact_service.OwnTemplate):
            contact_service.approve(session, draft.id, actor="staff:zhou", clock=clock)
        assert draft.status == "submitted"
        assert contact_service.approved(session, *KEY) != draft

    def test_a_rejected_version_cannot_be_submitted_nor_a_version_twice(
        self, session: Session, clock: SettableClock
    ) -> None:
        rejected = contact_service.save(session, THREAT, author="staff:zhou", clock=clock)
        assert rejected.status == "rejected"
        with pytest.raises(contact_service.TemplateRejected):
            contact_service.submit(session, rejected.id, actor="staff:zhou", clock=clock)
        draft = contact_service.save(session, GOOD, author="staff:zhou", clock=clock)
        contact_service.submit(session, draft.id, actor="staff:zhou", clock=clock)
        with pytest.raises(contact_service.TemplateNotSubmitted):
            contact_service.submit(session, draft.id, actor="staff:zhou", clock=clock)
        with pytest.raises(NotFound):
            contact_service.submit(session, 10**12, actor="staff:zhou", clock=clock)


class TestVerdicts:
    def test_a_threat_is_refused_where_a_content_rule_forbids_it(self) -> None:
        rendered, verdicts = contact_service.check_draft(THREAT)
        assert "Recoup Wallet" in rendered.body
        assert "{{" not in rendered.body
        assert set(verdicts) == set(contact_service.DEFAULT_JURISDICTIONS)
        # Every jurisdiction's pack forbids threatening legal action.
        for jurisdiction, problems in verdicts.items():
            assert any(p["code"] == "CONTENT_FORBIDDEN" for p in problems), jurisdiction
        _, clean = contact_service.check_draft(GOOD)
        assert all(not problems for problems in clean.values())

    def test_a_text_that_does_not_render_names_the_body(self) -> None:
        broken = dataclasses.replace(GOOD, body="Hi {{ first_name.__class__ }}")
        with pytest.raises(ValidationFailed, match=r"^body:"):
            contact_service.check_draft(broken)


class TestPreview:
    def test_a_real_accounts_figures_with_the_name_masked(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock, name="Emily Chen")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, dt.date(2026, 7, 20), 123_400)
        rendered = contact_service.preview(
            session,
            dataclasses.replace(
                GOOD, body="Hi {{ first_name }}, {{ amount_minor|money(currency) }} due."
            ),
            account.id,
            creditor_name="Recoup Wallet",
            support_phone="400",
            actor="staff:zhou",
            clock=clock,
        )
        assert rendered.body == "Hi E****, CN¥1,234.00 due."
        assert "Emily" not in rendered.body
        # The look is on the customer's data-access log, as a masked view.
        [seen] = audit_service.access_log(session, customer.id)
        assert (seen.actor, seen.kind, seen.fields) == ("staff:zhou", "view", ["name"])

    def test_an_unknown_account_is_a_404_naming_the_field(
        self, session: Session, clock: SettableClock
    ) -> None:
        with pytest.raises(NotFound, match=r"^account_id:"):
            contact_service.preview(
                session,
                GOOD,
                10**12,
                creditor_name="Recoup Wallet",
                support_phone="400",
                actor="staff:zhou",
                clock=clock,
            )


class TestDispatcherUsesOnlyApproved:
    def _new_version(self, session: Session, clock: SettableClock, key: tuple[str, ...]) -> int:
        name, channel, language, tone = key
        text = "【{{ creditor_name }}】新版草稿：{{ first_name }}，请查看：{{ pay_link }} {{ opt_out }}"
        template = MessageTemplate(name, channel, language, tone, text)
        version = contact_service.save(session, template, author="staff:zhou", clock=clock)
        assert version.status == "draft", version.problems
        contact_service.submit(session, version.id, actor="staff:zhou", clock=clock)
        return version.id

    def test_a_submitted_version_is_not_sent(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        _, planned = planned_reminder(session, clock)
        key = (planned.template, planned.channel, "zh-CN", planned.tone)
        self._new_version(session, clock, key)
        session.commit()
        at_its_moment(clock, planned)
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"sent": 1}
        [message] = spooled(tmp_path, planned.channel)
        assert "新版草稿" not in str(message["body"])

    def test_once_approved_by_another_it_is_what_is_sent(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        _, planned = planned_reminder(session, clock)
        key = (planned.template, planned.channel, "zh-CN", planned.tone)
        version_id = self._new_version(session, clock, key)
        contact_service.approve(session, version_id, actor="staff:lin", clock=clock)
        session.commit()
        at_its_moment(clock, planned)
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"sent": 1}
        [message] = spooled(tmp_path, planned.channel)
        assert "新版草稿" in str(message["body"])
        approved = session.execute(
            select(TemplateVersion).where(TemplateVersion.id == version_id)
        ).scalar_one()
        assert approved.status == "approved"

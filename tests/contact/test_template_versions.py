"""Template versions in the database: the guard's verdict on save, approval, the latest approved."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.contact import service as delivery_service
from recoup.contact.templates import MessageTemplate, shipped
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from recoup.models import AuditEvent, TemplateVersion

GOOD = MessageTemplate(
    "early_reminder",
    "sms",
    "en",
    "gentle",
    "{{ creditor_name }}: Hi {{ first_name }}, {{ overdue_minor|money(currency) }} is late. "
    "Pay or choose a plan: {{ pay_link }} {{ opt_out }}",
)


class TestVersions:
    def test_the_shipped_templates_are_seeded_approved(self, session: Session) -> None:
        for t in shipped():
            found = delivery_service.approved(session, t.name, t.channel, t.language, t.tone)
            assert found is not None, t.key
            assert found.author == "recoup"

    def test_a_template_failing_the_guard_is_kept_rejected_with_its_reasons(
        self, session: Session, clock: SettableClock
    ) -> None:
        bad = MessageTemplate(
            "early_reminder", "sms", "en", "gentle", "Pay now or we will sue you."
        )
        version = delivery_service.save(session, bad, author="lin", clock=clock)
        assert version.status == "rejected"
        assert {p["rule"] for p in version.problems} >= {
            "us.opt_out_instruction",
            "cn.creditor_identity",
        }
        with pytest.raises(delivery_service.TemplateRejected, match=r"us\.opt_out_instruction"):
            delivery_service.approve(session, version.id, actor="chen", clock=clock)

    def test_a_new_version_is_used_only_once_approved(
        self, session: Session, clock: SettableClock
    ) -> None:
        before = delivery_service.approved(session, "early_reminder", "sms", "en", "gentle")
        assert before is not None
        draft = delivery_service.save(session, GOOD, author="lin", clock=clock)
        assert (draft.status, draft.version) == ("draft", before.version + 1)
        assert delivery_service.approved(session, "early_reminder", "sms", "en", "gentle") == before
        delivery_service.submit(session, draft.id, actor="lin", clock=clock)
        assert delivery_service.approved(session, "early_reminder", "sms", "en", "gentle") == before
        delivery_service.approve(session, draft.id, actor="chen", clock=clock)
        assert delivery_service.approved(session, "early_reminder", "sms", "en", "gentle") == draft
        actions = set(session.execute(select(AuditEvent.action)).scalars())
        assert {"template.saved", "template.submitted", "template.approved"} <= actions

    def test_a_template_that_does_not_render_is_refused(
        self, session: Session, clock: SettableClock
    ) -> None:
        broken = MessageTemplate("x", "sms", "en", "gentle", "Hi {{ first_name.__class__ }}")
        with pytest.raises(ValidationFailed):
            delivery_service.save(session, broken, author="lin", clock=clock)

    def test_seeding_twice_adds_nothing(self, session: Session, clock: SettableClock) -> None:
        count = len(session.execute(select(TemplateVersion)).scalars().all())
        assert delivery_service.seed(session, clock=clock) == 0
        assert len(session.execute(select(TemplateVersion)).scalars().all()) == count

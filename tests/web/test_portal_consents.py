"""Consent from the portal: on the preferences page (behind the one-time code) the debtor gives or
withdraws consent to electronic messages on the channels a rule pack of their jurisdiction asks
consent for, recorded with the evidence "portal, link <digest>"."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.models import Consent
from tests.arrangements.test_flows import DAY0, activate, on
from tests.factories import create_account, create_customer
from tests.web.test_portal import link
from tests.web.test_selfservice import csrf, post, verify


def _consents(session: Session, customer_id: int) -> list[Consent]:
    session.expire_all()
    stmt = select(Consent).where(Consent.customer_id == customer_id).order_by(Consent.id)
    return list(session.execute(stmt).scalars())


class TestConsentInThePortal:
    def test_a_us_debtor_gives_then_withdraws_consent_to_email(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        on(clock, DAY0)
        customer = create_customer(session, clock, jurisdiction="US", name="Emily Chen")
        account = create_account(session, clock, customer=customer, currency="USD")
        activate(session, clock)
        session.commit()
        path = link(settings, account, clock)
        token_csrf = csrf(anonymous.get(f"{path}/verify").text)
        verify(anonymous, session, settings, path, token_csrf)
        page = anonymous.get(f"{path}/preferences", params={"lang": "en"})
        assert page.status_code == 200
        # Reg F 1006.6(d) asks consent for texts and e-mails: those two are offered.
        assert 'name="consent" value="email"' in page.text
        assert 'name="consent" value="sms"' in page.text
        assert 'name="consent" value="push"' not in page.text

        keep = [("csrf", token_csrf), ("channel", "sms"), ("channel", "email")]
        given = post(anonymous, f"{path}/preferences", [*keep, ("consent", "email")])
        assert given.status_code == 303, given.text  # type: ignore[attr-defined]
        [consent] = _consents(session, customer.id)
        assert (consent.purpose, consent.channel, consent.source) == (
            "electronic",
            "email",
            "portal",
        )
        assert consent.evidence.startswith("portal, link ")
        assert consent.withdrawn_at is None
        shown = anonymous.get(f"{path}/preferences", params={"lang": "en"})
        assert 'value="email" checked' in shown.text

        # Saving again with the box still ticked records nothing twice.
        post(anonymous, f"{path}/preferences", [*keep, ("consent", "email")])
        assert len(_consents(session, customer.id)) == 1
        withdrawn = post(anonymous, f"{path}/preferences", keep)
        assert withdrawn.status_code == 303  # type: ignore[attr-defined]
        [consent] = _consents(session, customer.id)
        assert consent.withdrawn_at is not None

    def test_a_cn_debtor_is_offered_no_consent(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        on(clock, DAY0)
        account = create_account(session, clock)
        activate(session, clock)
        session.commit()
        path = link(settings, account, clock)
        token_csrf = csrf(anonymous.get(f"{path}/verify").text)
        verify(anonymous, session, settings, path, token_csrf)
        page = anonymous.get(f"{path}/preferences")
        assert 'name="consent"' not in page.text
        # A forged box for a channel not offered records nothing.
        post(anonymous, f"{path}/preferences", [("csrf", token_csrf), ("consent", "sms")])
        assert _consents(session, account.customer_id) == []

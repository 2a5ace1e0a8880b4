"""Consent as a record: recorded and withdrawn through the API with kind, scope, evidence and
expiry; the guard counts only the consents in force (an expired or withdrawn one opens nothing)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.contact import repository as contact_repo
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from recoup.models import Account, AuditEvent, Consent
from recoup.privacy import service as privacy_service
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import parse_policy
from tests.api.test_ingest_api import setup_account
from tests.strategy.test_daily_run import AS_OF, POLICY, portfolio


def _customer_id(client: TestClient, ref: str) -> int:
    return int(setup_account(client, ref)["customer_id"])


class TestConsentThroughTheApi:
    def test_recorded_listed_and_withdrawn_with_evidence(
        self, client: TestClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        customer = _customer_id(client, "bnpl-c1")
        given = client.post(
            f"/v1/customers/{customer}/consents",
            json={
                "kind": "time_window",
                "scope": {"from": "21:00", "to": "22:00", "account": "bnpl-c1"},
                "evidence": "call recording r-55, agent 12",
                "expires_at": (clock.now() + dt.timedelta(days=30)).isoformat(),
            },
        )
        assert given.status_code == 201, given.text
        consent = given.json()
        assert consent["kind"] == "time_window"
        assert consent["source"] == "api"
        assert consent["scope"] == {"from": "21:00", "to": "22:00", "account": "bnpl-c1"}
        listed = client.get(f"/v1/customers/{customer}/consents").json()
        assert [c["id"] for c in listed] == [consent["id"]]

        clock.advance(dt.timedelta(hours=1))
        gone = client.post(f"/v1/customers/{customer}/consents/{consent['id']}/withdraw")
        assert gone.status_code == 200, gone.text
        assert gone.json()["withdrawn_at"] is not None
        # Withdrawn, not deleted: the record stays for the export and the regulator.
        again = client.delete(f"/v1/customers/{customer}/consents/{consent['id']}")
        assert again.status_code == 200
        assert again.json()["withdrawn_at"] == gone.json()["withdrawn_at"]
        with sessions() as session:
            actions = list(
                session.execute(
                    select(AuditEvent.action).where(AuditEvent.action.like("consent.%"))
                ).scalars()
            )
        assert actions == ["consent.given", "consent.withdrawn"]

    def test_another_customers_consent_is_not_found(self, client: TestClient) -> None:
        owner, other = _customer_id(client, "bnpl-c2"), _customer_id(client, "bnpl-c3")
        consent = client.post(
            f"/v1/customers/{owner}/consents",
            json={"kind": "electronic", "channel": "sms", "evidence": "sms YES 7781"},
        ).json()
        response = client.delete(f"/v1/customers/{other}/consents/{consent['id']}")
        assert response.status_code == 404
        assert response.json()["error"] == "consent_not_found"

    def test_a_wechat_consent_carries_the_openid_messages_go_to(
        self, client: TestClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        # The opt-in a WeChat message needs (the dispatcher sends to the consent's openid): before
        # it, no consent could name wechat or an openid, so no WeChat message could ever go out.
        customer = _customer_id(client, "bnpl-c5")
        openid = "oX1a2B3c4D5e6F7g8H9i0JkLmN"
        given = client.post(
            f"/v1/customers/{customer}/consents",
            json={
                "kind": "electronic",
                "channel": "wechat",
                "scope": {"openid": openid},
                "evidence": "followed the service account and agreed, OAuth 2026-06-01",
            },
        )
        assert given.status_code == 201, given.text
        with sessions() as session:
            found = contact_repo.wechat_openids(session, [customer], clock.now())
        assert found == {customer: openid}
        on_sms = client.post(
            f"/v1/customers/{customer}/consents",
            json={"kind": "electronic", "channel": "sms", "scope": {"openid": openid},
                  "evidence": "x"},
        )  # fmt: skip
        assert on_sms.status_code == 422
        assert "scope.openid" in on_sms.text
        whatsapp = client.post(
            f"/v1/customers/{customer}/consents",
            json={"kind": "electronic", "channel": "whatsapp", "evidence": "opted in on wa.me"},
        )
        assert whatsapp.status_code == 201, whatsapp.text

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "marketing", "evidence": "x"}, "kind"),
            ({"kind": "electronic", "channel": "fax", "evidence": "x"}, "channel"),
            (
                {
                    "kind": "electronic",
                    "channel": "wechat",
                    "scope": {"openid": "a b"},
                    "evidence": "x",
                },
                "openid",
            ),
            ({"kind": "electronic", "evidence": ""}, "evidence"),
            ({"kind": "electronic", "evidence": "x" * 257}, "evidence"),
            ({"kind": "time_window", "evidence": "call r-1"}, "scope.from"),
            ({"kind": "time_window", "scope": {"from": "25:00"}, "evidence": "x"}, "from"),
            (
                {"kind": "electronic", "evidence": "x", "expires_at": "2020-01-01T00:00:00Z"},
                "expires_at",
            ),
            (
                {"kind": "electronic", "evidence": "x", "scope": {"account": "not-theirs"}},
                "scope.account",
            ),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field(
        self, client: TestClient, body: dict[str, object], field: str
    ) -> None:
        customer = _customer_id(client, "bnpl-c4")
        response = client.post(f"/v1/customers/{customer}/consents", json=body)
        assert response.status_code == 422, response.text
        assert field in response.text


class TestTheGuardCountsOnlyConsentsInForce:
    """Removal caught: dropping the `expires_at` or `withdrawn_at` filter from
    `strategy.repository.electronic_consents` plans the e-mail on a lapsed consent."""

    def _email(self, session: Session, now: dt.datetime, account_id: int) -> dict[str, object]:
        text = (POLICY.parent / "us-wallet.yaml").read_text(encoding="utf-8")
        us_policy = parse_policy(text.split("experiments:")[0], source="us")
        _, contacts = strategy_service.plan(session, AS_OF, us_policy, now=now)
        return contacts.filter(pl.col("account_id") == account_id).row(0, named=True)

    def test_an_expired_consent_opens_nothing(self, session: Session, clock: SettableClock) -> None:
        ids = portfolio(session, clock)
        account = session.get(Account, ids["us_early"])
        assert account is not None
        privacy_service.record_consent(
            session,
            account.customer_id,
            purpose="electronic",
            channel="email",
            evidence="portal checkbox, link 81",
            source="portal",
            expires_at=clock.now() + dt.timedelta(hours=1),
            clock=clock,
        )
        assert self._email(session, clock.now(), ids["us_early"])["status"] == "planned"
        later = self._email(session, clock.now() + dt.timedelta(hours=2), ids["us_early"])
        assert later["status"] == "blocked"
        assert "NO_CONSENT" in later["codes"]

    def test_a_withdrawn_consent_opens_nothing(
        self, session: Session, clock: SettableClock
    ) -> None:
        ids = portfolio(session, clock)
        account = session.get(Account, ids["us_early"])
        assert account is not None
        consent = privacy_service.record_consent(
            session,
            account.customer_id,
            purpose="electronic",
            channel="email",
            evidence="portal checkbox, link 82",
            source="portal",
            clock=clock,
        )
        assert self._email(session, clock.now(), ids["us_early"])["status"] == "planned"
        privacy_service.withdraw_consent(session, consent.id, actor="portal", clock=clock)
        after = self._email(session, clock.now(), ids["us_early"])
        assert after["status"] == "blocked"
        assert "NO_CONSENT" in after["codes"]

    def test_a_consent_for_another_channel_opens_nothing(
        self, session: Session, clock: SettableClock
    ) -> None:
        ids = portfolio(session, clock)
        account = session.get(Account, ids["us_early"])
        assert account is not None
        privacy_service.record_consent(
            session,
            account.customer_id,
            purpose="electronic",
            channel="sms",
            evidence="sms YES 7781",
            source="api",
            clock=clock,
        )
        assert self._email(session, clock.now(), ids["us_early"])["status"] == "blocked"


class TestRecordConsentStaysCompatible:
    def test_the_wrap_up_call_shape_still_records(
        self, session: Session, clock: SettableClock
    ) -> None:
        ids = portfolio(session, clock)
        account = session.get(Account, ids["us_early"])
        assert account is not None
        consent = privacy_service.record_consent(
            session,
            account.customer_id,
            purpose="time_window",
            evidence="call 991, agent ana",
            source="agent",
            scope={"from": "20:00", "to": "21:30"},
            clock=clock,
        )
        assert session.get(Consent, consent.id) is not None
        with pytest.raises(ValidationFailed, match="source"):
            privacy_service.record_consent(
                session,
                account.customer_id,
                purpose="electronic",
                evidence="x",
                source="rumour",
                clock=clock,
            )


class TestOtherCallersShapes:
    """The agent's wrap-up and the replies inbox (other branches of issue 19) call
    `record_consent` with their own names; they are recorded, not refused."""

    def test_the_wrap_ups_hours_and_the_inboxs_source(
        self, session: Session, clock: SettableClock
    ) -> None:
        ids = portfolio(session, clock)
        account = session.get(Account, ids["us_early"])
        assert account is not None
        hours = privacy_service.record_consent(
            session,
            account.customer_id,
            purpose="contact_hours",
            evidence="call wrap-up by staff:li",
            source="staff:li",
            channel="call",
            scope={"from": "20:00", "to": "21:30"},
            expires_at=clock.now() + dt.timedelta(days=90),
            clock=clock,
        )
        assert (hours.source, hours.scope) == ("agent", {"from": "20:00", "to": "21:30"})
        actor = session.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "consent.given")
        ).scalar_one()
        assert actor == "staff:li"
        inbox = privacy_service.record_consent(
            session,
            account.customer_id,
            purpose="electronic",
            evidence="inbound message 12",
            source="replies_inbox",
            channel="sms",
            scope={"recorded_by": "staff:sup"},
            clock=clock,
        )
        assert inbox.source == "replies_inbox"
        with pytest.raises(ValidationFailed, match=r"scope\.to"):
            privacy_service.record_consent(
                session,
                account.customer_id,
                purpose="contact_hours",
                evidence="call",
                source="agent",
                scope={"from": "20:00"},
                clock=clock,
            )

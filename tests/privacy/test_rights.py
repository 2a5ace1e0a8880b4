"""Data-subject rights: export everything, erase or say why not and until when, retention."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from recoup.models import AuditEvent, Customer, CustomerPhone, ErasureStatus
from recoup.privacy import service as privacy_service
from tests.factories import add_bill, create_account, create_customer, pay, shanghai


def settled_customer(
    session: Session, clock: SettableClock, *, jurisdiction: str = "CN"
) -> Customer:
    customer = create_customer(session, clock, jurisdiction=jurisdiction, name="王静")
    account = create_account(session, clock, customer=customer)
    add_bill(session, clock, account, dt.date(2026, 3, 1), 50_000)
    pay(session, clock, account, 50_000, shanghai(dt.date(2026, 3, 2)))
    account.closed_date = dt.date(2026, 3, 2)
    session.flush()
    return customer


class TestExport:
    def test_everything_held_about_a_person_in_one_document(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = settled_customer(session, clock)
        privacy_service.record_consent(
            session,
            customer.id,
            purpose="electronic",
            channel="sms",
            evidence="sms reply YES, message 7781",
            source="portal",
            clock=clock,
        )
        audit_service.log_access(
            session,
            customer_id=customer.id,
            actor="staff:lin",
            kind="reveal",
            fields=["phones"],
            reason="debtor asked us to confirm the number",
            clock=clock,
        )
        doc = privacy_service.export(
            session, customer.id, actor="staff:dpo", reason="access request #12", clock=clock
        )
        assert doc["person"]["name"] == "王静"  # their own data, in clear
        assert doc["person"]["phones"][0]["number"].startswith("+86")
        assert doc["person"]["national_id"] == "110101199003071234"
        assert len(doc["accounts"]) == 1
        assert [b["principal_minor"] for b in doc["bills"]] == [50_000]
        assert [p["amount_minor"] for p in doc["payments"]] == [50_000]
        assert doc["consents"][0]["evidence"] == "sms reply YES, message 7781"
        assert doc["who_used_my_data"][0]["why"] == "debtor asked us to confirm the number"
        assert "customer.revealed" in {e["action"] for e in doc["audit_events"]}
        assert doc["retention"]["years_after_last_activity"] == 5
        # The export itself is on the person's log and the audit ledger.
        again = privacy_service.export(
            session, customer.id, actor="staff:dpo", reason="r", clock=clock
        )
        assert "export" in {d["what"] for d in again["who_used_my_data"]}
        assert "privacy.exported" in {e["action"] for e in again["audit_events"]}

    def test_the_automated_decisions_with_their_reasons(
        self, session: Session, clock: SettableClock
    ) -> None:
        # PIPL art. 24 and 45: what the "my data" page shows about automated decisions is in the
        # export too (catches the export leaving them out).
        from tests.web.test_automated_decisions import scored

        account = scored(session, clock)
        doc = privacy_service.export(
            session, account.customer_id, actor="staff:dpo", reason="access request", clock=clock
        )
        (decided,) = doc["automated_decisions"]
        assert decided["account"] == account.id
        (score,) = decided["scores"]
        assert (score["kind"], score["score"]) == ("p_pay", 0.35)
        assert score["reasons"] == [
            "2 broken promises in 60 days",
            "41 days since the last payment",
            "CN¥339.71 overdue",
        ]
        assert decided["latest_decision"]["decision"] in {"contact", "wait", "pause", "holdout"}


class TestErasure:
    def test_refused_while_an_amount_is_owed(self, session: Session, clock: SettableClock) -> None:
        account = create_account(session, clock)
        add_bill(session, clock, account, dt.date(2026, 5, 1), 30_000)
        request = privacy_service.request_erasure(
            session, account.customer_id, actor="portal", reason="delete me", clock=clock
        )
        assert request.status == ErasureStatus.refused
        assert request.ground is not None
        assert "legal claim" in request.ground
        assert request.not_before is None
        assert session.get(Customer, account.customer_id).name == "李娜"  # type: ignore[union-attr]

    def test_scheduled_while_the_retention_period_runs(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = settled_customer(session, clock, jurisdiction="US")
        request = privacy_service.request_erasure(
            session, customer.id, actor="portal", reason="delete me", clock=clock
        )
        assert request.status == ErasureStatus.scheduled
        # 3 years (Reg F) after the last activity: the record's creation on 2026-06-01, after the
        # last payment.
        assert request.not_before == dt.date(2029, 6, 1)
        assert "1006.100" in (request.ground or "")
        report = privacy_service.run_retention(session, as_of=dt.date(2029, 5, 31), clock=clock)
        assert report.requests_done == 0
        report = privacy_service.run_retention(session, as_of=dt.date(2029, 6, 1), clock=clock)
        assert report.requests_done == 1
        assert request.status == ErasureStatus.done
        assert session.get(Customer, customer.id).name == privacy_service.ERASED_NAME  # type: ignore[union-attr]

    def test_done_at_once_when_nothing_holds_the_data(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = settled_customer(session, clock)
        clock.set(dt.datetime(2032, 1, 1, tzinfo=dt.UTC))
        request = privacy_service.request_erasure(
            session, customer.id, actor="portal", reason="delete me", clock=clock
        )
        assert request.status == ErasureStatus.done
        session.expire_all()
        erased = session.get(Customer, customer.id)
        assert erased is not None
        assert (erased.name, erased.national_id) == (privacy_service.ERASED_NAME, None)
        assert erased.external_ref == f"erased-{customer.id}"
        phones = session.execute(
            select(CustomerPhone).where(CustomerPhone.customer_id == customer.id)
        ).all()
        assert phones == []
        actions = set(session.execute(select(AuditEvent.action)).scalars())
        assert {"privacy.erasure_done", "privacy.erased"} <= actions


class TestRetention:
    def test_closed_and_settled_people_are_erased_when_their_period_ends(
        self, session: Session, clock: SettableClock
    ) -> None:
        done = settled_customer(session, clock)
        owing = create_account(session, clock)
        add_bill(session, clock, owing, dt.date(2026, 3, 1), 10_000)
        owing.closed_date = dt.date(2026, 3, 2)  # closed, but still owed: a claim
        session.flush()
        assert (
            privacy_service.run_retention(session, as_of=dt.date(2031, 5, 31), clock=clock).erased
            == 0
        )
        report = privacy_service.run_retention(session, as_of=dt.date(2031, 6, 1), clock=clock)
        assert report.erased == 1
        assert session.get(Customer, done.id).name == privacy_service.ERASED_NAME  # type: ignore[union-attr]
        assert session.get(Customer, owing.customer_id).name == "李娜"  # type: ignore[union-attr]


class TestConsents:
    def test_consents_carry_evidence_and_can_be_withdrawn(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock)
        with pytest.raises(ValidationFailed, match="evidence"):
            privacy_service.record_consent(
                session,
                customer.id,
                purpose="electronic",
                evidence=" ",
                source="agent",
                clock=clock,
            )
        consent = privacy_service.record_consent(
            session,
            customer.id,
            purpose="time_window",
            evidence="call recording r-55",
            source="agent",
            scope={"from": "21:00", "to": "22:00"},
            clock=clock,
        )
        clock.advance(dt.timedelta(days=1))
        privacy_service.withdraw_consent(session, consent.id, actor="portal", clock=clock)
        assert consent.withdrawn_at == clock.now()
        actions = list(session.execute(select(AuditEvent.action)).scalars())
        assert actions.count("consent.given") == 1
        assert actions.count("consent.withdrawn") == 1

"""A supervisor's approvals: what waits is listed with the policy's bounds beside it, the decision
takes effect, the debtor is told through the outbox in their language, a refusal keeps its
reason, and nobody approves what they proposed themselves.

Removal they catch (tried once): telling the debtor (`contact.service.tell_debtor`) after the
decision."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.arrangements import flows
from recoup.contact import flows as contact_flows
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.kit.errors import Forbidden
from recoup.models import Arrangement, AuditEvent, ContactPlan, CustomerPhone
from tests.arrangements.test_api import staff_client
from tests.arrangements.test_flows import late_account
from tests.contact.test_dispatch import dispatcher, drain, spool, spooled


def settlement(
    session: Session, clock: SettableClock, made_by: str = "staff:agent-7"
) -> Arrangement:
    account = late_account(session, clock)
    deal = flows.settlement(  # 70 % of ¥600: below the policy's 80 %, so it waits
        session, account, amount_minor=42_000, made_by=made_by, channel="agent", clock=clock
    )
    assert deal.status == "awaiting_approval"
    return deal


def answers(session: Session, customer_id: int) -> list[ContactPlan]:
    return list(
        session.scalars(
            select(ContactPlan).where(
                ContactPlan.customer_id == customer_id, ContactPlan.purpose == "service"
            )
        )
    )


class TestApprovals:
    def test_a_waiting_settlement_is_listed_with_the_policys_bounds(
        self, session: Session, clock: SettableClock
    ) -> None:
        deal = settlement(session, clock)
        [waiting] = flows.approvals(session, clock=clock)
        assert waiting.arrangement.id == deal.id
        assert (waiting.owed_minor, waiting.dpd, waiting.asked_share_bps) == (60_000, 10, 7000)
        assert waiting.bounds is not None
        assert (waiting.bounds["min_share_bps"], waiting.bounds["approval_below_bps"]) == (
            6000,
            8000,
        )
        flows.decide_approval(session, deal.id, approve=True, by="staff:sup-1", clock=clock)
        assert flows.approvals(session, clock=clock) == []

    def test_approval_makes_it_active_and_tells_the_debtor_in_their_language(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        deal = settlement(session, clock)
        with pytest.raises(Forbidden):  # four eyes: the maker is not the approver
            flows.decide_approval(session, deal.id, approve=True, by="staff:agent-7", clock=clock)
        flows.decide_approval(session, deal.id, approve=True, by="staff:sup-1", clock=clock)
        assert (deal.status, deal.approved_by) == ("active", "staff:sup-1")
        [told] = answers(session, deal.customer_id)
        assert (told.template, told.channel, told.status) == (
            "settlement_approved",
            "sms",
            "planned",
        )
        session.commit()
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        [sent] = spooled(tmp_path, "sms")
        assert "和解方案已获批准" in str(sent["body"])  # the debtor's language: zh-CN

    def test_a_refusal_keeps_its_reason_and_tells_the_debtor(
        self, session: Session, clock: SettableClock
    ) -> None:
        deal = settlement(session, clock)
        flows.decide_approval(
            session,
            deal.id,
            approve=False,
            by="staff:sup-1",
            clock=clock,
            reason="income does not support a 30 % write-off",
        )
        assert (deal.status, deal.end_reason) == (
            "rejected",
            "income does not support a 30 % write-off",
        )
        [told] = answers(session, deal.customer_id)
        assert told.template == "settlement_refused"
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "arrangement.rejected")
        ).one()
        assert audit.details["reason"] == "income does not support a 30 % write-off"

    def test_a_debtor_opted_out_of_sms_is_told_in_the_app(
        self, session: Session, clock: SettableClock
    ) -> None:
        deal = settlement(session, clock)
        index = session.scalars(
            select(CustomerPhone.number_index).where(CustomerPhone.customer_id == deal.customer_id)
        ).one()
        contact_flows.opt_out_customer(
            session,
            deal.customer_id,
            channel="sms",
            address_index=index,
            source="sms_reply",
            evidence="test",
            clock=clock,
        )
        flows.decide_approval(session, deal.id, approve=True, by="staff:sup-1", clock=clock)
        [told] = answers(session, deal.customer_id)
        assert told.channel == "in_app"


class TestApprovalsApi:
    def test_a_supervisor_lists_and_refuses_with_a_reason_an_agent_cannot(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        agent = staff_client(app, session, clock, "agent-a", Role.agent)
        deal = agent.post(
            f"/v1/accounts/{account.id}/arrangements",
            json={"kind": "settlement", "amount_minor": 40_000, "channel": "agent"},
        ).json()
        assert agent.get("/v1/approvals").status_code == 403
        supervisor = staff_client(app, session, clock, "sup-a", Role.supervisor)
        [waiting] = supervisor.get("/v1/approvals").json()
        assert waiting["arrangement"]["id"] == deal["id"]
        assert waiting["asked_share_bps"] == 6666
        assert waiting["bounds"]["approval_below_bps"] == 8000
        too_long = supervisor.post(
            f"/v1/arrangements/{deal['id']}/reject", json={"reason": "x" * 257}
        )
        assert too_long.status_code == 422
        refused = supervisor.post(
            f"/v1/arrangements/{deal['id']}/reject", json={"reason": "below what we can accept"}
        ).json()
        assert (refused["status"], refused["end_reason"]) == (
            "rejected",
            "below what we can accept",
        )

"""The supervisor's pages: approvals with the policy's bounds (four eyes, a refusal's reason), the
cases inbox and a case (the debtor's words read with a logged view, the due date by the rules, a
reply through the outbox, resolving), the replies inbox and its four actions. Each page and action
is refused to an agent (403) and each action without the form's CSRF field (403).

Removals they catch (each tried once): the approvals route reading its form without `read_form`
(the forged POST went through); the overdue mark (`Due.overdue` always false)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.arrangements import flows as arrangement_flows
from recoup.cases import flows as case_flows
from recoup.contact import flows as contact_flows
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import (
    AgentTask,
    Arrangement,
    Case,
    Consent,
    ContactPlan,
    CustomerPhone,
    DataAccess,
    InboundMessage,
    OptOut,
)
from tests.arrangements.test_flows import DAY0, ONE_DAY, late_account, on
from tests.console.conftest import ConsoleClient


def waiting_settlement(session: Session, clock: SettableClock, made_by: str) -> Arrangement:
    account = late_account(session, clock)
    deal = arrangement_flows.settlement(  # 70 % of ¥600, the policy asks approval below 80 %
        session, account, amount_minor=42_000, made_by=made_by, channel="agent", clock=clock
    )
    session.commit()
    return deal


def answers(session: Session, customer_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ContactPlan.template).where(
                ContactPlan.customer_id == customer_id, ContactPlan.purpose == "service"
            )
        )
    )


class TestApprovals:
    def test_the_policys_bounds_beside_the_ask_and_an_approval_takes_effect(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        deal = waiting_settlement(session, clock, "staff:agent-9")
        console.sign_in(Role.supervisor)
        page = console.get("/console/approvals")
        assert page.status_code == 200
        assert f'id="approval-{deal.id}"' in page.text
        for shown in ("70.0 %", "60.0 %", "80.0 %", "600.00", "420.00", "staff:agent-9"):
            assert shown in page.text  # asked, least share, threshold, owed, amount, proposer
        done = console.post_form(
            f"/console/approvals/{deal.id}/approve", {"reason": ""}, follow_redirects=False
        )
        assert (done.status_code, done.headers["location"]) == (
            303,
            "/console/approvals?done=approved",
        )
        session.refresh(deal)
        assert deal.status == "active"
        assert answers(session, deal.customer_id) == ["settlement_approved"]
        assert f'id="approval-{deal.id}"' not in console.get("/console/approvals").text

    def test_with_htmx_the_card_becomes_the_outcome(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        deal = waiting_settlement(session, clock, "staff:agent-9")
        console.sign_in(Role.supervisor)
        swapped = console.post_form(
            f"/console/approvals/{deal.id}/approve", headers={"HX-Request": "true"}
        )
        assert swapped.status_code == 200
        assert swapped.text.startswith(f'<section class="card handled" id="approval-{deal.id}"')
        assert "The arrangement is active" in swapped.text
        session.refresh(deal)
        assert deal.status == "active"

    def test_nobody_approves_what_they_proposed(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        user = console.add_staff(Role.supervisor)
        deal = waiting_settlement(session, clock, f"staff:{user.username}")
        console.sign_in_as(user.username)
        refused = console.post_form(f"/console/approvals/{deal.id}/approve")
        assert refused.status_code == 403
        assert "cannot approve" in refused.text
        session.refresh(deal)
        assert deal.status == "awaiting_approval"

    def test_a_refusal_needs_its_reason(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        deal = waiting_settlement(session, clock, "staff:agent-9")
        console.sign_in(Role.supervisor)
        missing = console.post_form(f"/console/approvals/{deal.id}/refuse", {"reason": " "})
        assert missing.status_code == 422
        assert "reason: required" in missing.text
        done = console.post_form(
            f"/console/approvals/{deal.id}/refuse",
            {"reason": "the debtor can pay more"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        session.refresh(deal)
        assert (deal.status, deal.end_reason) == ("rejected", "the debtor can pay more")
        assert answers(session, deal.customer_id) == ["settlement_refused"]

    def test_an_agent_gets_403_and_a_post_without_csrf_is_refused(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        deal = waiting_settlement(session, clock, "staff:agent-9")
        console.sign_in(Role.agent)
        assert console.get("/console/approvals").status_code == 403
        assert console.post_form(f"/console/approvals/{deal.id}/approve").status_code == 403
        console.sign_in(Role.supervisor)
        forged = console.post(f"/console/approvals/{deal.id}/approve", data={"reason": ""})
        assert forged.status_code == 403
        session.refresh(deal)
        assert deal.status == "awaiting_approval"


def open_case(session: Session, clock: SettableClock, kind: str = "complaint") -> Case:
    account = late_account(session, clock)
    case = case_flows.open_case(
        session,
        account.customer_id,
        kind=kind,
        reason=case_flows.REASONS[kind][0],
        text="你们一天打了五次电话",
        account_ref=None,
        opened_by="debtor",
        channel="portal",
        clock=clock,
    )
    session.commit()
    return case


class TestCases:
    def test_the_inbox_shows_the_words_the_due_date_and_overdue_and_logs_the_view(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        case = open_case(session, clock)
        on(clock, DAY0 + 16 * ONE_DAY)  # a Chinese complaint is answered within 15 days
        user = console.sign_in(Role.supervisor)
        page = console.get("/console/cases", params={"kind": "complaint"})
        assert page.status_code == 200
        row = page.text.split(f'id="case-{case.id}"')[1].split("</tr>")[0]
        assert "你们一天打了五次电话" in row
        assert row.startswith(' class="overdue"')
        assert '<span class="badge bad">overdue</span>' in row
        assert "cn.deadline.complaint" in row
        assert "Jul 5, 2026" in row  # opened June 20, plus 15 days
        assert f'id="case-{case.id}"' not in console.get("/console/cases?kind=dispute").text
        logged = session.scalars(
            select(DataAccess).where(DataAccess.actor == f"staff:{user.username}")
        ).all()
        assert [(a.customer_id, a.fields) for a in logged] == [(case.customer_id, ["cases.text"])]
        assert console.get("/console/cases?kind=refund").status_code == 422

    def test_a_case_is_answered_through_the_outbox_and_resolved(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        case = open_case(session, clock, "dispute")
        console.sign_in(Role.supervisor)
        page = console.get(f"/console/cases/{case.id}")
        assert page.status_code == 200
        assert "你们一天打了五次电话" in page.text
        assert "base.deadline.dispute" in page.text
        sent = console.post_form(
            f"/console/cases/{case.id}/reply", {"template": "case_received"}, follow_redirects=False
        )
        assert sent.status_code == 303
        assert answers(session, case.customer_id) == ["case_received"]
        again = console.post_form(f"/console/cases/{case.id}/reply", {"template": "case_received"})
        assert again.status_code == 409  # once a day, said beside the form
        assert 'id="error-template"' in again.text
        empty = console.post_form(f"/console/cases/{case.id}/resolve", {"resolution": ""})
        assert empty.status_code == 422
        done = console.post_form(
            f"/console/cases/{case.id}/resolve",
            {"resolution": "verified: the amount is right"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        session.refresh(case)
        assert (case.status, case.resolution) == ("resolved", "verified: the amount is right")

    def test_an_agent_gets_403_and_a_post_without_csrf_is_refused(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        case = open_case(session, clock)
        console.sign_in(Role.agent)
        assert console.get("/console/cases").status_code == 403
        assert console.get(f"/console/cases/{case.id}").status_code == 403
        assert (
            console.post_form(f"/console/cases/{case.id}/resolve", {"resolution": "x"}).status_code
            == 403
        )
        console.sign_in(Role.supervisor)
        forged = console.post(f"/console/cases/{case.id}/resolve", data={"resolution": "x"})
        assert forged.status_code == 403
        session.refresh(case)
        assert case.status == "open"
        assert console.get("/console/cases/999999").status_code == 404


def a_reply(session: Session, clock: SettableClock, body: str) -> tuple[int, int]:
    """(the reply task's id, the customer) for an SMS reply no rule understood."""
    account = late_account(session, clock)
    number = session.scalars(
        select(CustomerPhone.number).where(CustomerPhone.customer_id == account.customer_id)
    ).first()
    assert number is not None
    contact_flows.receive_sms(
        session,
        provider="twilio",
        provider_id=f"SM-{body}",
        from_number=number,
        body=body,
        region="CN",
        clock=clock,
    )
    task = session.scalars(
        select(AgentTask).where(AgentTask.account_id == account.id, AgentTask.queue == "replies")
    ).one()
    session.commit()
    return task.id, account.customer_id


def task_status(session: Session, task_id: int) -> str:
    session.expire_all()
    task = session.get(AgentTask, task_id)
    assert task is not None
    return task.status


class TestReplies:
    @pytest.mark.parametrize("action", ["case", "consent", "opt_out", "done"])
    def test_each_action_does_its_work_and_closes_the_reply(
        self, action: str, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        task_id, customer_id = a_reply(session, clock, "这个月实在还不上，能不能缓一缓")
        console.sign_in(Role.supervisor)
        page = console.get("/console/replies")
        assert page.status_code == 200
        assert "这个月实在还不上，能不能缓一缓" in page.text
        form = {"action": action, "case": "hardship:income_drop"}
        done = console.post_form(f"/console/replies/{task_id}", form, follow_redirects=False)
        assert (done.status_code, done.headers["location"]) == (
            303,
            f"/console/replies?done={action}",
        )
        assert task_status(session, task_id) == "done"
        made = {
            "case": session.scalars(select(Case.text).where(Case.customer_id == customer_id)).all(),
            "consent": session.scalars(
                select(Consent.evidence).where(Consent.customer_id == customer_id)
            ).all(),
            "opt_out": session.scalars(
                select(OptOut.source).where(OptOut.customer_id == customer_id)
            ).all(),
        }
        expected = {
            "case": ["这个月实在还不上，能不能缓一缓"],
            "consent": [f"inbound message {_message_id(session, customer_id)}"],
            "opt_out": ["replies_inbox"],
        }
        for name, rows in made.items():
            assert rows == (expected[name] if name == action else [])
        assert "这个月实在还不上" not in console.get("/console/replies").text

    def test_a_bad_case_choice_is_named_and_the_reply_stays_open(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        task_id, _ = a_reply(session, clock, "不是我借的")
        console.sign_in(Role.supervisor)
        bad = console.post_form(
            f"/console/replies/{task_id}", {"action": "case", "case": "dispute:rude"}
        )
        assert bad.status_code == 422
        assert "case: choose a kind and reason" in bad.text
        assert task_status(session, task_id) == "open"

    def test_an_agent_gets_403_and_a_post_without_csrf_is_refused(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        task_id, _ = a_reply(session, clock, "你好")
        console.sign_in(Role.agent)
        assert console.get("/console/replies").status_code == 403
        assert (
            console.post_form(f"/console/replies/{task_id}", {"action": "done"}).status_code == 403
        )
        console.sign_in(Role.supervisor)
        forged = console.post(f"/console/replies/{task_id}", data={"action": "done"})
        assert forged.status_code == 403
        assert task_status(session, task_id) == "open"


def _message_id(session: Session, customer_id: int) -> int:
    found = session.scalars(
        select(InboundMessage.id).where(InboundMessage.customer_id == customer_id)
    ).one()
    return int(found)

"""The cases inbox: each case's answer deadline by the debtor's jurisdiction's rule pack, overdue
marked; the debtor's words read only with a data-access log entry; replies to the debtor through
the outbox; resolving closes the case's tasks."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.cases import flows
from recoup.compliance.packs import PackError, parse_pack
from recoup.contact.service import AlreadyAnswered
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import AgentTask, Case, ContactPlan, DataAccess
from tests.arrangements.test_api import staff_client
from tests.arrangements.test_flows import DAY0, ONE_DAY, late_account, on
from tests.factories import create_account, create_customer


def open_case(session: Session, clock: SettableClock, customer_id: int, kind: str) -> Case:
    reason = flows.REASONS[kind][0]
    return flows.open_case(
        session,
        customer_id,
        kind=kind,
        reason=reason,
        text="我没有借过这笔钱" if kind == "dispute" else "你们每天打五次电话",
        account_ref=None,
        opened_by="debtor",
        channel="portal",
        clock=clock,
    )


class TestDeadlines:
    def test_each_kind_takes_its_jurisdictions_rule_else_the_house_default(
        self, session: Session, clock: SettableClock
    ) -> None:
        on(clock, DAY0)
        china = create_account(session, clock).customer_id
        britain = create_account(
            session, clock, customer=create_customer(session, clock, jurisdiction="GB")
        ).customer_id
        america = create_account(
            session,
            clock,
            customer=create_customer(session, clock, jurisdiction="US"),
            currency="USD",
        ).customer_id
        cases = [
            open_case(session, clock, china, "complaint"),
            open_case(session, clock, china, "dispute"),
            open_case(session, clock, britain, "complaint"),
            open_case(session, clock, america, "dispute"),
            open_case(session, clock, america, "hardship"),
        ]
        listed = {
            c.case.id: c
            for c in flows.inbox(session, kind=None, status=None, clock=clock, actor="staff:s")
        }
        got = [(listed[c.id].due.rule, listed[c.id].due.date - DAY0) for c in cases]
        assert got == [
            ("cn.deadline.complaint", 15 * ONE_DAY),
            ("base.deadline.dispute", 30 * ONE_DAY),
            ("gb.deadline.complaint", 56 * ONE_DAY),
            ("us.deadline.dispute", 30 * ONE_DAY),
            ("base.deadline.hardship", 14 * ONE_DAY),
        ]
        assert not any(c.due.overdue for c in listed.values())

    def test_an_open_case_past_its_date_is_overdue_and_a_resolved_one_is_not(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        late = open_case(session, clock, account.customer_id, "complaint")
        answered = open_case(session, clock, account.customer_id, "complaint")
        flows.resolve_case(session, answered.id, resolution="apologised", by="staff:s", clock=clock)
        on(clock, DAY0 + 15 * ONE_DAY)
        assert [
            c.due.overdue
            for c in flows.inbox(
                session, kind="complaint", status=None, clock=clock, actor="staff:s"
            )
        ] == [False, False]
        on(clock, DAY0 + 16 * ONE_DAY)
        due = {
            c.case.id: c.due.overdue
            for c in flows.inbox(
                session, kind="complaint", status=None, clock=clock, actor="staff:s"
            )
        }
        assert due == {late.id: True, answered.id: False}

    def test_a_pack_deadline_is_validated_naming_the_field(self) -> None:
        pack = {
            "pack": "XX",
            "version": "1",
            "name": "test",
            "jurisdictions": ["XX"],
            "rules": [],
            "deadlines": [
                {
                    "id": "xx.d",
                    "case": "dispute",
                    "days": 0,
                    "title": "t",
                    "citation": "c",
                    "confidence": "P",
                }
            ],
        }
        with pytest.raises(PackError, match=r"deadlines\[0\] \(xx.d\): days must be"):
            parse_pack(pack, source="test.yaml")
        pack["deadlines"][0].update(days=10, case="refund")  # type: ignore[index]
        with pytest.raises(PackError, match="case must be one of"):
            parse_pack(pack, source="test.yaml")


class TestInbox:
    def test_filters_by_kind_and_status_and_logs_whose_words_were_read(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        dispute = open_case(session, clock, account.customer_id, "dispute")
        complaint = open_case(session, clock, account.customer_id, "complaint")
        flows.resolve_case(session, complaint.id, resolution="answered", by="staff:s", clock=clock)
        disputes = flows.inbox(session, kind="dispute", status=None, clock=clock, actor="staff:sup")
        assert [c.case.id for c in disputes] == [dispute.id]
        assert disputes[0].case.text == "我没有借过这笔钱"
        resolved = flows.inbox(
            session, kind=None, status="resolved", clock=clock, actor="staff:sup"
        )
        assert [c.case.id for c in resolved] == [complaint.id]
        logged = session.scalars(
            select(DataAccess).where(DataAccess.customer_id == account.customer_id)
        ).all()
        assert [(a.actor, a.kind, a.fields, a.reason) for a in logged] == [
            ("staff:sup", "view", ["cases.text"], "cases inbox")
        ] * 2
        with pytest.raises(flows.ValidationFailed):
            flows.inbox(session, kind="refund", status=None, clock=clock, actor="staff:sup")

    def test_a_reply_goes_through_the_outbox_once_a_day(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        case = open_case(session, clock, account.customer_id, "complaint")
        contact = flows.reply(session, case.id, template="case_received", by="staff:s", clock=clock)
        assert (contact.purpose, contact.template, contact.channel, contact.account_id) == (
            "service",
            "case_received",
            "sms",
            account.id,
        )
        with pytest.raises(AlreadyAnswered):
            flows.reply(session, case.id, template="case_received", by="staff:s", clock=clock)
        with pytest.raises(flows.ValidationFailed):
            flows.reply(session, case.id, template="early_reminder", by="staff:s", clock=clock)

    def test_resolving_closes_the_cases_tasks(self, session: Session, clock: SettableClock) -> None:
        account = late_account(session, clock)
        case = open_case(session, clock, account.customer_id, "hardship")
        task = session.scalars(
            select(AgentTask).where(AgentTask.source == "case", AgentTask.subject_id == case.id)
        ).one()
        assert task.status == "open"
        flows.resolve_case(session, case.id, resolution="plan offered", by="staff:s", clock=clock)
        session.refresh(task)
        assert task.status == "done"


class TestCasesApi:
    def test_the_inbox_and_a_reply_need_cases_resolve(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        case = open_case(session, clock, account.customer_id, "dispute")
        agent = staff_client(app, session, clock, "agent-c", Role.agent)
        assert agent.get("/v1/cases").status_code == 403
        assert (
            agent.post(f"/v1/cases/{case.id}/reply", json={"template": "case_received"}).status_code
            == 403
        )
        supervisor = staff_client(app, session, clock, "sup-c", Role.supervisor)
        [listed] = supervisor.get("/v1/cases", params={"kind": "dispute"}).json()
        assert listed["case"]["id"] == case.id
        assert "text" not in listed["case"]  # the words are read in the console, logged
        assert (listed["due"]["date"], listed["due"]["rule"]) == (
            (DAY0 + 30 * ONE_DAY).isoformat(),
            "base.deadline.dispute",
        )
        assert supervisor.get("/v1/cases", params={"kind": "refund"}).status_code == 422
        sent = supervisor.post(f"/v1/cases/{case.id}/reply", json={"template": "case_answered"})
        assert sent.status_code == 201, sent.text
        contact = session.get(ContactPlan, sent.json()["contact_id"])
        assert contact is not None
        assert contact.template == "case_answered"
        missing = supervisor.post("/v1/cases/999999/reply", json={"template": "case_answered"})
        assert missing.status_code == 404

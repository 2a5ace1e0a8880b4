"""The replies inbox: the debtors' free-text replies, newest first, read with a data-access log
entry, and handled once by making a case, recording consent, opting out or marking done; each
action closes the reply's task.

Removals they catch (each tried once): the inbox's data-access log entries; closing the task
after an action (`agents_service.done`)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.contact import flows as contact_flows
from recoup.contact import replies
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.kit.errors import NotFound, ValidationFailed
from recoup.models import (
    Account,
    AgentTask,
    Case,
    Consent,
    ContactPlan,
    CustomerPhone,
    DataAccess,
    OptOut,
)
from tests.arrangements.test_api import staff_client
from tests.arrangements.test_flows import late_account


def reply_from(session: Session, clock: SettableClock, account: Account, body: str, n: int) -> int:
    number = session.scalars(
        select(CustomerPhone.number).where(CustomerPhone.customer_id == account.customer_id)
    ).first()
    assert number is not None
    got = contact_flows.receive_sms(
        session,
        provider="twilio",
        provider_id=f"SMin{n:04d}",
        from_number=number,
        body=body,
        region="CN",
        clock=clock,
    )
    assert got.intent == "reply"
    return got.message_id


def task_of(session: Session, account: Account) -> AgentTask:
    return session.scalars(
        select(AgentTask).where(AgentTask.account_id == account.id, AgentTask.queue == "replies")
    ).one()


class TestRepliesInbox:
    def test_newest_first_with_the_words_and_a_logged_view(
        self, session: Session, clock: SettableClock
    ) -> None:
        older = late_account(session, clock)
        reply_from(session, clock, older, "我下周发工资后还", 1)
        clock.advance(dt.timedelta(minutes=5))
        newer = late_account(session, clock)
        reply_from(session, clock, newer, "这不是我的账户", 2)
        clock.advance(dt.timedelta(minutes=5))
        reply_from(session, clock, newer, "请不要再打电话了", 3)  # joins the day's task
        listed = replies.inbox(session, actor="staff:sup", clock=clock)
        assert [[m.body for m in r.messages] for r in listed] == [
            ["请不要再打电话了", "这不是我的账户"],
            ["我下周发工资后还"],
        ]
        logged = session.scalars(
            select(DataAccess.customer_id).where(DataAccess.actor == "staff:sup")
        )
        assert sorted(logged) == sorted([older.customer_id, newer.customer_id])

    def test_make_a_case_with_the_debtors_words(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        message_id = reply_from(session, clock, account, "这笔钱我已经还过了", 1)
        task = task_of(session, account)
        with pytest.raises(ValidationFailed):
            replies.handle(session, task.id, "case", by="staff:sup", clock=clock)
        made = replies.handle(
            session,
            task.id,
            "case",
            by="staff:sup",
            clock=clock,
            kind="dispute",
            reason="already_paid",
        )
        case = session.get(Case, made["case_id"])
        assert case is not None
        assert (case.kind, case.reason, case.text, case.channel) == (
            "dispute",
            "already_paid",
            "这笔钱我已经还过了",
            "sms",
        )
        assert made["message_id"] == message_id
        session.refresh(task)
        assert task.status == "done"
        with pytest.raises(replies.NotOpen):
            replies.handle(session, task.id, "done", by="staff:sup", clock=clock)

    def test_record_consent_with_the_message_as_evidence(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        message_id = reply_from(session, clock, account, "可以，短信联系我就好", 1)
        task = task_of(session, account)
        made = replies.handle(session, task.id, "consent", by="staff:sup", clock=clock)
        consent = session.get(Consent, made["consent_id"])
        assert consent is not None
        assert (consent.purpose, consent.channel, consent.evidence, consent.source) == (
            "electronic",
            "sms",
            f"inbound message {message_id}",
            "replies_inbox",
        )
        session.refresh(task)
        assert task.status == "done"

    def test_opt_out_the_address_the_reply_came_from(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        reply_from(session, clock, account, "别再发短信给我", 1)  # not a keyword: a person reads it
        task = task_of(session, account)
        replies.handle(session, task.id, "opt_out", by="staff:sup", clock=clock)
        [opt_out] = session.scalars(
            select(OptOut).where(OptOut.customer_id == account.customer_id)
        ).all()
        index = session.scalars(
            select(CustomerPhone.number_index).where(
                CustomerPhone.customer_id == account.customer_id
            )
        ).first()
        assert (opt_out.channel, opt_out.address_index, opt_out.source) == (
            "sms",
            index,
            "replies_inbox",
        )
        confirmations = session.scalars(
            select(ContactPlan.channel).where(
                ContactPlan.customer_id == account.customer_id,
                ContactPlan.template == "opt_out_confirmation",
            )
        ).all()
        assert confirmations == ["sms"]  # the one message an opt-out earns, as for STOP
        session.refresh(task)
        assert task.status == "done"
        assert replies.inbox(session, actor="staff:sup", clock=clock) == []

    def test_only_a_reply_task_is_handled(self, session: Session, clock: SettableClock) -> None:
        account = late_account(session, clock)
        contact_flows.agents_service.open_tasks(
            session,
            [
                {
                    "account_id": account.id,
                    "as_of_date": clock.now().date(),
                    "queue": "calls",
                    "priority": 1.0,
                    "source": None,
                    "subject_id": None,
                    "created_at": clock.now(),
                }
            ],
        )
        other = session.scalars(select(AgentTask).where(AgentTask.queue == "calls")).one()
        with pytest.raises(NotFound):
            replies.handle(session, other.id, "done", by="staff:sup", clock=clock)
        with pytest.raises(ValidationFailed):
            replies.handle(session, other.id, "forward", by="staff:sup", clock=clock)


class TestRepliesApi:
    def test_the_inbox_and_its_actions_need_replies_handle(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        reply_from(session, clock, account, "我想分期还款", 1)
        task = task_of(session, account)
        agent = staff_client(app, session, clock, "agent-r", Role.agent)
        assert agent.get("/v1/replies").status_code == 403
        assert agent.post(f"/v1/replies/{task.id}", json={"action": "done"}).status_code == 403
        supervisor = staff_client(app, session, clock, "sup-r", Role.supervisor)
        [listed] = supervisor.get("/v1/replies").json()
        assert (listed["task_id"], listed["messages"][0]["body"]) == (task.id, "我想分期还款")
        bad = supervisor.post(f"/v1/replies/{task.id}", json={"action": "case", "kind": "dispute"})
        assert bad.status_code == 422
        made = supervisor.post(
            f"/v1/replies/{task.id}",
            json={"action": "case", "kind": "hardship", "reason": "income_drop"},
        )
        assert made.status_code == 200, made.text
        assert made.json()["case_id"] is not None
        again = supervisor.post(f"/v1/replies/{task.id}", json={"action": "done"})
        assert again.status_code == 409
        assert supervisor.get("/v1/replies").json() == []

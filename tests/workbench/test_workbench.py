"""The agent's workbench: "next account" with a lock, the guard's answer, the wrap-up through the
owners' flows, reassignment, notes, and every step of a task's life an event."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.cases import flows as case_flows
from recoup.config import Settings
from recoup.delinquency import service as delinquency_service
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import (
    Account,
    AccountNote,
    AgentTask,
    AgentTaskEvent,
    Arrangement,
    Case,
    Consent,
    StaffUser,
)
from recoup.privacy import service as privacy_service
from recoup.workbench import flows
from tests.arrangements.test_flows import activate
from tests.contact.test_dispatch import AS_OF, late_account
from tests.factories import shanghai

PASSWORD = "a long agent password 1"


def staff(session: Session, clock: SettableClock, username: str, role: Role) -> StaffUser:
    return identity_service.create_staff(
        session,
        username=username,
        display_name=username.title(),
        role=role,
        password=PASSWORD,
        clock=clock,
    )


def signed_in(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
    response = client.post("/v1/auth/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


def queue(session: Session, clock: SettableClock, n: int) -> list[Account]:
    """`n` CN accounts 10 days late, queued today by the daily run's path (`queue_day`), the
    first with the highest priority."""
    clock.set(shanghai(AS_OF, 10))
    accounts = [late_account(session, clock) for _ in range(n)]
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    agents_service.queue_day(
        session,
        pl.DataFrame(
            {
                "account_id": [a.id for a in accounts],
                "queue": ["mid_late"] * n,
                "priority": [float(100 - i) for i in range(n)],
            }
        ),
        day=AS_OF,
        now=clock.now(),
    )
    session.commit()
    return accounts


def events(session: Session, task_id: int) -> list[tuple[str, str]]:
    session.expire_all()
    e = AgentTaskEvent
    return [
        (r.kind, r.actor)
        for r in session.scalars(select(e).where(e.task_id == task_id).order_by(e.id))
    ]


def desk(settings: Settings) -> flows.Desk:
    return flows.Desk.from_settings(settings, "test")


class TestNextAccount:
    def test_two_agents_get_different_accounts_highest_priority_first_and_keep_theirs(
        self, session: Session, clock: SettableClock, settings: Settings
    ) -> None:
        first, second, _third = queue(session, clock, 3)
        li = staff(session, clock, "li", Role.agent)
        wang = staff(session, clock, "wang", Role.agent)
        a = flows.take_next(session, li.id, actor="staff:li", desk=desk(settings), clock=clock)
        b = flows.take_next(session, wang.id, actor="staff:wang", desk=desk(settings), clock=clock)
        assert a.task is not None
        assert b.task is not None
        assert (a.task.account_id, b.task.account_id) == (first.id, second.id)
        again = flows.take_next(session, li.id, actor="staff:li", desk=desk(settings), clock=clock)
        assert again.already_held
        assert again.task is not None
        assert again.task.id == a.task.id
        assert events(session, a.task.id) == [("assigned", "daily run"), ("taken", "staff:li")]

    def test_a_lock_runs_out_and_another_agent_takes_the_account(
        self, session: Session, clock: SettableClock, settings: Settings
    ) -> None:
        """Catches a claim without a lock expiry (`_free`'s `lock_until < now`): the account an
        agent walked away from would never be worked again."""
        [only] = queue(session, clock, 1)
        li = staff(session, clock, "li", Role.agent)
        wang = staff(session, clock, "wang", Role.agent)
        a = flows.take_next(session, li.id, actor="staff:li", desk=desk(settings), clock=clock)
        assert a.task is not None
        early = flows.take_next(
            session, wang.id, actor="staff:wang", desk=desk(settings), clock=clock
        )
        assert early.task is None
        clock.advance(agents_service.LOCK + dt.timedelta(minutes=1))
        late = flows.take_next(
            session, wang.id, actor="staff:wang", desk=desk(settings), clock=clock
        )
        assert late.task is not None
        assert late.task.account_id == only.id
        assert events(session, a.task.id)[-2:] == [("released", "lock"), ("taken", "staff:wang")]

    def test_accounts_the_guard_refuses_now_are_passed_over(
        self, session: Session, clock: SettableClock, settings: Settings
    ) -> None:
        """At 22:30 in Shanghai no call may be placed: nothing is handed out and both accounts stay
        in the queue; at 9:00 the next morning (the same queue, assigned to the agent) the first is
        given. Catches `take_next` ignoring `callable_now`."""
        accounts = queue(session, clock, 2)
        li = staff(session, clock, "li", Role.agent)
        clock.set(shanghai(AS_OF, 22) + dt.timedelta(minutes=30))
        night = flows.take_next(session, li.id, actor="staff:li", desk=desk(settings), clock=clock)
        assert (night.task, night.skipped) == (None, 2)
        view = flows.account_view(session, accounts[0].id, desk=desk(settings), clock=clock)
        assert not view.call.allowed
        assert any(r.endswith(":OUTSIDE_HOURS") for r in view.call.reasons)
        assert view.next_call is not None
        assert view.next_call.debtor.date() == AS_OF + dt.timedelta(days=1)
        assert str(view.next_call.debtor.tzinfo) == "Asia/Shanghai"
        clock.set(shanghai(AS_OF, 11))
        day = flows.take_next(session, li.id, actor="staff:li", desk=desk(settings), clock=clock)
        assert day.task is not None
        assert day.task.account_id == accounts[0].id

    def test_a_task_given_to_an_agent_goes_to_that_agent_first_and_to_nobody_else(
        self, session: Session, clock: SettableClock, settings: Settings
    ) -> None:
        _first, second = queue(session, clock, 2)
        li = staff(session, clock, "li", Role.agent)
        wang = staff(session, clock, "wang", Role.agent)
        boss = staff(session, clock, "boss", Role.supervisor)
        [task] = list(agents_service.of_account(session, second.id))
        flows.reassign(session, task.id, wang.id, actor=f"staff:{boss.username}", clock=clock)
        a = flows.take_next(session, li.id, actor="staff:li", desk=desk(settings), clock=clock)
        assert a.task is not None
        assert a.task.account_id != second.id
        agents_service.wrap_up(
            session, a.task.id, li.id, clock.now(), outcome="no_answer", actor="li"
        )
        nothing = flows.take_next(
            session, li.id, actor="staff:li", desk=desk(settings), clock=clock
        )
        assert nothing.task is None  # the other one is Wang's
        b = flows.take_next(session, wang.id, actor="staff:wang", desk=desk(settings), clock=clock)
        assert b.task is not None
        assert b.task.id == task.id
        assert ("reassigned", "staff:boss") in events(session, task.id)
        with pytest.raises(Exception, match="not a staff user who works queues"):
            flows.reassign(session, task.id, 999_999, actor="staff:boss", clock=clock)


class TestDailyRunEvents:
    def test_queued_done_and_expired_are_events_written_set_based(
        self, session: Session, clock: SettableClock
    ) -> None:
        accounts = queue(session, clock, 3)
        ids = [t.id for a in accounts for t in agents_service.of_account(session, a.id)]
        agents_service.done(session, ids[:1], now=clock.now(), actor="simulation")
        next_day = AS_OF + dt.timedelta(days=1)
        assert agents_service.expire_stale(session, next_day, now=clock.now()) == 2
        session.commit()
        assert [k for k, _ in events(session, ids[0])] == ["assigned", "done"]
        assert [k for k, _ in events(session, ids[1])] == ["assigned", "expired"]
        # Once: a second run of the day finds nothing open, and writes no event.
        assert agents_service.expire_stale(session, next_day, now=clock.now()) == 0
        assert [k for k, _ in events(session, ids[2])] == ["assigned", "expired"]

    def test_a_call_not_made_on_its_day_expires_with_the_queues_a_call_back_stays(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The workbench offers a strategy call's task on its day only: left open it would stay
        open for ever. Catches the call source taken out of `expire_before` (checked: the call
        stays open)."""
        [account] = queue(session, clock, 1)
        made = agents_service.open_tasks(
            session,
            [
                {"account_id": account.id, "as_of_date": AS_OF, "queue": "calls",
                 "priority": 1.0, "source": "call", "subject_id": 1, "created_at": clock.now()},
                {"account_id": account.id, "as_of_date": AS_OF, "queue": "callbacks",
                 "priority": 1.0, "source": "callback", "subject_id": 2, "created_at": clock.now()},
            ],
        )  # fmt: skip
        assert made == 2
        next_day = AS_OF + dt.timedelta(days=1)
        assert agents_service.expire_stale(session, next_day, now=clock.now()) == 2
        left = {t.source: t.status for t in agents_service.of_account(session, account.id)}
        assert left == {None: "expired", "call": "expired", "callback": "open"}


class TestWrapUpThroughTheApi:
    @pytest.fixture
    def li(self, app: FastAPI, session: Session, clock: SettableClock) -> TestClient:
        clock.set(shanghai(AS_OF, 10))  # sessions expire when idle: signed in at the test's time
        staff(session, clock, "li", Role.agent)
        session.commit()
        return signed_in(app, "li")

    def test_a_promise_goes_through_the_arrangements_flow_and_the_account_leaves_the_queue(
        self, session: Session, clock: SettableClock, li: TestClient
    ) -> None:
        first, second = queue(session, clock, 2)
        activate(session, clock)  # a policy offering promises
        session.commit()
        taken = li.post("/v1/agent-tasks/next")
        assert taken.status_code == 200, taken.text
        task = taken.json()["task"]
        assert task["account_id"] == first.id
        assert task["taken_by"] is not None
        check = li.get(f"/v1/accounts/{first.id}/call-check")
        assert check.status_code == 200
        assert check.json()["allowed"] is True
        promise = {"outcome": "promise", "amount_minor": 50_000, "date": "2026-06-25"}
        done = li.post(f"/v1/agent-tasks/{task['id']}/wrap-up", json=promise)
        assert done.status_code == 200, done.text
        session.expire_all()
        arrangement = session.get(Arrangement, done.json()["arrangement_id"])
        assert arrangement is not None
        assert (arrangement.kind, arrangement.channel, arrangement.made_by) == (
            "promise",
            "agent",
            "staff:li",
        )
        row = session.get(AgentTask, task["id"])
        assert row is not None
        assert (row.status, row.outcome) == ("done", "promise")
        life = li.get(f"/v1/agent-tasks/{task['id']}/events").json()
        assert [e["kind"] for e in life] == ["assigned", "taken", "done"]
        assert life[-1]["detail"]["outcome"] == "promise"
        after = li.post("/v1/agent-tasks/next").json()
        assert after["task"]["account_id"] == second.id

    def test_a_promise_outside_the_bounds_is_a_422_and_closes_nothing(
        self, session: Session, clock: SettableClock, li: TestClient
    ) -> None:
        queue(session, clock, 1)
        activate(session, clock)
        session.commit()
        task = li.post("/v1/agent-tasks/next").json()["task"]
        late = {"outcome": "promise", "amount_minor": 50_000, "date": "2026-09-25"}
        refused = li.post(f"/v1/agent-tasks/{task['id']}/wrap-up", json=late)
        assert refused.status_code == 422, refused.text
        missing = li.post(f"/v1/agent-tasks/{task['id']}/wrap-up", json={"outcome": "promise"})
        assert missing.status_code == 422
        assert "amount_minor" in missing.text
        session.expire_all()
        row = session.get(AgentTask, task["id"])
        assert row is not None
        assert row.status == "open"

    def test_a_dispute_opens_a_case_with_the_debtors_words(
        self, session: Session, clock: SettableClock, li: TestClient
    ) -> None:
        [account] = queue(session, clock, 1)
        task = li.post("/v1/agent-tasks/next").json()["task"]
        words = "我没有买过这个东西"
        body = {"outcome": "dispute", "reason": "not_mine", "words": words}
        done = li.post(f"/v1/agent-tasks/{task['id']}/wrap-up", json=body)
        assert done.status_code == 200, done.text
        session.expire_all()
        case = session.get(Case, done.json()["case_id"])
        assert case is not None
        assert (case.kind, case.text, case.channel) == (
            "dispute",
            words,
            "agent",
        )
        assert case.account_id == account.id

    def test_a_review_asked_for_on_the_call_is_the_portals_review_case(
        self, session: Session, clock: SettableClock, li: TestClient
    ) -> None:
        # PIPL art. 24 by phone: the same review case the portal's form opens (catches the
        # outcome recorded without a case).
        [account] = queue(session, clock, 1)
        task = li.post("/v1/agent-tasks/next").json()["task"]
        body = {"outcome": "review", "words": "我想让人工看一下为什么一直发短信给我"}
        done = li.post(f"/v1/agent-tasks/{task['id']}/wrap-up", json=body)
        assert done.status_code == 200, done.text
        session.expire_all()
        case = session.get(Case, done.json()["case_id"])
        assert case is not None
        assert (case.kind, case.reason, case.channel, case.status) == (
            "review",
            "automated_decision",
            "agent",
            "open",
        )
        assert case.account_id == account.id
        assert case.text == body["words"]

    def test_call_back_later_is_a_task_for_that_moment_for_the_same_agent(
        self, session: Session, clock: SettableClock, li: TestClient
    ) -> None:
        [account] = queue(session, clock, 1)
        task = li.post("/v1/agent-tasks/next").json()["task"]
        at = (clock.now() + dt.timedelta(minutes=20)).isoformat()
        done = li.post(
            f"/v1/agent-tasks/{task['id']}/wrap-up", json={"outcome": "callback", "call_at": at}
        )
        assert done.status_code == 200, done.text
        early = li.post("/v1/agent-tasks/next")
        assert early.json()["task"] is None, early.text  # not before its moment
        clock.advance(dt.timedelta(minutes=21))  # within the sign-in's idle time
        back = li.post("/v1/agent-tasks/next").json()["task"]
        assert back is not None
        assert (back["account_id"], back["source"], back["queue"]) == (
            account.id,
            "callback",
            "callbacks",
        )
        past = li.post(
            f"/v1/agent-tasks/{back['id']}/wrap-up",
            json={"outcome": "callback", "call_at": "2026-01-01T10:00:00+08:00"},
        )
        assert past.status_code == 422
        assert "call_at" in past.text

    def test_consent_to_other_hours_is_recorded_with_its_evidence_and_expiry(
        self, session: Session, clock: SettableClock, li: TestClient
    ) -> None:
        [account] = queue(session, clock, 1)
        task = li.post("/v1/agent-tasks/next").json()["task"]
        body = {
            "outcome": "consent",
            "hours_from": "20:00",
            "hours_to": "21:30",
            "consent_until": "2026-09-30",
        }
        done = li.post(f"/v1/agent-tasks/{task['id']}/wrap-up", json=body)
        assert done.status_code == 200, done.text
        session.expire_all()
        consent = session.get(Consent, done.json()["consent_id"])
        assert consent is not None
        assert consent.customer_id == account.customer_id
        assert consent.evidence == "call wrap-up by staff:li"
        assert consent.scope == {"from": "20:00", "to": "21:30"}
        assert consent.expires_at is not None
        assert consent.expires_at.date() == dt.date(2026, 9, 30)

    def test_only_the_holder_wraps_up_and_an_api_key_holds_no_queue(
        self,
        app: FastAPI,
        session: Session,
        clock: SettableClock,
        li: TestClient,
        client: TestClient,
    ) -> None:
        queue(session, clock, 1)
        staff(session, clock, "wang", Role.agent)
        session.commit()
        task = li.post("/v1/agent-tasks/next").json()["task"]
        wang = signed_in(app, "wang")
        stolen = wang.post(f"/v1/agent-tasks/{task['id']}/wrap-up", json={"outcome": "refused"})
        assert stolen.status_code == 409
        assert client.post("/v1/agent-tasks/next").status_code == 403
        bad = li.post(f"/v1/agent-tasks/{task['id']}/wrap-up", json={"outcome": "dance"})
        assert bad.status_code == 422


class TestNotesAndQueues:
    def test_a_note_is_bounded_and_sealed_at_rest(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        [account] = queue(session, clock, 1)
        staff(session, clock, "li", Role.agent)
        session.commit()
        li = signed_in(app, "li")
        words = "客户说下周发工资后还款"
        made = li.post(f"/v1/accounts/{account.id}/notes", json={"text": words})
        assert made.status_code == 201, made.text
        assert li.get(f"/v1/accounts/{account.id}/notes").json()[0]["text"] == words
        raw = session.execute(text("SELECT text FROM account_notes")).scalar_one()
        assert words.encode() not in bytes(raw)
        too_long = li.post(f"/v1/accounts/{account.id}/notes", json={"text": "x" * 2_001})
        assert too_long.status_code == 422
        assert li.post("/v1/accounts/999999/notes", json={"text": "x"}).status_code == 404
        assert session.scalar(select(AccountNote.author)) == "staff:li"
        # The person's export (their right of access) holds what staff wrote about them.
        document = privacy_service.export(
            session, account.customer_id, actor="dpo", reason="access request", clock=clock
        )
        assert [n["text"] for n in document["notes"]] == [words]

    def test_the_queues_count_open_taken_and_done_and_the_load_per_agent(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        queue(session, clock, 3)
        li_user = staff(session, clock, "li", Role.agent)
        staff(session, clock, "boss", Role.supervisor)
        session.commit()
        li, boss = signed_in(app, "li"), signed_in(app, "boss")
        first = li.post("/v1/agent-tasks/next").json()["task"]
        li.post(f"/v1/agent-tasks/{first['id']}/wrap-up", json={"outcome": "voicemail"})
        li.post("/v1/agent-tasks/next")
        assert li.get("/v1/queues").status_code == 403
        seen = boss.get("/v1/queues").json()
        assert seen["queues"] == [
            {"queue": "mid_late", "open": 1, "taken": 1, "done": 1, "expired": 0, "ended": 0}
        ]
        assert seen["agents"] == [
            {"staff_id": li_user.id, "name": "Li", "held": 1, "assigned": 0, "done": 1}
        ]


class TestOtherTasksAndLettingGo:
    def test_a_case_task_is_assigned_to_its_queue_with_an_event_and_not_offered_as_a_call(
        self, session: Session, clock: SettableClock, settings: Settings
    ) -> None:
        """Tasks other packages open (a case's) get their `assigned` event too; "next account"
        offers only the call queues (catches `WORKABLE` widened to every source)."""
        clock.set(shanghai(AS_OF, 10))
        account = late_account(session, clock)
        delinquency_service.run_daily(session, AS_OF, clock=clock)
        case_flows.open_case(
            session, account.customer_id, kind="complaint", reason="rude", text="太频繁了",
            account_ref=None, opened_by="portal", channel="portal", clock=clock,
        )  # fmt: skip
        [task] = agents_service.of_account(session, account.id)
        assert (task.queue, task.source) == ("complaints", "case")
        assert events(session, task.id) == [("assigned", "queue:case")]
        li = staff(session, clock, "li", Role.agent)
        taken = flows.take_next(session, li.id, actor="staff:li", desk=desk(settings), clock=clock)
        assert taken.task is None

    def test_letting_go_puts_the_account_back_for_anyone(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        [account] = queue(session, clock, 1)
        staff(session, clock, "li", Role.agent)
        staff(session, clock, "wang", Role.agent)
        session.commit()
        li, wang = signed_in(app, "li"), signed_in(app, "wang")
        task = li.post("/v1/agent-tasks/next").json()["task"]
        assert wang.post("/v1/agent-tasks/next").json()["task"] is None
        assert wang.post(f"/v1/agent-tasks/{task['id']}/release").status_code == 409
        let_go = li.post(f"/v1/agent-tasks/{task['id']}/release")
        assert let_go.status_code == 200, let_go.text
        assert [e["kind"] for e in let_go.json()] == ["assigned", "taken", "released"]
        again = wang.post("/v1/agent-tasks/next").json()["task"]
        assert again["account_id"] == account.id

"""Click-to-call: an agent asks to call a task's debtor; the request is checked at once, goes
through the outbox, and the worker hands it to the provider's webhook (a local signed service on a
real socket), which receives the agent and the debtor's number, never shown to the agent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels import Outgoing, PermanentError
from recoup.channels.http import signed_json
from recoup.channels.voice import ClickToCallAdapter
from recoup.compliance.codes import CALL_RESULTS
from recoup.config import Settings
from recoup.contact import service as contact_service
from recoup.contact.schemas import CallResultName
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import Account, AgentTask, AuditEvent, ContactEvent, ContactPlan
from tests.channels.providers import FakeSignedService
from tests.contact.test_dispatch import dispatcher, drain
from tests.contact.test_replies import add_contact, debtor
from tests.factories import shanghai

SECRET = "click-to-call-secret-0123"
PASSWORD = "a long agent password 1"


@pytest.fixture
def provider() -> Iterator[FakeSignedService]:
    with FakeSignedService([SECRET]) as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, provider: FakeSignedService) -> Settings:
    path = tmp_path / "channels.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "dial": {
                    "provider": "click-to-call",
                    "url": f"{provider.url}/calls",
                    "secret": SECRET,
                }
            }
        ),
        encoding="utf-8",
    )
    return settings.model_copy(update={"channels_file": path})


@pytest.fixture
def agent(app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock) -> TestClient:
    """An agent signed in (after the test's clock has been set: sessions expire when idle)."""
    with sessions() as session:
        identity_service.create_staff(
            session,
            username="li.agent",
            display_name="Li",
            role=Role.agent,
            password=PASSWORD,
            clock=clock,
        )
        session.commit()
    client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
    response = client.post("/v1/auth/sessions", json={"username": "li.agent", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


def task_for(session: Session, clock: SettableClock) -> tuple[AgentTask, str]:
    account, number = debtor(session, clock)  # sets the clock to 10:00 in Shanghai
    task = AgentTask(
        account_id=account.id,
        as_of_date=clock.now().date(),
        queue="mid_late",
        priority=1.0,
        status="open",
        created_at=clock.now(),
    )
    session.add(task)
    session.commit()
    return task, number


class TestDial:
    def test_the_provider_rings_the_agent_and_bridges_to_the_debtor(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        request: pytest.FixtureRequest,
        provider: FakeSignedService,
        settings: Settings,
    ) -> None:
        task, number = task_for(session, clock)
        agent: TestClient = request.getfixturevalue("agent")
        response = agent.post(f"/v1/agent-tasks/{task.id}/dial", json={"agent": "8021"})
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "planned"
        assert number not in response.text

        adapter = ClickToCallAdapter(url=f"{provider.url}/calls", secret=SECRET)
        assert drain(dispatcher(sessions, clock, {"dial": adapter})) == {"sent": 1}
        [request] = provider.requests_to("/calls")
        body = request.json()
        assert (body["agent"], body["to"]) == ("8021", number)
        assert body["idempotency_key"] == f"recoup-contact-{response.json()['contact_id']}"
        session.expire_all()
        call = session.get(ContactPlan, response.json()["contact_id"])
        assert call is not None
        assert (call.status, call.provider, call.agent) == ("sent", "click-to-call", "8021")

    def test_at_night_the_call_is_refused_at_once_and_nothing_rings(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        request: pytest.FixtureRequest,
        provider: FakeSignedService,
    ) -> None:
        task, _ = task_for(session, clock)
        clock.set(shanghai(clock.now().date(), 22) + dt.timedelta(minutes=30))
        agent: TestClient = request.getfixturevalue("agent")
        response = agent.post(f"/v1/agent-tasks/{task.id}/dial", json={"agent": "8021"})
        assert response.status_code == 201
        assert response.json()["status"] == "blocked"
        assert any(r.endswith(":OUTSIDE_HOURS") for r in response.json()["reasons"])
        adapter = ClickToCallAdapter(url=f"{provider.url}/calls", secret=SECRET)
        assert drain(dispatcher(sessions, clock, {"dial": adapter})) == {}
        assert provider.requests_to("/calls") == []
        # The record tells the refusal rule by rule (removal caught: `dial_many` keeping the
        # reasons only, as before, when the agent's request was checked).
        session.expire_all()
        [asked] = contact_service.explain(session, response.json()["contact_id"])["history"]
        told = {r["rule"]: r["verdict"] for r in asked["guard"]["rules"]}
        assert told["cn.hours.legal"] == "deferred"
        assert "allowed" in told.values()

    def test_an_unknown_task_or_a_bad_extension_is_a_clear_4xx(
        self, session: Session, clock: SettableClock, request: pytest.FixtureRequest
    ) -> None:
        task, _ = task_for(session, clock)
        agent: TestClient = request.getfixturevalue("agent")
        assert agent.post("/v1/agent-tasks/999999/dial", json={"agent": "8021"}).status_code == 404
        bad = agent.post(f"/v1/agent-tasks/{task.id}/dial", json={"agent": "80 21; rm"})
        assert bad.status_code == 422


def placed_call(
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    request: pytest.FixtureRequest,
    provider: FakeSignedService,
) -> tuple[ContactPlan, TestClient]:
    """A call an agent asked for and the provider placed, and the agent signed in."""
    task, _ = task_for(session, clock)
    agent: TestClient = request.getfixturevalue("agent")
    response = agent.post(f"/v1/agent-tasks/{task.id}/dial", json={"agent": "8021"})
    assert response.status_code == 201, response.text
    adapter = ClickToCallAdapter(url=f"{provider.url}/calls", secret=SECRET)
    assert drain(dispatcher(sessions, clock, {"dial": adapter})) == {"sent": 1}
    session.expire_all()
    call = session.get(ContactPlan, response.json()["contact_id"])
    assert call is not None
    assert call.provider_id
    return call, agent


def report(
    client: TestClient, clock: SettableClock, payload: dict[str, str], secret: str = SECRET
) -> int:
    """The telephony provider's report on a call, signed as Recoup signs its own webhooks."""
    body, headers = signed_json(payload, [secret], clock)
    return client.post(
        "/v1/channels/click-to-call/status", content=body, headers=headers
    ).status_code


class TestCallResults:
    def test_telephony_reports_then_the_agent_wraps_up_and_the_highest_result_stays(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        request: pytest.FixtureRequest,
        provider: FakeSignedService,
        client: TestClient,
    ) -> None:
        call, agent = placed_call(session, sessions, clock, request, provider)
        assert report(client, clock, {"id": call.provider_id, "result": "connected"}) == 204
        wrap_up = agent.post(f"/v1/contacts/{call.id}/call-result", json={"result": "conversation"})
        assert wrap_up.status_code == 200, wrap_up.text
        assert wrap_up.json() == {"contact_id": call.id, "status": "sent", "result": "conversation"}
        # A late, lower report changes nothing.
        assert report(client, clock, {"id": call.provider_id, "result": "no_answer"}) == 204
        explained = agent.get(f"/v1/contacts/{call.id}/explanation").json()
        assert explained["contact"]["result"] == "conversation"
        session.expire_all()
        assert session.get(ContactPlan, call.id).result == "conversation"  # type: ignore[union-attr]
        events = session.execute(
            select(ContactEvent.actor, ContactEvent.detail)
            .where(ContactEvent.contact_id == call.id)
            .order_by(ContactEvent.id)
        ).all()
        assert [(actor, d["result"]) for actor, d in events if "result" in d] == [
            ("callback:click-to-call", "connected"),
            ("staff:li.agent", "conversation"),
        ]
        audited = session.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "contact.call_result")
        ).scalars()
        assert sorted(audited) == ["callback:click-to-call", "staff:li.agent"]

    def test_bad_reports_are_clear_4xx_and_record_nothing(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        request: pytest.FixtureRequest,
        provider: FakeSignedService,
        client: TestClient,
    ) -> None:
        call, agent = placed_call(session, sessions, clock, request, provider)
        unsigned = client.post(
            "/v1/channels/click-to-call/status",
            json={"id": call.provider_id, "result": "connected"},
        )
        assert unsigned.status_code == 401
        assert report(client, clock, {"id": call.provider_id, "result": "connected"}, "x") == 401
        assert report(client, clock, {"id": "call-we-never-placed", "result": "busy"}) == 404
        assert report(client, clock, {"id": call.provider_id, "result": "hung up"}) == 422
        unknown = agent.post(f"/v1/contacts/{call.id}/call-result", json={"result": "great"})
        assert unknown.status_code == 422
        missing = agent.post("/v1/contacts/999999/call-result", json={"result": "busy"})
        assert missing.status_code == 404
        session.expire_all()
        assert session.get(ContactPlan, call.id).result is None  # type: ignore[union-attr]

    def test_only_a_placed_call_has_a_result(
        self,
        session: Session,
        clock: SettableClock,
        request: pytest.FixtureRequest,
    ) -> None:
        task, _ = task_for(session, clock)
        clock.set(shanghai(clock.now().date(), 22) + dt.timedelta(minutes=30))
        agent: TestClient = request.getfixturevalue("agent")
        blocked = agent.post(f"/v1/agent-tasks/{task.id}/dial", json={"agent": "8021"}).json()
        response = agent.post(
            f"/v1/contacts/{blocked['contact_id']}/call-result", json={"result": "no_answer"}
        )
        assert response.status_code == 409
        assert "not placed" in response.json()["message"]
        sms = add_contact(
            session,
            clock,
            session.get(Account, task.account_id),
            channel="sms",
            treatment="t",  # type: ignore[arg-type]
        )
        sms.status = "sent"
        session.commit()
        response = agent.post(f"/v1/contacts/{sms.id}/call-result", json={"result": "busy"})
        assert response.status_code == 422
        assert "not a placed call" in response.json()["message"]


@pytest.mark.pure
def test_the_api_lists_the_call_results_of_the_compliance_vocabulary() -> None:
    assert get_args(CallResultName) == CALL_RESULTS


@pytest.mark.pure
class TestClickToCallAdapter:
    def test_a_call_without_an_agent_is_refused_before_any_request(
        self, provider: FakeSignedService
    ) -> None:
        adapter = ClickToCallAdapter(url=f"{provider.url}/calls", secret=SECRET)
        with pytest.raises(PermanentError, match="agent"):
            adapter.send(
                Outgoing(idempotency_key="k", channel="dial", to="+8613800000000", body="")
            )
        adapter.close()
        assert provider.requests == []

    def test_a_wrong_secret_is_refused_by_the_provider_as_permanent(
        self, provider: FakeSignedService
    ) -> None:
        adapter = ClickToCallAdapter(url=f"{provider.url}/calls", secret="not the secret")
        message = Outgoing(
            idempotency_key="k2",
            channel="dial",
            to="+8613800000000",
            body="",
            metadata={"agent": "8021"},
        )
        with pytest.raises(PermanentError) as refused:
            adapter.send(message)
        adapter.close()
        assert "+8613800000000" not in refused.value.reason
        assert "8021" not in refused.value.reason

"""Click-to-call: an agent asks to call a task's debtor; the request is checked at once, goes
through the outbox, and the worker hands it to the provider's webhook (a local signed service on a
real socket), which receives the agent and the debtor's number, never shown to the agent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels import Outgoing, PermanentError
from recoup.channels.voice import ClickToCallAdapter
from recoup.config import Settings
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import AgentTask, ContactPlan
from tests.channels.providers import FakeSignedService
from tests.contact.test_dispatch import dispatcher, drain
from tests.contact.test_replies import debtor
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

    def test_an_unknown_task_or_a_bad_extension_is_a_clear_4xx(
        self, session: Session, clock: SettableClock, request: pytest.FixtureRequest
    ) -> None:
        task, _ = task_for(session, clock)
        agent: TestClient = request.getfixturevalue("agent")
        assert agent.post("/v1/agent-tasks/999999/dial", json={"agent": "8021"}).status_code == 404
        bad = agent.post(f"/v1/agent-tasks/{task.id}/dial", json={"agent": "80 21; rm"})
        assert bad.status_code == 422


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

"""Replies through the generic SMS gateway: signed like the wallet's webhooks, handled like
Twilio's (opt-out words, replies for agents, the same id once)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.channels.http import signed_json
from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.models import InboundMessage, OptOut
from tests.contact.test_replies import debtor

SECRET = "gateway-secret-0123456789"
PATH = "/v1/channels/sms/inbound"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "channels.yaml"
    path.write_text(
        yaml.safe_dump(
            {"sms": {"provider": "http-sms", "url": "http://127.0.0.1:9/send", "secret": SECRET}}
        ),
        encoding="utf-8",
    )
    return settings.model_copy(update={"channels_file": path})


def post(
    client: TestClient, clock: SettableClock, payload: dict[str, str], secret: str = SECRET
) -> httpx.Response:
    """The gateway's delivery, signed as Recoup signs its own webhooks."""
    body, headers = signed_json(payload, [secret], clock)
    return client.post(PATH, content=body, headers=headers)


def test_an_opt_out_word_opts_the_number_out(
    session: Session, clock: SettableClock, client: TestClient
) -> None:
    account, number = debtor(session, clock)
    response = post(client, clock, {"id": "g-1", "from": number, "body": "退订"})
    assert response.status_code == 200
    assert response.json()["intent"] == "opt_out"
    [opt_out] = session.execute(
        select(OptOut).where(OptOut.customer_id == account.customer_id)
    ).scalars()
    assert (opt_out.channel, opt_out.source) == ("sms", "sms_reply")


def test_the_same_message_twice_is_handled_once(
    session: Session, clock: SettableClock, client: TestClient
) -> None:
    _, number = debtor(session, clock)
    message = {"id": "g-2", "from": number, "body": "下周还"}
    first = post(client, clock, message)
    assert first.json() == {
        "message_id": first.json()["message_id"],
        "intent": "reply",
        "duplicate": False,
    }
    assert post(client, clock, message).status_code == 409  # the very same delivery: a replay
    clock.set(clock.now() + dt.timedelta(seconds=30))  # the gateway redelivers, signed anew
    again = post(client, clock, message)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    count = session.execute(
        select(func.count()).select_from(InboundMessage).where(InboundMessage.provider_id == "g-2")
    ).scalar_one()
    assert count == 1


def test_a_wrong_signature_or_a_bad_body_records_nothing(
    session: Session, clock: SettableClock, client: TestClient
) -> None:
    _, number = debtor(session, clock)
    assert (
        post(client, clock, {"id": "g-3", "from": number, "body": "TD"}, "wrong").status_code == 401
    )
    assert post(client, clock, {"id": "g-4", "from": number}).status_code == 422
    assert session.execute(select(func.count()).select_from(OptOut)).scalar_one() == 0

"""E-mail replies to the assistant: the e-mail provider's signed inbound webhook, the sender's
address canonicalised before it is looked up, the assistant acting as for an SMS, and its answer
sent by e-mail through the outbox to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.assistant.flows import reply_text
from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.kit.signing import sign
from recoup.models import Arrangement, ContactPlan, CustomerEmail, InboundMessage, OptOut
from tests.assistant.test_acting import answers, conversation_of, next_weeks_friday
from tests.channels.test_email import Recorder, adapter_for, smtp_server
from tests.contact.test_dispatch import dispatcher, drain
from tests.web.test_selfservice import late_with_policy

INBOUND = "/v1/channels/email/inbound"
SECRET = "email-inbound-secret"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "channels.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "email": {
                    "provider": "smtp",
                    "host": "127.0.0.1",
                    "port": 2525,
                    "sender": "Recoup Wallet <billing@recoup.example>",
                    "inbound_secret": SECRET,
                }
            }
        ),
        encoding="utf-8",
    )
    return settings.model_copy(update={"channels_file": path, "spool_dir": tmp_path / "spool"})


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Recorder]]:
    handler = Recorder()
    with smtp_server(handler) as controller:
        yield controller, handler


def post(
    client: TestClient, clock: SettableClock, payload: dict[str, Any], *, secret: str = SECRET
) -> Any:
    body = json.dumps(payload).encode()
    ts = int(clock.now().timestamp())
    return client.post(
        INBOUND,
        content=body,
        headers={
            "X-Recoup-Timestamp": str(ts),
            "X-Recoup-Signature": sign(secret.encode(), ts, body),
            "Content-Type": "application/json",
        },
    )


def reply(sender: str, text: str, message_id: str, subject: str = "Re: 还款提醒") -> dict[str, Any]:
    return {
        "from": sender,
        "to": "billing@recoup.example",
        "subject": subject,
        "text": text,
        "message_id": message_id,
        "in_reply_to": "<reminder-1@recoup.example>",
    }


def address_of(session: Session, customer_id: int) -> str:
    return session.execute(
        select(CustomerEmail.address).where(CustomerEmail.customer_id == customer_id)
    ).scalar_one()


class TestAnEmailReply:
    def test_a_promise_by_email_is_made_and_answered_by_email_over_smtp(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        client: TestClient,
        smtp: tuple[Controller, Recorder],
    ) -> None:
        """The sender written with a display name and in capitals is still the debtor (removing
        `canonical_email`'s parse makes the lookup miss); the quoted reminder below the reply is
        not read; the answer leaves by e-mail through the outbox and the real SMTP server."""
        account = late_with_policy(session, clock)
        address = address_of(session, account.customer_id)
        local, _, domain = address.partition("@")
        sender = f"王芳 <{local}@{domain.upper()}>"
        text = "下周五还500\n\n在 2026年6月1日，Recoup 写道：\n> 您的账单已逾期，请 STOP 回复"
        today = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()

        response = post(client, clock, reply(sender, text, "<r1@mail.example>"))

        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": True}
        session.expire_all()
        promise = session.execute(select(Arrangement)).scalar_one()
        assert (promise.amount_minor, promise.due_date, promise.made_by) == (
            50_000,
            next_weeks_friday(today),
            "assistant",
        )
        assert conversation_of(session, account).channel == "email"
        [answer] = answers(session, account)
        assert (answer.template, answer.channel) == ("assistant_promise", "email")

        controller, handler = smtp
        clock.advance(dt.timedelta(minutes=1))
        adapter = adapter_for(controller.port)
        assert drain(dispatcher(sessions, clock, {"email": adapter})) == {"sent": 1}
        [received] = handler.received
        assert received.envelope.rcpt_tos == [address]
        message = received.message
        assert "智能助手" in str(message["Subject"])
        body = message.get_body(("plain",))
        assert body is not None
        assert "¥500.00" in body.get_content()

        # The same Message-ID again is handled once.
        again = post(client, clock, reply(sender, text, "<r1@mail.example>"))
        assert again.status_code == 202
        session.expire_all()
        assert len(session.execute(select(Arrangement)).scalars().all()) == 1

    def test_stop_by_email_opts_the_address_out_and_answers_nothing(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_with_policy(session, clock)
        address = address_of(session, account.customer_id)

        response = post(client, clock, reply(address, "please stop emailing me", "<r2@x>"))

        assert response.status_code == 202
        session.expire_all()
        [opt_out] = session.execute(select(OptOut)).scalars().all()
        assert (opt_out.channel, opt_out.customer_id) == ("email", account.customer_id)
        assert answers(session, account) == []


class TestWhatIsRefused:
    def test_an_unknown_sender_gets_the_same_202_and_nothing_is_done(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_with_policy(session, clock)

        response = post(client, clock, reply("stranger@example.org", "下周五还500", "<r3@x>"))

        assert response.status_code == 202
        assert response.json() == {"accepted": True}  # as for a known sender: nothing disclosed
        session.expire_all()
        [inbound] = session.execute(select(InboundMessage)).scalars().all()
        assert (inbound.channel, inbound.intent, inbound.customer_id) == (
            "email",
            "unknown_sender",
            None,
        )
        assert session.execute(select(Arrangement)).first() is None
        assert answers(session, account) == []

    def test_a_bad_signature_a_missing_field_and_an_oversized_text_are_4xx(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        late_with_policy(session, clock)
        ok = reply("a@example.com", "hi", "<r4@x>")
        assert post(client, clock, ok, secret="wrong").status_code == 401
        assert post(client, clock, {k: v for k, v in ok.items() if k != "from"}).status_code == 422
        big = reply("a@example.com", "x" * 20_001, "<r5@x>")
        assert post(client, clock, big).status_code in (413, 422)
        session.expire_all()
        assert session.execute(select(InboundMessage)).first() is None
        assert (
            session.execute(select(ContactPlan).where(ContactPlan.channel == "email")).first()
            is None
        )


def test_the_quoted_thread_and_the_reply_prefix_are_not_read() -> None:
    assert reply_text("I lost my job\n\nOn Mon, 1 Jun 2026, Recoup wrote:\n> STOP") == (
        "I lost my job"
    )
    assert reply_text("", "Re: 我已经还了") == "我已经还了"
    assert reply_text("好的\n-----Original Message-----\nFrom: x") == "好的"

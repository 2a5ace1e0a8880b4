"""What comes back from the channels, through the API: SMS replies and opt-outs (Twilio-signed),
delivery receipts, one-click unsubscribe links, the in-app inbox, and the explanation of a contact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels.sms import twilio_signature
from recoup.config import Settings
from recoup.contact import service as contact_service
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.kit.indexes import phone_index
from recoup.kit.tokens import sign_token
from recoup.models import (
    Account,
    AgentTask,
    AuditEvent,
    ContactEvent,
    ContactPlan,
    ConversationTurn,
    CustomerPhone,
    InboundMessage,
    OptOut,
)
from tests.contact.test_dispatch import (
    AS_OF,
    contacts,
    dispatcher,
    drain,
    late_account,
    plan_day,
    spool,
    spooled,
)
from tests.factories import add_bill, create_account, create_customer, shanghai

SID = "AC" + "0" * 32
TOKEN = "twilio-auth-token-0123456789"
OUR_NUMBER = "+861012345678"
INBOUND = "/v1/channels/twilio/inbound"
STATUS = "/v1/channels/twilio/status"
STRANGER = "+8613999999999"  # the factories number customers +86138...


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The conftest settings with a channels file naming Twilio (whose token signs webhooks)."""
    path = tmp_path / "channels.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sms": {
                    "provider": "twilio",
                    "account_sid": SID,
                    "auth_token": TOKEN,
                    "from_number": OUR_NUMBER,
                }
            }
        ),
        encoding="utf-8",
    )
    return settings.model_copy(update={"channels_file": path, "spool_dir": tmp_path / "spool"})


def twilio_post(
    client: TestClient,
    settings: Settings,
    path: str,
    params: dict[str, str],
    *,
    token: str | None = TOKEN,
) -> httpx.Response:
    headers = {}
    if token is not None:
        url = settings.public_url.rstrip("/") + path
        headers["X-Twilio-Signature"] = twilio_signature(url, params, token)
    response: httpx.Response = client.post(path, data=params, headers=headers)
    return response


def sms(sid: str, number: str, body: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": SID,
        "From": number,
        "To": OUR_NUMBER,
        "Body": body,
        "FromCountry": "CN",
    }


def debtor(session: Session, clock: SettableClock) -> tuple[Account, str]:
    """A CN account 10 days late (delinquency state computed), and the debtor's mobile number."""
    clock.set(shanghai(AS_OF, 10))
    account = late_account(session, clock)
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    number = session.execute(
        select(CustomerPhone.number).where(CustomerPhone.customer_id == account.customer_id)
    ).scalar_one()
    session.commit()
    return account, number


def add_contact(
    session: Session,
    clock: SettableClock,
    account: Account,
    *,
    channel: str,
    treatment: str,
    status: str = "planned",
    scheduled_at: dt.datetime | None = None,
    **columns: object,
) -> ContactPlan:
    contact = ContactPlan(
        account_id=account.id,
        customer_id=account.customer_id,
        as_of_date=AS_OF,
        stage="early",
        treatment=treatment,
        channel=channel,
        template="early_reminder",
        tone="gentle",
        status=status,
        scheduled_at=scheduled_at or clock.now(),
        purpose="collection",
        reasons=[],
        overdue_minor=50_000,
        outstanding_minor=50_000,
        created_at=clock.now(),
        **columns,
    )
    session.add(contact)
    session.commit()
    return contact


def opt_outs(session: Session, customer_id: int) -> list[tuple[str, str, str | None]]:
    session.expire_all()
    return [
        (o.channel, o.source, o.address_index)
        for o in session.execute(
            select(OptOut).where(OptOut.customer_id == customer_id).order_by(OptOut.id)
        ).scalars()
    ]


def confirmations(session: Session, customer_id: int) -> list[ContactPlan]:
    return list(
        session.execute(
            select(ContactPlan).where(
                ContactPlan.customer_id == customer_id,
                ContactPlan.treatment == "opt_out_confirmation",
            )
        ).scalars()
    )


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


class TestInboundSms:
    def test_a_field_longer_than_twilio_sends_is_a_422_and_records_nothing(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        """Catches: removing the bound on Twilio's fields (`TWILIO_FIELDS` in
        contact.endpoints): PostgreSQL refused the 129-character id as a 500 (found by the deep
        fuzzing); SQLite stored it."""
        _, number = debtor(session, clock)
        response = twilio_post(client, settings, INBOUND, sms("SM" + "x" * 127, number, "hi"))
        assert response.status_code == 422, response.text
        assert "MessageSid is longer than 128" in response.json()["message"]
        assert count(session, InboundMessage) == 0

    @pytest.mark.parametrize("word", ["STOP", "退订", "td", " T "])
    def test_an_opt_out_word_opts_the_number_out_of_sms(
        self,
        word: str,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, number = debtor(session, clock)
        first = add_contact(session, clock, account, channel="sms", treatment="early_sms")
        later = add_contact(
            session,
            clock,
            account,
            channel="sms",
            treatment="second_sms",
            scheduled_at=clock.now() + dt.timedelta(days=2),
        )
        push = add_contact(session, clock, account, channel="push", treatment="early_push")

        response = twilio_post(client, settings, INBOUND, sms("SMin0001", number, word))

        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        assert opt_outs(session, account.customer_id) == [("sms", "sms_reply", phone_index(number))]
        statuses = {c.id: c.status for c in contacts(session, account)}
        assert statuses[first.id] == statuses[later.id] == "cancelled"
        assert statuses[push.id] == "planned"
        [confirmation] = confirmations(session, account.customer_id)
        assert (confirmation.purpose, confirmation.channel, confirmation.status) == (
            "service",
            "sms",
            "planned",
        )
        assert confirmation.template == "opt_out_confirmation"
        audited = session.execute(
            select(AuditEvent).where(
                AuditEvent.action == "contact.opted_out",
                AuditEvent.subject_id == str(account.customer_id),
            )
        ).scalar_one()
        assert audited.details["channel"] == "sms"
        assert audited.details["cancelled"] == 2
        message = session.execute(select(InboundMessage)).scalar_one()
        assert (message.intent, message.customer_id) == ("opt_out", account.customer_id)

    def test_the_same_message_delivered_twice_is_handled_once(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, number = debtor(session, clock)
        add_contact(session, clock, account, channel="sms", treatment="early_sms")
        for _ in range(2):
            response = twilio_post(client, settings, INBOUND, sms("SMdup", number, "STOP"))
            assert response.status_code == 200, response.text

        assert len(opt_outs(session, account.customer_id)) == 1
        assert count(session, InboundMessage) == 1
        assert len(confirmations(session, account.customer_id)) == 1
        opted = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "contact.opted_out")
        ).scalar_one()
        assert opted == 1

    @pytest.mark.parametrize("token", [None, "not-the-auth-token"])
    def test_an_unsigned_or_badly_signed_request_is_refused(
        self,
        token: str | None,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, number = debtor(session, clock)
        sent = add_contact(session, clock, account, channel="sms", treatment="early_sms")

        inbound = twilio_post(
            client, settings, INBOUND, sms("SMforged", number, "STOP"), token=token
        )
        receipt = twilio_post(
            client,
            settings,
            STATUS,
            {"MessageSid": "SMforged", "MessageStatus": "delivered"},
            token=token,
        )

        assert (inbound.status_code, receipt.status_code) == (401, 401)
        session.expire_all()
        assert count(session, InboundMessage) == 0
        assert opt_outs(session, account.customer_id) == []
        assert [c.status for c in contacts(session, account)] == ["planned"]
        assert session.get(ContactPlan, sent.id).status == "planned"  # type: ignore[union-attr]

    def test_a_signature_over_other_parameters_is_refused(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, number = debtor(session, clock)
        signed = sms("SMswap", number, "hello")
        signature = twilio_signature(settings.public_url + INBOUND, signed, TOKEN)
        response = client.post(
            INBOUND,
            data=signed | {"Body": "STOP"},
            headers={"X-Twilio-Signature": signature},
        )
        assert response.status_code == 401
        assert opt_outs(session, account.customer_id) == []

    def test_a_reply_is_kept_encrypted_and_goes_to_the_assistant(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, number = debtor(session, clock)
        words = "我下周发工资后还"

        response = twilio_post(client, settings, INBOUND, sms("SMreply1", number, words))

        assert response.status_code == 200, response.text
        session.expire_all()
        message = session.execute(select(InboundMessage)).scalar_one()
        assert (message.intent, message.customer_id, message.body) == (
            "reply",
            account.customer_id,
            words,
        )
        assert message.from_index == phone_index(number)
        [raw] = session.execute(text("select body from inbound_messages")).scalars().all()
        assert words not in str(raw)
        assert number not in str(raw)
        # Not the agents' replies queue any more: the assistant has it (tests/assistant).
        assert (
            session.execute(
                select(AgentTask).where(
                    AgentTask.account_id == account.id, AgentTask.queue == "replies"
                )
            ).first()
            is None
        )
        said = session.execute(
            select(ConversationTurn).where(ConversationTurn.direction == "in")
        ).scalar_one()
        assert said.text == words
        sealed = session.execute(text("select text from conversation_turns")).scalars().all()
        assert sealed
        assert not any(words in str(t) for t in sealed)
        assert opt_outs(session, account.customer_id) == []

    def test_a_reply_from_an_unknown_number_is_kept_without_a_task(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        debtor(session, clock)
        response = twilio_post(client, settings, INBOUND, sms("SMstranger", STRANGER, "你是谁"))

        assert response.status_code == 200, response.text
        session.expire_all()
        message = session.execute(select(InboundMessage)).scalar_one()
        assert (message.intent, message.customer_id) == ("unknown_sender", None)
        assert message.from_index == phone_index(STRANGER)
        assert count(session, AgentTask) == 0
        assert count(session, OptOut) == 0

    def test_the_confirmation_is_sent_to_the_opted_out_number_and_nothing_else(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
        tmp_path: Path,
    ) -> None:
        account, number = debtor(session, clock)
        reminder = add_contact(session, clock, account, channel="sms", treatment="early_sms")
        response = twilio_post(client, settings, INBOUND, sms("SMstop", number, "退订"))
        assert response.status_code == 200, response.text
        [confirmation] = confirmations(session, account.customer_id)

        clock.advance(dt.timedelta(minutes=1))
        outcomes = drain(dispatcher(sessions, clock, spool(tmp_path, "sms")))

        assert outcomes == {"sent": 1}
        [sent] = spooled(tmp_path, "sms")
        assert sent["idempotency_key"] == f"recoup-contact-{confirmation.id}"
        assert sent["to"] == number
        assert "您已退订短信提醒" in str(sent["body"])
        session.expire_all()
        assert session.get(ContactPlan, confirmation.id).status == "sent"  # type: ignore[union-attr]
        assert session.get(ContactPlan, reminder.id).status == "cancelled"  # type: ignore[union-attr]


class TestStatusCallbacks:
    def sent(
        self, session: Session, clock: SettableClock, account: Account, sid: str = "SM123"
    ) -> ContactPlan:
        return add_contact(
            session,
            clock,
            account,
            channel="sms",
            treatment="early_sms",
            status="sent",
            provider="twilio",
            provider_id=sid,
            sent_at=clock.now(),
            attempts=1,
        )

    def events(self, session: Session, contact: ContactPlan) -> list[tuple[str, str]]:
        return [
            (e.status, e.actor)
            for e in session.execute(
                select(ContactEvent)
                .where(ContactEvent.contact_id == contact.id)
                .order_by(ContactEvent.id)
            ).scalars()
        ]

    def test_delivered_then_a_late_failure_stays_delivered(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, _ = debtor(session, clock)
        contact = self.sent(session, clock, account)

        delivered = twilio_post(
            client, settings, STATUS, {"MessageSid": "SM123", "MessageStatus": "delivered"}
        )
        assert delivered.status_code == 204, delivered.text
        session.expire_all()
        assert session.get(ContactPlan, contact.id).status == "delivered"  # type: ignore[union-attr]
        assert self.events(session, contact) == [("delivered", "callback:twilio")]

        for status in ("undelivered", "failed", "delivered", "sent"):
            late = twilio_post(
                client,
                settings,
                STATUS,
                {"MessageSid": "SM123", "MessageStatus": status, "ErrorCode": "30003"},
            )
            assert late.status_code == 204
        session.expire_all()
        assert session.get(ContactPlan, contact.id).status == "delivered"  # type: ignore[union-attr]
        assert self.events(session, contact) == [("delivered", "callback:twilio")]

    def test_undelivered_bounces_with_the_error_code(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, _ = debtor(session, clock)
        contact = self.sent(session, clock, account)

        response = twilio_post(
            client,
            settings,
            STATUS,
            {"MessageSid": "SM123", "MessageStatus": "undelivered", "ErrorCode": "30003"},
        )

        assert response.status_code == 204
        session.expire_all()
        bounced = session.get(ContactPlan, contact.id)
        assert bounced is not None
        assert bounced.status == "bounced"
        assert bounced.reasons == ["twilio error 30003"]
        assert self.events(session, contact) == [("bounced", "callback:twilio")]

    def test_an_unknown_message_changes_nothing(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, _ = debtor(session, clock)
        contact = self.sent(session, clock, account)

        response = twilio_post(
            client, settings, STATUS, {"MessageSid": "SMnotours", "MessageStatus": "delivered"}
        )

        assert response.status_code == 204
        session.expire_all()
        assert session.get(ContactPlan, contact.id).status == "sent"  # type: ignore[union-attr]
        assert self.events(session, contact) == []


class TestUnsubscribe:
    def link(self, settings: Settings, customer_id: int, expires_at: dt.datetime) -> str:
        return sign_token(
            settings.link_signing_keys[0],
            {"k": "unsubscribe", "c": customer_id, "ch": "email", "a": None, "n": 1},
            expires_at=expires_at,
        )

    def test_the_page_changes_nothing_and_the_post_opts_out_once(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, _ = debtor(session, clock)
        email = add_contact(session, clock, account, channel="email", treatment="early_email")
        token = self.link(settings, account.customer_id, clock.now() + dt.timedelta(days=30))

        page = client.get(f"/v1/unsubscribe/{token}")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert '<form method="post"' in page.text
        assert opt_outs(session, account.customer_id) == []
        assert session.get(ContactPlan, email.id).status == "planned"  # type: ignore[union-attr]

        first = client.post(f"/v1/unsubscribe/{token}")
        again = client.post(f"/v1/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})

        assert (first.status_code, again.status_code) == (200, 200)
        assert "Unsubscribed" in first.text
        assert opt_outs(session, account.customer_id) == [("email", "email_unsubscribe", None)]
        assert session.get(ContactPlan, email.id).status == "cancelled"  # type: ignore[union-attr]

    def test_a_tampered_or_forged_link_is_refused(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, _ = debtor(session, clock)
        other, _ = debtor(session, clock)
        expires = clock.now() + dt.timedelta(days=30)
        genuine = self.link(settings, account.customer_id, expires)
        someone_else = self.link(settings, other.customer_id, expires)
        swapped = someone_else.partition(".")[0] + "." + genuine.partition(".")[2]
        forged = sign_token(
            b"not our key",
            {"k": "unsubscribe", "c": account.customer_id, "ch": "email", "a": None, "n": 1},
            expires_at=expires,
        )

        for token in (swapped, forged, genuine[:-4] + "AAAA", "garbage"):
            assert client.get(f"/v1/unsubscribe/{token}").status_code == 401
            assert client.post(f"/v1/unsubscribe/{token}").status_code == 401
        assert count(session, OptOut) == 0

    def test_an_expired_link_is_refused(
        self,
        session: Session,
        clock: SettableClock,
        client: TestClient,
        settings: Settings,
    ) -> None:
        account, _ = debtor(session, clock)
        token = self.link(settings, account.customer_id, clock.now() + dt.timedelta(days=1))
        clock.advance(dt.timedelta(days=1, minutes=1))

        assert client.get(f"/v1/unsubscribe/{token}").status_code == 401
        assert client.post(f"/v1/unsubscribe/{token}").status_code == 401
        assert opt_outs(session, account.customer_id) == []


class TestInbox:
    def test_a_delivered_in_app_message_is_in_the_inbox_and_read_once(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        client: TestClient,
        tmp_path: Path,
    ) -> None:
        account, _ = debtor(session, clock)
        contact = add_contact(session, clock, account, channel="in_app", treatment="early_in_app")
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"delivered": 1}

        inbox = client.get(f"/v1/customers/{account.customer_id}/inbox")
        assert inbox.status_code == 200, inbox.text
        [message] = inbox.json()
        assert message["customer_id"] == account.customer_id
        assert message["language"] == "zh-CN"
        assert "王芳您好" in message["body"]
        assert "¥500.00" in message["body"]
        assert message["read_at"] is None
        assert client.get(f"/v1/customers/{account.customer_id + 1000}/inbox").json() == []

        clock.advance(dt.timedelta(minutes=5))
        first_read = clock.now()
        read = client.post(f"/v1/inbox/{message['id']}/read")
        assert read.status_code == 200, read.text
        assert dt.datetime.fromisoformat(read.json()["read_at"]) == first_read

        clock.advance(dt.timedelta(hours=1))
        again = client.post(f"/v1/inbox/{message['id']}/read")
        assert again.status_code == 200
        assert dt.datetime.fromisoformat(again.json()["read_at"]) == first_read
        [listed] = client.get(f"/v1/customers/{account.customer_id}/inbox").json()
        assert dt.datetime.fromisoformat(listed["read_at"]) == first_read
        session.expire_all()
        assert session.get(ContactPlan, contact.id).status == "delivered"  # type: ignore[union-attr]

    def test_an_unknown_message_is_not_found(self, client: TestClient) -> None:
        assert client.post("/v1/inbox/987654321/read").status_code == 404


class TestExplain:
    def test_a_sent_contact_is_explained_with_the_name_masked(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        clock.set(shanghai(AS_OF, 9))
        account = late_account(session, clock)
        plan_day(session, clock)
        clock.set(shanghai(AS_OF, 10))
        contact = add_contact(session, clock, account, channel="in_app", treatment="early_in_app")
        drain(dispatcher(sessions, clock, spool(tmp_path)))

        [push] = [c for c in contacts(session, account) if c.channel == "push"]
        assert push.scheduled_at is not None
        clock.set(push.scheduled_at + dt.timedelta(minutes=1))
        drain(dispatcher(sessions, clock, spool(tmp_path)))
        session.expire_all()

        pushed = contact_service.explain(session, push.id)
        assert pushed["decision"] is not None
        assert pushed["decision"]["policy"]
        assert [h["status"] for h in pushed["history"]] == ["sending", "sent"]
        assert pushed["contact"]["status"] == "sent"

        explained = contact_service.explain(session, contact.id)
        assert explained["decision"] == pushed["decision"]
        assert "#" in explained["decision"]["policy"]
        assert [h["status"] for h in explained["history"]] == ["delivered"]  # built in: at once
        assert explained["contact"]["status"] == "delivered"
        body = explained["sent"]["body"]
        assert "王*您好" in body
        assert "王芳" not in body
        assert explained["sent"]["template"].startswith("early_reminder v")

    def test_a_western_name_is_masked_where_the_message_greets_by_first_name(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        clock.set(shanghai(AS_OF, 10))
        customer = create_customer(session, clock, name="Emily Chen")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), 50_000)
        delinquency_service.run_daily(session, AS_OF, clock=clock)
        session.commit()
        contact = add_contact(session, clock, account, channel="in_app", treatment="early_in_app")
        drain(dispatcher(sessions, clock, spool(tmp_path)))

        body = contact_service.explain(session, contact.id)["sent"]["body"]

        assert "E****" in body
        assert "Emily" not in body

"""Letters, WeChat and WhatsApp through the real dispatcher: the send-time check (addresses,
consent, caps, required letter fields), the adapters against local providers on real sockets, and
what a provider's opt-out does to the debtor's record."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels.base import Adapter
from recoup.channels.http import signed_json
from recoup.channels.post import PostAdapter
from recoup.channels.wechat import WeChatAdapter
from recoup.channels.whatsapp import WhatsAppAdapter
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.ledger import schemas
from recoup.ledger import service as ledger_service
from recoup.models import Account, AuditEvent, Consent, ContactPlan, OptOut
from recoup.worker.dispatcher import Dispatcher
from tests.channels.providers import FakePost, FakeWeChat, FakeWhatsApp
from tests.contact.test_dispatch import drain
from tests.factories import add_bill, create_account, create_customer, pay, shanghai

AS_OF = dt.date(2026, 6, 22)  # a Monday
POST_KEY = "post-key-dispatch"
POST_CALLBACK_SECRET = "post-callback-secret-01"
ADDRESS = ("PO Box 100", "New York, NY 10001")


def new_york(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(
        day.year, day.month, day.day, hour, tzinfo=dt.timezone(dt.timedelta(hours=-4))
    )


SECOND_ADDRESS = schemas.AddressIn(
    country="US", region="NY", city="Brooklyn", postal_code="11201", line="77 Court St Fl 2"
)


def us_account(
    session: Session,
    clock: SettableClock,
    jurisdiction: str = "US-NY-NYC",
    more: Sequence[schemas.AddressIn] = (),
) -> Account:
    customer = ledger_service.create_customer(
        session,
        schemas.CustomerCreate(
            external_ref=f"u-letter-{jurisdiction}-{clock.now().timestamp()}",
            name="Alex Doe",
            phones=[schemas.PhoneIn(number="+12125550142")],
            addresses=[
                schemas.AddressIn(
                    country="US",
                    region="NY",
                    city="New York",
                    postal_code="10027",
                    line="500 W 120th St Apt 4",
                ),
                *more,
            ],
            jurisdiction=jurisdiction,
            preferred_language="en",
        ),
        clock=clock,
    )
    account = create_account(session, clock, customer=customer, currency="USD")
    add_bill(session, clock, account, AS_OF - dt.timedelta(days=95), 123_456)
    pay(session, clock, account, 10_000, new_york(AS_OF - dt.timedelta(days=40), 12))
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    return account


_treatments = iter(range(1, 10_000))


def plan(
    session: Session, account: Account, channel: str, template: str, tone: str, at: dt.datetime
) -> ContactPlan:
    """A contact planned for `at`; each its own treatment (one contact per treatment a day)."""
    contact = ContactPlan(
        account_id=account.id,
        customer_id=account.customer_id,
        as_of_date=AS_OF,
        stage="late",
        treatment=f"test_{channel}_{next(_treatments)}",
        channel=channel,
        template=template,
        tone=tone,
        status="planned",
        scheduled_at=at,
        purpose="collection",
        reasons=[],
        overdue_minor=113_456,
        outstanding_minor=113_456,
        created_at=at,
    )
    session.add(contact)
    session.flush()
    return contact


def consent(
    session: Session, account: Account, channel: str, at: dt.datetime, **scope: str
) -> None:
    session.add(
        Consent(
            customer_id=account.customer_id,
            purpose="electronic",
            channel=channel,
            scope=dict(scope),
            evidence=f"test: opted in to {channel}",
            source="portal",
            given_at=at - dt.timedelta(days=3),
            created_at=at - dt.timedelta(days=3),
        )
    )


def dispatcher(
    sessions: sessionmaker[Session],
    clock: SettableClock,
    adapters: dict[str, Adapter],
    **config: Any,
) -> Dispatcher:
    return Dispatcher(
        sessions,
        adapters,
        clock=clock,
        config=DispatchConfig(worker="w-test", pipeline=False, **config),
        rng=random.Random(7),
    )


def status(session: Session, contact: ContactPlan) -> tuple[str, list[str]]:
    session.expire_all()
    fresh = session.get(ContactPlan, contact.id)
    assert fresh is not None
    return str(fresh.status), list(fresh.reasons or [])


@pytest.fixture
def post() -> Iterator[FakePost]:
    with FakePost(POST_KEY) as fake:
        yield fake


def post_adapter(post: FakePost) -> PostAdapter:
    return PostAdapter(
        url=post.url, api_key=POST_KEY, linger_seconds=0.2, concurrency=4, timeout=10
    )


class TestLetters:
    def test_a_letter_is_printed_with_the_validation_notice_from_the_ledger(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        post: FakePost,
        tmp_path: Path,
    ) -> None:
        clock.set(new_york(AS_OF, 10))
        account = us_account(session, clock)
        contact = plan(session, account, "letter", "late_notice", "firm", clock.now())
        session.commit()
        drain(dispatcher(sessions, clock, {"letter": post_adapter(post)}, letter_address=ADDRESS))
        assert status(session, contact)[0] == "sent"
        [pdf] = post.printed.values()
        path = tmp_path / "letter.pdf"
        path.write_bytes(pdf)
        text = " ".join(
            subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
            .stdout.decode()
            .split()
        )
        assert "Your Recoup Wallet account is past due" in text  # the approved template
        assert "Dear Alex" in text
        assert "500 W 120th St Apt 4" in text
        assert "PO Box 100" in text
        assert "June 22, 2026" in text  # dated by its posting day in New York
        assert f"****{account.external_ref[-4:]}" in text
        assert "March 19, 2026" in text  # the itemization date: the last statement (bill) date
        assert "$1,234.56" in text  # owed then
        assert "$100.00" in text  # paid since
        assert "$1,134.56" in text  # owed now
        body = post.requests_to("/v1/letter-batches")[0].json()
        assert body["letters"][0]["reference"] == f"recoup-contact-{contact.id}"

    def test_a_letter_without_the_collectors_address_is_a_dead_letter(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        post: FakePost,
    ) -> None:
        clock.set(new_york(AS_OF, 10))
        account = us_account(session, clock)
        contact = plan(session, account, "letter", "late_notice", "firm", clock.now())
        session.commit()
        drain(dispatcher(sessions, clock, {"letter": post_adapter(post)}))
        state, reasons = status(session, contact)
        assert state == "failed"
        assert reasons == ["letter lacks required field(s): collector_name_and_address"]
        assert post.requests == []

    def test_letters_count_in_the_caps_like_any_contact(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        post: FakePost,
    ) -> None:
        """NYC allows 3 attempts in 7 days across all media: a fourth letter waits."""
        clock.set(new_york(AS_OF, 10))
        account = us_account(session, clock)
        letters = [
            plan(session, account, "letter", "late_notice", "firm", clock.now()) for _ in range(4)
        ]
        session.commit()
        drain(dispatcher(sessions, clock, {"letter": post_adapter(post)}, letter_address=ADDRESS))
        states = [status(session, c) for c in letters]
        assert [s for s, _ in states].count("sent") == 3
        [(state, reasons)] = [s for s in states if s[0] != "sent"]
        assert state == "deferred"
        assert reasons == ["us_nyc.attempts:FREQUENCY_CAP"]
        assert len(post.printed) == 3


class TestLetterStatusCallback:
    """POST /v1/channels/post/status: the printer's signature checked, a delivered letter
    delivered, a returned one bounced with that reason, an unknown letter a 404 (retried)."""

    @pytest.fixture
    def settings(self, settings: Any, tmp_path: Path, post: FakePost) -> Any:
        path = tmp_path / "channels.yaml"
        path.write_text(
            f"letter:\n  provider: post\n  url: {post.url}\n  api_key: {POST_KEY}\n"
            "  callback_url: https://recoup.example.com/v1/channels/post/status\n"
            f"  callback_secret: {POST_CALLBACK_SECRET}\n"
            "  previous_callback_secret: post-callback-secret-00\n",
            encoding="utf-8",
        )
        return settings.model_copy(update={"channels_file": path})

    def report(
        self, client: Any, clock: SettableClock, payload: dict[str, str], secret: str
    ) -> int:
        body, headers = signed_json(payload, [secret], clock)
        return int(
            client.post("/v1/channels/post/status", content=body, headers=headers).status_code
        )

    def test_the_printers_reports_move_the_letter_forward_only(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        post: FakePost,
        client: Any,
    ) -> None:
        clock.set(new_york(AS_OF, 10))
        account = us_account(session, clock)
        delivered, returned = (
            plan(session, account, "letter", "late_notice", "firm", clock.now()) for _ in range(2)
        )
        session.commit()
        drain(dispatcher(sessions, clock, {"letter": post_adapter(post)}, letter_address=ADDRESS))
        session.expire_all()
        ids = [c.provider_id for c in (delivered, returned)]
        assert all(ids), "the printer answered each letter with an id"
        first, second = (str(i) for i in ids)
        sent = "sent", []
        # Unsigned, or signed with a secret that is not the letter channel's: refused, no change.
        unsigned = client.post(
            "/v1/channels/post/status", json={"id": first, "status": "delivered"}
        )
        assert unsigned.status_code == 401
        assert self.report(client, clock, {"id": first, "status": "delivered"}, "wrong") == 401
        assert status(session, delivered) == sent
        # Printed, then mailed: still sent (handed to the printer).
        for step in ("printed", "mailed"):
            assert (
                self.report(client, clock, {"id": first, "status": step}, POST_CALLBACK_SECRET)
                == 204
            )
        assert status(session, delivered) == sent
        assert (
            self.report(client, clock, {"id": first, "status": "delivered"}, POST_CALLBACK_SECRET)
            == 204
        )
        assert status(session, delivered) == ("delivered", [])
        # The previous secret still verifies while it rotates.
        old = "post-callback-secret-00"
        assert self.report(client, clock, {"id": second, "status": "returned"}, old) == 204
        assert status(session, returned) == ("bounced", ["returned to sender"])
        # A late, lower report changes nothing; a letter not ours is a 404; a made-up status a 422.
        assert self.report(client, clock, {"id": second, "status": "mailed"}, old) == 204
        assert status(session, returned) == ("bounced", ["returned to sender"])
        assert self.report(client, clock, {"id": "L-never", "status": "delivered"}, old) == 404
        assert self.report(client, clock, {"id": "L-never", "status": "printed"}, old) == 404
        assert self.report(client, clock, {"id": first, "status": "lost"}, old) == 422

    def test_a_returned_letter_marks_its_address_and_the_next_letter_goes_to_the_next_one(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        post: FakePost,
        client: Any,
    ) -> None:
        """Catches a returned letter that leaves its address in use (checked: with the mark's
        filter taken out of `contact.repository.postal_addresses`, the second letter goes to
        the returned address again)."""
        clock.set(new_york(AS_OF, 10))
        account = us_account(session, clock, more=[SECOND_ADDRESS])

        def send_one() -> ContactPlan:
            contact = plan(session, account, "letter", "late_notice", "firm", clock.now())
            session.commit()
            drain(
                dispatcher(sessions, clock, {"letter": post_adapter(post)}, letter_address=ADDRESS)
            )
            session.expire_all()
            return contact

        def posted_to() -> str:
            body = post.requests_to("/v1/letter-batches")[-1].json()
            return str(body["letters"][-1]["recipient"]["lines"])

        first = send_one()
        assert "500 W 120th St" in posted_to()
        returned = {"id": str(first.provider_id), "status": "returned"}
        assert self.report(client, clock, returned, POST_CALLBACK_SECRET) == 204
        clock.advance(dt.timedelta(seconds=5))  # a later report of the same (a replay is a 409)
        assert self.report(client, clock, returned, POST_CALLBACK_SECRET) == 204  # marked once
        marks = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer.address_returned")
        ).all()
        assert len(marks) == 1
        assert marks[0].subject_id == str(account.customer_id)
        second = send_one()
        assert status(session, second) == ("sent", [])
        assert "77 Court St" in posted_to()
        assert "500 W 120th St" not in posted_to()
        # The second address comes back too: no address is left, the next letter is not sent.
        returned = {"id": str(second.provider_id), "status": "returned"}
        assert self.report(client, clock, returned, POST_CALLBACK_SECRET) == 204
        sent_before = len(post.printed)
        third = send_one()
        assert status(session, third)[0] == "failed"
        assert len(post.printed) == sent_before


WA_PHONE_ID, WA_TOKEN = "106540352242922", "wa-token-dispatch"


class TestWhatsApp:
    def test_consent_decides_and_a_stop_becomes_an_opt_out(
        self, session: Session, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        clock.set(new_york(AS_OF, 10))
        account = us_account(session, clock, "US-NY")
        first = plan(session, account, "whatsapp", "early_reminder", "neutral", clock.now())
        session.commit()
        with FakeWhatsApp(WA_PHONE_ID, WA_TOKEN, "secret") as fake:
            adapter = WhatsAppAdapter(
                phone_number_id=WA_PHONE_ID,
                access_token=WA_TOKEN,
                template="notice",
                base_url=fake.url,
            )
            drain(dispatcher(sessions, clock, {"whatsapp": adapter}))
            assert status(session, first) == ("blocked", ["us.messaging_consent:NO_CONSENT"])
            assert fake.requests == []

            consent(session, account, "whatsapp", clock.now())
            second = plan(session, account, "whatsapp", "early_reminder", "neutral", clock.now())
            session.commit()
            adapter = WhatsAppAdapter(
                phone_number_id=WA_PHONE_ID,
                access_token=WA_TOKEN,
                template="notice",
                base_url=fake.url,
            )
            drain(dispatcher(sessions, clock, {"whatsapp": adapter}))
            assert status(session, second)[0] == "sent"
            [sent] = fake.requests
            assert sent.json()["to"] == "12125550142"
            text = sent.json()["template"]["components"][0]["parameters"][0]["text"]
            assert "/v1/unsubscribe/" in text  # the opt-out the US pack requires

            fake.stopped.add("12125550142")
            clock.set(clock.now() + dt.timedelta(hours=1))
            third = plan(session, account, "whatsapp", "early_reminder", "neutral", clock.now())
            later = plan(
                session,
                account,
                "whatsapp",
                "early_reminder",
                "neutral",
                clock.now() + dt.timedelta(days=1),
            )
            session.commit()
            adapter = WhatsAppAdapter(
                phone_number_id=WA_PHONE_ID,
                access_token=WA_TOKEN,
                template="notice",
                base_url=fake.url,
            )
            drain(dispatcher(sessions, clock, {"whatsapp": adapter}))
        state, reasons = status(session, third)
        assert state == "failed"
        assert "131050" in reasons[0]
        opt_outs = session.execute(
            select(OptOut.channel, OptOut.source).where(OptOut.customer_id == account.customer_id)
        ).all()
        assert opt_outs == [("whatsapp", "provider")]
        assert status(session, later)[0] == "cancelled"  # nothing more planned goes


class TestWeChat:
    def test_the_openid_of_the_consent_is_the_address_and_an_unfollow_is_an_opt_out(
        self, session: Session, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        clock.set(shanghai(AS_OF, 10))
        customer = create_customer(session, clock, name="张伟")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), 50_000)
        delinquency_service.run_daily(session, AS_OF, clock=clock)
        without = plan(session, account, "wechat", "early_reminder", "neutral", clock.now())
        session.commit()
        with FakeWeChat("wx1", "wechat-secret", "TPL1") as fake:
            fake.followers.add("oOPENID123")

            def adapter() -> WeChatAdapter:
                return WeChatAdapter(
                    app_id="wx1", app_secret="wechat-secret", template_id="TPL1", base_url=fake.url
                )

            drain(dispatcher(sessions, clock, {"wechat": adapter()}))
            assert status(session, without) == ("failed", ["no wechat address on file"])

            consent(session, account, "wechat", clock.now(), openid="oOPENID123")
            with_consent = plan(
                session, account, "wechat", "early_reminder", "neutral", clock.now()
            )
            session.commit()
            drain(dispatcher(sessions, clock, {"wechat": adapter()}))
            assert status(session, with_consent)[0] == "sent"
            [message] = fake.sent.values()
            assert message["touser"] == "oOPENID123"
            assert message["data"]["remark"]["value"].startswith("【Recoup Wallet】张伟您好")

            fake.followers.clear()
            again = plan(session, account, "wechat", "early_reminder", "neutral", clock.now())
            session.commit()
            drain(dispatcher(sessions, clock, {"wechat": adapter()}))
        assert status(session, again)[0] == "failed"
        assert session.execute(
            select(OptOut.channel).where(OptOut.customer_id == account.customer_id)
        ).scalars().all() == ["wechat"]


class TestWhatsAppWebhook:
    """POST /v1/channels/whatsapp/status: Meta's signature checked, statuses recorded, a 131050
    failure recorded as the debtor's opt-out."""

    @pytest.fixture
    def settings(self, settings: Any, tmp_path: Path) -> Any:
        path = tmp_path / "channels.yaml"
        path.write_text(
            "whatsapp:\n  provider: whatsapp\n  phone_number_id: '106540352242922'\n"
            "  access_token: t\n  template: notice\n  app_secret: meta-secret\n"
            "  previous_app_secret: meta-secret-old\n  verify_token: meta-verify-token-1\n",
            encoding="utf-8",
        )
        return settings.model_copy(update={"channels_file": path})

    def test_a_signed_failure_bounces_the_message_and_opts_the_debtor_out(
        self, session: Session, clock: SettableClock, client: Any
    ) -> None:
        clock.set(new_york(AS_OF, 10))
        account = us_account(session, clock, "US-NY")
        contact = plan(session, account, "whatsapp", "early_reminder", "neutral", clock.now())
        contact.status, contact.provider, contact.provider_id = "sent", "whatsapp", "wamid.ABC"
        session.commit()
        with FakeWhatsApp(WA_PHONE_ID, WA_TOKEN, "meta-secret") as fake:
            body, header = fake.status_webhook("wamid.ABC", "k", "failed", 131050)
        forged = client.post(
            "/v1/channels/whatsapp/status",
            content=body,
            headers={
                "X-Hub-Signature-256": "sha256=" + "0" * 64,
                "Content-Type": "application/json",
            },
        )
        assert forged.status_code == 401
        assert status(session, contact)[0] == "sent"
        answer = client.post(
            "/v1/channels/whatsapp/status",
            content=body,
            headers={"X-Hub-Signature-256": header, "Content-Type": "application/json"},
        )
        assert answer.status_code == 204
        state, reasons = status(session, contact)
        assert state == "bounced"
        assert reasons == ["whatsapp error 131050"]
        assert session.execute(
            select(OptOut.channel, OptOut.source).where(OptOut.customer_id == account.customer_id)
        ).all() == [("whatsapp", "whatsapp")]

    def test_the_subscription_check_echoes_the_challenge_for_the_verify_token_only(
        self, client: Any
    ) -> None:
        """Meta's GET when the webhook is subscribed: answered with hub.challenge only for
        hub.mode=subscribe and the configured token (fails if the token is not compared)."""
        url = "/v1/channels/whatsapp/status"
        check = {"hub.mode": "subscribe", "hub.verify_token": "meta-verify-token-1"}
        answer = client.get(url, params={**check, "hub.challenge": "1158201444"})
        assert answer.status_code == 200
        assert answer.text == "1158201444"
        assert answer.headers["content-type"].startswith("text/plain")
        wrong = {**check, "hub.verify_token": "meta-verify-token-2", "hub.challenge": "1"}
        assert client.get(url, params=wrong).status_code == 403
        assert (
            client.get(url, params={**check, "hub.mode": "x", "hub.challenge": "1"}).status_code
            == 403
        )
        script = client.get(url, params={**check, "hub.challenge": "<script>"})
        assert script.status_code == 422
        assert client.get(url, params=check).status_code == 422  # no challenge

    def test_the_previous_secret_still_verifies_while_it_rotates(
        self, session: Session, clock: SettableClock, client: Any
    ) -> None:
        with FakeWhatsApp(WA_PHONE_ID, WA_TOKEN, "meta-secret-old") as fake:
            body, header = fake.status_webhook("wamid.UNKNOWN", "k", "delivered")
        answer = client.post(
            "/v1/channels/whatsapp/status",
            content=body,
            headers={"X-Hub-Signature-256": header, "Content-Type": "application/json"},
        )
        assert answer.status_code == 204

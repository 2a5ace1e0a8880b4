"""WeChat service-account template messages and WhatsApp Business template messages against local
stand-ins on real sockets: tokens, errcodes, error codes, opt-outs and webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from recoup.channels.base import Accepted, OptedOut, Outgoing, PermanentError, TransientError
from recoup.channels.wechat import WeChatAdapter
from recoup.channels.whatsapp import (
    WhatsAppAdapter,
    signature,
    statuses,
    verify_signature,
)
from tests.channels.providers import FakeWeChat, FakeWhatsApp, Response, whatsapp_error

pytestmark = pytest.mark.pure

APP_ID, APP_SECRET, TEMPLATE = "wx0123456789abcdef", "wechat-app-secret-0123", "TPL_overdue_1"
OPENID = "oABCD1234efgh5678ijkl"
PHONE_ID, WA_TOKEN, WA_SECRET = "106540352242922", "EAAG-token-0123456789", "meta-app-secret"
NUMBER = "+15551234567"


def wechat_message(key: str = "recoup-contact-1", to: str = OPENID) -> Outgoing:
    return Outgoing(
        idempotency_key=key,
        channel="wechat",
        to=to,
        subject="还款提醒",
        body="【Recoup Wallet】您的账单已逾期12天，待还¥456.00。",
        language="zh-CN",
        metadata={"contact_id": "1", "link": "https://pay.example/r/AbC123"},
    )


def whatsapp_message(key: str = "recoup-contact-2", to: str = NUMBER) -> Outgoing:
    return Outgoing(
        idempotency_key=key,
        channel="whatsapp",
        to=to,
        body="Recoup Wallet: your payment is 12 days late. Reply STOP to opt out.",
        language="en",
    )


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    with FakeWeChat(APP_ID, APP_SECRET, TEMPLATE) as fake:
        fake.followers.add(OPENID)
        yield fake


@pytest.fixture
def wechat_adapter(wechat: FakeWeChat) -> Iterator[WeChatAdapter]:
    adapter = WeChatAdapter(
        app_id=APP_ID, app_secret=APP_SECRET, template_id=TEMPLATE, base_url=wechat.url, timeout=5
    )
    yield adapter
    adapter.close()


class TestWeChat:
    def test_a_template_message_goes_with_a_cached_token(
        self, wechat: FakeWeChat, wechat_adapter: WeChatAdapter
    ) -> None:
        first = wechat_adapter.send(wechat_message("k-1"))
        second = wechat_adapter.send(wechat_message("k-2"))
        assert isinstance(first, Accepted)
        assert first.provider_id != second.provider_id
        assert wechat.tokens_issued == 1  # fetched once, reused
        sent = wechat.sent["k-1"]
        assert sent["touser"] == OPENID
        assert sent["template_id"] == TEMPLATE
        assert sent["data"]["remark"]["value"].startswith("【Recoup Wallet】")
        assert sent["data"]["first"]["value"] == "还款提醒"
        assert sent["url"] == "https://pay.example/r/AbC123"

    def test_threads_share_one_token(
        self, wechat: FakeWeChat, wechat_adapter: WeChatAdapter
    ) -> None:
        with ThreadPoolExecutor(8) as pool:
            results = list(
                pool.map(wechat_adapter.send, [wechat_message(f"k-{i}") for i in range(16)])
            )
        assert all(isinstance(r, Accepted) for r in results)
        assert wechat.tokens_issued == 1

    def test_an_expired_token_is_refreshed_once(
        self, wechat: FakeWeChat, wechat_adapter: WeChatAdapter
    ) -> None:
        """40001: one fresh token, one more try. Catches removing the retry in `send`."""
        wechat_adapter.send(wechat_message("k-1"))
        wechat.expire()
        assert isinstance(wechat_adapter.send(wechat_message("k-2")), Accepted)
        assert wechat.tokens_issued == 2
        refresh = wechat.requests_to("/cgi-bin/stable_token")[-1].json()
        assert refresh["force_refresh"] is True

    def test_a_token_refused_twice_is_permanent(
        self, wechat: FakeWeChat, wechat_adapter: WeChatAdapter
    ) -> None:
        invalid = Response(200, {"errcode": 40001, "errmsg": "invalid credential"})
        wechat.script(invalid, invalid, path="/cgi-bin/message/template/send")
        with pytest.raises(PermanentError, match="40001"):
            wechat_adapter.send(wechat_message())
        # one token, one send, one forced refresh, one send: never a loop
        assert len(wechat.requests_to("/message/template/send")) == 2
        assert len(wechat.requests_to("/cgi-bin/stable_token")) == 2
        assert wechat.sent == {}

    def test_an_unfollowed_account_is_an_opt_out(
        self, wechat: FakeWeChat, wechat_adapter: WeChatAdapter
    ) -> None:
        wechat.followers.clear()
        with pytest.raises(OptedOut, match="43004") as caught:
            wechat_adapter.send(wechat_message())
        assert OPENID not in caught.value.reason

    def test_busy_is_transient_and_a_bad_template_permanent(
        self, wechat: FakeWeChat, wechat_adapter: WeChatAdapter
    ) -> None:
        wechat_adapter.send(wechat_message("warm"))
        wechat.script(Response(200, {"errcode": -1, "errmsg": "system error"}), path="/send")
        with pytest.raises(TransientError):
            wechat_adapter.send(wechat_message("k-1"))
        wechat.template_id = "another"
        with pytest.raises(PermanentError, match="40037"):
            wechat_adapter.send(wechat_message("k-2"))

    def test_a_wrong_secret_is_permanent(self, wechat: FakeWeChat) -> None:
        adapter = WeChatAdapter(
            app_id=APP_ID, app_secret="wrong", template_id=TEMPLATE, base_url=wechat.url
        )
        try:
            with pytest.raises(PermanentError, match="40125"):
                adapter.send(wechat_message())
        finally:
            adapter.close()
        assert "wrong" not in str(wechat.sent)

    def test_a_resend_is_recognised_by_wechat(
        self, wechat: FakeWeChat, wechat_adapter: WeChatAdapter
    ) -> None:
        first = wechat_adapter.send(wechat_message("same"))
        again = wechat_adapter.send(wechat_message("same"))
        assert first.provider_id == again.provider_id
        assert len(wechat.sent) == 1


@pytest.fixture
def whatsapp() -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp(PHONE_ID, WA_TOKEN, WA_SECRET) as fake:
        yield fake


@pytest.fixture
def whatsapp_adapter(whatsapp: FakeWhatsApp) -> Iterator[WhatsAppAdapter]:
    adapter = WhatsAppAdapter(
        phone_number_id=PHONE_ID,
        access_token=WA_TOKEN,
        template="account_notice",
        base_url=whatsapp.url,
        timeout=5,
    )
    yield adapter
    adapter.close()


class TestWhatsApp:
    def test_a_template_message_carries_the_approved_text(
        self, whatsapp: FakeWhatsApp, whatsapp_adapter: WhatsAppAdapter
    ) -> None:
        accepted = whatsapp_adapter.send(whatsapp_message())
        assert accepted.provider_id is not None
        assert accepted.provider_id.startswith("wamid.")
        body = whatsapp.requests_to(f"/{PHONE_ID}/messages")[0].json()
        assert body["to"] == "15551234567"
        assert body["template"]["name"] == "account_notice"
        assert body["template"]["language"] == {"code": "en_US"}
        text = body["template"]["components"][0]["parameters"][0]["text"]
        assert text == whatsapp_message().body
        assert body["biz_opaque_callback_data"] == "recoup-contact-2"

    def test_stopped_marketing_is_an_opt_out(
        self, whatsapp: FakeWhatsApp, whatsapp_adapter: WhatsAppAdapter
    ) -> None:
        whatsapp.stopped.add("15551234567")
        with pytest.raises(OptedOut, match="131050"):
            whatsapp_adapter.send(whatsapp_message())

    def test_undeliverable_is_permanent_without_the_number(
        self, whatsapp: FakeWhatsApp, whatsapp_adapter: WhatsAppAdapter
    ) -> None:
        whatsapp.undeliverable.add("15551234567")
        with pytest.raises(PermanentError, match="131026") as caught:
            whatsapp_adapter.send(whatsapp_message())
        assert not isinstance(caught.value, OptedOut)
        assert "15551234567" not in caught.value.reason

    def test_re_engagement_is_permanent_and_rate_limits_transient(
        self, whatsapp: FakeWhatsApp, whatsapp_adapter: WhatsAppAdapter
    ) -> None:
        whatsapp.script(whatsapp_error(400, 131047, "Re-engagement message"))
        with pytest.raises(PermanentError, match="131047"):
            whatsapp_adapter.send(whatsapp_message())
        whatsapp.script(whatsapp_error(400, 130429, "Rate limit hit"))
        with pytest.raises(TransientError, match="130429"):
            whatsapp_adapter.send(whatsapp_message())

    def test_an_expired_token_is_permanent(self, whatsapp: FakeWhatsApp) -> None:
        adapter = WhatsAppAdapter(
            phone_number_id=PHONE_ID, access_token="old", template="t", base_url=whatsapp.url
        )
        try:
            with pytest.raises(PermanentError, match="190"):
                adapter.send(whatsapp_message())
        finally:
            adapter.close()

    def test_a_language_without_an_approved_template_is_refused_before_sending(
        self, whatsapp: FakeWhatsApp, whatsapp_adapter: WhatsAppAdapter
    ) -> None:
        message = Outgoing(**{**whatsapp_message().__dict__, "language": "fr"})
        with pytest.raises(PermanentError, match="fr"):
            whatsapp_adapter.send(message)
        assert whatsapp.requests == []


class TestWhatsAppWebhooks:
    def test_a_signed_status_is_verified_and_read(self, whatsapp: FakeWhatsApp) -> None:
        body, header = whatsapp.status_webhook("wamid.X", "recoup-contact-2", "failed", 131050)
        assert verify_signature(body, header, [WA_SECRET])
        assert verify_signature(body, header, ["old-secret", WA_SECRET])  # rotation
        [status] = statuses(body)
        assert status.idempotency_key == "recoup-contact-2"
        assert status.status == "failed"
        assert status.opted_out

    def test_a_forged_or_altered_body_is_refused(self, whatsapp: FakeWhatsApp) -> None:
        """Catches a verification that ignores the body or the secret."""
        body, header = whatsapp.status_webhook("wamid.X", "k", "delivered")
        assert not verify_signature(body + b" ", header, [WA_SECRET])
        assert not verify_signature(body, header, ["another-secret"])
        assert not verify_signature(body, None, [WA_SECRET])
        assert not verify_signature(body, header.removeprefix("sha256="), [WA_SECRET])
        sha1 = "sha1=" + hmac.new(WA_SECRET.encode(), body, hashlib.sha1).hexdigest()
        assert not verify_signature(body, sha1, [WA_SECRET])

    def test_the_signature_is_metas(self) -> None:
        body = b'{"object":"whatsapp_business_account"}'
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert signature(body, "s3cret") == f"sha256={expected}"

    def test_a_body_that_is_not_a_status_yields_nothing(self) -> None:
        assert statuses(b"not json") == []
        assert statuses(b'{"entry": [{"changes": [{"value": {"messages": []}}]}]}') == []

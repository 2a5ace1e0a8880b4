"""Where WeChat, WhatsApp and letters may carry collection messages: the packs decide (issue 22).

China: a collector's private social account never (CBA 2026 red line 6); the lender's own WeChat
service account only to a debtor who followed it and agreed; WhatsApp not at all (house policy).
US: WhatsApp and WeChat only with consent given directly (12 CFR 1006.6(d)), opt-out honoured.
A letter is a contact like any other: it counts in the caps across all media (NYC)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compliance.helpers import codes, decide, rules, scenario

pytestmark = pytest.mark.pure

CN_AT = "2026-06-16T10:00:00+08:00"
US_AT = "2026-06-16T12:00:00-04:00"
GIVEN = "2026-05-01T00:00:00Z"


def message(jurisdiction: str, at: str, channel: str, text: str, language: str) -> dict[str, Any]:
    data = scenario(jurisdiction, at, channel)
    data["content"] = {"text": text, "language": language}
    return data


def consent(channel: str) -> dict[str, str]:
    return {"kind": "electronic", "channel": channel, "given_at": GIVEN}


CN_TEXT = "【Recoup Wallet】您的账单已逾期，请尽快还款。"
US_TEXT = "Recoup Wallet: your payment is late. Reply STOP to opt out."


class TestChina:
    def test_a_collectors_private_social_account_is_refused(self) -> None:
        data = message("CN", CN_AT, "social_dm", CN_TEXT, "zh-CN")
        data["debtor"]["consents"] = [consent("social_dm")]
        d = decide(data)
        assert rules(d) == {"cn.private_channels"}
        assert codes(d) == {"CHANNEL_FORBIDDEN"}

    def test_the_lenders_service_account_needs_the_debtors_consent(self) -> None:
        """Catches removing cn.wechat_service_account from cn.yaml."""
        data = message("CN", CN_AT, "wechat", CN_TEXT, "zh-CN")
        d = decide(data)
        assert rules(d) == {"cn.wechat_service_account"}
        assert codes(d) == {"NO_CONSENT"}
        data["debtor"]["consents"] = [consent("wechat")]
        assert decide(data).allowed
        data["debtor"]["consents"] = [consent("sms")]  # consent is per channel
        assert codes(decide(data)) == {"NO_CONSENT"}

    def test_a_wechat_notice_names_the_creditor(self) -> None:
        data = message("CN", CN_AT, "wechat", "您的账单已逾期，请尽快还款。", "zh-CN")
        data["debtor"]["consents"] = [consent("wechat")]
        assert rules(decide(data)) == {"cn.creditor_identity"}

    def test_whatsapp_is_refused_even_with_consent(self) -> None:
        data = message("CN", CN_AT, "whatsapp", CN_TEXT, "zh-CN")
        data["debtor"]["consents"] = [consent("whatsapp")]
        d = decide(data)
        assert rules(d) == {"cn.whatsapp"}
        assert d.next_allowed_at is None


class TestUnitedStates:
    @pytest.mark.parametrize("channel", ["whatsapp", "wechat"])
    def test_allowed_only_with_consent(self, channel: str) -> None:
        """Catches removing us.messaging_consent from us.yaml."""
        data = message("US", US_AT, channel, US_TEXT, "en")
        d = decide(data)
        assert rules(d) == {"us.messaging_consent"}
        data["debtor"]["consents"] = [consent(channel)]
        assert decide(data).allowed

    def test_an_opt_out_is_honoured(self) -> None:
        data = message("US", US_AT, "whatsapp", US_TEXT, "en")
        data["debtor"]["consents"] = [consent("whatsapp")]
        data["debtor"]["opt_outs"] = [{"channel": "whatsapp"}]
        d = decide(data)
        assert rules(d) == {"base.opt_out"}
        assert d.next_allowed_at is None

    def test_every_message_says_how_to_opt_out(self) -> None:
        data = message("US", US_AT, "whatsapp", "Recoup Wallet: your payment is late.", "en")
        data["debtor"]["consents"] = [consent("whatsapp")]
        assert rules(decide(data)) == {"us.opt_out_instruction"}


class TestLetters:
    def test_a_letter_counts_in_a_cap_across_all_media(self) -> None:
        """NYC: at most 3 attempts in 7 days across all media. Three letters posted this week
        leave no room for a fourth contact of any kind."""
        data = scenario("US-NY-NYC", US_AT, "letter")
        data["content"] = {"text": "Recoup Wallet: your payment is late.", "language": "en"}
        assert decide(data).allowed
        data["history"] = [
            {"at": f"2026-06-1{day}T12:00:00-04:00", "channel": "letter", "result": "sent"}
            for day in (2, 3, 4)
        ]
        d = decide(data)
        assert rules(d) == {"us_nyc.attempts"}
        assert codes(d) == {"FREQUENCY_CAP"}

"""The deployment's channels: production never falls back to the spool without being told, and the
delivery policy of a channel (what a crash may cost) is configuration, refused where the provider
cannot keep it."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from recoup.channels.config import ChannelConfigError, load_channels
from recoup.cli.common import Runtime, err_console
from recoup.cli.contact import make_dispatcher
from recoup.config import Settings
from recoup.kit.clock import SystemClock


def production(tmp_path: Path, **extra: object) -> Settings:
    for name in ("keys.json", "audit.pem"):
        (tmp_path / name).write_text("x")
    return Settings(
        env="production",
        database_url="postgresql+psycopg://recoup@db.invalid/recoup",
        encryption_key_file=tmp_path / "keys.json",
        audit_signing_key_file=tmp_path / "audit.pem",
        link_keys=["k" * 40],
        wallet_payments_url="https://wallet.invalid/pay",
        wallet_api_secrets=["s" * 40],
        wallet_webhook_secrets=["w" * 40],
        spool_dir=tmp_path / "spool",
        **{"creditor_name": "乐还钱包", **extra},  # type: ignore[arg-type]
    )


class TestProductionChannels:
    def test_a_production_worker_without_channels_refuses_in_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Catches the removal of the production check in `load_channels` (production's worker
        wrote every message to the spool and marked it sent)."""
        rt = Runtime(production(tmp_path), SystemClock())
        with pytest.raises(typer.Exit) as exited:
            make_dispatcher(rt, "w1")
        assert exited.value.exit_code == 1
        said = capsys.readouterr().err.strip()
        assert said.startswith("error: no channels configured in production")
        assert "\n" not in said
        assert "RECOUP_CHANNELS_FILE" in said
        assert not (tmp_path / "spool").exists()
        assert err_console is not None

    def test_production_may_name_the_spool_explicitly(self, tmp_path: Path) -> None:
        by_setting = load_channels(None, spool_dir=tmp_path / "spool", production=True, spool=True)
        assert sorted(by_setting.factories) == ["email", "push", "sms"]
        named = tmp_path / "channels.yaml"
        named.write_text(f"sms:\n  provider: spool\n  directory: {tmp_path / 'out'}\n")
        by_file = load_channels(named, spool_dir=tmp_path / "spool", production=True)
        assert list(by_file.factories) == ["sms"]

    def test_development_without_a_file_spools_every_channel(self, tmp_path: Path) -> None:
        channels = load_channels(None, spool_dir=tmp_path)
        assert sorted(channels.factories) == ["email", "push", "sms"]
        assert channels.at_least_once == frozenset()


class TestDeliveryPolicy:
    def test_at_most_once_is_the_default(self, tmp_path: Path) -> None:
        path = tmp_path / "channels.yaml"
        path.write_text("sms:\n  provider: spool\nemail:\n  provider: spool\n")
        assert load_channels(path, spool_dir=tmp_path).at_least_once == frozenset()

    def test_at_least_once_where_the_provider_recognises_the_key(self, tmp_path: Path) -> None:
        path = tmp_path / "channels.yaml"
        path.write_text(
            "email:\n  provider: smtp\n  host: smtp.invalid\n  port: 587\n  sender: billing@example.com\n"
            "  delivery: at-least-once\n"
        )
        assert load_channels(path, spool_dir=tmp_path).at_least_once == frozenset({"email"})

    @pytest.mark.parametrize(
        "block",
        [
            "sms:\n  provider: twilio\n  account_sid: AC1\n  auth_token: t\n"
            "  from_number: '+12025550100'\n  delivery: at-least-once\n",
            "sms:\n  provider: spool\n  delivery: at-least-once\n",
            "sms:\n  provider: spool\n  delivery: twice\n",
        ],
    )
    def test_a_policy_the_provider_cannot_keep_is_refused(self, tmp_path: Path, block: str) -> None:
        path = tmp_path / "channels.yaml"
        path.write_text(block)
        with pytest.raises(
            ChannelConfigError, match=r"channels.yaml: sms: .*(de-duplicate|is not)"
        ):
            load_channels(path, spool_dir=tmp_path)


class TestLetterAndMessagingChannels:
    def test_the_new_providers_load_from_a_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("POST_KEY", "post-key")
        monkeypatch.setenv("WECHAT_SECRET", "wechat-secret")
        monkeypatch.setenv("WA_TOKEN", "wa-token")
        monkeypatch.setenv("WA_SECRET", "wa-secret")
        monkeypatch.setenv("WA_VERIFY", "wa-verify-token")
        path = tmp_path / "channels.yaml"
        path.write_text(
            "letter:\n  provider: post\n  url: https://print.invalid\n  api_key_env: POST_KEY\n"
            "  delivery: at-least-once\n"
            "wechat:\n  provider: wechat\n  app_id: wx1\n  app_secret_env: WECHAT_SECRET\n"
            "  template_id: T1\n"
            "whatsapp:\n  provider: whatsapp\n  phone_number_id: '1065'\n"
            "  access_token_env: WA_TOKEN\n  app_secret_env: WA_SECRET\n  template: notice\n"
            "  verify_token_env: WA_VERIFY\n"
        )
        channels = load_channels(path, spool_dir=tmp_path / "spool", production=True)
        assert sorted(channels.factories) == ["letter", "wechat", "whatsapp"]
        assert channels.whatsapp_secrets == ["wa-secret"]
        assert channels.whatsapp_verify_token == "wa-verify-token"
        assert channels.at_least_once == frozenset({"letter"})
        adapters = channels.adapters()
        assert {a.channel for a in adapters.values()} == {"letter", "wechat", "whatsapp"}
        for adapter in adapters.values():
            adapter.close()

    def test_whatsapp_cannot_be_at_least_once(self, tmp_path: Path) -> None:
        """WhatsApp documents no de-duplication of sends: a resend after a crash is a duplicate."""
        path = tmp_path / "channels.yaml"
        path.write_text(
            "whatsapp:\n  provider: whatsapp\n  phone_number_id: '1065'\n  access_token: t\n"
            "  template: notice\n  delivery: at-least-once\n"
        )
        with pytest.raises(ChannelConfigError, match="de-duplicate"):
            load_channels(path, spool_dir=tmp_path / "spool")

    def test_a_whatsapp_verify_token_too_short_to_be_secret_is_refused(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "channels.yaml"
        path.write_text(
            "whatsapp:\n  provider: whatsapp\n  phone_number_id: '1065'\n  access_token: t\n"
            "  template: notice\n  verify_token: short\n"
        )
        with pytest.raises(ChannelConfigError, match="verify_token"):
            load_channels(path, spool_dir=tmp_path / "spool")

    def test_a_letter_callback_without_its_secret_is_refused(self, tmp_path: Path) -> None:
        """The printer would post statuses nobody could verify (every one a 401)."""
        path = tmp_path / "channels.yaml"
        path.write_text(
            "letter:\n  provider: post\n  url: https://print.invalid\n  api_key: k\n"
            "  callback_url: https://recoup.example.com/v1/channels/post/status\n"
        )
        with pytest.raises(ChannelConfigError, match="callback_secret"):
            load_channels(path, spool_dir=tmp_path / "spool")
        with path.open("a") as more:
            more.write("  callback_secret: s1\n  previous_callback_secret: s0\n")
        assert load_channels(path, spool_dir=tmp_path / "spool").post_secrets == ["s1", "s0"]

    def test_a_letter_font_that_is_missing_is_refused_at_start(self, tmp_path: Path) -> None:
        path = tmp_path / "channels.yaml"
        path.write_text(
            "letter:\n  provider: post\n  url: https://print.invalid\n  api_key: k\n"
            f"  font: {tmp_path / 'none.ttf'}\n"
        )
        with pytest.raises(ChannelConfigError, match="RECOUP_LETTER_FONT"):
            load_channels(path, spool_dir=tmp_path / "spool")
